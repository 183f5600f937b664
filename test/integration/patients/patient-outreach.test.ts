/**
 * Consent given to staff (POST /api/patients/:id/consents) and the clinic's
 * first message (POST /api/patients/:id/conversations): the patient's own
 * STOP outranks staff, a first message needs consent and a proven address,
 * and goes out through the outbox like any reply.
 */
import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('consent given to staff, and the clinic writing first', () => {
  let t: TestHub;
  let admin: Session;
  let agent: Session;
  let billing: Session;
  const WORDING = 'I agree to receive appointment texts from Riverside Clinic. Reply STOP to opt out.';

  before(async () => {
    t = await startTestHub({ label: 'patient-outreach', env: { CLINIC_NAME: 'Riverside Clinic' } });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    agent = await t.agent({ name: 'Ada Agent', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Bea Billing', teamIds: ['billing'] });
  });
  after(() => t.close());

  const register = async (body: Record<string, unknown>) => {
    const res = await t.api.post('/api/patients', body, agent.token);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; identities: { id: string; kind: string }[] };
  };
  const consent = (patientId: string, body: Record<string, unknown>, as: Session = agent) => t.api.post(`/api/patients/${patientId}/consents`, body, as.token);
  const texts = async (from: string, body: string) => expect((await postTwilio(t, '/webhooks/twilio/sms', inboundSms({ From: from, Body: body }))).status).to.equal(200);
  const patient = async (id: string) => (await t.api.get(`/api/patients/${id}`, agent.token)).body;

  describe('staff-recorded consent', () => {
    it('records an opt-in with method, wording, the agent and the time, in the same ledger', async () => {
      const { id } = await register({ name: 'Cora Consent', phone: '+14155550201' });
      const missing = await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal' });
      expect(missing.status).to.equal(400);
      expect(missing.body.error).to.include({ field: 'wording' });
      const res = await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: WORDING });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ channel: 'sms', status: 'opted_in', source: 'staff:verbal', wording: WORDING, capturedBy: agent.agent.id, changed: true });
      expect(Date.parse(res.body.at)).to.be.closeTo(Date.now(), 60_000);
      const profile = await patient(id);
      expect(profile.consent.sms).to.include({ status: 'opted_in', source: 'staff:verbal', capturedBy: agent.agent.id });
      expect(profile.consentHistory.at(-1)).to.include({ channel: 'sms', status: 'opted_in', source: 'staff:verbal', wording: WORDING, capturedBy: agent.agent.id });
      // The same again changes nothing.
      expect((await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: WORDING })).body.changed).to.equal(false);
      expect((await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: WORDING }, billing)).status).to.equal(404);
    });

    it('lets the patient’s STOP win over an earlier staff opt-in, and refuses a staff opt-in after it until the patient texts START', async () => {
      const { id } = await register({ name: 'Stella Stop', phone: '(415) 555-0202' });
      expect((await consent(id, { channel: 'sms', status: 'opted_in', method: 'written', wording: WORDING })).status).to.equal(201);
      await texts('+14155550202', 'STOP');
      expect((await patient(id)).consent.sms).to.include({ status: 'opted_out', source: 'sms_keyword:STOP' });

      const refused = await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: WORDING });
      expect(refused.status).to.equal(409);
      expect(refused.body.error).to.include({ code: 'OPTED_OUT_BY_PATIENT', field: 'status' });
      expect(refused.body.error.message).to.match(/texting START/);
      expect((await patient(id)).consent.sms.status).to.equal('opted_out');
      // A staff opt-out is always recorded; email consent is not affected by the SMS rule.
      expect((await consent(id, { channel: 'email', status: 'opted_in', method: 'form', wording: 'I agree to receive emails from Riverside Clinic.' })).status).to.equal(201);

      await texts('+14155550202', 'START');
      const again = await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: `${WORDING} (confirmed again)` });
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect((await patient(id)).consentHistory.map((h: { channel: string; status: string; source: string }) => `${h.channel}:${h.status}:${h.source}`)).to.deep.equal([
        'sms:opted_in:staff:written',
        'sms:opted_out:sms_keyword:STOP',
        'email:opted_in:staff:form',
        'sms:opted_in:sms_keyword:START',
        'sms:opted_in:staff:verbal',
      ]);
    });
  });

  describe('the clinic’s first message', () => {
    const start = (patientId: string, body: Record<string, unknown>, as: Session = agent) => t.api.post(`/api/patients/${patientId}/conversations`, body, as.token);
    const smsOutbox = async () => (await t.api.get('/api/dev/outbox?channel=sms&limit=200', admin.token)).body.items as { messageId: string; request: { To: string; Body: string } }[];

    it('refuses SMS without consent (409 naming channel), to a staff-entered number (409 IDENTITY_NOT_VERIFIED), and opens nothing', async () => {
      const { id, identities } = await register({ name: 'Nico Noconsent', phone: '+14155550211' });
      const noConsent = await start(id, { channel: 'sms', body: 'Your appointment is tomorrow at 9.' });
      expect(noConsent.status).to.equal(409);
      expect(noConsent.body.error).to.include({ code: 'CONSENT_MISSING', field: 'channel' });
      const auto = await start(id, { body: 'Hello' });
      expect(auto.status).to.equal(409);
      expect(auto.body.error).to.include({ field: 'channel' });

      expect((await consent(id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: WORDING })).status).to.equal(201);
      const asserted = await start(id, { channel: 'sms', body: 'Your appointment is tomorrow at 9.' });
      expect(asserted.status).to.equal(409);
      expect(asserted.body.error).to.include({ code: 'IDENTITY_NOT_VERIFIED', field: 'channel' });
      expect(asserted.body.error.message).to.match(/entered by staff/);
      const stored = await t.hub.services.db.models.Patient.findById(id).lean().orFail();
      expect(stored.conversationCount).to.equal(0);
      expect((await smsOutbox()).some((e) => e.request.To === '+14155550211')).to.equal(false);

      // The patient confirmed the number at the desk: the agent verifies it, with the reason.
      const phone = identities.find((i) => i.kind === 'phone')!;
      const verified = await t.api.post(`/api/patients/${id}/identities/${encodeURIComponent(phone.id)}/verify`, { reason: 'confirmed the number with the patient at the front desk' }, agent.token);
      expect(verified.status, JSON.stringify(verified.body)).to.equal(200);

      const sent = await start(id, { channel: 'sms', body: 'Your appointment is tomorrow at 9.' });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
      expect(sent.body.opened).to.equal(true);
      expect(sent.body.message).to.include({ direction: 'outbound', channel: 'sms', channelReason: 'requested_by_agent' });
      expect(sent.body.conversation).to.include({ patientId: id, status: 'open', teamId: 'front-desk', assigneeId: agent.agent.id });
      const entry = await waitFor(async () => (await smsOutbox()).find((e) => e.messageId === sent.body.message.id));
      expect(entry.request).to.include({ To: '+14155550211', Body: 'Your appointment is tomorrow at 9.' });

      // A second message continues the same conversation; `auto` finds the only reachable channel.
      const next = await start(id, { body: 'Please bring your insurance card.' });
      expect(next.status, JSON.stringify(next.body)).to.equal(201);
      expect(next.body).to.include({ opened: false });
      expect(next.body.conversation.id).to.equal(sent.body.conversation.id);
      expect(next.body.message.channel).to.equal('sms');
    });

    it('opens a new conversation after the last was resolved, and hides another team’s patient (404)', async () => {
      const { id, identities } = await register({ name: 'Rita Resolved', phone: '+14155550212' });
      await consent(id, { channel: 'sms', status: 'opted_in', method: 'form', wording: WORDING });
      const phone = identities.find((i) => i.kind === 'phone')!;
      await t.api.post(`/api/patients/${id}/identities/${encodeURIComponent(phone.id)}/verify`, { reason: 'patient showed this number on their phone' }, agent.token);
      const first = await start(id, { channel: 'sms', body: 'Reminder: flu shots this week.' });
      expect(first.status).to.equal(201);
      expect((await t.api.post(`/api/conversations/${first.body.conversation.id}/resolve`, undefined, agent.token)).status).to.equal(200);
      const second = await start(id, { channel: 'sms', body: 'Your results are in; please call us.' });
      expect(second.status).to.equal(201);
      expect(second.body.opened).to.equal(true);
      expect(second.body.conversation.id).not.to.equal(first.body.conversation.id);

      const hidden = await start(id, { channel: 'sms', body: 'From the wrong team' }, billing);
      expect(hidden.status).to.equal(404);
      expect(hidden.body.error.code).to.equal('NOT_FOUND');
    });
  });
});
