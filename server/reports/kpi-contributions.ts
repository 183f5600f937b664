/**
 * The definitions of the contact-center figures, in one pure function: a
 * conversation's moments (kpi-documents.ts) → what it contributes to the
 * buckets. The live recorder and the rebuild both use it, so they cannot
 * disagree; the recorder writes only the difference between what a
 * conversation contributed before and what it contributes now, so a moment
 * seen twice changes nothing and a late one (out of order, from another node)
 * corrects what it changes. README "Contact-center figures" says the same in
 * words.
 */
import type { KpiMoment, KpiMomentKind } from './kpi-documents.ts';

/** Idle gaps longer than this between an agent's actions on a conversation are not handle time. */
export const HANDLE_IDLE_GAP_MS = 15 * 60_000;
/** A resolution is a first-contact resolution when the conversation is not reopened within this. */
export const FCR_WINDOW_MS = 7 * 24 * 3600_000;

export type Metric =
  | 'conversations'
  | 'firstResponse'
  | 'response'
  | 'queue'
  | 'handle'
  | 'webchat'
  | 'abandoned'
  | 'fcrDecided'
  | 'fcrResolved'
  | 'csat';

export interface Contribution {
  metric: Metric;
  /** The instant that places it in a period. */
  at: number;
  teamId: string;
  /** The agent it is credited to; null: nobody (only in the all-agents buckets). */
  agentId: string | null;
  channel: string;
  /** Seconds for the durations, the score for csat. */
  value?: number;
}

/** What the first response time needs to be counted in business hours: the team (at the first reply) and the span. */
export interface FirstResponseSpan {
  teamId: string;
  from: Date;
  to: Date;
  /** Identifies the computation, so a stored result is reused only for the same inputs. */
  key: string;
}

const ORDER: Record<KpiMomentKind, number> = { patient: 0, assigned: 1, reply: 2, widget: 3, resolved: 4, reopened: 5, csat: 6 };

export function sortMoments(moments: readonly KpiMoment[]): KpiMoment[] {
  return [...moments].sort((a, b) => time(a) - time(b) || ORDER[a.kind] - ORDER[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Adds the moments not seen yet (by id); the result is in time order. */
export function mergeMoments(known: readonly KpiMoment[], more: readonly KpiMoment[]): KpiMoment[] {
  const ids = new Set(known.map((m) => m.id));
  const added = more.filter((m) => !ids.has(m.id) && (ids.add(m.id), true));
  return added.length === 0 ? [...known] : sortMoments([...known, ...added]);
}

const time = (m: KpiMoment) => new Date(m.at).getTime();
const isMessage = (m: KpiMoment) => m.kind === 'patient' || m.kind === 'reply';

/** The channel the conversation started on: its first patient message's or reply's. */
export function conversationChannel(moments: readonly KpiMoment[]): string | null {
  return sortMoments(moments).find((m) => isMessage(m) && m.channel)?.channel ?? null;
}

/** The first agent reply after the first patient message, with that message: null when there is none yet. */
export function firstResponseSpan(moments: readonly KpiMoment[]): FirstResponseSpan | null {
  const sorted = sortMoments(moments);
  const first = sorted.find((m) => m.kind === 'patient');
  if (!first) return null;
  const reply = sorted.find((m) => m.kind === 'reply' && time(m) >= time(first));
  if (!reply || !reply.teamId) return null;
  return { teamId: reply.teamId, from: new Date(first.at), to: new Date(reply.at), key: `${reply.teamId}|${time(first)}|${time(reply)}` };
}

/**
 * The moment whose arrival decides whether a web chat was abandoned: its first
 * agent reply after the patient wrote, or its first resolution without one.
 */
export function abandonmentDecidedBy(moments: readonly KpiMoment[]): KpiMoment | null {
  const sorted = sortMoments(moments);
  const first = sorted.find((m) => m.kind === 'patient');
  if (!first || first.channel !== 'webchat' || conversationChannel(sorted) !== 'webchat') return null;
  return sorted.find((m) => (m.kind === 'reply' || m.kind === 'resolved') && time(m) >= time(first)) ?? null;
}

/** When the first-contact resolution will be decided by time alone (not reopened within the window), or null. */
export function fcrDueAt(moments: readonly KpiMoment[], now: Date): Date | null {
  const sorted = sortMoments(moments);
  const resolved = sorted.find((m) => m.kind === 'resolved');
  if (!resolved) return null;
  const due = time(resolved) + FCR_WINDOW_MS;
  const reopened = sorted.some((m) => m.kind === 'reopened' && time(m) > time(resolved) && time(m) <= due);
  return reopened || now.getTime() >= due ? null : new Date(due);
}

/**
 * Everything a conversation contributes now. `firstResponseSeconds` is its
 * first response time in business hours (for firstResponseSpan), null when
 * there is none.
 */
export function contributionsOf(moments: readonly KpiMoment[], now: Date, firstResponseSeconds: number | null): Contribution[] {
  const sorted = sortMoments(moments);
  const channel = conversationChannel(sorted);
  if (!channel) return [];
  const out: Contribution[] = [];
  const lastTeam = [...sorted].reverse().find((m) => m.teamId)?.teamId ?? null;

  // Conversation figures: placed at the first patient message, credited to the team and agent who first took it
  // (its first assignment or reply), or, until someone has, to its team as it stands.
  const firstPatient = sorted.find((m) => m.kind === 'patient');
  const firstTouch = sorted.find((m) => (m.kind === 'assigned' || m.kind === 'reply') && m.agentId);
  const team = firstTouch?.teamId ?? lastTeam;
  if (firstPatient && team) {
    const at = time(firstPatient);
    const credit = { at, teamId: team, agentId: firstTouch?.agentId ?? null, channel };
    out.push({ metric: 'conversations', ...credit });
    if (channel === 'webchat') {
      out.push({ metric: 'webchat', ...credit });
      const widget = sorted.find((m) => m.kind === 'widget');
      if (widget && widget.open === false) out.push({ metric: 'abandoned', ...credit });
    }
    if (firstResponseSeconds !== null && firstResponseSpan(sorted)) out.push({ metric: 'firstResponse', ...credit, value: firstResponseSeconds });
    const assigned = sorted.find((m) => m.kind === 'assigned' && time(m) >= at);
    if (assigned) out.push({ metric: 'queue', ...credit, value: seconds(time(assigned) - at) });
  }

  // Response times: each agent reply, from the oldest patient message it answers (wall clock).
  let waitingSince: number | null = null;
  for (const m of sorted) {
    if (m.kind === 'patient') waitingSince ??= time(m);
    else if (m.kind === 'reply' && m.agentId && m.teamId) {
      if (waitingSince !== null) out.push({ metric: 'response', at: time(m), teamId: m.teamId, agentId: m.agentId, channel, value: seconds(time(m) - waitingSince) });
      waitingSince = null;
    }
  }

  // Handle time: per agent, between consecutive actions (being assigned, replying) at most HANDLE_IDLE_GAP_MS apart,
  // counted at each resolution for the actions since the one before.
  let active = new Map<string, { last: number; ms: number }>();
  for (const m of sorted) {
    if ((m.kind === 'assigned' || m.kind === 'reply') && m.agentId) {
      const state = active.get(m.agentId);
      if (!state) active.set(m.agentId, { last: time(m), ms: 0 });
      else {
        const gap = time(m) - state.last;
        if (gap <= HANDLE_IDLE_GAP_MS) state.ms += gap;
        state.last = time(m);
      }
    } else if (m.kind === 'resolved') {
      for (const [agentId, state] of active) {
        out.push({ metric: 'handle', at: time(m), teamId: m.teamId ?? lastTeam ?? '', agentId, channel, value: seconds(state.ms) });
      }
      active = new Map();
    }
  }

  // First-contact resolution: the first resolution, not reopened within 7 days; decided by a reopening, or when the 7 days end.
  const resolved = sorted.find((m) => m.kind === 'resolved');
  if (resolved) {
    const due = time(resolved) + FCR_WINDOW_MS;
    const reopened = sorted.some((m) => m.kind === 'reopened' && time(m) > time(resolved) && time(m) <= due);
    if (reopened || now.getTime() >= due) {
      const credit = { at: time(resolved), teamId: resolved.teamId ?? lastTeam ?? '', agentId: resolved.agentId ?? null, channel };
      out.push({ metric: 'fcrDecided', ...credit });
      if (!reopened) out.push({ metric: 'fcrResolved', ...credit });
    }
  }

  // Satisfaction: each answer, credited to the conversation's team and assignee when it was answered.
  for (const m of sorted) {
    if (m.kind === 'csat' && typeof m.score === 'number') {
      out.push({ metric: 'csat', at: time(m), teamId: m.teamId ?? lastTeam ?? '', agentId: m.agentId ?? null, channel, value: m.score });
    }
  }
  return out.filter((c) => c.teamId);
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/** A contribution as one string, so two lists are compared as multisets (what was applied, what applies now). */
export function contributionKey(c: Contribution): string {
  return [c.metric, c.at, c.teamId, c.agentId ?? '', c.channel, c.value ?? ''].join('|');
}

export function parseContributionKey(key: string): Contribution {
  // Team and agent ids and channels hold no '|' (slugs, hex ids); the value is last.
  const [metric, at, teamId, agentId, channel, value] = key.split('|') as [Metric, string, string, string, string, string];
  return { metric, at: Number(at), teamId, agentId: agentId || null, channel, ...(value !== '' ? { value: Number(value) } : {}) };
}

/** What to add (+1) and take out (-1) to go from `before` to `after`. */
export function differenceOf(before: readonly string[], after: readonly string[]): { key: string; sign: 1 | -1 }[] {
  const counts = new Map<string, number>();
  for (const k of after) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const k of before) counts.set(k, (counts.get(k) ?? 0) - 1);
  const changes: { key: string; sign: 1 | -1 }[] = [];
  for (const [key, n] of counts) for (let i = 0; i < Math.abs(n); i++) changes.push({ key, sign: n > 0 ? 1 : -1 });
  return changes;
}
