import { expect } from 'chai';
import { MAX_FILE_NAME_LENGTH, plainFileName, safeFileName } from '../../server/attachments/safe-file-name.ts';

describe('safeFileName: names that cannot spoof, escape or run', () => {
  it('keeps an ordinary name as it is', () => {
    expect(safeFileName('after-visit summary.pdf', 'pdf')).to.equal('after-visit summary.pdf');
    expect(safeFileName('Résumé médical 2024.jpeg', 'jpg')).to.equal('Résumé médical 2024.jpeg');
    expect(safeFileName('診療明細.pdf', 'pdf')).to.equal('診療明細.pdf');
  });

  it('strips bidi controls, so "photo<RLO>gpj.exe" can no longer read as a .jpg, and drops the executable extension', () => {
    const name = safeFileName('photo\u202Egpj.exe', 'png');
    expect(name).to.equal('photogpj.png');
    for (const c of ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C']) {
      expect(safeFileName(`scan${c}.pdf`, 'pdf'), `U+${c.codePointAt(0)!.toString(16)}`).to.equal('scan.pdf');
    }
  });

  it('strips C0, C1 and DEL control characters; line breaks and tabs become one space', () => {
    expect(safeFileName('lab\u0000res\u0007ult\u007f\u009b.pdf', 'pdf')).to.equal('labresult.pdf');
    expect(safeFileName('lab\r\n\tresult\u0085copy.pdf', 'pdf')).to.equal('lab result copy.pdf');
  });

  it('keeps only the last path segment, and no leading dots', () => {
    expect(safeFileName('../../etc/passwd', 'txt')).to.equal('passwd');
    expect(safeFileName('C:\\Users\\pat\\Desktop\\scan.pdf', 'pdf')).to.equal('scan.pdf');
    expect(safeFileName('.htaccess', 'txt')).to.equal('htaccess');
    expect(safeFileName('...hidden.png', 'png')).to.equal('hidden.png');
  });

  it('replaces a dangerous extension with the one of the sniffed type, without doubling a right one', () => {
    expect(safeFileName('photo.png.exe', 'png')).to.equal('photo.png');
    expect(safeFileName('invoice.exe', 'pdf')).to.equal('invoice.pdf');
    expect(safeFileName('scan.jpeg.scr', 'jpg')).to.equal('scan.jpeg');
    expect(safeFileName('notes.JS', 'txt')).to.equal('notes.txt');
    expect(safeFileName('page.html', 'txt')).to.equal('page.txt');
    expect(safeFileName('icon.svg', 'png')).to.equal('icon.png');
    expect(safeFileName('a.exe.bat.cmd', 'pdf')).to.equal('a.pdf');
    // Windows drops trailing dots and spaces: "x.exe. " would open as x.exe.
    expect(safeFileName('setup.exe. .', 'pdf')).to.equal('setup.pdf');
    // Without a known type the extension just goes.
    expect(safeFileName('run.sh')).to.equal('run');
  });

  it('never returns an empty name', () => {
    expect(safeFileName('', 'pdf')).to.equal('attachment.pdf');
    expect(safeFileName('\u202E\u0000 ..', 'png')).to.equal('attachment.png');
    expect(safeFileName('.exe', 'pdf')).to.equal('exe');
    expect(safeFileName('x/', 'pdf')).to.equal('attachment.pdf');
    expect(safeFileName('')).to.equal('attachment');
  });

  it('limits the length, keeping the extension and whole characters', () => {
    const long = safeFileName(`${'a'.repeat(300)}.pdf`, 'pdf');
    expect(long).to.have.length(MAX_FILE_NAME_LENGTH);
    expect(long.endsWith('.pdf')).to.equal(true);
    const emoji = safeFileName(`${'😀'.repeat(200)}.png`, 'png');
    expect(Array.from(emoji)).to.have.length(MAX_FILE_NAME_LENGTH);
    expect(emoji.endsWith('😀.png')).to.equal(true);
    expect(emoji).not.to.match(/\p{Cs}/u); // no half of a surrogate pair left
  });

  it('never leaves a dangerous extension after cutting a long name', () => {
    const name = safeFileName(`${'a'.repeat(MAX_FILE_NAME_LENGTH - 4)}.exeXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`, 'png');
    expect(name).not.to.match(/\.exe$/i);
    expect(name.endsWith('.png')).to.equal(true);
  });

  it('defuses Windows device names and reserved characters', () => {
    expect(safeFileName('CON.pdf', 'pdf')).to.equal('_CON.pdf');
    expect(safeFileName('a<b>c:d"e|f?g*h.pdf', 'pdf')).to.equal('a_b_c_d_e_f_g_h.pdf');
  });

  it('is idempotent', () => {
    for (const [name, ext] of [['photo\u202Egpj.exe', 'png'], ['../x.pdf', 'pdf'], ['', 'txt'], [`${'b'.repeat(500)}.exe`, 'pdf'], ['CON', 'pdf']] as const) {
      const once = safeFileName(name, ext);
      expect(safeFileName(once, ext)).to.equal(once);
    }
  });

  it('plainFileName cleans the characters but keeps the extension, for names shown in refusal notes', () => {
    expect(plainFileName('tool\u202E.exe')).to.equal('tool.exe');
  });
});
