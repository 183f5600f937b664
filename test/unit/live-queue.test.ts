/**
 * The live queue's pacing (server/reports/live-queue.ts) on fake timers: one
 * computation per second at most whatever the burst, a team pushed only when
 * its figures change, every second while someone waits, and a watcher's
 * first figures once.
 */
import { expect } from 'chai';
import { LiveQueue, type QueueAudience, type QueueStats, type QueueTimers, type TeamSelection } from '../../server/reports/live-queue.ts';

class FakeTimers implements QueueTimers {
  private t = 1_000_000;
  private nextId = 1;
  private readonly due = new Map<number, { at: number; run: () => void }>();
  readonly now = () => this.t;
  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.t + ms, run });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }
  get pending(): number {
    return this.due.size;
  }
  /** Moves time forward, running each timer at its moment (and what it starts), with the promises they await. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const [id, next] = [...this.due.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || !next || next.at > end) break;
      this.due.delete(id);
      this.t = Math.max(this.t, next.at);
      next.run();
    }
    this.t = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function stats(teamId: string, waiting: number, longestWaitSeconds = 0, at = 0): QueueStats {
  return { teamId, teamName: teamId, waiting, longestWaitSeconds, oldestWaitingSince: null, agents: { online: 1, busy: 0, away: 0 }, at: new Date(at).toISOString() };
}

function harness(watched: TeamSelection = new Set(['front-desk'])) {
  const timers = new FakeTimers();
  const figures = new Map<string, { waiting: number; since: number | null }>([['front-desk', { waiting: 0, since: null }], ['billing', { waiting: 0, since: null }]]);
  const computations: { at: number; teams: TeamSelection }[] = [];
  const pushes: { at: number; stats: QueueStats; except: readonly string[] }[] = [];
  const sent: { at: number; socketId: string; items: readonly QueueStats[] }[] = [];
  const audience: QueueAudience & { watched: TeamSelection } = {
    watched,
    watchedTeams: () => audience.watched,
    push: (s, except) => pushes.push({ at: timers.now(), stats: s, except }),
    send: (socketId, items) => sent.push({ at: timers.now(), socketId, items }),
  };
  const compute = async (teams: TeamSelection) => {
    computations.push({ at: timers.now(), teams });
    await Promise.resolve();
    return [...figures.entries()]
      .filter(([team]) => teams === 'all' || teams.has(team))
      .map(([team, f]) => stats(team, f.waiting, f.since === null ? 0 : Math.floor((timers.now() - f.since) / 1000), timers.now()));
  };
  const queue = new LiveQueue(compute, audience, { timers, logger: { warn: () => undefined, info: () => undefined } });
  return { timers, figures, computations, pushes, sent, audience, queue };
}

describe('live queue pacing (fake timers)', () => {
  it('computes once for a burst of changes, then once more a second later; never twice within a second', async () => {
    const h = harness();
    h.figures.get('front-desk')!.waiting = 0;
    for (let i = 0; i < 100; i++) {
      h.queue.changed();
      if (i === 50) h.figures.get('front-desk')!.waiting = 0; // nothing moves yet
      await h.timers.advance(5); // 100 changes over half a second
    }
    expect(h.computations.map((c) => c.at - 1_000_000)).to.deep.equal([0]);
    await h.timers.advance(2000);
    expect(h.computations.map((c) => c.at - 1_000_000)).to.deep.equal([0, 1000]);
    // Nobody waits and nothing changed: no more computations, no timer left.
    await h.timers.advance(10_000);
    expect(h.computations).to.have.length(2);
    expect(h.timers.pending).to.equal(0);
  });

  it('pushes a team only when its figures change, at most once a second, through a burst', async () => {
    const h = harness();
    const fd = h.figures.get('front-desk')!;
    // A burst of 30 patients arriving 20 ms apart (600 ms), each a change.
    for (let i = 0; i < 30; i++) {
      fd.waiting = i + 1;
      fd.since ??= h.timers.now();
      h.queue.changed();
      await h.timers.advance(20);
    }
    // While they wait, it ticks each second: "longest wait" moves.
    await h.timers.advance(3000);
    const fdPushes = h.pushes.filter((p) => p.stats.teamId === 'front-desk');
    expect(fdPushes.length).to.be.within(2, 5);
    for (let i = 1; i < fdPushes.length; i++) expect(fdPushes[i]!.at - fdPushes[i - 1]!.at).to.be.at.least(1000);
    expect(fdPushes.at(-1)!.stats.waiting).to.equal(30);
    expect(fdPushes.at(-1)!.stats.longestWaitSeconds).to.be.at.least(3);
    // The other team is nobody's here: never computed, never pushed.
    expect(h.pushes.some((p) => p.stats.teamId === 'billing')).to.equal(false);

    // Everyone taken: one last push (waiting 0), then quiet.
    fd.waiting = 0;
    fd.since = null;
    h.queue.changed();
    await h.timers.advance(5000);
    const after = h.pushes.filter((p) => p.stats.teamId === 'front-desk');
    expect(after.at(-1)!.stats.waiting).to.equal(0);
    const count = after.length;
    const computed = h.computations.length;
    // Changes that move nothing compute (at most once a second) but push nothing.
    h.queue.changed();
    h.queue.changed();
    await h.timers.advance(5000);
    expect(h.computations.length).to.equal(computed + 1);
    expect(h.pushes.filter((p) => p.stats.teamId === 'front-desk')).to.have.length(count);
    expect(h.timers.pending).to.equal(0);
  });

  it('ticks every second while someone waits, and stops when nobody does', async () => {
    const h = harness();
    const fd = h.figures.get('front-desk')!;
    fd.waiting = 1;
    fd.since = h.timers.now();
    h.queue.changed();
    await h.timers.advance(4500);
    const waits = h.pushes.map((p) => p.stats.longestWaitSeconds);
    expect(waits).to.deep.equal([0, 1, 2, 3, 4]);
    fd.waiting = 0;
    fd.since = null;
    await h.timers.advance(1000);
    expect(h.pushes.at(-1)!.stats.waiting).to.equal(0);
    const n = h.computations.length;
    await h.timers.advance(10_000);
    expect(h.computations.length).to.equal(n);
  });

  it('gives a new watcher their figures once, not twice in one computation; fresh figures at once without a computation', async () => {
    const h = harness(new Set(['front-desk', 'billing']));
    h.figures.get('billing')!.waiting = 2;
    h.queue.watcherJoined('s1', new Set(['billing']));
    await h.timers.advance(0);
    expect(h.computations).to.have.length(1);
    expect(h.sent).to.have.length(1);
    expect(h.sent[0]!.socketId).to.equal('s1');
    expect(h.sent[0]!.items.map((i) => i.teamId)).to.deep.equal(['billing']);
    // The push of that computation went to everyone else.
    expect(h.pushes.find((p) => p.stats.teamId === 'billing')!.except).to.deep.equal(['s1']);

    // Another watcher within the second: the figures at hand, no new computation for them.
    await h.timers.advance(300);
    h.queue.watcherJoined('s2', new Set(['front-desk']));
    expect(h.sent.at(-1)!.socketId).to.equal('s2');
    expect(h.sent.at(-1)!.items.map((i) => i.teamId)).to.deep.equal(['front-desk']);
    expect(h.computations).to.have.length(1);

    // A watcher who left before the computation gets nothing.
    h.queue.changed();
    h.queue.watcherJoined('s3', 'all');
    h.queue.watcherLeft('s3');
    await h.timers.advance(1000);
    expect(h.sent.some((s) => s.socketId === 's3')).to.equal(false);
  });

  it('computes nothing while nobody watches on this node', async () => {
    const h = harness(new Set());
    for (let i = 0; i < 10; i++) h.queue.changed();
    await h.timers.advance(5000);
    expect(h.computations).to.have.length(0);
    expect(h.pushes).to.have.length(0);
    expect(h.timers.pending).to.equal(0);
  });

  it('answers HTTP with the figures at hand when under a second old and nothing changed since', async () => {
    const h = harness('all');
    h.queue.changed();
    await h.timers.advance(0);
    expect(h.computations).to.have.length(1);
    expect((await h.queue.snapshot(new Set(['billing']))).map((i) => i.teamId)).to.deep.equal(['billing']);
    expect(h.computations).to.have.length(1);
    h.queue.changed();
    await h.queue.snapshot(new Set(['billing']));
    expect(h.computations).to.have.length(2);
  });

  it('counts only conversation changes that move the queue (status, assignee, team, wait)', () => {
    const h = harness();
    const c = { id: 'c1', status: 'open', assigneeId: null, teamId: 'front-desk', waitingSince: '2026-01-01T00:00:00Z' };
    expect(h.queue.conversationChanged(c)).to.equal(true);
    expect(h.queue.conversationChanged({ ...c })).to.equal(false); // a read mark, a new message
    expect(h.queue.conversationChanged({ ...c, assigneeId: 'a1', waitingSince: null })).to.equal(true);
    expect(h.queue.conversationChanged({ ...c, status: 'resolved', assigneeId: 'a1' })).to.equal(true);
    h.queue.stop();
  });
});
