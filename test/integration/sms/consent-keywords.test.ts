import { expect } from 'chai';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { inboundSms, postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('SMS consent: STOP, START, HELP', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'sms-consent', env: { CLINIC_NAME: 'Riverside Clinic' } });
  });
  after(() => t.close());

  async function patientTexts(from: string, body: string, extra: Record<string, string> = {}) {
    const params = inboundSms({ From: from, Body: body, ...extra });
    const res = await postTwilio(t, '/webhooks/twilio/sms', params);
    expect(res.status).to.equal(200);
    const patientId = (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).patientId;
    const patient = await t.hub.services.db.models.Patient.findById(patientId).lean().orFail();
    return { res, patient, conversationId: patient.latestConversationId! };
  }

  for (const [index, word] of ['STOP', ' stop ', 'Stop.', 'STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit'].entries()) {
    it(`opts the patient out of SMS on ${JSON.stringify(word)}`, async () => {
      const from = `+1415555${1700 + index}`;
      await patientTexts(from, 'hello');
      const { patient } = await patientTexts(from, word);
      expect(patient.consent.sms.status).to.equal('opted_out');
    });
  }

  it('honours OptOutType=STOP from Twilio Advanced Opt-Out whatever the body', async () => {
    const stop = twilioFixture('twilio-inbound-stop.json');
    const { patient } = await patientTexts('+14155551301', 'please stop texting me', { OptOutType: stop.OptOutType! });
    expect(patient.consent.sms.status).to.equal('opted_out');
  });

  it('does not treat a sentence containing STOP as an opt-out', async () => {
    const { patient } = await patientTexts('+14155551302', 'STOP please, I mean, do not stop my prescription');
    expect(patient.consent.sms.status).to.equal('opted_in');
  });

  it('after STOP: a system note in the thread, 409 for an SMS reply, and auto skips SMS', async () => {
    const from = '+14155551303';
    const { conversationId, patient } = await patientTexts(from, 'hi');
    await attachIdentity(t.hub.services.timeline, patient._id, { kind: 'email', value: 'stopper@example.org' }, { evidence: 'agent_promotion' });
    await t.hub.services.db.models.Patient.updateOne({ _id: patient._id }, { $set: { 'consent.email.status': 'opted_in' } });
    await patientTexts(from, 'STOP');
    const admin = await t.admin();
    const history = (await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token)).body.items;
    expect(history.map((m: { direction: string; body: string }) => `${m.direction}:${m.body}`)).to.include('system:Patient opted out of text messages (sms_keyword:STOP)');
    const refused = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'are you there?', channel: 'sms' }, admin.token);
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.include({ code: 'CONSENT_MISSING', field: 'channel' });
    expect(refused.body.error.message).to.match(/opted out of sms/);
    const auto = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'by email then' }, admin.token);
    expect(auto.status).to.equal(201);
    expect(auto.body.channel).to.equal('email');
    const outbox = (await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items;
    expect(outbox.some((e: { request: { To: string } }) => e.request.To === from)).to.equal(false);
  });

  it('opts back in on START, keeping the history with time and source', async () => {
    const from = '+14155551304';
    await patientTexts(from, 'STOP');
    const { patient } = await patientTexts(from, 'start');
    expect(patient.consent.sms).to.include({ status: 'opted_in', source: 'sms_keyword:START' });
    expect(patient.consentHistory.map((h) => `${h.channel}:${h.status}:${h.source}`)).to.deep.equal([
      'sms:opted_out:sms_keyword:STOP',
      'sms:opted_in:sms_keyword:START',
    ]);
    expect(patient.consentHistory.every((h) => h.at instanceof Date)).to.equal(true);
  });

  it('answers HELP with the clinic’s help text, and shows it in the thread', async () => {
    const { res, conversationId } = await patientTexts('+14155551305', 'help');
    expect(res.text).to.include('<Message>Riverside Clinic: reply to this number to reach our care team.');
    const admin = await t.admin();
    const history = (await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token)).body.items;
    expect(history.at(-1)).to.include({ direction: 'outbound', channel: 'sms', channelReason: 'sms_help_keyword' });
  });
});
