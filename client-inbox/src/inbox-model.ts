/**
 * The inbox list as pure logic: which conversations a view shows, their order
 * (newest activity first, as the hub's keyset cursor orders them), and paging
 * over one or more queries at once (an administrator's "My teams" asks once
 * per team and merges the answers without skipping or repeating any).
 */
import type { AgentSummary, ChannelId, ConversationRecord, MessageRecord, Page, Priority, Status } from './types.ts';

export type ViewId = 'mine' | 'unassigned' | 'teams' | 'all';
export type StatusFilter = 'active' | Status | 'any';

export interface InboxFilters {
  status: StatusFilter;
  channel: ChannelId | '';
  priority: Priority | '';
}

export const DEFAULT_FILTERS: InboxFilters = { status: 'active', channel: '', priority: '' };

export interface ViewSpec {
  id: ViewId;
  label: string;
}

export function viewsFor(agent: AgentSummary): ViewSpec[] {
  const views: ViewSpec[] = [
    { id: 'mine', label: 'Mine' },
    { id: 'unassigned', label: 'Unassigned' },
    { id: 'teams', label: 'My teams' },
  ];
  if (agent.role === 'admin' || agent.role === 'supervisor') views.push({ id: 'all', label: 'All' });
  return views;
}

export function statusesOf(filter: StatusFilter): Status[] {
  switch (filter) {
    case 'active':
      return ['open', 'pending'];
    case 'any':
      return ['open', 'pending', 'resolved'];
    default:
      return [filter];
  }
}

/** The query strings (without cursor) that make up a view: usually one, one per team for an admin's "My teams". */
export function queriesFor(view: ViewId, filters: InboxFilters, agent: AgentSummary, limit = 25): string[] {
  const base = new URLSearchParams();
  base.set('status', statusesOf(filters.status).join(','));
  if (filters.channel) base.set('channel', filters.channel);
  if (filters.priority) base.set('priority', filters.priority);
  base.set('limit', String(limit));
  if (view === 'mine') base.set('assignee', 'me');
  if (view === 'unassigned') base.set('assignee', 'unassigned');
  if (view === 'teams' && agent.role === 'admin') {
    if (agent.teamIds.length === 0) return [base.toString()];
    return agent.teamIds.map((team) => {
      const q = new URLSearchParams(base);
      q.set('team', team);
      return q.toString();
    });
  }
  return [base.toString()];
}

/** Whether a conversation (as a live event carries it) belongs in the view. */
export function matchesView(c: ConversationRecord, view: ViewId, filters: InboxFilters, agent: AgentSummary): boolean {
  if (!statusesOf(filters.status).includes(c.status as Status)) return false;
  if (filters.channel && !c.channels.includes(filters.channel)) return false;
  if (filters.priority && c.priority !== filters.priority) return false;
  const mine = c.assigneeId === agent.id;
  if (agent.role !== 'admin' && !mine && !agent.teamIds.includes(c.teamId)) return false;
  switch (view) {
    case 'mine':
      return mine;
    case 'unassigned':
      return c.assigneeId === null;
    case 'teams':
      return agent.role === 'admin' ? agent.teamIds.length === 0 || agent.teamIds.includes(c.teamId) : true;
    case 'all':
      return true;
  }
}

/**
 * The pinned "Urgent" section of a view: its urgent conversations that are open or pending,
 * within the view and the agent's filters (channel; a status filter of only resolved, or a
 * priority filter other than urgent, leaves nothing to pin). Null when there is nothing to pin.
 */
export function urgentFilters(filters: InboxFilters): InboxFilters | null {
  const statuses = statusesOf(filters.status).filter((s) => s === 'open' || s === 'pending');
  if (statuses.length === 0 || (filters.priority && filters.priority !== 'urgent')) return null;
  return { status: statuses.length === 2 ? 'active' : statuses[0]!, channel: filters.channel, priority: 'urgent' };
}

/** The queries that fetch a view's pinned urgent conversations (none when nothing can be pinned). */
export function urgentQueriesFor(view: ViewId, filters: InboxFilters, agent: AgentSummary, limit = 50): string[] {
  const pinned = urgentFilters(filters);
  return pinned ? queriesFor(view, pinned, agent, limit) : [];
}

/** Whether a conversation (as a live event carries it) belongs in the view's pinned urgent section. */
export function matchesUrgent(c: ConversationRecord, view: ViewId, filters: InboxFilters, agent: AgentSummary): boolean {
  const pinned = urgentFilters(filters);
  return pinned !== null && matchesView(c, view, pinned, agent);
}

/** Whole minutes a conversation has waited for an agent (null when it is not waiting). */
export function waitedMinutes(c: Pick<ConversationRecord, 'waitingSince' | 'status'>, now: number): number | null {
  if (!c.waitingSince || c.status === 'resolved') return null;
  const since = Date.parse(c.waitingSince);
  if (Number.isNaN(since)) return null;
  return Math.max(0, Math.floor((now - since) / 60_000));
}

/** Negative when `a` comes first: newer activity first, then the higher id (the hub's order). */
export function compareConversations(a: ConversationRecord, b: ConversationRecord): number {
  const at = Date.parse(b.lastMessageAt) - Date.parse(a.lastMessageAt);
  if (at !== 0) return at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

interface Source {
  query: string;
  cursor: string | null;
  done: boolean;
  last: ConversationRecord | null;
}

/** Pages one or more inbox queries into one ordered list. */
export class InboxPager {
  private readonly sources: Source[];
  /** Fetched but not yet shown: older than what every unfinished query has reached. */
  private pool: ConversationRecord[] = [];

  constructor(
    queries: string[],
    private readonly fetchPage: (query: string) => Promise<Page<ConversationRecord>>,
  ) {
    this.sources = queries.map((query) => ({ query, cursor: null, done: false, last: null }));
  }

  get done(): boolean {
    return this.sources.every((s) => s.done) && this.pool.length === 0;
  }

  /** The next items to append to the list, in order. */
  async next(): Promise<ConversationRecord[]> {
    const open = this.sources.filter((s) => !s.done);
    const pages = await Promise.all(
      open.map((s) => this.fetchPage(s.cursor ? `${s.query}&cursor=${encodeURIComponent(s.cursor)}` : s.query)),
    );
    open.forEach((source, i) => {
      const page = pages[i]!;
      this.pool.push(...page.items);
      source.cursor = page.nextCursor;
      source.done = !page.nextCursor;
      source.last = page.items.at(-1) ?? source.last;
    });
    const seen = new Set<string>();
    this.pool = this.pool.sort(compareConversations).filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
    // Safe to show: what is no older than the point every unfinished query has reached
    // (the newest of their last items); older ones wait, another query may have some in between.
    const horizons = this.sources.filter((s) => !s.done && s.last).map((s) => s.last!);
    const horizon = horizons.sort(compareConversations)[0];
    const cut = horizon ? this.pool.findIndex((c) => compareConversations(c, horizon) > 0) : -1;
    const shown = cut === -1 ? this.pool : this.pool.slice(0, cut);
    this.pool = cut === -1 ? [] : this.pool.slice(cut);
    return shown;
  }

  /** A live change: keeps the hidden pool consistent (drops the conversation from it). */
  forget(id: string): void {
    this.pool = this.pool.filter((c) => c.id !== id);
  }
}

/**
 * Applies a live conversation record to the shown list: replaced or inserted
 * in order when it belongs to the view, removed when it no longer does.
 * A conversation older than the end of a list that can still grow is left
 * for paging to bring.
 */
export function applyLive(list: ConversationRecord[], c: ConversationRecord, belongs: boolean, complete: boolean): ConversationRecord[] {
  const without = list.filter((x) => x.id !== c.id);
  if (!belongs) return without.length === list.length ? list : without;
  const last = without.at(-1);
  const wasThere = without.length !== list.length;
  if (!wasThere && !complete && last && compareConversations(c, last) > 0) return list;
  const next = [...without, c];
  next.sort(compareConversations);
  return next;
}

/** Adds messages to a conversation's timeline by id, in seq order. */
export function mergeMessages(list: MessageRecord[], more: MessageRecord[]): MessageRecord[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of more) {
    // Delivery only moves forward (each change adds to its history): an older copy arriving late, such as
    // the reply's own POST answer after the socket already said "failed", never takes a message back.
    const known = byId.get(m.id);
    if (known && known.delivery.history.length > m.delivery.history.length) continue;
    byId.set(m.id, m);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
