/**
 * The live queue on a real hub: GET /api/reports/queue (who may ask, waiting
 * conversations, the longest wait by the hub's clock, agents online, busy and
 * away) and its `queue:stats` pushes to supervisors (their teams only, once
 * on connect, never two for a team within a second through a burst).
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { QueueStats } from '../../../server/reports/live-queue.ts';
import { connected, nextEvent, patientWrites, roundTrip, startTestHub, TestClock, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('live queue: GET /api/reports/queue and queue:stats', function () {
  this.timeout(90_000);
  let t: TestHub;
  let admin: Session;
  let supervisor: Session;
  let billingSupervisor: Session;
  let agentOne: Session;
  let agentTwo: Session;
  let phone = 0;
  const nextPhone = () => `+1720555${String(7000 + phone++)}`;

  const queueOf = async (session: Session, query = '') => {
    const res = await t.api.get(`/api/reports/queue${query}`, session.token);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items as QueueStats[];
  };
  const frontDesk = async (session: Session = supervisor) => (await queueOf(session)).find((i) => i.teamId === 'front-desk')!;
  const waitingIds = async () => {
    const res = await t.api.get('/api/conversations?assignee=unassigned&status=open&team=front-desk&limit=100', admin.token);
    return (res.body.items as { id: string }[]).map((c) => c.id);
  };

  before(async () => {
    t = await startTestHub({ label: 'live-queue', clock: new TestClock() });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token)).status).to.equal(201);
    supervisor = await t.agent({ name: 'Sam Supervisor', role: 'supervisor', teamIds: ['front-desk'] });
    billingSupervisor = await t.agent({ name: 'Bea Billing', role: 'supervisor', teamIds: ['billing'] });
    agentOne = await t.agent({ name: 'Ana One' });
    agentTwo = await t.agent({ name: 'Ben Two' });
    // Manual routing: new conversations wait for an agent.
    expect((await t.api.put('/api/teams/front-desk/routing', { mode: 'manual', maxOpenPerAgent: 2, escalateAfterMinutes: 60 }, admin.token)).status).to.equal(200);
  });
  after(async () => {
    await t?.close();
  });

  it('is for supervisors (their teams) and admins (every team); agents are refused', async () => {
    expect((await t.api.get('/api/reports/queue', agentOne.token)).status).to.equal(403);
    expect((await t.api.get('/api/reports/queue?team=front-desk', agentOne.token)).status).to.equal(403);
    expect((await t.api.get('/api/reports/queue')).status).to.equal(401);
    expect((await queueOf(supervisor)).map((i) => i.teamId)).to.deep.equal(['front-desk']);
    expect((await queueOf(supervisor, '?team=front-desk')).map((i) => i.teamId)).to.deep.equal(['front-desk']);
    expect((await t.api.get('/api/reports/queue?team=billing', supervisor.token)).status).to.equal(403);
    expect((await queueOf(billingSupervisor)).map((i) => i.teamId)).to.deep.equal(['billing']);
    const all = (await queueOf(admin)).map((i) => i.teamId);
    expect(all).to.include.members(['front-desk', 'billing']);
    expect((await queueOf(admin, '?team=billing')).map((i) => i.teamId)).to.deep.equal(['billing']);
    expect((await t.api.get('/api/reports/queue?team=no-such-team', admin.token)).status).to.equal(404);
  });

  it('counts open unassigned conversations and the longest wait by the hub’s clock', async () => {
    const before = await frontDesk();
    expect(before).to.include({ waiting: 0, longestWaitSeconds: 0, oldestWaitingSince: null });
    await patientWrites(t, { channel: 'sms', from: nextPhone(), body: 'Can I move my appointment?' });
    t.clock.advance(30_000);
    await patientWrites(t, { channel: 'sms', from: nextPhone(), body: 'Do you take walk-ins?' });
    t.clock.advance(90_000);
    const now = await frontDesk();
    expect(now.waiting).to.equal(2);
    // The first has waited 2 minutes (plus however long the test took), by the hub's clock.
    expect(now.longestWaitSeconds).to.be.at.least(120).and.below(180);
    expect(now.longestWaitSeconds).to.equal(Math.floor((Date.parse(now.at) - Date.parse(now.oldestWaitingSince!)) / 1000));
    // Another team's queue is its own.
    expect((await queueOf(billingSupervisor))[0]).to.include({ waiting: 0, longestWaitSeconds: 0 });
    // Pending or assigned conversations are not waiting.
    const [first] = await waitingIds();
    expect((await t.api.post(`/api/conversations/${first}/assign`, { assigneeId: agentOne.agent.id }, admin.token)).status).to.equal(200);
    expect((await frontDesk()).waiting).to.equal(1);
    expect((await t.api.post(`/api/conversations/${first}/resolve`, undefined, admin.token)).status).to.equal(200);
  });

  it('counts the team’s connected agents online, busy (at the team’s capacity) and away', async () => {
    const start = await frontDesk();
    // Set Online but not connected: not counted.
    expect((await t.api.patch(`/api/agents/${agentOne.agent.id}`, { status: 'online' }, agentOne.token)).status).to.equal(200);
    expect((await frontDesk()).agents).to.deep.equal(start.agents);

    const one = t.socket(agentOne.token);
    const two = t.socket(agentTwo.token);
    await Promise.all([connected(one), connected(two)]);
    expect((await t.api.patch(`/api/agents/${agentTwo.agent.id}`, { status: 'away' }, agentTwo.token)).status).to.equal(200);
    expect((await frontDesk()).agents).to.deep.equal({ online: start.agents.online + 1, busy: start.agents.busy, away: start.agents.away + 1 });

    // Two open conversations (the team's capacity) make Ana busy.
    await patientWrites(t, { channel: 'sms', from: nextPhone(), body: 'Question about a bill' });
    const ids = await waitingIds();
    expect(ids.length).to.be.at.least(2);
    for (const id of ids.slice(0, 2)) expect((await t.api.post(`/api/conversations/${id}/assign`, { assigneeId: agentOne.agent.id }, admin.token)).status).to.equal(200);
    expect((await frontDesk()).agents).to.deep.equal({ online: start.agents.online, busy: start.agents.busy + 1, away: start.agents.away + 1 });

    // Disconnected, they count no more.
    one.disconnect();
    two.disconnect();
    await waitFor(async () => {
      const { agents } = await frontDesk();
      return agents.busy === start.agents.busy && agents.away === start.agents.away;
    });
    for (const id of ids.slice(0, 2)) expect((await t.api.post(`/api/conversations/${id}/resolve`, undefined, admin.token)).status).to.equal(200);
  });

  it('pushes queue:stats to the team’s supervisors and admins only: once on connect, then never twice within a second through a burst', async () => {
    const received: QueueStats[] = [];
    const sam = t.socket(supervisor.token);
    const bea = t.socket(billingSupervisor.token);
    const ana = t.socket(agentOne.token);
    const otherTeam: QueueStats[] = [];
    let agentGot = 0;
    sam.on('queue:stats', (s) => void received.push(s));
    bea.on('queue:stats', (s) => void otherTeam.push(s));
    ana.on('queue:stats', () => {
      agentGot++;
    });
    const first = nextEvent<QueueStats>(sam, 'queue:stats');
    await Promise.all([connected(sam), connected(bea), connected(ana)]);
    const initial = await first;
    expect(initial.teamId).to.equal('front-desk');
    const baseline = initial.waiting;

    // A burst: eight patients at once, each several changes (opened, waiting, presence…).
    const burst = 8;
    await Promise.all(Array.from({ length: burst }, (_, i) => patientWrites(t, { channel: 'sms', from: nextPhone(), body: `Burst message ${i}` })));
    await waitFor(async () => received.at(-1)?.waiting === baseline + burst);

    const pushes = received.filter((s) => s.teamId === 'front-desk');
    // Fewer pushes than changes, and each at least a second after the one before (by the hub's own clock).
    expect(pushes.length).to.be.below(burst * 2);
    for (let i = 1; i < pushes.length; i++) {
      expect(Date.parse(pushes[i]!.at) - Date.parse(pushes[i - 1]!.at), `push ${i}`).to.be.at.least(1000);
    }
    // While they wait, the longest wait moves (the hub's clock moved a minute).
    const moved = nextEvent<QueueStats>(sam, 'queue:stats', (s) => s.longestWaitSeconds >= 60);
    t.clock.advance(60_000);
    expect((await moved).waiting).to.equal(baseline + burst);

    // Only the team's supervisor: not another team's, not an agent.
    await Promise.all([roundTrip(bea), roundTrip(ana)]);
    expect(otherTeam.every((s) => s.teamId === 'billing')).to.equal(true);
    expect(otherTeam.length).to.be.at.least(1);
    expect(agentGot).to.equal(0);
    for (const s of [sam, bea, ana] as Socket[]) s.disconnect();
  });
});
