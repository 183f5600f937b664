/**
 * Quiet hours for messages the hub starts by itself (outreach: satisfaction
 * surveys now, reminders later, issue #22): a text or an email that falls due
 * in the patient's night waits until the quiet hours end, in the patient's
 * time zone when the hub knows it, else the clinic's (CLINIC_TIMEZONE).
 *
 * QUIET_HOURS names the quiet stretch as local wall-clock times,
 * `21:00-08:00` by default (so outreach goes out 08:00-21:00, the TCPA's
 * window); it may cross midnight or not (`13:00-14:00`); `off` turns it off.
 * Answers to the patient's own messages are not outreach and never wait.
 *
 * Instants come from the business-hours module (Intl, not "+24 h"), so a DST
 * change moves no boundary: the allowed window is expressed as opening spans
 * of every weekday and asked when it next opens.
 */
import { isOpenAt, nextOpening, type OpeningSpan, type TeamHours } from '../routing/business-hours.ts';

export interface QuietHours {
  /** Minutes after local midnight the quiet stretch starts and ends (start > end: it crosses midnight). */
  start: number;
  end: number;
}

export const DEFAULT_QUIET_HOURS = '21:00-08:00';

export class QuietHoursError extends Error {}

/** `21:00-08:00` -> {start: 1260, end: 480}; `off` (or `none`) -> null (never quiet). */
export function parseQuietHours(text: string): QuietHours | null {
  const value = text.trim().toLowerCase();
  if (value === 'off' || value === 'none') return null;
  const match = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(value);
  if (!match) throw new QuietHoursError(`"${text}" is not like "21:00-08:00" (or "off")`);
  const [h1, m1, h2, m2] = match.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 === 24 && m2 > 0)) throw new QuietHoursError(`"${text}": times run from 00:00 to 24:00`);
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  if (start === end % (24 * 60)) throw new QuietHoursError(`"${text}": the quiet hours start and end at the same time`);
  return { start, end };
}

/** A valid IANA zone name, else null (a patient record may hold anything). */
export function knownTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

/** The hours outreach may go out, as a team's opening hours: every day, outside the quiet stretch. */
function sendingWindow(quiet: QuietHours, timeZone: string): TeamHours {
  const end = quiet.end % (24 * 60);
  const perDay: [number, number][] = quiet.start > end
    ? [[end, quiet.start]] // quiet crosses midnight: open from its end to its start
    : [[0, quiet.start], [end, 24 * 60]].filter(([from, to]) => from! < to!) as [number, number][];
  const weekly: OpeningSpan[] = [];
  for (let day = 0; day < 7; day++) for (const [from, to] of perDay) weekly.push({ day, from, to });
  return { timeZone, weekly, holidays: [] };
}

/** Whether `at` falls in the quiet hours in that time zone. */
export function isQuietAt(quiet: QuietHours | null, at: Date, timeZone: string): boolean {
  return quiet !== null && !isOpenAt(sendingWindow(quiet, timeZone), at);
}

/** `at` itself when outreach may go out then, else the instant the quiet hours end. */
export function nextSendableAt(quiet: QuietHours | null, at: Date, timeZone: string): Date {
  if (!isQuietAt(quiet, at, timeZone)) return at;
  return nextOpening(sendingWindow(quiet!, timeZone), at) ?? at;
}
