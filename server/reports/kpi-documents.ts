/**
 * What the contact-center figures store (server/reports/): one facts document
 * per conversation, and buckets of counters and sketches per hour and per day.
 * Nothing here holds PHI: ids, times, channels, counts and durations.
 */
import type { ChannelId } from '../../channels/channel-id.ts';

/**
 * One moment a figure is made of, as it happened. Patient messages and agent
 * replies are also in the timeline (a rebuild reads them again from there);
 * assignments, resolutions, reopenings, whether the patient's web chat was
 * still open at the first answer, and satisfaction answers are known only as
 * they happen, so the facts document is their record (kept by a rebuild).
 */
export interface KpiMoment {
  /** Unique within the conversation: the message id, or `<kind>:<time>[:<agent>]`. A moment seen twice counts once. */
  id: string;
  kind: KpiMomentKind;
  at: Date;
  /** The conversation's team at that moment. */
  teamId?: string | null;
  /** The agent who replied, who was assigned, or the assignee at a resolution or an answered survey. */
  agentId?: string | null;
  /** The channel of a patient message or a reply. */
  channel?: ChannelId | null;
  /** `widget`: whether the patient's web chat was still open when the first answer came (false: they had left). */
  open?: boolean | null;
  /** `csat`: the score, 1 to 5. */
  score?: number | null;
}

export type KpiMomentKind = 'patient' | 'reply' | 'assigned' | 'resolved' | 'reopened' | 'widget' | 'csat';

/** `kpi_conversations`: a conversation's moments and what they add to the buckets now. */
export interface KpiConversationDoc {
  /** The conversation id. */
  _id: string;
  /** Bumped by every write: each write is conditional on the revision it was computed from (STORE-CONTRACT.md). */
  rev: number;
  moments: KpiMoment[];
  /** The contributions this conversation has added to the buckets (kpi-contributions.ts keys): the next write adds only the difference. */
  applied: string[];
  /** While its first-contact resolution waits to be decided (7 days after its first resolution): when that is due. */
  fcrDueAt: Date | null;
  /** The first response time in business hours, as computed (the team's hours may change later; a rebuild uses the hours then). */
  firstResponse?: { key: string; seconds: number } | null;
  updatedAt: Date;
}

/**
 * A sketch as stored: DDSketch's bins (relative accuracy 1%, logarithmic
 * mapping) as counts by key (`k<index>`), plus the count of zeros. Bins are
 * counts, so a sketch is updated with `$inc` (no read-modify-write) and a
 * value can be taken out again exactly.
 */
export interface StoredSketch {
  z?: number;
  b?: Record<string, number>;
}

/**
 * `kpi_hourly` and `kpi_daily`: the figures of one period for one team,
 * channel and agent; `*` for all agents together, and team and channel `*`
 * for the whole clinic (what an unfiltered report reads: one bucket per period
 * and agent key).
 */
export interface KpiBucketDoc {
  /** `<period ISO>|<team or *>|<channel or *>|<agent or *>`. */
  _id: string;
  /** The start of the hour (UTC) or of the day (in CLINIC_TIMEZONE). */
  period: Date;
  teamId: string;
  channel: string;
  agentId: string;
  conversations?: number;
  firstResponse?: StoredSketch;
  response?: StoredSketch;
  queue?: StoredSketch;
  handle?: StoredSketch;
  webchats?: number;
  abandoned?: number;
  fcrDecided?: number;
  fcrResolved?: number;
  csatResponses?: number;
  csatSum?: number;
  csatSatisfied?: number;
}

/** The agent key of the buckets that add up every agent (and the moments with none); also the team and channel key of the clinic's. */
export const ALL_AGENTS = '*';
export const ALL = '*';
