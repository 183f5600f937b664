/**
 * The live queue of each team, for its supervisors and the admins: how many
 * open conversations wait for an agent, how long the oldest has waited, and
 * how many of the team's agents are online (free for a new conversation),
 * busy (online, at the team's capacity) or away.
 *
 * The same figures answer `GET /api/reports/queue` and are pushed over
 * `/agents` as `queue:stats`. The database is read for them by at most one
 * computation per second per node, whatever the number of watchers: a
 * computation covers every team watched on this node (one read of the
 * active conversations, one of the team's agents, one of the teams; on the
 * embedded store each read scans its collection). It runs when something
 * that changes the figures happened (a conversation's status, assignee,
 * team or wait; an agent's status or connection, on any node), and every
 * second while a watched team has someone waiting, so "longest wait" moves.
 * A team's figures are pushed only when they differ from the last ones
 * pushed; a watcher who connects gets them once.
 */
import type { Models } from '../db/models.ts';
import type { ConversationDoc } from '../db/documents.ts';
import type { Logger } from '../logger.ts';
import { routingOf } from '../routing/team-settings.ts';

export interface QueueStats {
  teamId: string;
  teamName: string;
  /** Open conversations nobody is assigned to. */
  waiting: number;
  /** How long the one waiting longest has waited, in whole seconds (0 when nobody waits). */
  longestWaitSeconds: number;
  /** Since when it waits (ISO 8601), or null. */
  oldestWaitingSince: string | null;
  /**
   * The team's agents connected to the hub, by what they can take: `online` (status Online, below the
   * team's capacity of open conversations), `busy` (status Online, at capacity: no new conversation is
   * offered to them) and `away` (status Away). Agents who are not connected or set Offline are not counted.
   */
  agents: { online: number; busy: number; away: number };
  /** When the figures were computed (ISO 8601, the hub's clock). */
  at: string;
}

/** Every team, or these. */
export type TeamSelection = 'all' | ReadonlySet<string>;

export interface QueueSources {
  models: Models;
  clock: () => Date;
  /** The agents with a live connection to any hub node. */
  connectedAgentIds(): Promise<ReadonlySet<string>>;
}

/** Conversations an agent is working on (the capacity counts them, as assignment does). */
const ACTIVE: ConversationDoc['status'][] = ['open', 'pending'];

/** The figures of the selected teams (unknown teams are left out), by team name, as of `now` (default: the clock). */
export async function computeQueueStats(sources: QueueSources, teams: TeamSelection, now: Date = sources.clock()): Promise<QueueStats[]> {
  const { models } = sources;
  if (teams !== 'all' && teams.size === 0) return [];
  const teamDocs = await models.Team.find(teams === 'all' ? {} : { _id: { $in: [...teams] } }, { name: 1, routing: 1 }).lean();
  if (teamDocs.length === 0) return [];
  const teamIds = teamDocs.map((t) => t._id);
  const [agents, connected] = await Promise.all([
    models.Agent.find({ teamIds: { $in: teamIds }, disabledAt: null }, { teamIds: 1, status: 1 }).lean(),
    sources.connectedAgentIds(),
  ]);
  const working = agents.filter((a) => connected.has(a._id) && a.status === 'online').map((a) => a._id);
  // One read for both questions: the teams' waiting conversations, and the load of the agents who may be busy.
  const conversations = await models.Conversation.find(
    {
      $or: [
        { status: 'open', assigneeId: null, ...(teams === 'all' ? {} : { teamId: { $in: teamIds } }) },
        ...(working.length > 0 ? [{ assigneeId: { $in: working }, status: { $in: ACTIVE } }] : []),
      ],
    },
    { teamId: 1, assigneeId: 1, status: 1, waitingSince: 1, reopenedAt: 1, openedAt: 1 },
  ).lean();
  const load = new Map<string, number>();
  const oldest = new Map<string, number>();
  const waiting = new Map<string, number>();
  for (const c of conversations) {
    if (c.assigneeId) {
      if (ACTIVE.includes(c.status)) load.set(c.assigneeId, (load.get(c.assigneeId) ?? 0) + 1);
      continue;
    }
    if (c.status !== 'open') continue;
    waiting.set(c.teamId, (waiting.get(c.teamId) ?? 0) + 1);
    // Waiting since routing found nobody (or an agent let it go); a conversation reopened by hand waits since then.
    const since = new Date(c.waitingSince ?? c.reopenedAt ?? c.openedAt).getTime();
    if (Number.isFinite(since)) oldest.set(c.teamId, Math.min(oldest.get(c.teamId) ?? Infinity, since));
  }
  const at = now.toISOString();
  return teamDocs
    .map((team): QueueStats => {
      const capacity = routingOf(team).maxOpenPerAgent;
      const counts = { online: 0, busy: 0, away: 0 };
      for (const agent of agents) {
        if (!agent.teamIds.includes(team._id) || !connected.has(agent._id)) continue;
        if (agent.status === 'away') counts.away++;
        else if (agent.status === 'online') counts[(load.get(agent._id) ?? 0) >= capacity ? 'busy' : 'online']++;
      }
      const since = oldest.get(team._id);
      return {
        teamId: team._id,
        teamName: team.name,
        waiting: waiting.get(team._id) ?? 0,
        longestWaitSeconds: since === undefined ? 0 : Math.max(0, Math.floor((now.getTime() - since) / 1000)),
        oldestWaitingSince: since === undefined ? null : new Date(since).toISOString(),
        agents: counts,
        at,
      };
    })
    .sort((a, b) => a.teamName.localeCompare(b.teamName) || a.teamId.localeCompare(b.teamId));
}

/** Where the figures go: the watchers connected to this node (server/realtime/agents-namespace.ts). */
export interface QueueAudience {
  /** The teams someone on this node watches (a supervisor's teams; every team while an admin is connected). */
  watchedTeams(): TeamSelection;
  /** A team's new figures, to its watchers on this node, except these sockets (they get their first figures with `send`). */
  push(stats: QueueStats, exceptSocketIds: readonly string[]): void;
  /** A watcher's first figures, one payload per team. */
  send(socketId: string, items: readonly QueueStats[]): void;
}

export interface QueueTimers {
  /** Monotonic enough for spacing pushes (ms); the hub's clock in production, so pushes are spaced by what their `at` says. */
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveQueueOptions {
  /** The least time between two computations (and so between two pushes of a team): 1 s. */
  intervalMs?: number;
  timers: QueueTimers;
  logger: Pick<Logger, 'warn' | 'info'>;
}

interface Watcher {
  socketId: string;
  teams: TeamSelection;
}

/** Node timers, unref'd (the queue never keeps a process alive), spaced by `now`. */
export function nodeQueueTimers(now: () => number): QueueTimers {
  return {
    now,
    setTimeout: (run, ms) => setTimeout(run, ms).unref(),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

/** The push side: when to compute, and to whom the figures go. */
export class LiveQueue {
  private readonly intervalMs: number;
  private requested = false;
  private timer: unknown = null;
  private running = false;
  private stopped = false;
  private failing = false;
  private lastRunAt: number | null = null;
  /** Some watched team has a conversation waiting: compute every interval, so "longest wait" moves. */
  private ticking = false;
  /** The figures last pushed per team, without their time: a team is pushed only when they change. */
  private readonly lastPushed = new Map<string, string>();
  private latest: { teams: TeamSelection; items: QueueStats[] } | null = null;
  private readonly newWatchers = new Map<string, Watcher>();
  /** What each active conversation looked like to the queue (status, assignee, team, wait), to skip changes that do not matter. */
  private readonly seen = new Map<string, string>();

  constructor(
    /** The figures as of `now` (the timers' time): pushes are spaced by what their `at` says. */
    private readonly compute: (teams: TeamSelection, now: number) => Promise<QueueStats[]>,
    private readonly audience: QueueAudience,
    private readonly options: LiveQueueOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
  }

  /** Something that may change the figures happened (here or on another node). */
  changed(): void {
    this.requested = true;
    this.schedule();
  }

  /**
   * A conversation was stored: only a change of its status, assignee, team or wait moves the queue (a
   * read mark or a new message in a conversation an agent has does not). Returns whether it counted.
   */
  conversationChanged(conversation: { id: string; status: string; assigneeId: string | null; teamId: string; waitingSince?: string | null }): boolean {
    const key = `${conversation.status}|${conversation.assigneeId ?? ''}|${conversation.teamId}|${conversation.waitingSince ?? ''}`;
    if (this.seen.get(conversation.id) === key) return false;
    if (conversation.status === 'resolved') this.seen.delete(conversation.id);
    else this.seen.set(conversation.id, key);
    this.changed();
    return true;
  }

  /** A watcher connected: their teams' figures now if fresh ones are at hand, else with the next computation. */
  watcherJoined(socketId: string, teams: TeamSelection): void {
    if (this.stopped) return;
    const fresh = this.freshFor(teams);
    if (fresh) {
      this.audience.send(socketId, fresh);
      return;
    }
    this.newWatchers.set(socketId, { socketId, teams });
    this.schedule();
  }

  watcherLeft(socketId: string): void {
    this.newWatchers.delete(socketId);
  }

  /** The figures for an HTTP answer: fresh ones at hand (under a second old, nothing changed since), or computed now. */
  async snapshot(teams: TeamSelection): Promise<QueueStats[]> {
    return this.freshFor(teams) ?? this.compute(teams, this.options.timers.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private freshFor(teams: TeamSelection): QueueStats[] | null {
    const latest = this.latest;
    if (!latest || this.requested || this.lastRunAt === null) return null;
    const age = this.options.timers.now() - this.lastRunAt;
    if (age < 0 || age >= this.intervalMs) return null;
    if (teams === 'all') return latest.teams === 'all' ? latest.items : null;
    const covered = latest.teams;
    if (covered !== 'all' && [...teams].some((t) => !covered.has(t))) return null;
    return latest.items.filter((i) => teams.has(i.teamId));
  }

  private schedule(): void {
    if (this.stopped || this.timer !== null || this.running) return;
    const now = this.options.timers.now();
    // Never sooner than an interval after the last computation (a clock set back waits one interval at most).
    const wait = this.lastRunAt === null ? 0 : Math.min(this.intervalMs, Math.max(0, this.lastRunAt + this.intervalMs - now));
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const { timers, logger } = this.options;
    const now = timers.now();
    if (this.lastRunAt !== null && now >= this.lastRunAt && now - this.lastRunAt < this.intervalMs) {
      // A timer that fired early: the interval between two computations holds whatever the timer says.
      this.schedule();
      return;
    }
    if (!this.requested && !this.ticking && this.newWatchers.size === 0) return;
    const teams = this.audience.watchedTeams();
    if (teams !== 'all' && teams.size === 0) {
      // Nobody watches here: nothing to compute until someone does (they get their figures on connect).
      this.requested = false;
      this.ticking = false;
      this.newWatchers.clear();
      this.lastPushed.clear();
      this.latest = null;
      return;
    }
    this.requested = false;
    this.lastRunAt = now;
    this.running = true;
    const greeted = [...this.newWatchers.values()];
    let items: QueueStats[];
    try {
      items = await this.compute(teams, now);
      if (this.failing) logger.info('live queue figures computed again');
      this.failing = false;
    } catch (error) {
      // The database away: said once; the figures are tried again at the next change or tick.
      if (!this.failing) logger.warn({ err: error }, 'live queue figures could not be computed');
      this.failing = true;
      return;
    } finally {
      this.running = false;
      if (this.requested || this.ticking || this.newWatchers.size > 0) this.schedule();
    }
    if (this.stopped) return;
    const except = greeted.map((w) => w.socketId);
    for (const item of items) {
      const { at: _at, ...figures } = item;
      const key = JSON.stringify(figures);
      if (this.lastPushed.get(item.teamId) === key) continue;
      this.lastPushed.set(item.teamId, key);
      this.audience.push(item, except);
    }
    for (const watcher of greeted) {
      if (this.newWatchers.get(watcher.socketId) !== watcher) continue;
      this.newWatchers.delete(watcher.socketId);
      const { teams: theirs } = watcher;
      this.audience.send(watcher.socketId, theirs === 'all' ? items : items.filter((i) => theirs.has(i.teamId)));
    }
    this.latest = { teams, items };
    this.ticking = items.some((i) => i.waiting > 0);
    if (this.ticking) this.schedule();
  }
}

/** What the agents' namespace offers the live queue (AgentsRealtime). */
export interface LiveQueueHost {
  connectedAgentIds(): Promise<ReadonlySet<string>>;
  queueAudience(): QueueAudience;
  /** From now on, tell `queue` of changes, watchers joining and leaving, and other nodes' changes. */
  attachLiveQueue(queue: LiveQueue): void;
}

/** The hub's live queue: figures from the store, pushed through the agents' namespace. */
export function createLiveQueue(deps: { models: Models; clock: () => Date; host: LiveQueueHost; logger: Logger; intervalMs?: number }): LiveQueue {
  const { models, clock, host } = deps;
  const sources: QueueSources = { models, clock, connectedAgentIds: () => host.connectedAgentIds() };
  const queue = new LiveQueue((teams, now) => computeQueueStats(sources, teams, new Date(now)), host.queueAudience(), {
    ...(deps.intervalMs ? { intervalMs: deps.intervalMs } : {}),
    timers: nodeQueueTimers(() => clock().getTime()),
    logger: deps.logger,
  });
  host.attachLiveQueue(queue);
  return queue;
}
