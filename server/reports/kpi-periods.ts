/**
 * The periods figures are kept and answered in: whole UTC hours, and the
 * clinic's days (midnight to midnight in CLINIC_TIMEZONE, 23 or 25 hours long
 * across a DST change). A period is named by the instant it starts.
 */
export type Granularity = 'hour' | 'day';

const HOUR = 3600_000;

export function hourStart(t: number): number {
  return Math.floor(t / HOUR) * HOUR;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date at `t` in `timeZone`, as the UTC midnight of that date (comparable numbers). */
function localDate(t: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  const n: Record<string, number> = {};
  for (const part of format.formatToParts(t)) if (part.type !== 'literal') n[part.type] = Number(part.value);
  return Date.UTC(n.year!, n.month! - 1, n.day!);
}

const dayStarts = new Map<string, number>();

/**
 * The first instant of the local day holding `t`: its midnight, or when a
 * zone skips midnight (a DST change at 00:00) the first instant that day has.
 */
export function dayStart(t: number, timeZone: string): number {
  const date = localDate(t, timeZone);
  const key = `${timeZone}|${date}`;
  const known = dayStarts.get(key);
  if (known !== undefined) return known;
  // Offsets lie within -12h..+14h: the day starts between date-14h and date+12h; find the first instant on that date.
  let lo = date - 15 * HOUR;
  let hi = Math.min(t, date + 13 * HOUR);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, timeZone) >= date) hi = mid;
    else lo = mid;
  }
  if (dayStarts.size > 10_000) dayStarts.clear();
  dayStarts.set(key, hi);
  return hi;
}

export function periodStart(t: number, granularity: Granularity, timeZone: string): number {
  return granularity === 'hour' ? hourStart(t) : dayStart(t, timeZone);
}

/** The starts of the periods from the one holding `from` to the last that starts before `to`. */
export function periodsBetween(from: number, to: number, granularity: Granularity, timeZone: string): number[] {
  const starts: number[] = [];
  for (let p = periodStart(from, granularity, timeZone); p < to; ) {
    starts.push(p);
    // A day is 23 to 25 hours: 30 hours on is always inside the next one.
    p = granularity === 'hour' ? p + HOUR : dayStart(p + 30 * HOUR, timeZone);
  }
  return starts;
}
