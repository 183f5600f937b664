/**
 * Wall-clock times in a patient's time zone, for scheduling: the agent types
 * "2027-03-15 09:30" meaning 9:30 for the patient, wherever the agent sits.
 * Instants come from Intl (the browser's zone database), never from adding
 * hours, so a DST change between today and the appointment moves nothing.
 * The rule for the odd times is the hub's (server/routing/business-hours.ts
 * instantOfLocalTime, which reads a local `sendAt`): a time the clock skips
 * (spring forward) is the end of the gap, a time it repeats (fall back) is
 * its first occurrence; so an appointment and a send time typed alike land
 * on the same instant here and on the hub.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** What a datetime-local input holds. */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A zone the browser knows, else null (a patient record may hold anything; the hub ignores unknown ones too). */
export function knownTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The local wall clock at `t` as numbers, with the offset in force (local minus UTC, ms). */
function wallClock(t: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; offset: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const n: Record<string, number> = {};
  for (const part of format.formatToParts(t)) if (part.type !== 'literal') n[part.type] = Number(part.value);
  const local = Date.UTC(n.year!, n.month! - 1, n.day!, n.hour!, n.minute!, n.second!);
  return { y: n.year!, mo: n.month!, d: n.day!, h: n.hour!, mi: n.minute!, offset: local - Math.floor(t / 1000) * 1000 };
}

const offsetAt = (t: number, timeZone: string) => wallClock(t, timeZone).offset;

/**
 * The instant the clock in `timeZone` reads `local` ('YYYY-MM-DDTHH:mm'), or
 * null when `local` is not such a time. Offsets lie within -12h..+14h, so the
 * offsets 15 hours before the local day and 13 hours after it bracket every
 * instant of that day; no zone changes twice in so short a window.
 */
export function instantOfLocal(local: string, timeZone: string): Date | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const day = Date.UTC(y, mo - 1, d);
  const check = new Date(day);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return null;
  const wall = day + h * HOUR + mi * MINUTE;
  let lo = day - 15 * HOUR;
  let hi = day + DAY + 13 * HOUR;
  const before = offsetAt(lo, timeZone);
  const after = offsetAt(hi, timeZone);
  if (before === after) return new Date(wall - before);
  // The instant of the change, to the millisecond.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  const change = hi;
  if (wall - before < change) return new Date(wall - before); // before the change (and a repeated time's first occurrence)
  if (wall - after >= change) return new Date(wall - after);
  return new Date(change); // skipped by the clock: the end of the gap
}

/** `at` as a datetime-local value ('YYYY-MM-DDTHH:mm') on the clock of `timeZone`. */
export function localInputValue(at: Date, timeZone: string): string {
  const c = wallClock(at.getTime(), timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${c.y}-${two(c.mo)}-${two(c.d)}T${two(c.h)}:${two(c.mi)}`;
}

/**
 * `at` as people read it on the clock of `timeZone`, with the zone's short
 * name ("Wed, Mar 10, 2027, 10:05 AM EST"). Intl's no-break spaces become
 * plain ones, so what the page shows is what a search for it finds.
 */
export function zonedTime(at: string | Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-US', {
    timeZone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
  }).format(new Date(at));
  return text.replace(/[\u202f\u00a0]/g, ' ');
}
