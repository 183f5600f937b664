import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { postInboundEmail } from '../../support/inbound-email.ts';
import { connected, nextEvent, roundTrip, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

interface OutboxEntry { messageId: string; request: { To: string; Body: string }; createdAt?: string }

describe('emergency triage: a safety reply at once, the conversation urgent, supervisors alerted', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  let supervisor: Session;
  let otherTeamAgent: Session;
  before(async () => {
    t = await startTestHub({ label: 'triage', env: { CLINIC_NAME: 'Riverside Clinic', TRIAGE_PAGE_SMS: '+15555550190', TRIAGE_ON_CALL_TEAM: 'on-call' } });
    admin = await t.admin();
    for (const id of ['on-call', 'billing']) expect((await t.api.post('/api/teams', { id, name: id }, admin.token)).status).to.equal(201);
    supervisor = await t.agent({ name: 'Sue Supervisor', role: 'supervisor', teamIds: ['front-desk'] });
    otherTeamAgent = await t.agent({ name: 'Bill Billing', teamIds: ['billing'] });
  });
  after(() => t.close());

  const outbox = async (to: string): Promise<OutboxEntry[]> =>
    ((await t.api.get('/api/dev/outbox?channel=sms&limit=500', (await t.admin()).token)).body.items as OutboxEntry[]).filter((e) => e.request.To === to);
  async function texts(from: string, body: string) {
    const params = inboundSms({ From: from, Body: body });
    const res = await postTwilio(t, '/webhooks/twilio/sms', params);
    expect(res.status).to.equal(200);
    return (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).conversationId;
  }

  it('answers "chest pain" within a second of the signed webhook, on SMS, and flags the conversation urgent', async () => {
    const from = '+14155553101';
    const started = performance.now();
    const conversationId = await texts(from, 'I have chest pain and my left arm is numb');
    const [reply] = await waitFor(async () => {
      const sent = await outbox(from);
      return sent.length ? sent : null;
    });
    const elapsedMs = performance.now() - started;
    console.log(`      safety reply in the sandbox outbox ${elapsedMs.toFixed(0)} ms after the webhook was sent`);
    expect(reply!.request.Body).to.match(/911/);
    const conversation = (await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body;
    expect(conversation.priority).to.equal('urgent');
    expect(conversation.triage).to.include({ category: 'medical_emergency' });
    const history = (await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token)).body.items as { direction: string; channelReason: string | null; body: string }[];
    expect(history.find((m) => m.direction === 'outbound')).to.include({ channelReason: 'triage_safety_reply' });
    expect(history.some((m) => m.direction === 'system' && /^Urgent: /.test(m.body))).to.equal(true);
  });

  it('alerts the team’s supervisors and the on-call team live (no PHI), not another team', async () => {
    const onCall = await t.agent({ name: 'Olly On-call', teamIds: ['on-call'] });
    const sockets = [supervisor, onCall, otherTeamAgent].map((s) => t.socket(s.token));
    await Promise.all(sockets.map(connected));
    const [forSupervisor, forOnCall] = [nextEvent<any>(sockets[0]!, 'triage:alert'), nextEvent<any>(sockets[1]!, 'triage:alert')];
    let otherSaw = false;
    sockets[2]!.on('triage:alert', () => (otherSaw = true));
    const conversationId = await texts('+14155553102', 'quiero morir, ya no puedo más');
    const alert = await forSupervisor;
    expect(alert).to.include({ conversationId, category: 'suicidal_crisis', teamId: 'front-desk' });
    expect(JSON.stringify(alert)).to.not.match(/morir|4155553102/);
    expect((await forOnCall).conversationId).to.equal(conversationId);
    await roundTrip(sockets[2]!);
    expect(otherSaw).to.equal(false);
    // The Spanish-speaking patient is answered in Spanish, with 988.
    const [reply] = await waitFor(async () => ((await outbox('+14155553102')).length ? outbox('+14155553102') : null));
    expect(reply!.request.Body).to.match(/988/);
    expect(reply!.request.Body).to.match(/llame|envíe|mensaje/i);
  });

  it('pages the on-call number with a link and no PHI', async () => {
    const conversationId = await texts('+14155553103', 'my husband is unconscious and not breathing');
    const [page] = await waitFor(async () => ((await outbox('+15555550190')).some((e) => e.request.Body.includes(conversationId)) ? outbox('+15555550190') : null));
    const body = (await outbox('+15555550190')).find((e) => e.request.Body.includes(conversationId))!.request.Body;
    expect(body).to.include(`/inbox/#/conversations/${conversationId}`);
    expect(body).to.not.match(/husband|unconscious|4155553103/);
    expect(page).to.not.equal(undefined);
  });

  it('sends the safety reply once per conversation per hour, never in a loop', async () => {
    const from = '+14155553104';
    await texts(from, 'severe chest pain');
    await waitFor(async () => (await outbox(from)).length === 1);
    await texts(from, 'still chest pain, cant breathe');
    await texts(from, 'chest pain!!!');
    await t.hub.settled();
    expect(await outbox(from)).to.have.length(1);
    t.clock.advance(61 * 60_000);
    await texts(from, 'the chest pain is back');
    await waitFor(async () => (await outbox(from)).length === 2);
  });

  it('still flags an opted-out patient and alerts, but does not text them (the carrier would refuse)', async () => {
    const from = '+14155553105';
    await texts(from, 'hello');
    await texts(from, 'STOP');
    const conversationId = await texts(from, 'I took too many pills');
    await t.hub.settled();
    expect(await outbox(from)).to.deep.equal([]);
    expect((await t.api.get(`/api/conversations/${conversationId}`, (await t.admin()).token)).body.triage).to.include({ category: 'medical_emergency' });
  });

  it('does not react to ordinary messages', async () => {
    for (const [i, body] of ['Can I get my chest x-ray results?', 'stroke of luck: I found my insurance card', 'I am dying to know my lab results'].entries()) {
      const from = `+1415555311${i}`;
      const conversationId = await texts(from, body);
      await t.hub.settled();
      expect(await outbox(from), body).to.deep.equal([]);
      const conversation = (await t.api.get(`/api/conversations/${conversationId}`, (await t.admin()).token)).body;
      expect(conversation.triage, body).to.equal(null);
      expect(conversation.priority, body).to.equal('normal');
    }
  });

  it('gives an urgent conversation to an online agent with the triage skill when the team assigns automatically', async () => {
    const nurse = await t.agent({ name: 'Nina Nurse' });
    const clerk = await t.agent({ name: 'Cal Clerk' });
    const sockets = [nurse, clerk].map((s) => t.socket(s.token));
    await Promise.all(sockets.map(connected));
    const token = (await t.admin()).token;
    for (const s of [nurse, clerk]) expect((await t.api.patch(`/api/agents/${s.agent.id}`, { status: 'online' }, s.token)).status).to.equal(200);
    expect((await t.api.patch(`/api/agents/${nurse.agent.id}`, { skills: ['triage'] }, token)).status).to.equal(200);
    // Turning assignment on hands out the conversations earlier cases left waiting (urgent ones to the nurse): room
    // enough that the nurse is not full, and done before the patient writes (under load it could come either way).
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'least_busy', maxOpenPerAgent: 50, escalateAfterMinutes: 5 }, token)).status).to.equal(200);
    await t.hub.settled();
    const conversationId = await texts('+14155553120', 'my daughter is having a seizure');
    expect((await t.hub.services.db.models.Conversation.findById(conversationId).lean().orFail()).assigneeId).to.equal(nurse.agent.id);
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'manual', maxOpenPerAgent: 5, escalateAfterMinutes: 5 }, token)).status).to.equal(200);
    for (const s of sockets) s.disconnect();
  });

  it('flags a forged email (From not authenticated) but never mails whoever it names', async () => {
    const res = await postInboundEmail(t, { from: 'victim@example.net', text: 'I have chest pain', SPF: 'fail', dkim: '{}' });
    expect(res.status).to.equal(200);
    await t.hub.settled();
    const message = await t.hub.services.db.models.Message.findOne({ direction: 'inbound', channel: 'email' }).sort({ createdAt: -1 }).lean().orFail();
    expect(message.senderUnauthenticated).to.be.a('string');
    const conversation = (await t.api.get(`/api/conversations/${message.conversationId}`, (await t.admin()).token)).body;
    expect(conversation.triage).to.include({ category: 'medical_emergency' });
    const mail = (await t.api.get('/api/dev/outbox?channel=email&limit=500', (await t.admin()).token)).body.items as { request: unknown }[];
    expect(mail.some((e) => JSON.stringify(e.request).includes('victim@example.net'))).to.equal(false);
  });
});
