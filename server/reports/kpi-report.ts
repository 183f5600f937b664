/**
 * A report of the contact-center figures: one query on the buckets of its
 * granularity (an index serves it: agent key, teams, period range), merged
 * per period and in total. No message is read. A year by day reads one
 * bucket a day for the whole clinic, or one a day per team and channel.
 */
import { z } from 'zod';
import type { Models } from '../db/models.ts';
import { MergedFigures, type Figures } from './kpi-buckets.ts';
import { ALL, ALL_AGENTS } from './kpi-documents.ts';
import { periodStart, periodsBetween, type Granularity } from './kpi-periods.ts';

export interface KpiQuery {
  from: Date;
  to: Date;
  granularity: Granularity;
  /** The teams to count; null: every team (admins). */
  teamIds: readonly string[] | null;
  agentId: string | null;
  channel: string | null;
}

export interface KpiReport {
  items: ({ period: string } & Figures)[];
  totals: Figures;
}

export async function kpiReport(models: Models, query: KpiQuery, timeZone: string): Promise<KpiReport> {
  const periods = periodsBetween(query.from.getTime(), query.to.getTime(), query.granularity, timeZone);
  const merged = new Map(periods.map((p) => [p, new MergedFigures()]));
  if (periods.length > 0 && (query.teamIds === null || query.teamIds.length > 0)) {
    const model = query.granularity === 'hour' ? models.KpiHourly : models.KpiDaily;
    // The whole clinic's buckets when nothing narrows the teams or the channel; else each team's.
    const clinic = query.teamIds === null && query.channel === null;
    const buckets = await model
      .find({
        agentId: query.agentId ?? ALL_AGENTS,
        ...(clinic ? { teamId: ALL, channel: ALL } : {}),
        ...(query.teamIds ? { teamId: { $in: [...query.teamIds] } } : {}),
        ...(query.channel ? { channel: query.channel } : {}),
        period: { $gte: new Date(periods[0]!), $lt: query.to },
      })
      .lean();
    for (const bucket of buckets) {
      // A day bucket written under another CLINIC_TIMEZONE lands in the day holding its start.
      merged.get(periodStart(new Date(bucket.period).getTime(), query.granularity, timeZone))?.add(bucket);
    }
  }
  const totals = new MergedFigures();
  for (const figures of merged.values()) totals.merge(figures);
  return {
    items: periods.map((p) => ({ period: new Date(p).toISOString(), ...merged.get(p)!.figures() })),
    totals: totals.figures(),
  };
}

// --- shapes -------------------------------------------------------------------

const quantiles = z.strictObject({ median: z.number().nullable(), p90: z.number().nullable() });
const figuresShape = {
  conversations: z.number().int().describe('Conversations whose first patient message falls in the period'),
  firstResponseSeconds: quantiles.describe('First agent reply after the first patient message, in business hours when the team has hours'),
  responseSeconds: quantiles.describe('Each agent reply after the oldest patient message it answers'),
  queueSeconds: quantiles.describe('First patient message to first assignment'),
  handleSeconds: z.strictObject({ median: z.number().nullable() }).describe("An agent's active time on a conversation, per resolution"),
  abandonmentRate: z.number().nullable().describe('Web chats the patient left before any agent reply / web chats'),
  firstContactResolutionRate: z.number().nullable().describe('Resolved and not reopened within 7 days / resolutions decided'),
  csat: z.strictObject({ responses: z.number().int(), average: z.number().nullable(), satisfiedRate: z.number().nullable() }),
};

export const kpiReportSchema = z.strictObject({
  items: z.array(z.strictObject({ period: z.string().describe('ISO instant the period starts'), ...figuresShape })),
  totals: z.strictObject(figuresShape),
});

// --- CSV ----------------------------------------------------------------------

/** The CSV export's columns, in order (README "Contact-center figures"). */
export const KPI_CSV_COLUMNS = [
  'period',
  'conversations',
  'first_response_median_seconds',
  'first_response_p90_seconds',
  'response_median_seconds',
  'response_p90_seconds',
  'queue_median_seconds',
  'queue_p90_seconds',
  'handle_median_seconds',
  'abandonment_rate',
  'first_contact_resolution_rate',
  'csat_responses',
  'csat_average',
  'csat_satisfied_rate',
] as const;

/** One row per period and a last row `total`; empty cells where there is no data. Numbers and ISO instants only. */
export function kpiCsv(report: KpiReport): string {
  const row = (period: string, f: Figures) =>
    [
      period, f.conversations,
      f.firstResponseSeconds.median, f.firstResponseSeconds.p90,
      f.responseSeconds.median, f.responseSeconds.p90,
      f.queueSeconds.median, f.queueSeconds.p90,
      f.handleSeconds.median,
      f.abandonmentRate, f.firstContactResolutionRate,
      f.csat.responses, f.csat.average, f.csat.satisfiedRate,
    ].map((v) => (v === null ? '' : String(v))).join(',');
  return [KPI_CSV_COLUMNS.join(','), ...report.items.map((item) => row(item.period, item)), row('total', report.totals)].join('\r\n') + '\r\n';
}
