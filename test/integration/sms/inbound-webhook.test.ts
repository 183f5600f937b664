import { expect } from 'chai';
import { inboundSms, postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('SMS inbound webhook (POST /webhooks/twilio/sms)', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'sms-inbound' });
  });
  after(() => t.close());
  const messagesFrom = async (sid: string) => t.hub.services.db.models.Message.countDocuments({ providerMessageId: sid });

  it('stores a correctly signed SMS and answers empty TwiML', async () => {
    const params = inboundSms({ From: '+14155551101', Body: 'Do I need to fast before my blood test?' });
    const res = await postTwilio(t, '/webhooks/twilio/sms', params);
    expect(res.status).to.equal(200);
    expect(res.contentType).to.match(/text\/xml/);
    expect(res.text).to.match(/<Response\s*\/?>(<\/Response>)?$/);
    const admin = await t.admin();
    const inbox = (await t.api.get('/api/conversations?channel=sms', admin.token)).body.items;
    const conversation = inbox.find((c: { preview: { body: string } }) => c.preview.body === 'Do I need to fast before my blood test?');
    expect(conversation).to.exist;
    const history = (await t.api.get(`/api/conversations/${conversation.id}/messages`, admin.token)).body.items;
    expect(history[0]).to.include({ direction: 'inbound', channel: 'sms', providerMessageId: params.MessageSid });
  });

  it('refuses a missing or wrong signature with 403 and stores nothing', async () => {
    const params = inboundSms({ From: '+14155551102', Body: 'forged' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params, { signature: null })).status).to.equal(403);
    expect((await postTwilio(t, '/webhooks/twilio/sms', params, { signature: 'bm90IGEgc2lnbmF0dXJl' })).status).to.equal(403);
    // Signed for other content: one changed field breaks it.
    const signedFor = { ...params, Body: 'original' };
    const twilio = (await import('twilio')).default;
    const signature = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, `${t.config.publicBaseUrl}/webhooks/twilio/sms`, signedFor);
    expect((await postTwilio(t, '/webhooks/twilio/sms', params, { signature })).status).to.equal(403);
    expect(await messagesFrom(params.MessageSid!)).to.equal(0);
  });

  it('stores one message when Twilio posts the same MessageSid ten times at once', async () => {
    const params = inboundSms({ From: '+14155551103', Body: 'retry storm' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => postTwilio(t, '/webhooks/twilio/sms', params)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(200));
    expect(await messagesFrom(params.MessageSid!)).to.equal(1);
  });

  it('finds the patient by phone across channels and formats', async () => {
    const params = inboundSms({ From: '+14155551105', Body: 'one' });
    await postTwilio(t, '/webhooks/twilio/sms', params);
    const admin = await t.admin();
    const loop = await t.api.post('/api/dev/inbound', { channel: 'sms', from: '(415) 555-1105', body: 'two' }, admin.token);
    const fromWebhook = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean();
    expect(loop.body.patientId).to.equal(fromWebhook!.patientId);
  });

  it('answers 400 naming the field when the post is signed but not a Twilio message', async () => {
    const res = await postTwilio(t, '/webhooks/twilio/sms', { From: '+14155551106', Body: 'x' });
    expect(res.status).to.equal(400);
    expect(JSON.parse(res.text).error.field).to.equal('MessageSid');
  });
});

describe('SMS inbound webhook when the database is down', () => {
  it('answers 5xx so Twilio retries, instead of acknowledging a message it did not store', async () => {
    const t = await startTestHub({ label: 'sms-dbdown' });
    try {
      await t.hub.services.db.connection.close();
      const res = await postTwilio(t, '/webhooks/twilio/sms', inboundSms({ From: '+14155551107', Body: 'lost?' }));
      expect(res.status).to.be.at.least(500);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
