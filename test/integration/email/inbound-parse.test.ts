import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';
import { postInboundEmail, type InboundMail } from '../../support/inbound-email.ts';
import { TINY_PNG } from '../../support/sample-files.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

describe('SendGrid Inbound Parse (POST /webhooks/sendgrid/inbound)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sg-inbound', env: { INBOUND_EMAIL_DOMAIN: 'inbound.hub.example.com' } });
    admin = await t.admin();
  });
  after(() => t.close());

  const auth = (secret = t.config.sendgrid.inboundSecret) => `Basic ${Buffer.from(`parse:${secret}`).toString('base64')}`;
  const postMail = (fields: InboundMail, files: { name: string; type: string; data: Buffer }[] = [], secret?: string | null) =>
    postInboundEmail(t, fields, files, secret === undefined ? t.config.sendgrid.inboundSecret : secret);
  const mail = (over: Partial<InboundMail>): InboundMail => ({
    headers: `From: Pat Example <pat@example.org>\r\nSubject: Question\r\nMessage-ID: <m-${Math.random().toString(36).slice(2)}@mail.example.org>\r\n`,
    from: 'Pat Example <pat@example.org>', to: 'clinic@inbound.hub.example.com', subject: 'Question', text: 'Hello there', ...over,
  });
  const lastInbound = () => t.hub.services.db.models.Message.findOne({ direction: 'inbound', channel: 'email' }).sort({ createdAt: -1 }).lean().orFail();

  it('stores the exact multipart SendGrid posts, keeping only what the patient wrote, with its attachment', async () => {
    const meta = JSON.parse(readFileSync(join(FIXTURES, 'sendgrid-inbound-parse.meta.json'), 'utf8'));
    const res = await fetch(`${t.url}/webhooks/sendgrid/inbound`, {
      method: 'POST', body: readFileSync(join(FIXTURES, 'sendgrid-inbound-parse.txt')),
      headers: { 'content-type': meta.headers['Content-Type'], authorization: auth() },
    });
    expect(res.status).to.equal(200);
    const stored = await lastInbound();
    const body = t.hub.services.timeline.cipher.decrypt(stored.bodyEnc);
    expect(body).to.include('Friday works');
    expect(body).not.to.include('we can offer Friday 9:30am');
    expect(stored.providerMessageId).to.equal('<CAF3xq9Z-patient-reply-0001@mail.example.org>');
    expect(stored.attachments).to.have.length(1);
    expect(stored.attachments[0]!.contentType).to.equal('application/pdf');
    const file = await fetch(`${t.url}/api/conversations/${stored.conversationId}/messages/${stored._id}/attachments/0`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(file.status).to.equal(200);
    expect(file.headers.get('content-type')).to.equal('application/pdf');
    expect((await file.arrayBuffer()).byteLength).to.equal(stored.attachments[0]!.size);
  });

  it('refuses a wrong or missing secret with 403 and stores nothing', async () => {
    const before = await t.hub.services.db.models.Message.countDocuments();
    expect((await postMail(mail({ text: 'forged' }), [], null)).status).to.equal(403);
    expect((await postMail(mail({ text: 'forged' }), [], 'not-the-secret')).status).to.equal(403);
    expect(await t.hub.services.db.models.Message.countDocuments()).to.equal(before);
  });

  it('threads a reply sent to our signed reply address into that patient’s conversation, from any sender address', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'first@example.org', body: 'start' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'our answer' }, admin.token);
    const outbox = await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === reply.body.id));
    const replyTo = outbox.request.reply_to.email as string;
    expect((await postMail(mail({ from: 'Other Address <second@example.org>', to: replyTo, text: 'from my work email' }))).status).to.equal(200);
    expect((await lastInbound()).conversationId).to.equal(inbound.conversation.id);
    // The other address may be a relative's: replies keep going to the verified one.
    const next = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'to the patient' }, admin.token);
    const sentTo = await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === next.body.id));
    expect(sentTo.request.personalizations[0].to[0].email).to.equal('first@example.org');
    // A forged plus-address is not trusted: the mail goes to the sender's own patient.
    const forged = replyTo.replace(/\.[\w-]{16}@/, '.AAAAAAAAAAAAAAAA@');
    await postMail(mail({ from: 'stranger@example.org', to: forged, text: 'let me in' }));
    expect((await lastInbound()).conversationId).not.to.equal(inbound.conversation.id);
  });

  it('threads by In-Reply-To when the reply address is gone', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'thread@example.org', body: 'start' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'answer' }, admin.token);
    const sent = await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === reply.body.id));
    const headers = `From: x@example.org\r\nMessage-ID: <r-1@mail.example.org>\r\nIn-Reply-To: ${sent.request.headers['Message-ID']}\r\n`;
    await postMail(mail({ headers, from: 'Forwarded <third@example.org>', to: 'clinic@example.org', text: 'following up' }));
    expect((await lastInbound()).conversationId).to.equal(inbound.conversation.id);
  });

  it('stores a re-posted email (same Message-ID) once', async () => {
    const same = mail({ text: 'once only' });
    await postMail(same);
    await postMail(same);
    const id = /<m-[^>]+>/.exec(same.headers!)![0];
    expect(await t.hub.services.db.models.Message.countDocuments({ providerMessageId: id })).to.equal(1);
  });

  it('notes refused attachments on the message instead of dropping them silently', async () => {
    await postMail(mail({ text: 'see attached' }), [
      { name: 'scan.png', type: 'image/png', data: TINY_PNG },
      { name: 'tool.exe', type: 'application/x-msdownload', data: Buffer.from('MZ') },
    ]);
    const stored = await lastInbound();
    expect(stored.attachments.map((a) => a.contentType)).to.deep.equal(['image/png']);
    expect(t.hub.services.timeline.cipher.decrypt(stored.bodyEnc)).to.include('[Attachment "tool.exe" (application/x-msdownload) was not accepted: this file type is not accepted.]');
  });

  it('does not let an auto-reply reopen a resolved conversation', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'ooo@example.org', body: 'question' });
    await t.api.post(`/api/conversations/${inbound.conversation.id}/resolve`, undefined, admin.token);
    const headers = 'From: ooo@example.org\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo-1@mail.example.org>\r\n';
    expect((await postMail(mail({ headers, from: 'ooo@example.org', text: 'I am out of the office' }))).status).to.equal(200);
    const conversation = (await t.api.get(`/api/conversations/${inbound.conversation.id}`, admin.token)).body;
    expect(conversation.status).to.equal('resolved');
  });
});
