/**
 * When agents answer the web chat, as the clinic writes it in
 * WIDGET_BUSINESS_HOURS: `mon-fri 08:00-18:00; sat 09:00-12:00`, in the
 * clinic's time zone (CLINIC_TIMEZONE). Unset means always staffed. Outside
 * those hours the widget says agents are away and when they are back; the
 * patient can still write.
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

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
    const start = DAYS.indexOf(first as (typeof DAYS)[number]);
    const end = DAYS.indexOf((last ?? first) as (typeof DAYS)[number]);
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

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day at `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: DAYS.indexOf(get('weekday').toLowerCase() as (typeof DAYS)[number]), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function isOpen(spans: readonly OpeningSpan[], timeZone: string, at: Date): boolean {
  const { day, minute } = localTime(at, timeZone);
  return spans.some((s) => s.day === day && minute >= s.from && minute < s.to);
}

/**
 * Availability now; when closed, the next opening within a week. Probes in
 * wall-clock time (so DST changes need no arithmetic): quarter hours first,
 * then minute by minute back to the exact opening.
 */
export function availability(spans: readonly OpeningSpan[] | null, timeZone: string, at: Date): { away: boolean; nextOpenAt: Date | null } {
  if (!spans || isOpen(spans, timeZone, at)) return { away: false, nextOpenAt: null };
  const minute = 60_000;
  const quarter = 15 * minute;
  const start = Math.ceil(at.getTime() / minute) * minute;
  for (let probe = start; probe <= start + 8 * 86_400_000; probe += quarter) {
    if (!isOpen(spans, timeZone, new Date(probe))) continue;
    let opening = probe;
    while (opening - minute >= start && isOpen(spans, timeZone, new Date(opening - minute))) opening -= minute;
    return { away: true, nextOpenAt: new Date(opening) };
  }
  return { away: true, nextOpenAt: null };
}
