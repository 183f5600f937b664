/**
 * The supervisor dashboard's data: the hub's report answers (KPIs per day,
 * the live queue, CSAT comments), the period picker's dates, and how each
 * figure reads (durations, rates; a missing figure is a dash, said as "no data").
 */
import type { QueueStats } from '../../server/realtime/events.ts';

export type { QueueStats };

export interface Quantiles {
  median: number | null;
  p90?: number | null;
}

/** One period of GET /api/reports/kpis (or the totals): any figure may be null (nothing to measure). */
export interface KpiFigures {
  conversations: number | null;
  firstResponseSeconds: Quantiles | null;
  responseSeconds: Quantiles | null;
  queueSeconds: Quantiles | null;
  handleSeconds: Quantiles | null;
  /** 0..1 */
  abandonmentRate: number | null;
  /** 0..1 */
  firstContactResolutionRate: number | null;
  csat: { responses: number | null; average: number | null; satisfiedRate: number | null } | null;
}

export interface KpiPeriod extends KpiFigures {
  /** The instant the period starts (ISO 8601): with granularity=day, the clinic's midnight. */
  period: string;
}

export interface KpiAnswer {
  items: KpiPeriod[];
  totals: Partial<KpiFigures> | null;
}

export interface CsatComment {
  score: number;
  comment: string;
  conversationId: string;
  at: string;
}

export interface CsatCommentsPage {
  items: CsatComment[];
  nextCursor?: string | null;
}

/** The period and team the dashboard shows. `team` empty: every team the viewer may see. */
export interface ReportQuery {
  from: string;
  to: string;
  team: string;
}

/** YYYY-MM-DD of a local date. */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The last `days` days up to today (local dates). */
export function lastDays(days: number, today = new Date()): { from: string; to: string } {
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  return { from: isoDay(from), to: isoDay(today) };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const MAX_PERIOD_DAYS = 366;

/** Why a period cannot be shown (for the date fields), or null. */
export function periodProblem(from: string, to: string): { field: 'from' | 'to'; message: string } | null {
  if (!DAY.test(from) || Number.isNaN(Date.parse(from))) return { field: 'from', message: 'Enter a start date' };
  if (!DAY.test(to) || Number.isNaN(Date.parse(to))) return { field: 'to', message: 'Enter an end date' };
  if (to < from) return { field: 'to', message: 'The end date is before the start date' };
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days > MAX_PERIOD_DAYS) return { field: 'to', message: `At most ${MAX_PERIOD_DAYS} days at a time` };
  return null;
}

/** The day after a YYYY-MM-DD day. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return isoDay(new Date(y, m - 1, d + 1));
}

/** The period as the dashboard shows it (both dates included) for the CSAT comments (`to`: that whole day). */
export function reportQueryString(query: ReportQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ from: query.from, to: query.to, ...extra });
  if (query.team) params.set('team', query.team);
  return params.toString();
}

/** GET /api/reports/kpis takes the clinic's days, `to` excluded: the day after the last one shown. */
export function kpiQueryString(query: ReportQuery): string {
  return reportQueryString({ ...query, to: nextDay(query.to) }, { granularity: 'day' });
}

/**
 * The clinic's day (YYYY-MM-DD) of the `index`-th daily period from `from`: the periods are the clinic's days
 * from `from` on, one each, whatever the browser's time zone.
 */
export function periodDay(period: string, index: number, from: string): string {
  if (DAY.test(period)) return period;
  const [y, m, d] = from.split('-').map(Number) as [number, number, number];
  return isoDay(new Date(y, m - 1, d + index));
}

export const NO_DATA = '—';

/** "45 s", "3 min 20 s", "1 h 5 min"; a dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NO_DATA;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest ? `${Math.floor(s / 60)} min ${rest} s` : `${s / 60} min`;
  }
  const minutes = Math.round((s % 3600) / 60);
  return minutes ? `${Math.floor(s / 3600)} h ${minutes} min` : `${Math.floor(s / 3600)} h`;
}

export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return NO_DATA;
  return `${Math.round(rate * 1000) / 10}%`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return NO_DATA;
  return n.toLocaleString('en-US');
}

export function formatScore(average: number | null | undefined): string {
  if (average === null || average === undefined || !Number.isFinite(average)) return NO_DATA;
  return `${(Math.round(average * 10) / 10).toFixed(1)} / 5`;
}

/** A day label: "Tue, Mar 10" (the period itself when it is not a date). */
export function dayLabel(period: string): string {
  if (!DAY.test(period)) return period;
  const [y, m, d] = period.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).toLocaleDateString('en-US', { weekday: 'short', month: 'short', day: 'numeric' });
}

/** Seconds as minutes for a chart axis (one decimal), null kept as a gap. */
export const toMinutes = (seconds: number | null | undefined): number | null =>
  seconds === null || seconds === undefined || !Number.isFinite(seconds) ? null : Math.round((seconds / 60) * 10) / 10;

/** A series of a chart per day (DayChart.tsx). */
export interface DaySeries {
  label: string;
  kind: 'bar' | 'line';
  /** At least 3:1 against white (WCAG 1.4.11). */
  color: string;
  dashed?: boolean;
  values: (number | null)[];
  /** How a value reads in the table and the summary ("12", "3 min 5 s"). */
  format(value: number | null): string;
}

/** The chart's text alternative: "Conversations per day, Tue, Mar 3 to Mon, Mar 9. Conversations: highest 12 on Thu, Mar 5, lowest 2 on Sun, Mar 8." */
export function chartSummary(title: string, labels: string[], series: DaySeries[]): string {
  if (labels.length === 0) return `${title}: no days in the period.`;
  const span = labels.length === 1 ? labels[0] : `${labels[0]} to ${labels[labels.length - 1]}`;
  const parts = series.map((s) => {
    const known = s.values.map((v, i) => ({ v, i })).filter((x): x is { v: number; i: number } => x.v !== null && Number.isFinite(x.v));
    if (known.length === 0) return `${s.label}: no data`;
    const high = known.reduce((a, b) => (b.v > a.v ? b : a));
    const low = known.reduce((a, b) => (b.v < a.v ? b : a));
    return known.length === 1
      ? `${s.label}: ${s.format(high.v)} on ${labels[high.i]}`
      : `${s.label}: highest ${s.format(high.v)} on ${labels[high.i]}, lowest ${s.format(low.v)} on ${labels[low.i]}`;
  });
  return `${title}, ${span}. ${parts.join('. ')}.`;
}
