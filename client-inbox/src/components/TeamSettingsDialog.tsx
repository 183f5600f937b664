/**
 * A team's routing settings, for admins (the hub enforces the same rule):
 * business hours (time zone, weekly hours, holidays) and how new
 * conversations find an agent (mode, capacity, minutes before supervisors are
 * alerted). The hub checks everything: a refused value comes back as a 400
 * naming its field (`weekly.0.to`), and its message is shown next to that field.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import { bareMessage, describedBy, FieldError as SharedFieldError } from '../field-errors.tsx';
import { fullTime, ROUTING_MODES, routingModeLabel, WEEKDAYS, weekdayLabel } from '../format.ts';
import type { RoutingMode, Team, TeamHours, TeamHoursAnswer, TeamRouting, Weekday } from '../types.ts';
import { Modal } from './Modal.tsx';

interface SpanRow {
  key: number;
  day: Weekday;
  from: string;
  to: string;
}

interface HolidayRow {
  key: number;
  date: string;
  name: string;
}

interface RoutingForm {
  mode: RoutingMode;
  maxOpenPerAgent: string;
  escalateAfterMinutes: string;
}

/** Field path (as the hub names it) → message. */
type FieldErrors = Record<string, string>;

const HOURS_FIELDS = /^(timeZone|weekly(\.\d+(\.(day|from|to))?)?|holidays(\.\d+(\.(date|name))?)?)$/;
const ROUTING_FIELDS = /^(mode|maxOpenPerAgent|escalateAfterMinutes)$/;

let rowKeys = 0;
const nextKey = () => ++rowKeys;

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

const idFor = (path: string) => `team-settings-${path.replace(/\./g, '-')}`;

function FieldError(props: { errors: FieldErrors; path: string; label?: string }) {
  return <SharedFieldError id={idFor(props.path)} message={props.errors[props.path]} label={props.label} />;
}

/** Attributes that tie an input to its error, when the hub named it (and to its hint, if any). */
const invalid = (errors: FieldErrors, path: string, hint?: string) => describedBy(idFor(path), errors[path], hint);

/** A group of fields: described by its own error (the hub named the row or the list). */
function groupError(errors: FieldErrors, path: string) {
  return errors[path] ? { 'aria-describedby': `${idFor(path)}-error` } : {};
}

export function TeamSettingsDialog(props: { open: boolean; onClose(): void; api: Api; teams: Team[] }) {
  const { api, teams } = props;
  const [teamId, setTeamId] = useState('');
  const team = teamId || teams[0]?.id || '';
  const teamName = teams.find((t) => t.id === team)?.name ?? team;

  const [hoursState, setHoursState] = useState<TeamHoursAnswer | null>(null);
  const [timeZone, setTimeZone] = useState('');
  const [weekly, setWeekly] = useState<SpanRow[]>([]);
  const [holidays, setHolidays] = useState<HolidayRow[]>([]);
  const [routing, setRouting] = useState<RoutingForm>({ mode: 'manual', maxOpenPerAgent: '5', escalateAfterMinutes: '10' });
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [hoursErrors, setHoursErrors] = useState<FieldErrors>({});
  const [routingErrors, setRoutingErrors] = useState<FieldErrors>({});
  const [hoursError, setHoursError] = useState<string | null>(null);
  const [routingError, setRoutingError] = useState<string | null>(null);
  const [savingHours, setSavingHours] = useState(false);
  const [savingRouting, setSavingRouting] = useState(false);
  const [status, setStatus] = useState('');
  const zones = useMemo(timeZones, []);

  const adoptHours = (answer: TeamHoursAnswer) => {
    setHoursState(answer);
    const hours = answer.hours;
    setTimeZone(hours?.timeZone ?? browserTimeZone());
    setWeekly((hours?.weekly ?? []).map((s) => ({ key: nextKey(), day: s.day, from: s.from, to: s.to })));
    setHolidays((hours?.holidays ?? []).map((h) => ({ key: nextKey(), date: h.date, name: h.name ?? '' })));
  };

  // The chosen team's settings, each time the dialog opens or another team is picked.
  useEffect(() => {
    if (!props.open || !team) return;
    let cancelled = false;
    setLoading(true);
    setLoadError(null);
    // Never show another team's (or an earlier, unsaved) values while these load.
    setHoursState(null);
    setTimeZone('');
    setWeekly([]);
    setHolidays([]);
    setRouting({ mode: 'manual', maxOpenPerAgent: '', escalateAfterMinutes: '' });
    setHoursErrors({});
    setRoutingErrors({});
    setHoursError(null);
    setRoutingError(null);
    setStatus('');
    const path = `/api/teams/${encodeURIComponent(team)}`;
    void Promise.allSettled([api.get<TeamHoursAnswer>(`${path}/hours`), api.get<TeamRouting>(`${path}/routing`)]).then(([hours, route]) => {
      if (cancelled) return;
      setLoading(false);
      const problems: string[] = [];
      if (hours.status === 'fulfilled') adoptHours(hours.value);
      else {
        adoptHours({ own: false, hours: null, open: true, nextOpenAt: null });
        setHoursState(null);
        problems.push(`hours: ${describeError(hours.reason)}`);
      }
      if (route.status === 'fulfilled') {
        setRouting({ mode: route.value.mode, maxOpenPerAgent: String(route.value.maxOpenPerAgent), escalateAfterMinutes: String(route.value.escalateAfterMinutes) });
      } else {
        problems.push(`routing: ${describeError(route.reason)}`);
      }
      setLoadError(problems.length ? `Could not load this team’s ${problems.join('; ')}` : null);
    });
    return () => {
      cancelled = true;
    };
  }, [api, props.open, team]);

  /** Shows a refused save: next to the field the hub named when there is one here, else under the form. */
  function refused(error: unknown, fields: RegExp, setFields: (e: FieldErrors) => void, setForm: (m: string | null) => void, what: string) {
    const target = error instanceof ApiError && error.status === 400 && error.field && fields.test(error.field) ? document.getElementById(idFor(error.field)) : null;
    if (target && error instanceof ApiError && error.field) {
      setFields({ [error.field]: bareMessage(error) });
      setForm(null);
      requestAnimationFrame(() => target.focus());
      return;
    }
    setFields({});
    setForm(`${what} not saved: ${describeError(error)}`);
  }

  async function saveHours(event: Event) {
    event.preventDefault();
    setSavingHours(true);
    setHoursErrors({});
    setHoursError(null);
    setStatus('');
    const body: TeamHours = {
      timeZone: timeZone.trim(),
      weekly: weekly.map((s) => ({ day: s.day, from: s.from.trim(), to: s.to.trim() })),
      holidays: holidays.map((h) => ({ date: h.date.trim(), ...(h.name.trim() ? { name: h.name.trim() } : {}) })),
    };
    try {
      const answer = await api.request<TeamHoursAnswer>('PUT', `/api/teams/${encodeURIComponent(team)}/hours`, body);
      adoptHours(answer);
      setStatus(`Hours saved for ${teamName}`);
    } catch (e) {
      refused(e, HOURS_FIELDS, setHoursErrors, setHoursError, 'Hours');
    } finally {
      setSavingHours(false);
    }
  }

  async function saveRouting(event: Event) {
    event.preventDefault();
    setSavingRouting(true);
    setRoutingErrors({});
    setRoutingError(null);
    setStatus('');
    const number = (text: string) => (text.trim() === '' ? null : Number(text));
    try {
      const answer = await api.request<TeamRouting>('PUT', `/api/teams/${encodeURIComponent(team)}/routing`, {
        mode: routing.mode,
        maxOpenPerAgent: number(routing.maxOpenPerAgent),
        escalateAfterMinutes: number(routing.escalateAfterMinutes),
      });
      setRouting({ mode: answer.mode, maxOpenPerAgent: String(answer.maxOpenPerAgent), escalateAfterMinutes: String(answer.escalateAfterMinutes) });
      setStatus(`Routing saved for ${teamName}`);
    } catch (e) {
      refused(e, ROUTING_FIELDS, setRoutingErrors, setRoutingError, 'Routing');
    } finally {
      setSavingRouting(false);
    }
  }

  const editSpan = (key: number, change: Partial<SpanRow>) => setWeekly((rows) => rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const editHoliday = (key: number, change: Partial<HolidayRow>) => setHolidays((rows) => rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const addSpan = () => {
    const last = weekly.at(-1);
    const day = last ? WEEKDAYS[(WEEKDAYS.indexOf(last.day) + 1) % WEEKDAYS.length]! : 'mon';
    const focusId = idFor(`weekly.${weekly.length}.day`);
    setWeekly((rows) => [...rows, { key: nextKey(), day, from: last?.from ?? '09:00', to: last?.to ?? '17:00' }]);
    requestAnimationFrame(() => document.getElementById(focusId)?.focus());
  };
  const addHoliday = () => {
    const focusId = idFor(`holidays.${holidays.length}.date`);
    setHolidays((rows) => [...rows, { key: nextKey(), date: '', name: '' }]);
    requestAnimationFrame(() => document.getElementById(focusId)?.focus());
  };
  // Errors name rows by position: removing a row makes them stale.
  const removeRow = (remove: () => void, focusId: string) => {
    remove();
    setHoursErrors({});
    requestAnimationFrame(() => document.getElementById(focusId)?.focus());
  };

  const hoursNow = hoursState
    ? hoursState.hours === null
      ? 'No business hours set: the team counts as always open.'
      : `${hoursState.own ? '' : 'This team uses the clinic’s default hours; saving gives it its own. '}${
          hoursState.open ? 'Open now.' : `Closed now${hoursState.nextOpenAt ? `; opens ${fullTime(hoursState.nextOpenAt)}` : ''}.`
        }`
    : '';

  return (
    <Modal open={props.open} title="Team settings" onClose={props.onClose} class="modal-wide">
      <div class="team-settings" aria-busy={loading}>
        <div class="team-picker">
          <label for="team-settings-team">Team</label>
          <select id="team-settings-team" value={team} onChange={(e) => setTeamId(e.currentTarget.value)}>
            {teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
          {loading && <span class="hint">Loading…</span>}
        </div>
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}

        <form class="settings-form" aria-labelledby="team-hours-heading" noValidate onSubmit={(e) => void saveHours(e)}>
          <h3 id="team-hours-heading">Business hours</h3>
          {hoursNow && <p class="hint">{hoursNow}</p>}
          <div class="settings-field">
            <label for={idFor('timeZone')}>Time zone</label>
            <input
              id={idFor('timeZone')}
              value={timeZone}
              list="team-settings-zones"
              autoComplete="off"
              spellcheck={false}
              placeholder="America/New_York"
              onInput={(e) => setTimeZone(e.currentTarget.value)}
              {...invalid(hoursErrors, 'timeZone')}
            />
            <datalist id="team-settings-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <FieldError errors={hoursErrors} path="timeZone" />
          </div>

          <fieldset class="settings-rows" id={idFor('weekly')} tabIndex={-1} {...groupError(hoursErrors, 'weekly')}>
            <legend>Weekly hours</legend>
            <p class="hint" id="team-settings-time-hint">
              24-hour times as HH:MM; 24:00 ends a day at midnight. A day can have several rows.
            </p>
            {weekly.length === 0 && <p class="hint">No weekly hours: the team is closed every day.</p>}
            {weekly.map((row, i) => {
              const at = `weekly.${i}`;
              return (
                <fieldset key={row.key} class="settings-row" id={idFor(at)} tabIndex={-1} {...groupError(hoursErrors, at)}>
                  <legend class="sr-only">Hours {i + 1}</legend>
                  <div class="settings-cell">
                    <label for={idFor(`${at}.day`)}>Day</label>
                    <select
                      id={idFor(`${at}.day`)}
                      value={row.day}
                      onChange={(e) => editSpan(row.key, { day: e.currentTarget.value as Weekday })}
                      {...invalid(hoursErrors, `${at}.day`)}
                    >
                      {WEEKDAYS.map((d) => (
                        <option key={d} value={d}>
                          {weekdayLabel(d)}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div class="settings-cell">
                    <label for={idFor(`${at}.from`)}>From</label>
                    <input
                      id={idFor(`${at}.from`)}
                      class="time-input"
                      value={row.from}
                      inputMode="numeric"
                      autoComplete="off"
                      placeholder="09:00"
                      onInput={(e) => editSpan(row.key, { from: e.currentTarget.value })}
                      {...invalid(hoursErrors, `${at}.from`, 'team-settings-time-hint')}
                    />
                  </div>
                  <div class="settings-cell">
                    <label for={idFor(`${at}.to`)}>To</label>
                    <input
                      id={idFor(`${at}.to`)}
                      class="time-input"
                      value={row.to}
                      inputMode="numeric"
                      autoComplete="off"
                      placeholder="17:00"
                      onInput={(e) => editSpan(row.key, { to: e.currentTarget.value })}
                      {...invalid(hoursErrors, `${at}.to`, 'team-settings-time-hint')}
                    />
                  </div>
                  <button
                    type="button"
                    class="ghost row-remove"
                    aria-label={`Remove hours ${i + 1} (${weekdayLabel(row.day)} ${row.from}–${row.to})`}
                    onClick={() => removeRow(() => setWeekly((rows) => rows.filter((r) => r.key !== row.key)), 'team-settings-add-hours')}
                  >
                    Remove
                  </button>
                  <FieldError errors={hoursErrors} path={at} />
                  <FieldError errors={hoursErrors} path={`${at}.day`} label="Day" />
                  <FieldError errors={hoursErrors} path={`${at}.from`} label="From" />
                  <FieldError errors={hoursErrors} path={`${at}.to`} label="To" />
                </fieldset>
              );
            })}
            <FieldError errors={hoursErrors} path="weekly" />
            <button type="button" id="team-settings-add-hours" onClick={addSpan}>
              Add hours
            </button>
          </fieldset>

          <fieldset class="settings-rows" id={idFor('holidays')} tabIndex={-1} {...groupError(hoursErrors, 'holidays')}>
            <legend>Holidays</legend>
            {holidays.length === 0 && <p class="hint">No holidays: the weekly hours apply every week.</p>}
            {holidays.map((row, i) => {
              const at = `holidays.${i}`;
              return (
                <fieldset key={row.key} class="settings-row" id={idFor(at)} tabIndex={-1} {...groupError(hoursErrors, at)}>
                  <legend class="sr-only">Holiday {i + 1}</legend>
                  <div class="settings-cell">
                    <label for={idFor(`${at}.date`)}>Date</label>
                    <input
                      id={idFor(`${at}.date`)}
                      type="date"
                      value={row.date}
                      onInput={(e) => editHoliday(row.key, { date: e.currentTarget.value })}
                      {...invalid(hoursErrors, `${at}.date`)}
                    />
                  </div>
                  <div class="settings-cell settings-cell-grow">
                    <label for={idFor(`${at}.name`)}>Name</label>
                    <input
                      id={idFor(`${at}.name`)}
                      value={row.name}
                      maxLength={100}
                      placeholder="Optional, e.g. New Year’s Day"
                      onInput={(e) => editHoliday(row.key, { name: e.currentTarget.value })}
                      {...invalid(hoursErrors, `${at}.name`)}
                    />
                  </div>
                  <button
                    type="button"
                    class="ghost row-remove"
                    aria-label={`Remove holiday ${i + 1}${row.date ? ` (${row.date})` : ''}`}
                    onClick={() => removeRow(() => setHolidays((rows) => rows.filter((r) => r.key !== row.key)), 'team-settings-add-holiday')}
                  >
                    Remove
                  </button>
                  <FieldError errors={hoursErrors} path={at} />
                  <FieldError errors={hoursErrors} path={`${at}.date`} label="Date" />
                  <FieldError errors={hoursErrors} path={`${at}.name`} label="Name" />
                </fieldset>
              );
            })}
            <FieldError errors={hoursErrors} path="holidays" />
            <button type="button" id="team-settings-add-holiday" onClick={addHoliday}>
              Add holiday
            </button>
          </fieldset>

          <div class="settings-actions">
            <button type="submit" class="primary" disabled={savingHours || loading || !team}>
              {savingHours ? 'Saving…' : 'Save hours'}
            </button>
          </div>
          {hoursError && (
            <p class="error" role="alert">
              {hoursError}
            </p>
          )}
        </form>

        <form class="settings-form" aria-labelledby="team-routing-heading" noValidate onSubmit={(e) => void saveRouting(e)}>
          <h3 id="team-routing-heading">Routing</h3>
          <div class="settings-field">
            <label for={idFor('mode')}>Assignment</label>
            <select id={idFor('mode')} value={routing.mode} onChange={(e) => setRouting({ ...routing, mode: e.currentTarget.value as RoutingMode })} {...invalid(routingErrors, 'mode')}>
              {ROUTING_MODES.map((m) => (
                <option key={m} value={m}>
                  {routingModeLabel(m)}
                </option>
              ))}
            </select>
            <FieldError errors={routingErrors} path="mode" />
          </div>
          <div class="settings-field">
            <label for={idFor('maxOpenPerAgent')}>Max open conversations per agent</label>
            <input
              id={idFor('maxOpenPerAgent')}
              type="number"
              min={1}
              max={100}
              step={1}
              value={routing.maxOpenPerAgent}
              onInput={(e) => setRouting({ ...routing, maxOpenPerAgent: e.currentTarget.value })}
              {...invalid(routingErrors, 'maxOpenPerAgent')}
            />
            <FieldError errors={routingErrors} path="maxOpenPerAgent" />
          </div>
          <div class="settings-field">
            <label for={idFor('escalateAfterMinutes')}>Minutes before escalation</label>
            <input
              id={idFor('escalateAfterMinutes')}
              type="number"
              min={1}
              max={1440}
              step={1}
              value={routing.escalateAfterMinutes}
              onInput={(e) => setRouting({ ...routing, escalateAfterMinutes: e.currentTarget.value })}
              {...invalid(routingErrors, 'escalateAfterMinutes', 'team-settings-escalate-hint')}
            />
            <p class="hint" id="team-settings-escalate-hint">
              Supervisors are alerted when a conversation waits this long for an agent.
            </p>
            <FieldError errors={routingErrors} path="escalateAfterMinutes" />
          </div>
          <div class="settings-actions">
            <button type="submit" class="primary" disabled={savingRouting || loading || !team}>
              {savingRouting ? 'Saving…' : 'Save routing'}
            </button>
          </div>
          {routingError && (
            <p class="error" role="alert">
              {routingError}
            </p>
          )}
        </form>
        <p class="settings-saved" role="status">
          {status}
        </p>
      </div>
    </Modal>
  );
}
