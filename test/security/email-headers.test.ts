import { expect } from 'chai';
import { postInboundEmail } from '../support/inbound-email.ts';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

/**
 * Security item 7: a CR or LF in a subject would end the Subject header and
 * start another (`Bcc:`). Patients' subjects are folded to one line (their
 * mail is kept), agents' are refused (they can fix them), and what reaches
 * SendGrid is one line whatever was stored.
 */
describe('email headers: CR/LF never survives into a subject (security item 7)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'email-headers', env: { INBOUND_EMAIL_DOMAIN: 'inbound.hub.example.com' } });
    admin = await t.admin();
  });
  after(() => t.close());

  const outboxRequest = (messageId: string) =>
    waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email&limit=50', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === messageId)?.request);

  /** The parts of SendGrid's request that become headers: one line each, no Bcc anywhere. */
  const expectNoInjection = (request: any) => {
    expect(request.subject).to.be.a('string');
    expect(request.subject).not.to.match(/[\r\n]/);
    for (const [name, value] of Object.entries((request.headers ?? {}) as Record<string, string>)) {
      expect(name).not.to.match(/[\r\n]|^bcc$/i);
      expect(String(value)).not.to.match(/[\r\n]/);
    }
    for (const p of request.personalizations as { subject?: string; bcc?: unknown; headers?: Record<string, string> }[]) {
      expect(p.bcc).to.equal(undefined);
      if (p.subject) expect(p.subject).not.to.match(/[\r\n]/);
      expect(JSON.stringify(p.headers ?? {})).not.to.match(/\\r|\\n/);
    }
  };

  it('folds a patient’s subject carrying "\\r\\nBcc:" to one line, and the agent’s reply reaches SendGrid without it breaking a header', async () => {
    const messageId = `<inject-${Date.now()}@mail.example.org>`;
    const res = await postInboundEmail(t, {
      from: 'Pat Inject <pat.inject@example.org>',
      subject: 'Refill please\r\nBcc: victim@example.com\r\n\r\nX-Evil: 1',
      headers: `From: Pat Inject <pat.inject@example.org>\r\nSubject: Refill please\r\nMessage-ID: ${messageId}\r\n`,
      text: 'Can I get a refill?',
    });
    expect(res.status).to.equal(200);
    const inbound = await t.hub.services.db.models.Message.findOne({ providerMessageId: messageId }).lean().orFail();
    const conversation = (await t.api.get(`/api/conversations/${inbound.conversationId}`, admin.token)).body;
    expect(conversation.subject).to.equal('Refill please Bcc: victim@example.com X-Evil: 1');

    const reply = await t.api.post(`/api/conversations/${inbound.conversationId}/messages`, { body: 'Sent to your pharmacy.', channel: 'email' }, admin.token);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    const request = await outboxRequest(reply.body.id);
    // The words stay (the patient wrote them), on one line, so they are text and never a Bcc header.
    expect(request.subject).to.equal('Re: Refill please Bcc: victim@example.com X-Evil: 1');
    expectNoInjection(request);
    expect(JSON.stringify(request.personalizations)).not.to.include('victim@example.com');
  });

  it('refuses an agent’s subject with CR or LF: 400 naming the field subject', async () => {
    const texted = await patientWrites(t, { channel: 'email', from: 'pat.agent@example.org', body: 'question' });
    for (const subject of ['Your results\r\nBcc: victim@example.com', 'Your results\nBcc: victim@example.com', 'Your\rresults', 'Your\u2028results']) {
      const res = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'Attached.', channel: 'email', subject }, admin.token);
      expect(res.status, JSON.stringify(subject)).to.equal(400);
      expect(res.body.error.code).to.equal('INVALID_INPUT');
      expect(res.body.error.field).to.equal('subject');
    }
    const stored = await t.hub.services.db.models.Conversation.findById(texted.conversation.id).lean().orFail();
    expect(stored.subject ?? null).to.equal(null);

    const ok = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'Attached.', channel: 'email', subject: 'Your results' }, admin.token);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    const request = await outboxRequest(ok.body.id);
    expect(request.subject).to.equal('Re: Your results'); // it answers the patient's email
    expectNoInjection(request);
  });

  it('folds a subject stored before these rules on its way to SendGrid', async () => {
    const texted = await patientWrites(t, { channel: 'email', from: 'pat.legacy@example.org', body: 'old thread' });
    await t.hub.services.db.models.Conversation.updateOne({ _id: texted.conversation.id }, { $set: { subject: 'Old\r\nBcc: victim@example.com' } });
    const reply = await t.api.post(`/api/conversations/${texted.conversation.id}/messages`, { body: 'Following up.', channel: 'email' }, admin.token);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    const request = await outboxRequest(reply.body.id);
    expect(request.subject).to.equal('Re: Old Bcc: victim@example.com');
    expectNoInjection(request);
  });
});
