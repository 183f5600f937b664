/**
 * Per-team business hours: weekly spans and holidays in the team's IANA time
 * zone, as an admin PUTs them; the clinic's default (WIDGET_BUSINESS_HOURS)
 * for teams without their own. The widget's away state reads the same hours.
 *
 * Open means the local wall clock reads inside a span on a day that is not a
 * holiday; `to` is exclusive and 24:00 is the midnight ending the day. A span
 * cannot cross midnight (from < to): write `fri 22:00-24:00` and
 * `sat 00:00-06:00`. Instants come from Intl, never from adding 24 hours, so a
 * DST change moves no opening: a start the clock skips (02:30 on a
 * spring-forward day) opens when the gap ends, a start the clock repeats opens
 * at its first occurrence.
 */
import { z } from 'zod';

/** WIDGET_BUSINESS_HOURS's text form, `mon-fri 08:00-18:00; sat 09:00-12:00`: the clinic's default hours. */
const LEGACY_DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface OpeningSpan {
  day: number;
  /** Minutes after local midnight. */
  from: number;
  to: number;
}

export class BusinessHoursError extends Error {}

export function parseBusinessHours(text: string): OpeningSpan[] {
  const spans: OpeningSpan[] = [];
  for (const part of text.split(/[;,]/).map((p) => p.trim().toLowerCase()).filter(Boolean)) {
    const match = /^([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(part);
    if (!match) throw new BusinessHoursError(`"${part}" is not like "mon-fri 08:00-18:00"`);
    const [, first, last, h1, m1, h2, m2] = match;
    const start = LEGACY_DAYS.indexOf(first as (typeof LEGACY_DAYS)[number]);
    const end = LEGACY_DAYS.indexOf((last ?? first) as (typeof LEGACY_DAYS)[number]);
    if (start < 0 || end < 0) throw new BusinessHoursError(`"${part}": days are sun, mon, tue, wed, thu, fri, sat`);
    const from = Number(h1) * 60 + Number(m1);
    const to = Number(h2) * 60 + Number(m2);
    if (Number(m1) > 59 || Number(m2) > 59 || to > 24 * 60 || from >= to) throw new BusinessHoursError(`"${part}": the hours must be a range within one day`);
    for (let day = start; ; day = (day + 1) % 7) {
      spans.push({ day, from, to });
      if (day === end) break;
    }
  }
  if (spans.length === 0) throw new BusinessHoursError('no opening hours given');
  return spans;
}


export interface Holiday {
  /** Local date in the team's time zone, YYYY-MM-DD. */
  date: string;
  name?: string;
}

export interface TeamHours {
  timeZone: string;
  weekly: OpeningSpan[];
  holidays: Holiday[];
}

export type HoursLocale = 'en' | 'es' | 'it';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How far ahead nextOpening looks. */
const HORIZON_DAYS = 370;
export const MAX_WEEKLY_SPANS = 50;
export const MAX_HOLIDAYS = 100;

// --- validation -------------------------------------------------------------

/** The zone's own spelling when Intl knows it (fixes case only, keeps aliases as given); null when unknown. */
function knownTimeZone(name: string): string | null {
  if (!/^[A-Za-z]/.test(name)) return null; // Offsets like +05:00 are not IANA zones.
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return null;
  }
}

const clockTime = z.string().regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM from 00:00 to 24:00');

const spanJsonSchema = z
  .object({ day: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), from: clockTime, to: clockTime })
  .refine((s) => s.from < s.to, { path: ['to'], message: 'must be later than from (a span cannot cross midnight: split it at 24:00 and 00:00)' });

const holidayJsonSchema = z.object({
  date: z.string().superRefine((date, ctx) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) ctx.addIssue({ code: 'custom', message: 'must be a date as YYYY-MM-DD' });
    else if (!isCalendarDate(date)) ctx.addIssue({ code: 'custom', message: `${date} is not a calendar date` });
  }),
  name: z.string().trim().min(1).max(100).optional(),
});

/** The body of PUT /api/teams/:id/hours, converted to TeamHours. */
export const teamHoursSchema = z
  .object({
    timeZone: z.string().trim().transform((name, ctx) => {
      const zone = knownTimeZone(name);
      if (zone) return zone;
      ctx.addIssue({ code: 'custom', message: `unknown time zone "${name}": use an IANA name like Europe/Rome` });
      return z.NEVER;
    }),
    weekly: z.array(spanJsonSchema).max(MAX_WEEKLY_SPANS, `at most ${MAX_WEEKLY_SPANS} spans`),
    holidays: z.array(holidayJsonSchema).max(MAX_HOLIDAYS, `at most ${MAX_HOLIDAYS} holidays`).default([]),
  })
  .transform(
    (json): TeamHours => ({
      timeZone: json.timeZone,
      weekly: json.weekly.map((s) => ({ day: DAY_NAMES.indexOf(s.day), from: toMinutes(s.from), to: toMinutes(s.to) })),
      holidays: json.holidays.map((h) => (h.name === undefined ? { date: h.date } : { date: h.date, name: h.name })),
    }),
  );

export interface TeamHoursJson {
  timeZone: string;
  weekly: { day: (typeof DAY_NAMES)[number]; from: string; to: string }[];
  holidays: Holiday[];
}

/** TeamHours back in the shape PUT takes (what GET answers). */
export function toTeamHoursJson(hours: TeamHours): TeamHoursJson {
  return {
    timeZone: hours.timeZone,
    weekly: hours.weekly.map((s) => ({ day: DAY_NAMES[s.day]!, from: toClock(s.from), to: toClock(s.to) })),
    holidays: hours.holidays.map((h) => (h.name === undefined ? { date: h.date } : { date: h.date, name: h.name })),
  };
}

/** WIDGET_BUSINESS_HOURS (`mon-fri 08:00-18:00; sat 09:00-12:00`) as TeamHours; null text is null (always open). */
export function hoursFromLegacySetting(text: string | null, timeZone: string): TeamHours | null {
  if (text === null) return null;
  const zone = knownTimeZone(timeZone);
  if (!zone) throw new BusinessHoursError(`unknown time zone "${timeZone}"`);
  return { timeZone: zone, weekly: parseBusinessHours(text), holidays: [] };
}

function toMinutes(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

function toClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function isCalendarDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

// --- local time -------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The local calendar day (as the UTC midnight of that date) and minute of the
 * day at `t`, plus the offset in force (local wall time minus UTC).
 */
function localTime(t: number, timeZone: string): { day: number; minute: number; offset: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const n: Record<string, number> = {};
  for (const part of format.formatToParts(t)) if (part.type !== 'literal') n[part.type] = Number(part.value);
  const day = Date.UTC(n.year!, n.month! - 1, n.day!);
  const minute = n.hour! * 60 + n.minute!;
  return { day, minute, offset: day + minute * MINUTE + n.second! * 1000 - Math.floor(t / 1000) * 1000 };
}

const offsetAt = (t: number, timeZone: string) => localTime(t, timeZone).offset;

/**
 * Offsets around one local day: before and after it, and the instant of the
 * change between them if any. Offsets lie within -12h..+14h, so every instant
 * of the day falls in [day - 15h, day + 24h + 13h]; no zone changes twice in so
 * short a window.
 */
function dayOffsets(day: number, timeZone: string): { before: number; after: number; change: number | null } {
  let lo = day - 15 * HOUR;
  let hi = day + DAY + 13 * HOUR;
  const before = offsetAt(lo, timeZone);
  const after = offsetAt(hi, timeZone);
  if (before === after) return { before, after, change: null };
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return { before, after, change: hi };
}

/**
 * The instants at which the local clock reads `minute` on `day`: one, two in a
 * fall-back hour, or when the clock skips it the end of the gap.
 */
function instantsOf(day: number, minute: number, offsets: ReturnType<typeof dayOffsets>): number[] {
  const wall = day + minute * MINUTE;
  if (offsets.change === null) return [wall - offsets.before];
  const found: number[] = [];
  if (wall - offsets.before < offsets.change) found.push(wall - offsets.before);
  if (wall - offsets.after >= offsets.change) found.push(wall - offsets.after);
  return found.length ? found : [offsets.change];
}

/**
 * The instant a local wall-clock time (`2027-03-14`, minute of the day) names
 * in a time zone: its first occurrence when the clock repeats it (fall back),
 * the end of the gap when the clock skips it (spring forward). Scheduled
 * messages given as local times use it.
 */
export function instantOfLocalTime(date: string, minute: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = Date.UTC(y, m - 1, d);
  return new Date(instantsOf(day, minute, dayOffsets(day, timeZone))[0]!);
}

function dateKey(day: number): string {
  return new Date(day).toISOString().slice(0, 10);
}

// --- open, next opening -----------------------------------------------------

interface Prepared {
  timeZone: string;
  /** Per weekday, the spans merged where they touch or overlap, in order. */
  ranges: [number, number][][];
  holidays: Set<string>;
}

function prepare(hours: TeamHours): Prepared {
  const ranges: [number, number][][] = DAY_NAMES.map(() => []);
  for (let weekday = 0; weekday < 7; weekday++) {
    const spans = hours.weekly.filter((s) => s.day === weekday && s.from < s.to).sort((a, b) => a.from - b.from);
    const merged = ranges[weekday]!;
    for (const s of spans) {
      const last = merged.at(-1);
      if (last && s.from <= last[1]) last[1] = Math.max(last[1], s.to);
      else merged.push([s.from, s.to]);
    }
  }
  return { timeZone: hours.timeZone, ranges, holidays: new Set(hours.holidays.map((h) => h.date)) };
}

function openAt(p: Prepared, t: number): boolean {
  const { day, minute } = localTime(t, p.timeZone);
  if (p.holidays.has(dateKey(day))) return false;
  return p.ranges[new Date(day).getUTCDay()]!.some(([from, to]) => minute >= from && minute < to);
}

/** Where the team goes from closed to open. */
function opensAt(p: Prepared, t: number): boolean {
  return openAt(p, t) && !openAt(p, t - 1);
}

/**
 * Candidates are the instants each span start maps to and each offset change
 * (the clock can jump back into a span); the first that really opens wins.
 * Candidates of one local day can precede the next day's, so the search goes
 * one day past the first find.
 */
function nextOpeningAfter(p: Prepared, at: number): number | null {
  const horizon = at + HORIZON_DAYS * DAY;
  const first = localTime(at, p.timeZone).day;
  let found: number | null = null;
  let foundOnDay = Infinity;
  for (let day = first; day <= first + (HORIZON_DAYS + 1) * DAY && day <= foundOnDay + DAY; day += DAY) {
    const offsets = dayOffsets(day, p.timeZone);
    const candidates = offsets.change === null ? [] : [offsets.change];
    if (!p.holidays.has(dateKey(day))) {
      for (const [from] of p.ranges[new Date(day).getUTCDay()]!) candidates.push(...instantsOf(day, from, offsets));
    }
    for (const c of candidates.sort((a, b) => a - b)) {
      if (c <= at || c > horizon || (found !== null && c >= found)) continue;
      if (opensAt(p, c)) {
        found = c;
        foundOnDay = Math.min(foundOnDay, day);
      }
    }
  }
  return found;
}

export function isOpenAt(hours: TeamHours, at: Date): boolean {
  return openAt(prepare(hours), at.getTime());
}

/**
 * The first instant after `at` at which the team goes from closed to open
 * (when open at `at`, the opening after the current stretch); null when none
 * within 370 days, e.g. no spans.
 */
export function nextOpening(hours: TeamHours, at: Date): Date | null {
  const next = nextOpeningAfter(prepare(hours), at.getTime());
  return next === null ? null : new Date(next);
}

/**
 * Null when open; otherwise the id of the closed stretch holding `at`: the
 * ISO instant that stretch ends (the next opening), so a Friday evening, the
 * weekend and a Monday holiday share one key until Tuesday opens. 'never' when
 * no opening comes within 370 days. Editing the hours can change the key.
 */
export function closedPeriodKey(hours: TeamHours, at: Date): string | null {
  const p = prepare(hours);
  if (openAt(p, at.getTime())) return null;
  const next = nextOpeningAfter(p, at.getTime());
  return next === null ? 'never' : new Date(next).toISOString();
}

/**
 * How long the team is open between two instants (closed time, weekends and
 * holidays excluded), in milliseconds; the whole span when `hours` is null
 * (always open). Each local day's spans become instants the way openAt reads
 * them: a start the clock skips opens when the gap ends, a span ending in a
 * repeated hour ends at its second occurrence. The contact-center figures
 * count first response times with it (server/reports/).
 */
export function openMillisBetween(hours: TeamHours | null, from: Date, to: Date): number {
  const a = from.getTime();
  const b = to.getTime();
  if (!(b > a)) return 0;
  if (!hours) return b - a;
  const p = prepare(hours);
  const lastDay = localTime(b, p.timeZone).day;
  let total = 0;
  for (let day = localTime(a, p.timeZone).day; day <= lastDay; day += DAY) {
    const ranges = p.ranges[new Date(day).getUTCDay()]!;
    if (ranges.length === 0 || p.holidays.has(dateKey(day))) continue;
    const offsets = dayOffsets(day, p.timeZone);
    for (const [fromMinute, toMinute] of ranges) {
      const start = instantsOf(day, fromMinute, offsets)[0]!;
      const end = toMinute >= 24 * 60 ? instantsOf(day + DAY, 0, dayOffsets(day + DAY, p.timeZone))[0]! : instantsOf(day, toMinute, offsets).at(-1)!;
      total += Math.max(0, Math.min(end, b) - Math.max(start, a));
    }
  }
  return total;
}

// --- wording ----------------------------------------------------------------

const WORDS = {
  en: { today: 'today', tomorrow: 'tomorrow', at: () => 'at ', never: 'no opening hours are scheduled' },
  es: { today: 'hoy', tomorrow: 'mañana', at: (hour: number) => (hour === 1 ? 'a la ' : 'a las '), never: 'no hay horario de atención previsto' },
  it: { today: 'oggi', tomorrow: 'domani', at: (hour: number) => (hour === 1 ? "all'" : 'alle '), never: 'nessun orario di apertura previsto' },
} satisfies Record<HoursLocale, unknown>;

/**
 * The next opening in words, in the team's time zone: "today at 8:00 AM",
 * "mañana a las 8:00", "lunedì alle 8:00"; a week or more ahead (holidays) the
 * date too. Spaces are plain (ICU puts U+202F before AM, which SMS would send
 * as UCS-2).
 */
export function describeNextOpening(hours: TeamHours, at: Date, locale: HoursLocale): string {
  const words = WORDS[locale];
  const next = nextOpening(hours, at);
  if (!next) return words.never;
  const timeZone = hours.timeZone;
  const local = localTime(next.getTime(), timeZone);
  const daysAhead = Math.round((local.day - localTime(at.getTime(), timeZone).day) / DAY);
  const plain = (s: string) => s.replace(/\s/g, ' ');
  const dayWords =
    daysAhead === 0 ? words.today
    : daysAhead === 1 ? words.tomorrow
    : plain(new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long', ...(daysAhead >= 7 ? { day: 'numeric', month: 'long' } : {}) }).format(next));
  const time = plain(new Intl.DateTimeFormat(locale, { timeZone, hour: 'numeric', minute: '2-digit' }).format(next));
  return `${dayWords} ${words.at(Math.floor(local.minute / 60))}${time}`;
}
