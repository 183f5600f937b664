/**
 * Guardians and caregivers: contacts of a patient with their own consent,
 * reached only when an agent chooses them, never by `auto`, and never the
 * patient (no PHI by `auto`, no linking a web visitor, STOP is theirs).
 */
import { expect } from 'chai';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';
import { postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { codeSentTo, newClientId, startVisitor } from '../../support/widget-visitor.ts';

describe('related contacts: guardians and caregivers', () => {
  let t: TestHub;
  let admin: Session;
  let agent: Session;
  before(async () => {
    t = await startTestHub({ label: 'related-contacts', env: { TWILIO_FROM_NUMBER: '+15555550100' } });
    admin = await t.admin();
    agent = await t.agent({ name: 'Gia Guardian-Desk', teamIds: ['front-desk'] });
  });
  after(() => t.close());

  const outboxSms = async () => (await t.api.get('/api/dev/outbox?channel=sms&limit=200', admin.token)).body.items as { messageId: string; request: { To: string; Body: string } }[];
  const addGuardian = (patientId: string, over: Record<string, unknown> = {}) =>
    t.api.post(`/api/patients/${patientId}/related-contacts`, {
      kind: 'phone', value: '(720) 555-0177', relation: 'guardian', name: 'Mia Parent', consent: true, reason: 'Mother of the patient, who is 9', ...over,
    }, agent.token);

  it('reaches a guardian only when the agent chooses them, with their consent; auto keeps going to the patient', async () => {
    const child = await patientWrites(t, { channel: 'sms', from: '+17205550176', body: 'hi, it is Leo' });
    const added = await addGuardian(child.patientId);
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    expect(added.body).to.include({ relation: 'guardian', contactName: 'Mia Parent', trust: 'asserted', verified: false });
    expect(added.body.contactConsent.status).to.equal('opted_in');

    const options = (await t.api.get(`/api/conversations/${child.conversation.id}/reply-options`, agent.token)).body;
    expect(options.contacts).to.deep.equal([{ recipientId: added.body.id, relation: 'guardian', name: 'Mia Parent', channel: 'sms', value: '+17205550177', unavailable: null }]);
    expect(options.auto.channel).to.equal('sms');

    const auto = await t.api.post(`/api/conversations/${child.conversation.id}/messages`, { body: 'auto reply', channel: 'auto' }, agent.token);
    const chosen = await t.api.post(`/api/conversations/${child.conversation.id}/messages`, { body: 'for the guardian', channel: 'sms', recipientId: added.body.id }, agent.token);
    expect(chosen.status, JSON.stringify(chosen.body)).to.equal(201);
    expect(chosen.body.channelReason).to.equal('related_contact');
    const sent = await waitFor(async () => {
      const items = await outboxSms();
      const a = items.find((e) => e.messageId === auto.body.id);
      const c = items.find((e) => e.messageId === chosen.body.id);
      return a && c ? { a, c } : null;
    });
    expect(sent.a.request.To).to.equal('+17205550176');
    expect(sent.c.request.To).to.equal('+17205550177');
  });

  it('refuses a guardian without consent, another patient’s address, and a contact of someone else, naming the problem', async () => {
    const child = await patientWrites(t, { channel: 'sms', from: '+17205550178', body: 'hello' });
    const noConsent = await addGuardian(child.patientId, { value: '+17205550179', consent: false });
    expect(noConsent.status).to.equal(201);
    const refused = await t.api.post(`/api/conversations/${child.conversation.id}/messages`, { body: 'x', channel: 'sms', recipientId: noConsent.body.id }, agent.token);
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.include({ code: 'CONSENT_MISSING', field: 'recipientId' });
    const byEmail = await t.api.post(`/api/conversations/${child.conversation.id}/messages`, { body: 'x', channel: 'email', recipientId: noConsent.body.id }, agent.token);
    expect(byEmail.status).to.equal(400);
    expect(byEmail.body.error.field).to.equal('channel');

    const other = await patientWrites(t, { channel: 'sms', from: '+17205550180', body: 'another patient' });
    const taken = await addGuardian(child.patientId, { value: '+17205550180' });
    expect(taken.status).to.equal(409);
    expect(taken.body.error.field).to.equal('value');
    const foreign = await t.api.post(`/api/conversations/${other.conversation.id}/messages`, { body: 'x', channel: 'sms', recipientId: noConsent.body.id }, agent.token);
    expect(foreign.status).to.equal(400);
    expect(foreign.body.error.field).to.equal('recipientId');
    expect((await addGuardian(child.patientId, { value: '+17205550181', reason: 'short' })).status).to.equal(400);
  });

  it('treats STOP from the guardian’s number as the guardian’s opt-out, not the patient’s', async () => {
    const child = await patientWrites(t, { channel: 'sms', from: '+17205550182', body: 'hello' });
    const guardian = await addGuardian(child.patientId, { value: '+17205550183' });
    const stop = await postTwilio(t, '/webhooks/twilio/sms', { ...twilioFixture('twilio-inbound-sms.json'), From: '+17205550183', Body: 'STOP', MessageSid: `SM${'c'.repeat(32)}` });
    expect(stop.status).to.equal(200);
    const patient = (await t.api.get(`/api/patients/${child.patientId}`, agent.token)).body;
    expect(patient.consent.sms.status).to.equal('opted_in');
    expect(patient.identities.find((i: { id: string }) => i.id === guardian.body.id).contactConsent.status).to.equal('opted_out');
    const options = (await t.api.get(`/api/conversations/${child.conversation.id}/reply-options`, agent.token)).body;
    expect(options.contacts[0].unavailable).to.equal('opted_out');
  });

  it('never lets a guardian’s code open the patient’s thread in the web chat', async () => {
    const child = await patientWrites(t, { channel: 'sms', from: '+17205550184', body: 'private: my therapy notes' });
    await addGuardian(child.patientId, { value: '+17205550185' });
    const visitor = await startVisitor(t, { name: 'Guardian on the web' });
    await visitor.call('message:send', { clientId: newClientId(), body: 'hi' });
    const startedAt = new Date();
    await visitor.call('verify:start', { channel: 'sms', address: '+17205550185', consent: true });
    const confirmed = await visitor.call('verify:confirm', { code: await codeSentTo(t, 'sms', '+17205550185', startedAt) });
    expect(confirmed.session.linked).to.equal(false);
    const history = await visitor.call('messages:since', { afterSeq: 0 });
    expect(history.items.map((m: { body: string }) => m.body)).not.to.include('private: my therapy notes');
    visitor.socket.disconnect();
  });
});
