import { expect } from 'chai';
import {
  BusinessHoursError, closedPeriodKey, describeNextOpening, hoursFromLegacySetting, isOpenAt, nextOpening, teamHoursSchema, toTeamHoursJson,
  type TeamHours, type TeamHoursJson,
} from '../../server/routing/business-hours.ts';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function hours(timeZone: string, weekly: TeamHoursJson['weekly'], holidays: TeamHoursJson['holidays'] = []): TeamHours {
  return teamHoursSchema.parse({ timeZone, weekly, holidays });
}

function spans(days: readonly string[], from: string, to: string): TeamHoursJson['weekly'] {
  return days.map((day) => ({ day, from, to }) as TeamHoursJson['weekly'][number]);
}

/** The first problem as the API's 400 says it (server/validation.ts): "field: rule". */
function firstProblem(json: unknown): string {
  const result = teamHoursSchema.safeParse(json);
  expect(result.success, 'expected a validation error').to.equal(false);
  const issue = result.error!.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

/** Local wall time at `at` in `timeZone`, like "2026-03-09 08:00". */
function localClock(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

const at = (iso: string) => new Date(iso);

describe('teamHoursSchema', () => {
  const valid = { timeZone: 'Europe/Rome', weekly: spans(WEEKDAYS, '08:00', '18:00'), holidays: [{ date: '2026-12-25', name: 'Natale' }] };

  it('converts the PUT body to TeamHours', () => {
    expect(teamHoursSchema.parse(valid)).to.deep.equal({
      timeZone: 'Europe/Rome',
      weekly: [1, 2, 3, 4, 5].map((day) => ({ day, from: 480, to: 1080 })),
      holidays: [{ date: '2026-12-25', name: 'Natale' }],
    });
  });

  it('takes no holidays as none', () => {
    expect(teamHoursSchema.parse({ timeZone: 'UTC', weekly: [] })).to.deep.equal({ timeZone: 'UTC', weekly: [], holidays: [] });
  });

  it('refuses an unknown time zone, and offsets that are not IANA zones', () => {
    expect(firstProblem({ ...valid, timeZone: 'Mars/Olympus_Mons' })).to.equal('timeZone: unknown time zone "Mars/Olympus_Mons": use an IANA name like Europe/Rome');
    expect(firstProblem({ ...valid, timeZone: '+01:00' })).to.match(/^timeZone: unknown time zone/);
    expect(firstProblem({ ...valid, timeZone: '' })).to.match(/^timeZone: unknown time zone/);
  });

  it('spells a known zone as Intl does when only the case differs', () => {
    expect(teamHoursSchema.parse({ ...valid, timeZone: 'america/new_york' }).timeZone).to.equal('America/New_York');
  });

  it('refuses a span whose from is not before its to; overnight spans are not supported, split them at midnight', () => {
    expect(firstProblem({ ...valid, weekly: [{ day: 'fri', from: '22:00', to: '06:00' }] })).to.equal(
      'weekly.0.to: must be later than from (a span cannot cross midnight: split it at 24:00 and 00:00)',
    );
    expect(firstProblem({ ...valid, weekly: [{ day: 'fri', from: '09:00', to: '09:00' }] })).to.match(/^weekly\.0\.to: must be later than from/);
    expect(teamHoursSchema.safeParse({ ...valid, weekly: [{ day: 'fri', from: '22:00', to: '24:00' }, { day: 'sat', from: '00:00', to: '06:00' }] }).success).to.equal(true);
  });

  it('wants HH:MM from 00:00 to 24:00', () => {
    for (const bad of ['8:00', '25:00', '24:01', '12:60', '12.30', '1200', ' 08:00']) {
      expect(firstProblem({ ...valid, weekly: [{ day: 'mon', from: bad, to: '24:00' }] }), bad).to.equal('weekly.0.from: must be HH:MM from 00:00 to 24:00');
    }
    expect(firstProblem({ ...valid, weekly: [{ day: 'mon', from: '08:00', to: '24:30' }] })).to.equal('weekly.0.to: must be HH:MM from 00:00 to 24:00');
    expect(teamHoursSchema.parse({ ...valid, weekly: [{ day: 'mon', from: '00:00', to: '24:00' }] }).weekly).to.deep.equal([{ day: 1, from: 0, to: 1440 }]);
  });

  it('names the span whose day is not a weekday', () => {
    expect(firstProblem({ ...valid, weekly: [...valid.weekly, { day: 'monday', from: '08:00', to: '09:00' }] })).to.match(/^weekly\.5\.day: .*"mon"/);
  });

  it('wants holidays as real calendar dates', () => {
    expect(firstProblem({ ...valid, holidays: [{ date: '2026-02-29' }] })).to.equal('holidays.0.date: 2026-02-29 is not a calendar date');
    expect(firstProblem({ ...valid, holidays: [{ date: '2026-04-31' }] })).to.equal('holidays.0.date: 2026-04-31 is not a calendar date');
    expect(firstProblem({ ...valid, holidays: [{ date: '2026-13-01' }] })).to.equal('holidays.0.date: 2026-13-01 is not a calendar date');
    expect(firstProblem({ ...valid, holidays: [{ date: '2026-1-6' }] })).to.equal('holidays.0.date: must be a date as YYYY-MM-DD');
    expect(firstProblem({ ...valid, holidays: [{ date: '06/01/2026' }] })).to.equal('holidays.0.date: must be a date as YYYY-MM-DD');
    expect(teamHoursSchema.safeParse({ ...valid, holidays: [{ date: '2028-02-29' }] }).success).to.equal(true);
  });

  it('refuses an empty holiday name', () => {
    expect(firstProblem({ ...valid, holidays: [{ date: '2026-01-06', name: '  ' }] })).to.match(/^holidays\.0\.name: /);
  });

  it('takes at most 100 holidays and 50 spans', () => {
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
    const holidays = Array.from({ length: 100 }, (_, i) => ({ date: day(i) }));
    expect(teamHoursSchema.safeParse({ ...valid, holidays }).success).to.equal(true);
    expect(firstProblem({ ...valid, holidays: [...holidays, { date: day(100) }] })).to.equal('holidays: at most 100 holidays');
    const weekly = Array.from({ length: 50 }, (_, i) => ({ day: 'mon', from: toClock(i * 10), to: toClock(i * 10 + 5) }));
    expect(teamHoursSchema.safeParse({ ...valid, weekly }).success).to.equal(true);
    expect(firstProblem({ ...valid, weekly: [...weekly, { day: 'tue', from: '08:00', to: '09:00' }] })).to.equal('weekly: at most 50 spans');
  });

  it('round-trips through toTeamHoursJson', () => {
    const json: TeamHoursJson = {
      timeZone: 'America/New_York',
      weekly: [{ day: 'sun', from: '10:00', to: '12:30' }, { day: 'mon', from: '08:00', to: '12:00' }, { day: 'mon', from: '13:00', to: '24:00' }, { day: 'sat', from: '00:00', to: '06:15' }],
      holidays: [{ date: '2026-07-03', name: 'Independence Day (observed)' }, { date: '2026-12-25' }],
    };
    const parsed = teamHoursSchema.parse(json);
    expect(toTeamHoursJson(parsed)).to.deep.equal(json);
    expect(teamHoursSchema.parse(toTeamHoursJson(parsed))).to.deep.equal(parsed);
  });
});

function toClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

describe('isOpenAt', () => {
  // Europe/Rome in January is UTC+1.
  const rome = hours('Europe/Rome', spans(WEEKDAYS, '08:00', '18:00'));

  it('opens at from (inclusive) and closes at to (exclusive)', () => {
    expect(isOpenAt(rome, at('2026-01-12T06:59:59.999Z'))).to.equal(false);
    expect(isOpenAt(rome, at('2026-01-12T07:00:00.000Z'))).to.equal(true);
    expect(isOpenAt(rome, at('2026-01-12T16:59:59.999Z'))).to.equal(true);
    expect(isOpenAt(rome, at('2026-01-12T17:00:00.000Z'))).to.equal(false);
  });

  it('goes by the weekday in the team time zone, not in UTC', () => {
    const tokyo = hours('Asia/Tokyo', spans(['mon'], '08:00', '10:00'));
    // Sunday 23:30 UTC is Monday 08:30 in Tokyo.
    expect(isOpenAt(tokyo, at('2026-01-11T23:30:00Z'))).to.equal(true);
    expect(isOpenAt(tokyo, at('2026-01-12T08:30:00Z'))).to.equal(false);
  });

  it('reads 24:00 as the midnight that ends the day, and joins a span ending then to one starting at 00:00', () => {
    const nights = hours('Europe/Rome', [{ day: 'fri', from: '22:00', to: '24:00' }, { day: 'sat', from: '00:00', to: '06:00' }]);
    expect(isOpenAt(nights, at('2026-01-16T21:00:00Z'))).to.equal(true); // Friday 22:00
    expect(isOpenAt(nights, at('2026-01-16T22:59:59.999Z'))).to.equal(true); // Friday 23:59:59.999
    expect(isOpenAt(nights, at('2026-01-16T23:00:00Z'))).to.equal(true); // Saturday 00:00
    expect(isOpenAt(nights, at('2026-01-17T05:00:00Z'))).to.equal(false); // Saturday 06:00
    // Saturday 00:00 is no opening: the night is one stretch.
    expect(nextOpening(nights, at('2026-01-16T21:30:00Z'))?.toISOString()).to.equal('2026-01-23T21:00:00.000Z');
    expect(closedPeriodKey(nights, at('2026-01-16T23:30:00Z'))).to.equal(null);

    const evening = hours('Europe/Rome', [{ day: 'fri', from: '20:00', to: '24:00' }]);
    expect(isOpenAt(evening, at('2026-01-16T22:59:59.999Z'))).to.equal(true);
    expect(isOpenAt(evening, at('2026-01-16T23:00:00Z'))).to.equal(false);
  });

  it('joins overlapping spans', () => {
    const split = hours('Europe/Rome', [{ day: 'mon', from: '08:00', to: '13:00' }, { day: 'mon', from: '12:00', to: '18:00' }, { day: 'mon', from: '18:00', to: '19:00' }]);
    expect(isOpenAt(split, at('2026-01-12T11:30:00Z'))).to.equal(true);
    expect(isOpenAt(split, at('2026-01-12T17:59:00Z'))).to.equal(true);
    expect(nextOpening(split, at('2026-01-12T09:00:00Z'))?.toISOString()).to.equal('2026-01-19T07:00:00.000Z');
  });

  it('is closed all of a holiday in local time', () => {
    const always = hours('America/New_York', spans(EVERY_DAY, '00:00', '24:00'), [{ date: '2026-12-25', name: 'Christmas' }]);
    expect(isOpenAt(always, at('2026-12-25T04:59:59.999Z'))).to.equal(true); // Dec 24 23:59:59.999 local
    expect(isOpenAt(always, at('2026-12-25T05:00:00Z'))).to.equal(false); // Dec 25 00:00 local
    expect(isOpenAt(always, at('2026-12-25T17:00:00Z'))).to.equal(false);
    expect(isOpenAt(always, at('2026-12-26T04:59:59.999Z'))).to.equal(false);
    expect(isOpenAt(always, at('2026-12-26T05:00:00Z'))).to.equal(true);
    expect(nextOpening(always, at('2026-12-25T12:00:00Z'))?.toISOString()).to.equal('2026-12-26T05:00:00.000Z');
  });
});

describe('nextOpening', () => {
  const rome = hours('Europe/Rome', spans(WEEKDAYS, '08:00', '18:00'));

  it('finds the next opening from a closed instant', () => {
    expect(nextOpening(rome, at('2026-01-12T06:00:00Z'))?.toISOString()).to.equal('2026-01-12T07:00:00.000Z'); // Monday early
    expect(nextOpening(rome, at('2026-01-16T17:00:00Z'))?.toISOString()).to.equal('2026-01-19T07:00:00.000Z'); // Friday closing
    expect(nextOpening(rome, at('2026-01-17T12:00:00Z'))?.toISOString()).to.equal('2026-01-19T07:00:00.000Z'); // Saturday
  });

  it('when open, gives the opening after the current stretch; an opening instant itself is not after itself', () => {
    expect(nextOpening(rome, at('2026-01-12T10:00:00Z'))?.toISOString()).to.equal('2026-01-13T07:00:00.000Z');
    expect(nextOpening(rome, at('2026-01-12T07:00:00Z'))?.toISOString()).to.equal('2026-01-13T07:00:00.000Z');
    expect(nextOpening(rome, at('2026-01-12T06:59:59.999Z'))?.toISOString()).to.equal('2026-01-12T07:00:00.000Z');
  });

  it('is null without spans', () => {
    expect(nextOpening(hours('Europe/Rome', []), at('2026-01-12T06:00:00Z'))).to.equal(null);
  });

  it('skips holidays however many in a row', () => {
    const mondays = Array.from({ length: 14 }, (_, i) => ({ date: new Date(Date.UTC(2026, 0, 12 + 7 * i)).toISOString().slice(0, 10) }));
    const onlyMondays = hours('Europe/Rome', spans(['mon'], '09:00', '12:00'), mondays);
    expect(nextOpening(onlyMondays, at('2026-01-10T12:00:00Z'))?.toISOString()).to.equal('2026-04-20T07:00:00.000Z'); // CEST by then
  });

  describe('across DST changes', () => {
    const cases = [
      { zone: 'America/New_York', change: '2026-03-08', sameDay: '2026-03-08T12:00:00.000Z', dayAfter: '2026-03-09T12:00:00.000Z', dayBefore: '2026-03-07T13:00:00.000Z' },
      { zone: 'America/New_York', change: '2026-11-01', sameDay: '2026-11-01T13:00:00.000Z', dayAfter: '2026-11-02T13:00:00.000Z', dayBefore: '2026-10-31T12:00:00.000Z' },
      { zone: 'Europe/Rome', change: '2026-03-29', sameDay: '2026-03-29T06:00:00.000Z', dayAfter: '2026-03-30T06:00:00.000Z', dayBefore: '2026-03-28T07:00:00.000Z' },
      { zone: 'Europe/Rome', change: '2026-10-25', sameDay: '2026-10-25T07:00:00.000Z', dayAfter: '2026-10-26T07:00:00.000Z', dayBefore: '2026-10-24T06:00:00.000Z' },
    ];
    for (const c of cases) {
      it(`opens at 08:00 local around ${c.change} in ${c.zone}`, () => {
        const daily = hours(c.zone, spans(EVERY_DAY, '08:00', '18:00'));
        const beforeOpening = nextOpening(daily, new Date(Date.parse(c.dayBefore) - 3_600_000))!;
        expect(beforeOpening.toISOString()).to.equal(c.dayBefore);
        const onChangeDay = nextOpening(daily, beforeOpening)!;
        expect(onChangeDay.toISOString()).to.equal(c.sameDay);
        const dayAfter = nextOpening(daily, onChangeDay)!;
        expect(dayAfter.toISOString()).to.equal(c.dayAfter);
        expect(localClock(dayAfter, c.zone)).to.match(/ 08:00$/);
        // A weekday team closed over the change (Saturday/Sunday): Friday evening to Monday 08:00.
        const weekdays = hours(c.zone, spans(WEEKDAYS, '08:00', '18:00'));
        const fridayEvening = new Date(Date.parse(c.dayBefore) - 12 * 3_600_000);
        expect(nextOpening(weekdays, fridayEvening)?.toISOString()).to.equal(c.dayAfter);
        // Every opening of the following week is 08:00 local.
        let opening = dayAfter;
        for (let i = 0; i < 7; i++) {
          opening = nextOpening(daily, opening)!;
          expect(localClock(opening, c.zone)).to.match(/ 08:00$/);
        }
      });
    }
  });

  it('opens at the end of the gap when the start does not exist (02:30 on a spring-forward day)', () => {
    const newYork = hours('America/New_York', spans(['sun'], '02:30', '05:00'));
    // 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
    expect(nextOpening(newYork, at('2026-03-07T20:00:00Z'))?.toISOString()).to.equal('2026-03-08T07:00:00.000Z');
    expect(isOpenAt(newYork, at('2026-03-08T06:59:59.999Z'))).to.equal(false);
    expect(isOpenAt(newYork, at('2026-03-08T07:00:00Z'))).to.equal(true);
    // An ordinary Sunday opens at 02:30.
    expect(nextOpening(newYork, at('2026-03-14T20:00:00Z'))?.toISOString()).to.equal('2026-03-15T06:30:00.000Z');

    const rome = hours('Europe/Rome', spans(['sun'], '02:30', '05:00'));
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect(nextOpening(rome, at('2026-03-28T20:00:00Z'))?.toISOString()).to.equal('2026-03-29T01:00:00.000Z');
  });

  it('never opens a span that lies wholly inside the gap', () => {
    const inGap = hours('America/New_York', spans(['sun'], '02:10', '02:50'));
    expect(nextOpening(inGap, at('2026-03-07T20:00:00Z'))?.toISOString()).to.equal('2026-03-15T06:10:00.000Z');
  });

  it('opens at the first of two 01:30s on a fall-back day', () => {
    const newYork = hours('America/New_York', spans(['sun'], '01:30', '03:00'));
    // 2026-11-01: 01:30 EDT is 05:30Z, 01:30 EST 06:30Z.
    expect(nextOpening(newYork, at('2026-10-31T20:00:00Z'))?.toISOString()).to.equal('2026-11-01T05:30:00.000Z');
    expect(isOpenAt(newYork, at('2026-11-01T06:45:00Z'))).to.equal(true); // 01:45 EST, still open
  });

  it('goes by the wall clock when it falls back into a span', () => {
    // 00:00–01:30 on 2026-11-01 in New York: the clock reads 01:00–01:30 twice, so the team opens twice.
    const newYork = hours('America/New_York', spans(['sun'], '00:00', '01:30'));
    expect(isOpenAt(newYork, at('2026-11-01T05:45:00Z'))).to.equal(false); // 01:45 EDT
    expect(nextOpening(newYork, at('2026-11-01T05:45:00Z'))?.toISOString()).to.equal('2026-11-01T06:00:00.000Z'); // 01:00 EST
  });
});

describe('closedPeriodKey', () => {
  // New York, weekdays 08:00–18:00, Labor Day (Monday 2026-09-07) a holiday; EDT is UTC-4.
  const team = hours('America/New_York', spans(WEEKDAYS, '08:00', '18:00'), [{ date: '2026-09-07', name: 'Labor Day' }]);

  it('is null when open', () => {
    expect(closedPeriodKey(team, at('2026-09-04T12:00:00Z'))).to.equal(null);
  });

  it('is the same from Friday evening over the weekend and a Monday holiday to Tuesday morning', () => {
    const stretch = [
      '2026-09-04T22:00:00.000Z', // Friday 18:00, closing
      '2026-09-05T03:59:00.000Z', // Friday 23:59
      '2026-09-05T16:00:00.000Z', // Saturday
      '2026-09-06T16:00:00.000Z', // Sunday
      '2026-09-07T12:00:00.000Z', // Monday 08:00, the holiday
      '2026-09-07T20:00:00.000Z', // Monday afternoon
      '2026-09-08T11:59:59.999Z', // Tuesday 07:59:59.999
    ].map((iso) => closedPeriodKey(team, at(iso)));
    expect(new Set(stretch)).to.have.lengthOf(1);
    expect(stretch[0]).to.equal('2026-09-08T12:00:00.000Z'); // the opening that ends the stretch
    expect(closedPeriodKey(team, at('2026-09-08T12:00:00Z'))).to.equal(null);
  });

  it('changes for the next night', () => {
    const tuesdayNight = closedPeriodKey(team, at('2026-09-08T22:00:00Z'));
    expect(tuesdayNight).to.equal('2026-09-09T12:00:00.000Z');
    expect(closedPeriodKey(team, at('2026-09-09T11:00:00Z'))).to.equal(tuesdayNight);
    expect(tuesdayNight).to.not.equal(closedPeriodKey(team, at('2026-09-05T16:00:00Z')));
    expect(closedPeriodKey(team, at('2026-09-09T22:00:00Z'))).to.not.equal(tuesdayNight);
  });

  it('is one key for a team that never opens', () => {
    const never = hours('America/New_York', []);
    expect(closedPeriodKey(never, at('2026-09-04T12:00:00Z'))).to.equal('never');
    expect(closedPeriodKey(never, at('2027-02-01T12:00:00Z'))).to.equal('never');
  });
});

describe('describeNextOpening', () => {
  // New York, weekdays 08:00–18:00; 2026-01-12 is a Monday, EST is UTC-5.
  const team = hours('America/New_York', spans(WEEKDAYS, '08:00', '18:00'));
  const cases: [string, string, Record<'en' | 'es' | 'it', string>][] = [
    ['today', '2026-01-12T11:00:00Z', { en: 'today at 8:00 AM', es: 'hoy a las 8:00', it: 'oggi alle 8:00' }],
    ['tomorrow', '2026-01-12T23:30:00Z', { en: 'tomorrow at 8:00 AM', es: 'mañana a las 8:00', it: 'domani alle 8:00' }],
    ['today, just after local midnight', '2026-01-13T05:30:00Z', { en: 'today at 8:00 AM', es: 'hoy a las 8:00', it: 'oggi alle 8:00' }],
    ['the weekday', '2026-01-16T23:30:00Z', { en: 'Monday at 8:00 AM', es: 'lunes a las 8:00', it: 'lunedì alle 8:00' }],
  ];
  for (const [what, iso, expected] of cases) {
    it(`says ${what} in English, Spanish and Italian`, () => {
      expect(describeNextOpening(team, at(iso), 'en')).to.equal(expected.en);
      expect(describeNextOpening(team, at(iso), 'es')).to.equal(expected.es);
      expect(describeNextOpening(team, at(iso), 'it')).to.equal(expected.it);
    });
  }

  it('reads the day in the team time zone', () => {
    // 2026-01-13T03:00Z is Monday 22:00 in New York but Tuesday in UTC.
    expect(describeNextOpening(team, at('2026-01-13T03:00:00Z'), 'en')).to.equal('tomorrow at 8:00 AM');
  });

  it('says the afternoon and one o’clock as each language does', () => {
    const afternoon = hours('Europe/Rome', spans(['wed'], '13:30', '17:00'));
    expect(describeNextOpening(afternoon, at('2026-01-12T10:00:00Z'), 'en')).to.equal('Wednesday at 1:30 PM');
    expect(describeNextOpening(afternoon, at('2026-01-12T10:00:00Z'), 'es')).to.equal('miércoles a las 13:30');
    expect(describeNextOpening(afternoon, at('2026-01-12T10:00:00Z'), 'it')).to.equal('mercoledì alle 13:30');
    const oneOClock = hours('Europe/Rome', spans(['wed'], '01:00', '02:00'));
    expect(describeNextOpening(oneOClock, at('2026-01-12T10:00:00Z'), 'es')).to.equal('miércoles a la 1:00');
    expect(describeNextOpening(oneOClock, at('2026-01-12T10:00:00Z'), 'it')).to.equal("mercoledì all'1:00");
  });

  it('adds the date a week or more ahead', () => {
    const closedWeek = hours('America/New_York', spans(WEEKDAYS, '08:00', '18:00'), ['2026-01-12', '2026-01-13', '2026-01-14', '2026-01-15', '2026-01-16', '2026-01-19'].map((date) => ({ date })));
    expect(describeNextOpening(closedWeek, at('2026-01-10T12:00:00Z'), 'en')).to.equal('Tuesday, January 20 at 8:00 AM');
    expect(describeNextOpening(closedWeek, at('2026-01-10T12:00:00Z'), 'es')).to.equal('martes, 20 de enero a las 8:00');
    expect(describeNextOpening(closedWeek, at('2026-01-10T12:00:00Z'), 'it')).to.equal('martedì 20 gennaio alle 8:00');
  });

  it('uses plain spaces only (SMS stays GSM-7)', () => {
    expect(describeNextOpening(team, at('2026-01-16T23:30:00Z'), 'en')).to.not.match(/[\u00a0\u202f]/);
  });

  it('says when nothing is scheduled', () => {
    const never = hours('America/New_York', []);
    expect(describeNextOpening(never, at('2026-01-12T11:00:00Z'), 'en')).to.equal('no opening hours are scheduled');
    expect(describeNextOpening(never, at('2026-01-12T11:00:00Z'), 'es')).to.equal('no hay horario de atención previsto');
    expect(describeNextOpening(never, at('2026-01-12T11:00:00Z'), 'it')).to.equal('nessun orario di apertura previsto');
  });
});

describe('hoursFromLegacySetting', () => {
  it('reads WIDGET_BUSINESS_HOURS into TeamHours without holidays', () => {
    expect(hoursFromLegacySetting('mon-wed 08:00-18:00; sat 09:00-12:00', 'Europe/Rome')).to.deep.equal({
      timeZone: 'Europe/Rome',
      weekly: [
        { day: 1, from: 480, to: 1080 }, { day: 2, from: 480, to: 1080 }, { day: 3, from: 480, to: 1080 },
        { day: 6, from: 540, to: 720 },
      ],
      holidays: [],
    });
  });

  it('keeps unset as always open (null)', () => {
    expect(hoursFromLegacySetting(null, 'Europe/Rome')).to.equal(null);
  });

  it('refuses what the widget refuses, and an unknown time zone', () => {
    expect(() => hoursFromLegacySetting('weekdays 8-6', 'Europe/Rome')).to.throw(BusinessHoursError);
    expect(() => hoursFromLegacySetting('mon 08:00-18:00', 'Europe/Nowhere')).to.throw(BusinessHoursError, /unknown time zone/);
  });

  it('gives hours that toTeamHoursJson writes and the schema reads back', () => {
    const legacy = hoursFromLegacySetting('fri-sun 10:00-24:00', 'America/New_York')!;
    expect(teamHoursSchema.parse(toTeamHoursJson(legacy))).to.deep.equal(legacy);
  });
});
