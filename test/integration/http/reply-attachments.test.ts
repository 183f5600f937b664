import { expect } from 'chai';
import { recordConsent } from '../../../server/timeline/consent.ts';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('agents attach files to replies: email attachments, MMS through signed links', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'reply-files' });
    admin = await t.admin();
  });
  after(() => t.close());

  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3000, 65)]);
  const upload = async (token: string, body: Buffer, type = 'application/pdf', name = 'after-visit summary.pdf') =>
    fetch(`${t.url}/api/attachments`, {
      method: 'POST', body: new Uint8Array(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': type, 'x-file-name': encodeURIComponent(name) },
    });
  const outboxEntry = (channel: string, messageId: string) =>
    waitFor(async () => ((await t.api.get(`/api/dev/outbox?channel=${channel}`, admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === messageId));

  it('sends a PDF by MMS as a signed, expiring link that Twilio can fetch without a login', async () => {
    const texted = await patientWrites(t, { channel: 'sms', from: '+13035550180', body: 'send me the summary?' });
    const uploaded = await upload(admin.token, pdf);
    expect(uploaded.status).to.equal(201);
    const { attachmentId } = (await uploaded.json()) as { attachmentId: string };
    const reply = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'Here it is.', channel: 'sms', attachmentIds: [attachmentId] }, admin.token);
    expect(reply.status).to.equal(201);
    expect(reply.body.attachments).to.deep.equal([{ name: 'after-visit summary.pdf', contentType: 'application/pdf', size: pdf.length, inline: false, unavailable: null }]);
    const sent = (await outboxEntry('sms', reply.body.id)).request;
    expect(sent.MediaUrl).to.have.length(1);
    const link = new URL(sent.MediaUrl[0]);
    expect(link.pathname).to.match(/^\/media\/[\w-]+\.[\w-]+$/);

    const fetched = await fetch(`${t.url}${link.pathname}`);
    expect(fetched.status).to.equal(200);
    expect(fetched.headers.get('content-type')).to.equal('application/pdf');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(pdf)).to.equal(true);
    const tampered = link.pathname.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(`${t.url}${tampered}`)).status).to.equal(404);
    t.clock.advance(5 * 3600_000);
    expect((await fetch(`${t.url}${link.pathname}`)).status).to.equal(404);
  });

  it('attaches the file to an email, and refuses files another agent uploaded or types not allowed', async () => {
    admin = await t.admin(); // the clock moved past the last token's life
    const texted = await patientWrites(t, { channel: 'sms', from: '+13035550181', body: 'email it please' });
    await attachIdentity(t.hub.services.timeline, texted.patientId, { kind: 'email', value: 'files.test@example.org' }, { evidence: 'agent_promotion' });
    await recordConsent(t.hub.services.timeline, texted.patientId, 'email', 'opted_in', 'front_desk_form');
    const { attachmentId } = (await (await upload(admin.token, pdf)).json()) as { attachmentId: string };
    const reply = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'Attached.', channel: 'email', attachmentIds: [attachmentId] }, admin.token);
    const mail = (await outboxEntry('email', reply.body.id)).request;
    expect(mail.attachments).to.have.length(1);
    expect(mail.attachments[0]).to.include({ filename: 'after-visit summary.pdf', type: 'application/pdf', disposition: 'attachment' });
    expect(Buffer.from(mail.attachments[0].content, 'base64').equals(pdf)).to.equal(true);

    const other: Session = await t.agent({ name: 'Other Agent' });
    const theirs = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'x', channel: 'email', attachmentIds: [attachmentId] }, other.token);
    expect(theirs.status).to.equal(400);
    expect(theirs.body.error.field).to.equal('attachmentIds');
    expect((await upload(admin.token, pdf, 'text/html', 'page.html')).status).to.equal(415);
  });
});
