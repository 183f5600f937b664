import { expect } from 'chai';
import { postInboundEmail } from '../support/inbound-email.ts';
import { startTestHub, type Session, type TestHub } from '../support/test-hub.ts';
import { startVisitor, type TestVisitor } from '../support/widget-visitor.ts';

/**
 * Security item 6: an upload is what its bytes are, not what it says it is.
 * The declared type must be accepted and match the sniffed bytes (else 415 and
 * nothing stored; for email, a note instead of the file), and names lose bidi
 * and control characters and executable extensions.
 */

// Real (tiny) files, so the sniffer sees what a phone or a scanner would send.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), Buffer.alloc(64, 0x20), Buffer.from('ffd9', 'hex')]);
const heifBox = (brand: string) => Buffer.concat([Buffer.from('00000018', 'hex'), Buffer.from(`ftyp${brand}`), Buffer.from('00000000'), Buffer.from(`mif1${brand}`)]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58, 0), Buffer.from('80000000', 'hex'), Buffer.from('This program cannot be run in DOS mode.\r\r\n$'), Buffer.alloc(64, 0)]);
const TEXT = Buffer.from('Blood pressure log: 120/80, 118/79 — ça va.\n');
const TEXT_WITH_NUL = Buffer.from('looks like text\u0000but is not');

describe('uploads are sniffed, not trusted (security item 6)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'uploads', env: { INBOUND_EMAIL_DOMAIN: 'inbound.hub.example.com' } });
    admin = await t.admin();
  });
  after(() => t.close());

  const blobs = () => t.hub.services.timeline.models.AttachmentBlob.countDocuments();
  const storedName = async (attachmentId: string) => {
    const blob = await t.hub.services.timeline.models.AttachmentBlob.findById(attachmentId).lean().orFail();
    return t.hub.services.timeline.cipher.decrypt(blob.nameEnc!);
  };
  const post = async (path: string, token: string, type: string, data: Buffer, name: string) => {
    const res = await fetch(`${t.url}${path}`, {
      method: 'POST', body: new Uint8Array(data),
      headers: { authorization: `Bearer ${token}`, 'content-type': type, 'x-file-name': encodeURIComponent(name) },
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const expectRefused = async (attempt: Promise<{ status: number; body: any }>, ...mentions: string[]) => {
    const before = await blobs();
    const res = await attempt;
    expect(res.status, JSON.stringify(res.body)).to.equal(415);
    expect(res.body.error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    expect(res.body.error.field).to.equal('body');
    for (const m of mentions) expect(res.body.error.message).to.include(m);
    expect(await blobs(), 'nothing stored').to.equal(before);
  };

  describe('agents’ uploads (POST /api/attachments)', () => {
    const upload = (type: string, data: Buffer, name = 'file') => post('/api/attachments', admin.token, type, data, name);

    it('refuses an executable declared application/pdf, naming what the bytes are, and stores nothing', async () => {
      await expectRefused(upload('application/pdf', EXE, 'invoice.pdf'), 'application/x-msdownload', 'application/pdf');
    });

    it('refuses a PNG declared image/jpeg', async () => {
      await expectRefused(upload('image/jpeg', PNG, 'photo.jpg'), 'image/png', 'image/jpeg');
    });

    it('refuses a text file with NUL bytes declared text/plain, and text declared as an image', async () => {
      await expectRefused(upload('text/plain', TEXT_WITH_NUL, 'notes.txt'), 'binary', 'text/plain');
      await expectRefused(upload('image/png', TEXT, 'photo.png'), 'plain text', 'image/png');
    });

    it('accepts a real PDF declared application/pdf', async () => {
      const before = await blobs();
      const res = await upload('application/pdf', PDF, 'after-visit summary.pdf');
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ name: 'after-visit summary.pdf', contentType: 'application/pdf', size: PDF.length });
      expect(await blobs()).to.equal(before + 1);
    });

    it('accepts UTF-8 text as text/plain, image/jpg as image/jpeg, and the HEIF family as image/heic', async () => {
      expect((await upload('text/plain; charset=utf-8', TEXT, 'log.txt')).body).to.include({ contentType: 'text/plain' });
      expect((await upload('image/jpg', JPEG, 'scan.jpg')).body).to.include({ contentType: 'image/jpeg' });
      for (const [declared, brand] of [['image/heic', 'heic'], ['image/heic', 'mif1'], ['image/heif', 'heix']] as const) {
        const res = await upload(declared, heifBox(brand), 'IMG_0001.HEIC');
        expect(res.status, `${declared} ${brand}: ${JSON.stringify(res.body)}`).to.equal(201);
        expect(res.body.contentType).to.equal('image/heic');
      }
    });

    it('stores a name with a bidi override without it and without the executable extension', async () => {
      const res = await upload('image/png', PNG, 'photo\u202Egpj.exe');
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      for (const name of [res.body.name as string, await storedName(res.body.attachmentId)]) {
        expect(name).to.equal('photogpj.png');
        expect(name).not.to.match(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
        expect(name).not.to.match(/\.exe$/i);
      }
      const nested = await upload('application/pdf', PDF, '../../\u0000.bashrc.pdf.exe');
      expect(nested.body.name).to.equal('bashrc.pdf');
    });
  });

  describe('the widget’s uploads (POST /api/widget/attachments) get the same checks', () => {
    let visitor: TestVisitor;
    before(async () => {
      visitor = await startVisitor(t);
    });
    after(() => visitor.socket.disconnect());
    const upload = (type: string, data: Buffer, name = 'file') => post('/api/widget/attachments', visitor.token, type, data, name);

    it('refuses an executable declared application/pdf and a PNG declared image/jpeg, storing nothing', async () => {
      await expectRefused(upload('application/pdf', EXE, 'lab results.pdf'), 'application/x-msdownload', 'application/pdf');
      await expectRefused(upload('image/jpeg', PNG, 'rash.jpg'), 'image/png', 'image/jpeg');
      await expectRefused(upload('text/plain', TEXT_WITH_NUL, 'notes.txt'), 'text/plain');
    });

    it('accepts a real photo and cleans its name', async () => {
      const res = await upload('image/png', PNG, 'rash\u202Egnp.scr');
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ name: 'rashgnp.png', contentType: 'image/png', size: PNG.length });
      expect(await storedName(res.body.attachmentId)).to.equal('rashgnp.png');
    });
  });

  describe('inbound email attachments (no caller to answer: refused ones are noted, never stored)', () => {
    it('does not store an executable named and declared as a PDF, notes it on the message, and keeps the real files', async () => {
      const before = await blobs();
      const messageId = `<upload-${Date.now()}@mail.example.org>`;
      const res = await postInboundEmail(t, {
        from: 'Pat Files <pat.files@example.org>',
        headers: `From: Pat Files <pat.files@example.org>\r\nSubject: Forms\r\nMessage-ID: ${messageId}\r\n`,
        text: 'Forms attached.',
      }, [
        { name: 'invoice.pdf', type: 'application/pdf', data: EXE },
        { name: 'consent form.pdf', type: 'application/pdf', data: PDF },
        { name: 'insurance card\u202Egnp.exe', type: 'image/png', data: PNG },
      ]);
      expect(res.status).to.equal(200);
      const stored = await t.hub.services.db.models.Message.findOne({ providerMessageId: messageId }).lean().orFail();
      expect(stored.attachments.map((a) => [t.hub.services.timeline.cipher.decrypt(a.nameEnc), a.contentType])).to.deep.equal([
        ['consent form.pdf', 'application/pdf'],
        ['insurance cardgnp.png', 'image/png'],
      ]);
      expect(await blobs()).to.equal(before + 2);
      const body = t.hub.services.timeline.cipher.decrypt(stored.bodyEnc);
      expect(body).to.include('Forms attached.');
      expect(body).to.include('[Attachment "invoice.pdf" (application/pdf) was not accepted: its contents are application/x-msdownload (.exe), not application/pdf as declared.]');
    });
  });
});
