import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

async function texts(t: TestHub, from: string, body: string, extra: Record<string, string> = {}) {
  const params = inboundSms({ From: from, Body: body, ...extra });
  const res = await postTwilio(t, '/webhooks/twilio/sms', params);
  expect(res.status).to.equal(200);
  const message = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail();
  const patient = await t.hub.services.db.models.Patient.findById(message.patientId).lean().orFail();
  return { res, patient, conversationId: message.conversationId };
}
const historyOf = async (t: TestHub, token: string, conversationId: string) =>
  ((await t.api.get(`/api/conversations/${conversationId}/messages`, token)).body.items as { direction: string; body: string; channelReason: string | null }[]);

describe('Twilio Advanced Opt-Out: the patient never gets two answers', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sms-aoo-off', env: { CLINIC_NAME: 'Riverside Clinic' } });
    admin = await t.admin();
  });
  after(() => t.close());

  it('answers nothing when Twilio labelled the HELP (OptOutType=HELP): Twilio sent its own text', async () => {
    const { res, conversationId } = await texts(t, '+14155552201', 'HELP', { OptOutType: 'HELP' });
    expect(res.text).to.equal(EMPTY_TWIML);
    const history = await historyOf(t, admin.token, conversationId);
    expect(history.filter((m) => m.direction === 'outbound')).to.deep.equal([]);
  });

  it('records STOP and START labelled by Twilio, answering empty TwiML', async () => {
    const from = '+14155552202';
    await texts(t, from, 'hello');
    const stop = await texts(t, from, 'STOP', { OptOutType: 'STOP' });
    expect(stop.res.text).to.equal(EMPTY_TWIML);
    expect(stop.patient.consent.sms.status).to.equal('opted_out');
    const start = await texts(t, from, 'START', { OptOutType: 'START' });
    expect(start.res.text).to.equal(EMPTY_TWIML);
    expect(start.patient.consent.sms.status).to.equal('opted_in');
  });

  it('still answers HELP itself when Twilio did not handle it (setting off, no OptOutType)', async () => {
    const { res } = await texts(t, '+14155552203', 'help');
    expect(res.text).to.include('<Message>Riverside Clinic:');
  });

  it('with TWILIO_ADVANCED_OPT_OUT=true never answers a keyword, but still records consent', async () => {
    const hub = await startTestHub({ label: 'sms-aoo-on', env: { TWILIO_ADVANCED_OPT_OUT: 'true' } });
    try {
      const help = await texts(hub, '+14155552204', 'HELP');
      expect(help.res.text).to.equal(EMPTY_TWIML);
      const stop = await texts(hub, '+14155552204', 'stop');
      expect(stop.res.text).to.equal(EMPTY_TWIML);
      expect(stop.patient.consent.sms.status).to.equal('opted_out');
      const history = await historyOf(hub, (await hub.admin()).token, help.conversationId);
      expect(history.filter((m) => m.direction === 'outbound')).to.deep.equal([]);
    } finally {
      await hub.close();
    }
  });
});

describe('possible opt-out requests ("stop texting me"): flagged for an agent, never silent', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sms-possible-opt-out' });
    admin = await t.admin();
  });
  after(() => t.close());

  it('keeps consent, flags the conversation with an event, and lets an agent record the opt-out in one step', async () => {
    const from = '+14155552301';
    await texts(t, from, 'hi, about my appointment');
    const { patient, conversationId } = await texts(t, from, 'Please stop texting me');
    expect(patient.consent.sms.status).to.equal('opted_in');
    const conversation = (await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body;
    expect(conversation.possibleOptOut).to.include({ channel: 'sms' });
    const history = await historyOf(t, admin.token, conversationId);
    expect(history.at(-1)!.body).to.match(/^Possible opt-out: the patient may be asking to stop text messages/);

    const recorded = await t.api.post(`/api/conversations/${conversationId}/possible-opt-out`, { decision: 'record' }, admin.token);
    expect(recorded.status).to.equal(200);
    expect(recorded.body.possibleOptOut).to.equal(null);
    const after = await t.hub.services.db.models.Patient.findById(patient._id).lean().orFail();
    expect(after.consent.sms.status).to.equal('opted_out');
    expect(after.consent.sms.source).to.match(/^agent_recorded_request:/);
    // Nothing is left to act on.
    const again = await t.api.post(`/api/conversations/${conversationId}/possible-opt-out`, { decision: 'record' }, admin.token);
    expect(again.status).to.equal(409);
  });

  it('lets an agent dismiss a flag that was not an opt-out, consent untouched', async () => {
    const { patient, conversationId } = await texts(t, '+14155552302', 'no me envíen más mensajes');
    const dismissed = await t.api.post(`/api/conversations/${conversationId}/possible-opt-out`, { decision: 'dismiss' }, admin.token);
    expect(dismissed.status).to.equal(200);
    expect(dismissed.body.possibleOptOut).to.equal(null);
    expect((await t.hub.services.db.models.Patient.findById(patient._id).lean().orFail()).consent.sms.status).to.equal('opted_in');
  });

  it('does not flag ordinary messages that mention stopping', async () => {
    for (const [i, body] of ['can I stop taking my medication?', 'my pain won’t stop', 'non riesco a smettere di tossire'].entries()) {
      const { conversationId } = await texts(t, `+1415555231${i}`, body);
      expect((await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body.possibleOptOut).to.equal(null);
    }
  });

  it('refuses a bad decision with 400 and another team’s conversation with 404', async () => {
    const { conversationId } = await texts(t, '+14155552320', 'unsubscribe me please');
    const bad = await t.api.post(`/api/conversations/${conversationId}/possible-opt-out`, { decision: 'maybe' }, admin.token);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.match(/decision/);
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    const outsider = await t.agent({ name: 'Other team', teamIds: ['billing'] });
    const hidden = await t.api.post(`/api/conversations/${conversationId}/possible-opt-out`, { decision: 'record' }, outsider.token);
    expect(hidden.status).to.equal(404);
    expect((await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body.possibleOptOut).to.not.equal(null);
  });
});
