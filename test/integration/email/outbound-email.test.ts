import { expect } from 'chai';
import nock from 'nock';
import { ReplyAddresses } from '../../../server/delivery/email-thread.ts';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('email outbound: threading, reply address, safe HTML (sandbox)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'email-out', env: { INBOUND_EMAIL_DOMAIN: 'reply.clinic.example', CLINIC_NAME: 'Riverside Clinic' } });
    admin = await t.admin();
  });
  after(() => t.close());

  const outboxEntry = (messageId: string) =>
    waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === messageId));

  it('threads replies: own Message-ID, In-Reply-To/References to the earlier one, a signed reply address', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'dana@example.org', body: 'question' });
    const first = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'first answer' }, admin.token);
    const second = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Line one\nLine two <script>alert(1)</script>' }, admin.token);
    const a = (await outboxEntry(first.body.id)).request;
    const b = (await outboxEntry(second.body.id)).request;
    expect(a.from).to.deep.equal({ email: t.config.sendgrid.fromEmail, name: 'Riverside Clinic' });
    expect(a.reply_to.email).to.match(new RegExp(`^reply\\+${inbound.conversation.id}\\.[\\w-]{16}@reply\\.clinic\\.example$`));
    // 128 random bits, never the message's database id: nobody can guess one to thread into this conversation.
    expect(a.headers['Message-ID']).to.match(/^<[0-9a-f]{32}@reply\.clinic\.example>$/);
    expect(a.headers['Message-ID']).not.to.include(first.body.id);
    expect(b.headers['Message-ID']).to.match(/^<[0-9a-f]{32}@reply\.clinic\.example>$/).and.not.equal(a.headers['Message-ID']);
    expect(b.headers['In-Reply-To']).to.equal(a.headers['Message-ID']);
    expect(b.headers.References).to.equal(a.headers['Message-ID']);
    expect(b.content).to.deep.equal([
      { type: 'text/plain', value: 'Line one\nLine two <script>alert(1)</script>' },
      { type: 'text/html', value: '<p>Line one<br>Line two &#60;script&#62;alert(1)&#60;/script&#62;</p>' },
    ]);
    expect(b.custom_args).to.deep.equal({ carethread_message_id: second.body.id });
  });

  it('recognises only its own, unaltered reply addresses', () => {
    const addresses = new ReplyAddresses('secret-one', 'reply.clinic.example');
    const address = addresses.for('abc123-1');
    expect(addresses.conversationOf(address)).to.equal('abc123-1');
    expect(addresses.conversationOf(address.replace('abc123-1', 'abc123-2'))).to.equal(null);
    expect(new ReplyAddresses('secret-two', 'reply.clinic.example').conversationOf(address)).to.equal(null);
    expect(addresses.conversationOf(address.replace('reply.clinic.example', 'evil.example'))).to.equal(null);
  });
});

describe('email outbound over @sendgrid/mail (HTTP intercepted)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'email-live', env: { SENDGRID_API_KEY: 'SG.test-key', SENDGRID_FROM_EMAIL: 'care@clinic.example' } });
    admin = await t.admin();
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });
  afterEach(() => nock.cleanAll());
  const messageOf = (id: string) => t.hub.services.db.models.Message.findById(id).lean();

  it('posts mail/send with the Bearer key and stores the X-Message-Id', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'live@example.org', body: 'hi' });
    let sent: any;
    let authorization = '';
    const api = nock('https://api.sendgrid.com')
      .post('/v3/mail/send', (body) => ((sent = body), true))
      .reply(function () {
        authorization = String(this.req.headers.authorization);
        return [202, '', { 'X-Message-Id': 'Xq7HbN2vQ3eWm8YpK1tR4w' }];
      });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'hello by email' }, admin.token);
    await waitFor(async () => (await messageOf(reply.body.id))?.providerMessageId === 'Xq7HbN2vQ3eWm8YpK1tR4w');
    expect(api.isDone()).to.equal(true);
    expect(authorization).to.equal('Bearer SG.test-key');
    expect(sent.personalizations).to.deep.equal([{ to: [{ email: 'live@example.org' }] }]);
    expect(sent.from).to.deep.equal({ email: 'care@clinic.example', name: t.config.clinicName });
    expect(sent.custom_args).to.deep.equal({ carethread_message_id: reply.body.id });
  });

  it('turns a 400 with SendGrid’s error list into a failed message naming the problem', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'bad@example.org', body: 'hi' });
    nock('https://api.sendgrid.com').post('/v3/mail/send').reply(400, { errors: [{ message: 'The from email does not contain a valid address.', field: 'from.email' }] });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'x' }, admin.token);
    const failed = await waitFor(async () => {
      const m = await messageOf(reply.body.id);
      return m?.delivery.status === 'failed' ? m : null;
    });
    expect(failed.delivery.error).to.deep.include({ code: 'PROVIDER_REFUSED', retryable: false });
    expect(failed.delivery.error!.message).to.include('from.email');
  });

  it('keeps a 429 queued for retry', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'busy@example.org', body: 'hi' });
    nock('https://api.sendgrid.com').post('/v3/mail/send').reply(429, { errors: [{ message: 'too many requests' }] });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'x' }, admin.token);
    const queued = await waitFor(async () => {
      const m = await messageOf(reply.body.id);
      return m?.delivery.error?.code === 'PROVIDER_UNAVAILABLE' ? m : null;
    });
    expect(queued.delivery.status).to.equal('queued');
    expect(queued.outboxDueAt).to.be.instanceOf(Date);
  });
});
