/**
 * Buckets: contributions (kpi-contributions.ts) become `$inc`s on the hour
 * and day buckets of their team, channel and agent, of all agents, and of the
 * whole clinic (team and channel `*`) for both; a report reads the buckets of
 * its periods at one of those levels and merges them.
 *
 * Durations go into DDSketch (@datadog/sketches-js, relative accuracy 1%)
 * stored as its bins: a value's bin is the sketch's logarithmic mapping of it,
 * and the bin's count is `$inc`ed, so two nodes adding to one bucket never
 * overwrite each other and a value taken out (a late correction) leaves the
 * sketch exactly as if it had never been added. Merging buckets is adding
 * their bins, which is what DDSketch's merge does.
 */
import { DDSketch } from '@datadog/sketches-js';
import { ALL, ALL_AGENTS, type KpiBucketDoc, type StoredSketch } from './kpi-documents.ts';
import { parseContributionKey, type Contribution } from './kpi-contributions.ts';
import { hourStart, dayStart } from './kpi-periods.ts';

export const RELATIVE_ACCURACY = 0.01;
const MAPPING = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;

export const SKETCHED = ['firstResponse', 'response', 'queue', 'handle'] as const;
export type SketchedMetric = (typeof SKETCHED)[number];

/** The stored bin of a duration: `z` for zero (and anything below the sketch's smallest value), else `b.k<index>`. */
export function binOf(seconds: number): string {
  return seconds > MAPPING.minPossible ? `b.k${MAPPING.key(seconds)}` : 'z';
}

export interface BucketWrite {
  _id: string;
  period: Date;
  teamId: string;
  channel: string;
  agentId: string;
  inc: Record<string, number>;
}

/**
 * The increments that move the buckets by `changes` (+1 adds a contribution,
 * -1 takes it out), one write per bucket document.
 */
export function bucketWrites(changes: readonly { key: string; sign: 1 | -1 }[], timeZone: string): { hourly: BucketWrite[]; daily: BucketWrite[] } {
  const hourly = new Map<string, BucketWrite>();
  const daily = new Map<string, BucketWrite>();
  for (const { key, sign } of changes) {
    const c = parseContributionKey(key);
    const fields = incrementsOf(c, sign);
    const agents = c.agentId ? [c.agentId, ALL_AGENTS] : [ALL_AGENTS];
    const scopes = [[c.teamId, c.channel], [ALL, ALL]] as const;
    for (const [target, start] of [[hourly, hourStart(c.at)], [daily, dayStart(c.at, timeZone)]] as const) {
      for (const agentId of agents) {
        for (const [teamId, channel] of scopes) {
          const period = new Date(start);
          const id = bucketId(period, teamId, channel, agentId);
          let write = target.get(id);
          if (!write) target.set(id, (write = { _id: id, period, teamId, channel, agentId, inc: {} }));
          for (const [field, n] of Object.entries(fields)) write.inc[field] = (write.inc[field] ?? 0) + n;
        }
      }
    }
  }
  const nonEmpty = (writes: Map<string, BucketWrite>) =>
    [...writes.values()]
      .map((w) => ({ ...w, inc: Object.fromEntries(Object.entries(w.inc).filter(([, n]) => n !== 0)) }))
      .filter((w) => Object.keys(w.inc).length > 0);
  return { hourly: nonEmpty(hourly), daily: nonEmpty(daily) };
}

export function bucketId(period: Date, teamId: string, channel: string, agentId: string): string {
  return `${period.toISOString()}|${teamId}|${channel}|${agentId}`;
}

function incrementsOf(c: Contribution, sign: 1 | -1): Record<string, number> {
  switch (c.metric) {
    case 'conversations':
      return { conversations: sign };
    case 'webchat':
      return { webchats: sign };
    case 'abandoned':
      return { abandoned: sign };
    case 'fcrDecided':
      return { fcrDecided: sign };
    case 'fcrResolved':
      return { fcrResolved: sign };
    case 'csat': {
      const score = c.value ?? 0;
      return { csatResponses: sign, csatSum: sign * score, csatSatisfied: score >= 4 ? sign : 0 };
    }
    default:
      return { [`${c.metric}.${binOf(c.value ?? 0)}`]: sign };
  }
}

/** Bucket documents as they are when written fresh (a rebuild inserts them whole). */
export function toBucketDocument(write: BucketWrite): KpiBucketDoc {
  const doc: Record<string, unknown> = { _id: write._id, period: write.period, teamId: write.teamId, channel: write.channel, agentId: write.agentId };
  for (const [path, n] of Object.entries(write.inc)) {
    const parts = path.split('.');
    let at = doc;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = ((at[parts.at(-1)!] as number | undefined) ?? 0) + n;
  }
  return doc as unknown as KpiBucketDoc;
}

// --- reading ------------------------------------------------------------------

export interface Quantiles {
  median: number | null;
  p90: number | null;
}

export interface Figures {
  conversations: number;
  firstResponseSeconds: Quantiles;
  responseSeconds: Quantiles;
  queueSeconds: Quantiles;
  handleSeconds: { median: number | null };
  abandonmentRate: number | null;
  firstContactResolutionRate: number | null;
  csat: { responses: number; average: number | null; satisfiedRate: number | null };
}

/** Buckets merged: counters added, sketches merged. */
export class MergedFigures {
  private counts = { conversations: 0, webchats: 0, abandoned: 0, fcrDecided: 0, fcrResolved: 0, csatResponses: 0, csatSum: 0, csatSatisfied: 0 };
  private readonly sketches = Object.fromEntries(SKETCHED.map((m) => [m, new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY })])) as Record<SketchedMetric, DDSketch>;

  add(bucket: KpiBucketDoc): void {
    for (const key of Object.keys(this.counts) as (keyof MergedFigures['counts'])[]) this.counts[key] += Number(bucket[key] ?? 0);
    for (const metric of SKETCHED) addStored(this.sketches[metric], bucket[metric]);
  }

  merge(other: MergedFigures): void {
    for (const key of Object.keys(this.counts) as (keyof MergedFigures['counts'])[]) this.counts[key] += other.counts[key];
    for (const metric of SKETCHED) this.sketches[metric].merge(other.sketches[metric]);
  }

  figures(): Figures {
    const c = this.counts;
    const q = (metric: SketchedMetric): Quantiles => ({ median: quantile(this.sketches[metric], 0.5), p90: quantile(this.sketches[metric], 0.9) });
    return {
      conversations: Math.max(0, c.conversations),
      firstResponseSeconds: q('firstResponse'),
      responseSeconds: q('response'),
      queueSeconds: q('queue'),
      handleSeconds: { median: quantile(this.sketches.handle, 0.5) },
      abandonmentRate: ratio(c.abandoned, c.webchats),
      firstContactResolutionRate: ratio(c.fcrResolved, c.fcrDecided),
      csat: { responses: Math.max(0, c.csatResponses), average: ratio(c.csatSum, c.csatResponses), satisfiedRate: ratio(c.csatSatisfied, c.csatResponses) },
    };
  }
}

function addStored(sketch: DDSketch, stored: StoredSketch | undefined): void {
  if (!stored) return;
  if ((stored.z ?? 0) > 0) sketch.accept(0, stored.z);
  for (const [bin, count] of Object.entries(stored.b ?? {})) {
    if (count > 0) sketch.accept(MAPPING.value(Number(bin.slice(1))), count);
  }
}

/** The sketch's value at rank q·(n−1), rounded to the millisecond; null when empty (never NaN). */
function quantile(sketch: DDSketch, q: number): number | null {
  if (sketch.count <= 0) return null;
  const value = sketch.getValueAtQuantile(q);
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

function ratio(part: number, whole: number): number | null {
  if (!(whole > 0)) return null;
  const r = part / whole;
  return Number.isFinite(r) ? Math.max(r, 0) : null;
}
