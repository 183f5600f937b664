import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import iconv from 'iconv-lite';
import { decodeField, decodeInboundFields, describeDecodingProblems, parseCharsets } from '../../channels/email/charsets.ts';

// The in-repo copy of shared/fixtures/sendgrid-inbound-parse.txt (byte-identical), so CI's clone has it.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'sendgrid-inbound-parse.txt');

const GERMAN = 'Ich möchte meinen Termin verschieben. Grüße, José Müller';

/** Raw field bytes of a multipart/form-data body, split as bytes (latin1 maps each byte to one char). */
function multipartBytes(body: Buffer, boundary: string): Record<string, Buffer> {
  const fields: Record<string, Buffer> = {};
  for (const part of body.toString('latin1').split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const name = /name="([^"]+)"/.exec(head)?.[1];
    if (!name || /filename=/.test(head)) continue;
    fields[name] = Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1');
  }
  return fields;
}

/**
 * ISO-2022-JP bytes (iconv-lite has no encoder for it): JIS X 0208 is EUC-JP with the high bit cleared,
 * framed by ESC $ B … ESC ( B. Enough for kana and kanji; no half-width kana.
 */
function iso2022jp(text: string): Buffer {
  const euc = iconv.encode(text, 'EUC-JP');
  const out: number[] = [];
  let jis = false;
  for (let i = 0; i < euc.length; i++) {
    const byte = euc[i]!;
    if (byte < 0x80) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(byte);
    } else {
      if (!jis) out.push(0x1b, 0x24, 0x42);
      jis = true;
      out.push(byte - 0x80, euc[++i]! - 0x80);
    }
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

describe('inbound email charsets', () => {
  describe('decodeInboundFields', () => {
    it('reads ISO-8859-1 text as declared', () => {
      const bytes = Buffer.from(GERMAN, 'latin1');
      expect(bytes.includes(0xfc)).to.equal(true);
      const { fields, decoding } = decodeInboundFields({ text: bytes }, '{"text":"iso-8859-1"}');
      expect(fields.text).to.equal(GERMAN);
      // WHATWG reads iso-8859-1 as its superset windows-1252.
      expect(decoding.text).to.deep.equal({ declared: 'iso-8859-1', used: 'windows-1252', exact: true });
    });

    it('reads Windows-1252 text with the euro sign and curly quotes (bytes 0x80, 0x93, 0x94)', () => {
      const text = `${GERMAN} – “Zuzahlung” 20 €`;
      const bytes = iconv.encode(text, 'windows-1252');
      expect([0x80, 0x93, 0x94].every((b) => bytes.includes(b))).to.equal(true);
      const { fields, decoding } = decodeInboundFields({ text: bytes }, '{"text":"windows-1252"}');
      expect(fields.text).to.equal(text);
      expect(decoding.text!.exact).to.equal(true);
    });

    it('maps all 256 windows-1252 bytes per WHATWG (Node itself decodes that label as ISO-8859-1)', () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const text = decodeInboundFields({ text: all }, '{"text":"windows-1252"}').fields.text!;
      expect(text.length).to.equal(256);
      // iconv-lite leaves the five bytes WHATWG maps to C1 controls undefined (U+FFFD).
      const undefinedInIconv = [0x81, 0x8d, 0x8f, 0x90, 0x9d];
      const expected = [...iconv.decode(all, 'windows-1252')].map((c, i) => (undefinedInIconv.includes(i) ? String.fromCharCode(i) : c));
      expect([...text]).to.deep.equal(expected);
      expect(text.slice(0x80, 0x81) + text.slice(0x93, 0x95)).to.equal('€“”');
    });

    it('reads ISO-2022-JP and Shift_JIS', () => {
      expect(iso2022jp('こんにちは').toString('hex')).to.equal('1b244224332473244b2441244f1b2842');
      const japanese = '予約を金曜日に変更したいです。よろしくお願いします。山田';
      const { fields, decoding } = decodeInboundFields(
        { text: iso2022jp(japanese), subject: iconv.encode('予約の変更', 'Shift_JIS') },
        '{"text":"ISO-2022-JP","subject":"Shift_JIS"}',
      );
      expect(fields).to.deep.equal({ text: japanese, subject: '予約の変更' });
      expect(decoding.text).to.deep.equal({ declared: 'ISO-2022-JP', used: 'iso-2022-jp', exact: true });
      expect(decoding.subject).to.deep.equal({ declared: 'Shift_JIS', used: 'shift_jis', exact: true });
    });

    it('reads UTF-8 as declared, astral characters included', () => {
      const text = `${GERMAN} 😊`;
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from(text) }, '{"text":"UTF-8"}');
      expect(fields.text).to.equal(text);
      expect(decoding.text).to.deep.equal({ declared: 'UTF-8', used: 'utf-8', exact: true });
    });

    it('accepts label case, spacing, quotes and the aliases the platform knows', () => {
      const cases: Array<[string, string, Buffer]> = [
        ['utf8', 'utf-8', Buffer.from(GERMAN)],
        ['UTF8', 'utf-8', Buffer.from(GERMAN)],
        [' utf-8 ', 'utf-8', Buffer.from(GERMAN)],
        ['"utf-8"', 'utf-8', Buffer.from(GERMAN)],
        ['latin1', 'windows-1252', Buffer.from(GERMAN, 'latin1')],
        ['ISO_8859-1', 'windows-1252', Buffer.from(GERMAN, 'latin1')],
        ['cp1252', 'windows-1252', Buffer.from(GERMAN, 'latin1')],
        ['us-ascii', 'windows-1252', Buffer.from('Hello')],
        ['sjis', 'shift_jis', iconv.encode('予約', 'Shift_JIS')],
        ['cp932', 'shift_jis', iconv.encode('予約', 'Shift_JIS')],
        ['KOI8-R', 'koi8-r', iconv.encode('Здравствуйте', 'koi8-r')],
      ];
      for (const [label, used, bytes] of cases) {
        const { decoding } = decodeInboundFields({ text: bytes }, JSON.stringify({ text: label }));
        expect(decoding.text, label).to.include({ used, exact: true });
      }
    });

    it('falls back to UTF-8 for an unknown label, saying so', () => {
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from(GERMAN) }, '{"text":"x-unknown"}');
      expect(fields.text).to.equal(GERMAN);
      expect(decoding.text).to.deep.equal({
        declared: 'x-unknown',
        used: 'utf-8',
        exact: false,
        reason: 'declared charset "x-unknown" is not supported; read as UTF-8',
      });
    });

    it('falls back to windows-1252 for an unknown label on bytes that are not UTF-8', () => {
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from(GERMAN, 'latin1') }, '{"text":"x-unknown"}');
      expect(fields.text).to.equal(GERMAN);
      expect(decoding.text!.reason).to.equal('declared charset "x-unknown" is not supported; read as windows-1252');
    });

    it('treats labels of encodings that decode no text (iso-2022-kr, x-user-defined) as unsupported', () => {
      for (const label of ['iso-2022-kr', 'x-user-defined']) {
        const { fields, decoding } = decodeInboundFields({ text: Buffer.from('Hello') }, JSON.stringify({ text: label }));
        expect(fields.text, label).to.equal('Hello');
        expect(decoding.text, label).to.include({ used: 'utf-8', exact: false });
      }
    });

    it('reads Latin-1 bytes declared as UTF-8 as windows-1252, with no U+FFFD', () => {
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from(GERMAN, 'latin1') }, '{"text":"UTF-8"}');
      expect(fields.text).to.equal(GERMAN);
      expect(fields.text).not.to.contain('\uFFFD');
      expect(decoding.text).to.deep.equal({
        declared: 'UTF-8',
        used: 'windows-1252',
        exact: false,
        reason: 'the bytes are not valid in the declared charset "UTF-8"; read as windows-1252',
      });
    });

    it('falls back when the bytes break the declared multi-byte charset', () => {
      const bytes = Buffer.concat([iso2022jp('予約'), Buffer.from([0xe9])]);
      const { fields, decoding } = decodeInboundFields({ text: bytes }, '{"text":"iso-2022-jp"}');
      expect(fields.text).not.to.contain('\uFFFD');
      expect(decoding.text).to.include({ used: 'windows-1252', exact: false });
    });

    it('keeps a U+FFFD that is really in valid UTF-8 input', () => {
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from('a\uFFFDb') }, '{"text":"utf-8"}');
      expect(fields.text).to.equal('a\uFFFDb');
      expect(decoding.text!.exact).to.equal(true);
    });

    it('reads every field as UTF-8 when the charsets field is missing or malformed', () => {
      const raw = { text: Buffer.from(GERMAN), subject: Buffer.from('Grüße') };
      for (const charsets of [undefined, '', '{"text":', 'null', '["utf-8"]', '"utf-8"', '{"text": 42, "subject": ["latin1"]}', Buffer.from('{oops')]) {
        const { fields, decoding } = decodeInboundFields(raw, charsets);
        expect(fields, String(charsets)).to.deep.equal({ text: GERMAN, subject: 'Grüße' });
        expect(decoding.text, String(charsets)).to.deep.equal({ declared: null, used: 'utf-8', exact: true });
      }
    });

    it('says so when a field with no declared charset is not UTF-8', () => {
      const { fields, decoding } = decodeInboundFields({ text: Buffer.from(GERMAN, 'latin1') }, undefined);
      expect(fields.text).to.equal(GERMAN);
      expect(decoding.text!.reason).to.equal('no charset declared and the bytes are not UTF-8; read as windows-1252');
    });

    it('ignores prototype keys in the charsets field and in the fields', () => {
      const charsets = '{"__proto__": {"text": "latin1"}, "constructor": "latin1", "text": "utf-8"}';
      const raw = JSON.parse('{"__proto__": "x"}') as Record<string, Buffer>;
      raw.text = Buffer.from(GERMAN);
      const { fields, decoding } = decodeInboundFields(raw, charsets);
      expect(Object.keys(fields)).to.deep.equal(['text']);
      expect(decoding.text!.exact).to.equal(true);
      expect(({} as Record<string, unknown>).text).to.equal(undefined);
      expect([...parseCharsets(charsets).keys()]).to.deep.equal(['text']);
    });

    it('strips a UTF-8 byte order mark, and trusts it over another declared charset', () => {
      const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GERMAN)]);
      expect(decodeInboundFields({ text: withBom }, '{"text":"utf-8"}').fields.text).to.equal(GERMAN);
      expect(decodeInboundFields({ text: withBom }, undefined).fields.text).to.equal(GERMAN);
      const declared1252 = decodeInboundFields({ text: withBom }, '{"text":"windows-1252"}');
      expect(declared1252.fields.text).to.equal(GERMAN);
      expect(declared1252.decoding.text).to.include({ used: 'utf-8', exact: false });
      // A BOM before bytes that are not UTF-8 is dropped, not shown as "ï»¿".
      const bomLatin1 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GERMAN, 'latin1')]);
      expect(decodeInboundFields({ text: bomLatin1 }, '{"text":"utf-8"}').fields.text).to.equal(GERMAN);
      expect(decodeInboundFields({ text: bomLatin1 }, '{"text":"iso-8859-1"}').fields.text).to.equal(GERMAN);
      // A charsets field with a BOM still parses.
      expect(parseCharsets(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text":"latin1"}')])).get('text')).to.equal('latin1');
    });

    it('decodes the text fields of the SendGrid Inbound Parse fixture', () => {
      const raw = multipartBytes(readFileSync(FIXTURE), 'xYzZY');
      const { charsets, ...textFields } = raw;
      const { fields, decoding } = decodeInboundFields(textFields, charsets);
      expect(fields.subject).to.equal('Re: Your appointment on Friday');
      expect(fields.from).to.equal('Dana Patient <dana.patient@example.org>');
      expect(fields.text).to.contain('Thanks! Friday works.');
      expect(decoding.text).to.deep.equal({ declared: 'UTF-8', used: 'utf-8', exact: true });
      expect(decoding.headers).to.deep.equal({ declared: null, used: 'utf-8', exact: true });
      expect(describeDecodingProblems(decoding)).to.equal('');
    });
  });

  describe('decodeField', () => {
    it('decodes one field the same way', () => {
      expect(decodeField(Buffer.from(GERMAN, 'latin1'), 'latin1')).to.deep.equal({
        text: GERMAN,
        decoding: { declared: 'latin1', used: 'windows-1252', exact: true },
      });
    });
  });

  describe('describeDecodingProblems', () => {
    it('is empty when every field was decoded as declared', () => {
      const { decoding } = decodeInboundFields({ text: Buffer.from('Hi'), subject: Buffer.from('Hello') }, '{"text":"utf-8"}');
      expect(describeDecodingProblems(decoding)).to.equal('');
      expect(describeDecodingProblems({})).to.equal('');
    });

    it('names each field that was not, with the reason, on one line', () => {
      const { decoding } = decodeInboundFields(
        { text: Buffer.from(GERMAN, 'latin1'), subject: Buffer.from('Hi'), html: Buffer.from('<p>Hi</p>') },
        '{"text":"utf-8","html":"x-unknown\\nnext"}',
      );
      const note = describeDecodingProblems(decoding);
      expect(note).to.equal(
        'Some characters may be wrong; not decoded as declared: ' +
          'text (the bytes are not valid in the declared charset "utf-8"; read as windows-1252); ' +
          'html (declared charset "x-unknown?next" is not supported; read as UTF-8).',
      );
      expect(note).not.to.match(/[\r\n]/);
    });
  });
});
