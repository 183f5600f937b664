import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { connected, nextEvent, roundTrip, startTestHub, TestClock, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, from: '09:00', to: '17:00' }));
/** Saturday 2026-12-05 10:00 in New York: the clinic is closed until Monday 9:00. */
const SATURDAY_MORNING = new Date('2026-12-05T15:00:00Z');

async function texts(t: TestHub, from: string, body: string): Promise<string> {
  const params = inboundSms({ From: from, Body: body });
  expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
  return (await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail()).conversationId;
}
const outboxTo = async (t: TestHub, to: string) =>
  ((await t.api.get('/api/dev/outbox?channel=sms&limit=500', (await t.admin()).token)).body.items as { request: { To: string; Body: string } }[]).filter((e) => e.request.To === to);

describe('business hours per team: one after-hours reply per closed period', function () {
  this.timeout(60_000);
  let t: TestHub;
  const clock = new TestClock();
  before(async () => {
    clock.setTo(SATURDAY_MORNING);
    t = await startTestHub({ label: 'after-hours', clock, env: { CLINIC_NAME: 'Riverside Clinic' } });
    const put = await t.api.put('/api/teams/front-desk/hours', { timeZone: 'America/New_York', weekly: WEEKDAYS, holidays: [{ date: '2026-12-07', name: 'Staff day' }] }, (await t.admin()).token);
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    expect(put.body).to.include({ own: true, open: false });
  });
  after(() => t.close());

  it('answers the first message of a closed period once, saying when the clinic reopens (after the holiday)', async () => {
    const from = '+14155553201';
    await texts(t, from, 'Can I reschedule my appointment?');
    await texts(t, from, 'Also, do you take my insurance?');
    await t.hub.settled();
    const replies = await outboxTo(t, from);
    expect(replies).to.have.length(1);
    // Monday is a holiday: Tuesday 9:00 is the next opening.
    expect(replies[0]!.request.Body).to.match(/closed now and open again Tuesday at 9:00 AM/);
    expect(replies[0]!.request.Body).to.match(/911/);
    // Sunday night is the same closed period: still one.
    clock.advance(36 * 3600_000);
    await texts(t, from, 'Hello?');
    await t.hub.settled();
    expect(await outboxTo(t, from)).to.have.length(1);
  });

  it('answers nothing while open, and once again in the next closed period', async () => {
    const from = '+14155553202';
    clock.setTo(new Date('2026-12-08T15:00:00Z')); // Tuesday 10:00 in New York
    await texts(t, from, 'Are you open?');
    await t.hub.settled();
    expect(await outboxTo(t, from)).to.have.length(0);
    clock.setTo(new Date('2026-12-09T02:00:00Z')); // Tuesday 21:00
    await texts(t, from, 'One more question');
    await t.hub.settled();
    const replies = await outboxTo(t, from);
    expect(replies).to.have.length(1);
    expect(replies[0]!.request.Body).to.match(/open again tomorrow at 9:00 AM/);
  });

  it('answers a matching non-clinical question from the published FAQ after hours, marked automatic, never a clinical one', async () => {
    const supervisor = await t.agent({ name: 'Fay FAQ', role: 'supervisor' });
    const created = await t.api.post('/api/faq', {
      teamId: 'front-desk', language: 'en', questions: ['where do I park', 'is there parking'], answer: 'Free parking is behind the building, entrance on Elm Street.', published: true, autoAnswer: true,
    }, supervisor.token);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    clock.setTo(new Date('2026-12-12T15:00:00Z')); // the next Saturday
    const from = '+14155553203';
    await texts(t, from, 'Hi, where do I park for my visit?');
    await texts(t, from, 'where do I park if my test results are ready?');
    await t.hub.settled();
    const bodies = (await outboxTo(t, from)).map((e) => e.request.Body);
    expect(bodies.filter((b) => b.startsWith('Free parking'))).to.have.length(1);
    expect(bodies.filter((b) => /closed now/.test(b))).to.have.length(1);
  });

  it('lets the widget say away from the same hours', async () => {
    clock.setTo(SATURDAY_MORNING);
    const config = (await t.api.get('/api/widget/config')).body;
    expect(config).to.include({ away: true, nextOpenAt: '2026-12-08T14:00:00.000Z' });
  });

  it('refuses bad hours with 400 naming the field, other people with 403, an unknown team with 404', async () => {
    const admin = await t.admin();
    const bad = await t.api.put('/api/teams/front-desk/hours', { timeZone: 'America/New_York', weekly: [{ day: 'mon', from: '17:00', to: '09:00' }], holidays: [] }, admin.token);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('weekly.0.to');
    const zone = await t.api.put('/api/teams/front-desk/hours', { timeZone: 'Mars/Olympus', weekly: WEEKDAYS, holidays: [] }, admin.token);
    expect(zone.status).to.equal(400);
    expect(zone.body.error.field).to.equal('timeZone');
    const agent = await t.agent({ name: 'Ann Agent' });
    expect((await t.api.put('/api/teams/front-desk/hours', { timeZone: 'UTC', weekly: WEEKDAYS, holidays: [] }, agent.token)).status).to.equal(403);
    expect((await t.api.put('/api/teams/nope/hours', { timeZone: 'UTC', weekly: WEEKDAYS, holidays: [] }, admin.token)).status).to.equal(404);
    // Nothing stored was changed by the refusals.
    expect((await t.api.get('/api/teams/front-desk/hours', agent.token)).body.hours.timeZone).to.equal('America/New_York');
  });
});

describe('assignment by team, capacity, language, and escalation of long waits', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  before(async () => {
    // A message after a resolution opens a new conversation at once (no reopen window): each test routes new ones.
    t = await startTestHub({ label: 'assignment', env: { REOPEN_WINDOW_HOURS: '0' } });
    admin = await t.admin();
  });
  after(() => t.close());

  /** An agent who set themselves online and has the inbox open (a live socket). */
  async function onlineAgent(name: string, extra: { languages?: string[] } = {}) {
    const agent = await t.agent({ name });
    const socket = t.socket(agent.token);
    await connected(socket);
    expect((await t.api.patch(`/api/agents/${agent.agent.id}`, { status: 'online' }, agent.token)).status).to.equal(200);
    if (extra.languages) expect((await t.api.patch(`/api/agents/${agent.agent.id}`, { languages: extra.languages }, admin.token)).status).to.equal(200);
    return { ...agent, socket };
  }
  const assigneeOf = async (conversationId: string) => (await t.hub.services.db.models.Conversation.findById(conversationId).lean().orFail()).assigneeId ?? null;

  it('round robin spreads new conversations evenly over online agents and leaves away ones out', async () => {
    await t.hub.services.db.models.Team.updateOne({ _id: 'front-desk' }, { $set: { routing: null } });
    const agents = [await onlineAgent('Rita One'), await onlineAgent('Rob Two'), await onlineAgent('Ray Three')];
    const away = await onlineAgent('Amy Away');
    expect((await t.api.patch(`/api/agents/${away.agent.id}`, { status: 'away' }, away.token)).status).to.equal(200);
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'round_robin', maxOpenPerAgent: 10, escalateAfterMinutes: 5 }, admin.token)).status).to.equal(200);
    const counts = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const assignee = await assigneeOf(await texts(t, `+1415555${3300 + i}`, 'hello'));
      counts.set(assignee!, (counts.get(assignee!) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).to.deep.equal(agents.map((a) => a.agent.id).sort());
    expect([...counts.values()]).to.deep.equal([4, 4, 4]);
    const history = (await t.api.get(`/api/conversations/${await texts(t, '+14155553399', 'hi')}/messages`, admin.token)).body.items as { body: string }[];
    expect(history.some((m) => /^Assigned to .* automatically \(round robin/.test(m.body))).to.equal(true);
    for (const a of [...agents, away]) {
      a.socket.disconnect();
      await t.api.patch(`/api/agents/${a.agent.id}`, { status: 'offline' }, a.token);
    }
  });

  it('prefers an agent who speaks the patient’s language, keeps capacity, and escalates a wait to supervisors', async () => {
    const english = await onlineAgent('Eve English', { languages: ['en'] });
    const spanish = await onlineAgent('Sofía Spanish', { languages: ['en', 'es'] });
    const supervisor = await t.agent({ name: 'Sam Supervisor', role: 'supervisor' });
    const supervisorSocket = t.socket(supervisor.token);
    await connected(supervisorSocket);
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'manual', maxOpenPerAgent: 1, escalateAfterMinutes: 5 }, admin.token)).status).to.equal(200);
    const first = await texts(t, '+14155553401', 'hola');
    const patientId = (await t.hub.services.db.models.Conversation.findById(first).lean().orFail()).patientId;
    // The patient prefers Spanish; their next conversation is routed by it.
    expect((await t.api.patch(`/api/patients/${patientId}/preferences`, { language: 'es' }, admin.token)).status).to.equal(200);
    await t.api.post(`/api/conversations/${first}/resolve`, {}, admin.token);
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'least_busy', maxOpenPerAgent: 1, escalateAfterMinutes: 5 }, admin.token)).status).to.equal(200);
    const second = await texts(t, '+14155553401', 'necesito ayuda');
    expect(await assigneeOf(second)).to.equal(spanish.agent.id);
    const third = await texts(t, '+14155553402', 'hello');
    expect(await assigneeOf(third)).to.equal(english.agent.id);
    // Both are at capacity (1 open each): the next one waits, unassigned.
    const fourth = await texts(t, '+14155553403', 'anyone there?');
    expect(await assigneeOf(fourth)).to.equal(null);
    expect((await t.api.get(`/api/conversations/${fourth}`, admin.token)).body.waitingSince).to.be.a('string');

    const escalation = nextEvent<{ conversationId: string; waitedMinutes: number }>(supervisorSocket, 'queue:escalation', (e) => e.conversationId === fourth);
    let agentSaw = false;
    english.socket.on('queue:escalation' as never, () => { agentSaw = true; });
    t.clock.advance(6 * 60_000);
    await t.hub.routing.sweep();
    expect((await escalation).waitedMinutes).to.be.at.least(5);
    // Escalations are for supervisors and admins, not for every agent of the team.
    await roundTrip(english.socket);
    expect(agentSaw).to.equal(false);

    // Capacity frees up and the agent is active again: the waiting conversation goes to them.
    await t.api.post(`/api/conversations/${third}/resolve`, {}, english.token);
    await t.api.patch(`/api/agents/${english.agent.id}`, { status: 'online' }, english.token);
    await waitFor(async () => (await assigneeOf(fourth)) === english.agent.id);
  });

  it('lets only the agent set their own status, and only admins and supervisors set skills', async () => {
    const a = await t.agent({ name: 'Al' });
    const b = await t.agent({ name: 'Bo' });
    expect((await t.api.patch(`/api/agents/${b.agent.id}`, { status: 'online' }, a.token)).status).to.equal(403);
    expect((await t.api.patch(`/api/agents/${a.agent.id}`, { skills: ['lab-results'] }, a.token)).status).to.equal(403);
    const empty = await t.api.patch(`/api/agents/${a.agent.id}`, {}, a.token);
    expect(empty.status).to.equal(400);
    const bad = await t.api.put('/api/teams/front-desk/routing', { mode: 'lottery', maxOpenPerAgent: 5, escalateAfterMinutes: 5 }, admin.token);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('mode');
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'manual', maxOpenPerAgent: 5, escalateAfterMinutes: 5 }, a.token)).status).to.equal(403);
    // The inbox setting an idle agent away is not activity: the idle logoff is not put off by it.
    const sessionOf = async () => (await t.hub.services.db.models.Session.findOne({ agentId: a.agent.id }).sort({ createdAt: -1 }).lean().orFail()).lastActivityAt;
    const before = await sessionOf();
    t.clock.advance(60_000);
    expect((await t.api.patch(`/api/agents/${a.agent.id}`, { status: 'away' }, a.token)).status).to.equal(200);
    expect(await sessionOf()).to.deep.equal(before);
    expect((await t.api.patch(`/api/agents/${a.agent.id}`, { status: 'online' }, a.token)).status).to.equal(200);
    expect((await sessionOf()).getTime()).to.be.greaterThan(new Date(before).getTime());
    expect((await t.api.patch(`/api/agents/${a.agent.id}`, { status: 'offline' }, a.token)).status).to.equal(200);
    const listed = (await t.api.get('/api/agents', a.token)).body.items.find((x: { id: string }) => x.id === a.agent.id);
    expect(listed).to.include({ status: 'offline' });
  });
});
