import twilio from 'twilio';
import { expect } from 'chai';
import nock from 'nock';
import { fakeSid, inboundSms, postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { connected, nextEvent, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

const ACCOUNT = 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const LIVE_ENV = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBER: '+15555550100', PUBLIC_BASE_URL: 'https://hub.example.com' };

describe('SMS outbound over the Twilio SDK (HTTP intercepted)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sms-live', env: LIVE_ENV });
    admin = await t.admin();
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });
  afterEach(() => nock.cleanAll());

  async function conversationWith(from: string) {
    const params = inboundSms({ From: from, Body: 'hello' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    return (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).conversationId;
  }
  const messageOf = (id: string) => t.hub.services.db.models.Message.findById(id).lean();

  it('sends To, From, Body and StatusCallback with the account’s Basic auth, and stores the sid', async () => {
    const conversationId = await conversationWith('+14155551401');
    const response = twilioFixture('twilio-create-message-response.json') as unknown as { body: Record<string, unknown> };
    let form: URLSearchParams | undefined;
    let authorization = '';
    const api = nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, (body) => {
        form = new URLSearchParams(body as Record<string, string>);
        return true;
      })
      .reply(function () {
        authorization = String(this.req.headers.authorization);
        return [201, { ...response.body, sid: 'SM11111111111111111111111111111111', status: 'queued', messaging_service_sid: null }];
      });
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Yes, fast for 8 hours.' }, admin.token);
    expect(reply.status).to.equal(201);
    await waitFor(async () => (await messageOf(reply.body.id))?.providerMessageId === 'SM11111111111111111111111111111111');
    expect(api.isDone()).to.equal(true);
    expect(Object.fromEntries(form!)).to.deep.equal({
      To: '+14155551401',
      From: '+15555550100',
      Body: 'Yes, fast for 8 hours.',
      // Our message id rides in the signed URL: the callback finds the message by it.
      StatusCallback: `https://hub.example.com/webhooks/twilio/status?m=${reply.body.id}`,
    });
    expect(authorization).to.equal(`Basic ${Buffer.from(`${ACCOUNT}:${t.config.twilio.authToken}`).toString('base64')}`);
  });

  it('marks 21610 failed and the patient opted out of SMS', async () => {
    const conversationId = await conversationWith('+14155551402');
    const error = twilioFixture('twilio-error-21610.json') as unknown as { status: number; body: object };
    nock('https://api.twilio.com').post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`).reply(error.status, error.body);
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'hello?' }, admin.token);
    const failed = await waitFor(async () => {
      const m = await messageOf(reply.body.id);
      return m?.delivery.status === 'failed' ? m : null;
    });
    expect(failed.delivery.error).to.deep.include({ code: 'RECIPIENT_OPTED_OUT', retryable: false });
    const conversation = await t.hub.services.db.models.Conversation.findById(conversationId).lean().orFail();
    const patient = await t.hub.services.db.models.Patient.findById(conversation.patientId).lean().orFail();
    expect(patient.consent.sms).to.include({ status: 'opted_out', source: 'provider_refused:21610' });
  });

  it('marks 21211 failed as an invalid number, not retried', async () => {
    const conversationId = await conversationWith('+14155551403');
    const api = nock('https://api.twilio.com').post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`).times(1).reply(400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 });
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'x' }, admin.token);
    const failed = await waitFor(async () => {
      const m = await messageOf(reply.body.id);
      return m?.delivery.status === 'failed' ? m : null;
    });
    expect(failed.delivery.error!.code).to.equal('INVALID_NUMBER');
    expect(failed.attempts).to.equal(1);
    expect(api.isDone()).to.equal(true);
  });

  it('retries a 503 and sends on the next attempt', async () => {
    const conversationId = await conversationWith('+14155551404');
    nock('https://api.twilio.com').post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`).reply(503, { code: 20500, message: 'Service unavailable', status: 503 });
    nock('https://api.twilio.com').post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`).reply(201, { sid: 'SM22222222222222222222222222222222', status: 'queued' });
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'retry me' }, admin.token);
    await waitFor(async () => (await messageOf(reply.body.id))?.delivery.error?.code === 'PROVIDER_UNAVAILABLE');
    t.clock.advance(10_000);
    const sent = await waitFor(async () => {
      const m = await messageOf(reply.body.id);
      return m?.providerMessageId === 'SM22222222222222222222222222222222' ? m : null;
    });
    expect(sent.attempts).to.equal(2);
  });

  it('refuses an SMS reply over 1,600 characters with 400, and counts segments for the agent', async () => {
    const conversationId = await conversationWith('+14155551405');
    const long = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'x'.repeat(1601) }, admin.token);
    expect(long.status).to.equal(400);
    expect(long.body.error.field).to.equal('body');
    expect((await t.api.post('/api/sms/segments', { body: 'a'.repeat(161) }, admin.token)).body).to.deep.equal({ encoding: 'GSM-7', segments: 2, characters: 161, tooLong: false });
    expect((await t.api.post('/api/sms/segments', { body: 'Café ☕ at 9' }, admin.token)).body).to.include({ encoding: 'UCS-2', segments: 1 });
  });
});

describe('SMS status callbacks (POST /webhooks/twilio/status)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sms-status', env: LIVE_ENV });
    admin = await t.admin();
  });
  after(() => t.close());

  async function sentMessage(from: string, sid: string) {
    const params = inboundSms({ From: from, Body: 'hi' });
    await postTwilio(t, '/webhooks/twilio/sms', params);
    const conversationId = (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).conversationId;
    nock('https://api.twilio.com').post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`).reply(201, { sid, status: 'queued' });
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'reply' }, admin.token);
    await waitFor(async () => (await t.hub.services.db.models.Message.findById(reply.body.id).lean())?.providerMessageId === sid);
    return reply.body.id as string;
  }
  const status = (sid: string, MessageStatus: string, extra: Record<string, string> = {}) =>
    postTwilio(t, '/webhooks/twilio/status', { MessageSid: sid, SmsSid: sid, MessageStatus, SmsStatus: MessageStatus, AccountSid: ACCOUNT, ApiVersion: '2010-04-01', ...extra });

  it('never moves backwards: delivered then a late "sent" stays delivered, each change pushed live', async () => {
    const sid = fakeSid();
    const id = await sentMessage('+14155551501', sid);
    const socket = t.socket(admin.token);
    await connected(socket);
    const pushed = nextEvent<{ message: { id: string; delivery: { status: string } } }>(socket, 'message:updated', (p) => p.message.id === id && p.message.delivery.status === 'delivered');
    expect((await status(sid, 'delivered')).status).to.equal(200);
    await pushed;
    expect((await status(sid, 'sent')).status).to.equal(200);
    const stored = await t.hub.services.db.models.Message.findById(id).lean().orFail();
    expect(stored.delivery.status).to.equal('delivered');
    expect(stored.delivery.history.map((h) => h.status)).to.deep.equal(['queued', 'delivered']);
  });

  it('records undelivered with the carrier’s error code and a reason an agent can read', async () => {
    const fixture = twilioFixture('twilio-status-undelivered-30007.json');
    const sid = fakeSid();
    const id = await sentMessage('+14155551502', sid);
    expect((await postTwilio(t, '/webhooks/twilio/status', { ...fixture, MessageSid: sid, SmsSid: sid })).status).to.equal(200);
    const stored = await t.hub.services.db.models.Message.findById(id).lean().orFail();
    expect(stored.delivery.status).to.equal('undelivered');
    expect(stored.delivery.error).to.deep.include({ code: 'SMS_CARRIER_FILTERED', message: 'Filtered by the carrier as spam' });
    expect(stored.delivery.error!.suggestion).to.match(/email or web chat/);
    expect(stored.delivery.history.at(-1)!.errorCode).to.equal('30007');
  });

  it('accepts a callback for an unknown MessageSid with 200 and logs it', async () => {
    expect((await status(fakeSid(), 'delivered')).status).to.equal(200);
    expect(t.logs.join('\n')).to.include('status callback for a message we did not send');
  });

  it('finds the message by our id in the signed StatusCallback URL, even before Twilio’s sid is recorded; a URL changed after signing is refused', async () => {
    const id = await sentMessage('+14155551504', fakeSid());
    const other = await sentMessage('+14155551505', fakeSid());
    // Twilio's callback can beat the hub recording the sid: the id in the URL still finds the message.
    const early = fakeSid();
    const fields = { MessageSid: early, SmsSid: early, MessageStatus: 'delivered', SmsStatus: 'delivered', AccountSid: ACCOUNT, ApiVersion: '2010-04-01' };
    expect((await postTwilio(t, `/webhooks/twilio/status?m=${id}`, fields)).status).to.equal(200);
    expect((await t.hub.services.db.models.Message.findById(id).lean().orFail()).delivery.status).to.equal('delivered');
    // The signature covers the query: signed for one message, posted for another, it is refused and changes nothing.
    const signed = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, `${t.config.publicBaseUrl}/webhooks/twilio/status?m=${id}`, { ...fields, MessageStatus: 'failed', SmsStatus: 'failed' });
    expect((await postTwilio(t, `/webhooks/twilio/status?m=${other}`, { ...fields, MessageStatus: 'failed', SmsStatus: 'failed' }, { signature: signed })).status).to.equal(403);
    expect((await t.hub.services.db.models.Message.findById(other).lean().orFail()).delivery.status).to.equal('queued');
  });

  it('refuses an unsigned callback with 403', async () => {
    const sid = fakeSid();
    const id = await sentMessage('+14155551503', sid);
    const res = await postTwilio(t, '/webhooks/twilio/status', { MessageSid: sid, MessageStatus: 'failed' }, { signature: null });
    expect(res.status).to.equal(403);
    expect((await t.hub.services.db.models.Message.findById(id).lean().orFail()).delivery.status).to.equal('queued');
  });
});
