/**
 * "Scheduled messages" in the patient panel (issue #22): the patient's
 * reminders, results-ready notices and follow-ups with where each stands
 * (scheduled, sent, confirmed or cancelled by the patient's reply, withdrawn,
 * not sent and why), "Withdraw" on the ones still waiting, and "Schedule a
 * message" from a template or written here, with a live preview of the exact
 * text and its SMS segments.
 *
 * Times are the patient's: the agent types the appointment and the send time
 * as the patient's clock reads them (zoned-time.ts turns them into instants,
 * across DST as the hub does). The send time goes to the hub as that local
 * time, which the hub reads in the same zone; only when the patient has no
 * zone on file do both go as instants, so what the form says is what is sent.
 *
 * The hub is the one that checks: a variable the text needs and nobody gave,
 * a time in the past, a channel without consent come back as a 400 or 409
 * naming the field, shown next to it.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import { bareMessage, fieldErrorsOf, focusLater, isFieldRefusal } from '../field-errors.tsx';
import { channelLabel, plural } from '../format.ts';
import {
  KIND_LABELS, neededVariables, scheduledStatusBadge,
  type GivenVariable, type MessageTemplate, type OutreachChannel, type PreviewRequest, type ScheduledKind, type ScheduledMessage,
  type ScheduleRequest, type TemplateCatalogue, type TemplatePreview,
} from '../outreach.ts';
import type { PatientProfile } from '../types.ts';
import { browserTimeZone, instantOfLocal, knownTimeZone, zonedTime } from '../zoned-time.ts';

/** The preview asks the hub after this pause in typing. */
const PREVIEW_DEBOUNCE_MS = 400;
/** The "write my own" choice in the template picker. */
const OWN = '';

type FieldKey = 'template' | 'body' | 'kind' | 'sendAt' | 'channel' | `variables.${GivenVariable}`;

function fieldIdsFor(p: string): Record<FieldKey, string> {
  return {
    template: `${p}-template`, body: `${p}-body`, kind: `${p}-kind`, sendAt: `${p}-send-at`, channel: `${p}-channel`,
    'variables.appointmentAt': `${p}-appointment`, 'variables.firstName': `${p}-first-name`, 'variables.location': `${p}-location`,
    'variables.provider': `${p}-provider`, 'variables.detail': `${p}-detail`,
  };
}

/** Where the form's times are read: the patient's zone, else the one the hub used for them (the clinic's), else the agent's. */
interface Zone {
  zone: string;
  source: 'patient' | 'clinic' | 'agent';
}

function zoneFor(patient: PatientProfile, items: ScheduledMessage[] | null): Zone {
  const own = knownTimeZone(patient.preferences.timezone);
  if (own) return { zone: own, source: 'patient' };
  // Without a zone of the patient's, the hub reads times in the clinic's, which its records carry.
  const latest = [...(items ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  const clinic = knownTimeZone(latest?.timeZone);
  if (clinic) return { zone: clinic, source: 'clinic' };
  return { zone: browserTimeZone(), source: 'agent' };
}

function zoneWords(z: Zone): string {
  if (z.source === 'patient') return `the patient’s time zone, ${z.zone}`;
  if (z.source === 'clinic') return `the clinic’s time zone, ${z.zone} (the patient has none on file)`;
  return `your time zone, ${z.zone} (the patient has none on file)`;
}

/** "appointment_reminder" → "Appointment reminder". */
function templateTitle(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The texts a template sends as the hub is set up (PHI-free variants when PHI-safe notifications are on). */
function sentTexts(template: MessageTemplate, phiSafe: boolean): string[] {
  return Object.values(phiSafe ? template.phiFreeBodies : template.bodies).filter((t): t is string => Boolean(t));
}

/** The stored text shows "{{link}}" until it goes out: say what it becomes. */
const readableBody = (body: string) => body.split('{{link}}').join('[secure link]');

export function ScheduledMessages(props: {
  api: Api;
  patient: PatientProfile;
  /** Prefix of element ids (the panel and the patient page may both be in the page). */
  idPrefix: string;
  /** The panel is shown: the list is read again each time it opens. */
  open: boolean;
  /** Bumped when something may have changed the patient (a reminder's answer arrived in the thread). */
  version: number;
}) {
  const { api, patient, idPrefix: p } = props;
  const [items, setItems] = useState<ScheduledMessage[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [formOpen, setFormOpen] = useState(false);
  const [reloads, setReloads] = useState(0);
  const headingId = `${p}-heading`;

  useEffect(() => {
    if (!props.open) return;
    let cancelled = false;
    api.scheduledMessages(patient.id).then(
      (list) => {
        if (cancelled) return;
        setItems(list);
        setListError(null);
      },
      (e) => !cancelled && setListError(`The scheduled messages could not be loaded: ${describeError(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [api, patient.id, props.version, props.open, reloads]);

  const reload = () => setReloads((n) => n + 1);
  const zone = zoneFor(patient, items);

  return (
    <section aria-labelledby={headingId} class="scheduled">
      <div class="scheduled-head">
        <h3 id={headingId}>Scheduled messages</h3>
        <button type="button" class="ghost" onClick={reload}>
          Refresh
        </button>
      </div>
      {listError && (
        <p class="error" role="alert">
          {listError}
        </p>
      )}
      {items === null && !listError && <p class="hint">Loading…</p>}
      {items !== null && items.length === 0 && <p class="hint">None scheduled.</p>}
      {items !== null && items.length > 0 && (
        <ul class="scheduled-list" aria-labelledby={headingId}>
          {items.map((m) => (
            <ScheduledItem
              key={m.id}
              api={api}
              message={m}
              onChanged={(changed, words) => {
                setItems((list) => list?.map((x) => (x.id === changed.id ? changed : x)) ?? null);
                setStatus(words);
              }}
              onStale={reload}
            />
          ))}
        </ul>
      )}
      <p class="hint panel-status" role="status">
        {status}
      </p>
      {formOpen ? (
        <ScheduleForm
          api={api}
          patient={patient}
          idPrefix={p}
          zone={zone}
          onCancel={() => setFormOpen(false)}
          onScheduled={(m) => {
            setFormOpen(false);
            setItems((list) => [...(list ?? []).filter((x) => x.id !== m.id), m].sort((a, b) => a.sendAt.localeCompare(b.sendAt)));
            setStatus(`${KIND_LABELS[m.kind]} scheduled for ${zonedTime(m.sendAt, m.timeZone)}`);
            reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setFormOpen(true)}>
          Schedule a message…
        </button>
      )}
    </section>
  );
}

function ScheduledItem(props: { api: Api; message: ScheduledMessage; onChanged(m: ScheduledMessage, words: string): void; onStale(): void }) {
  const { message: m } = props;
  const [busy, setBusy] = useState(false);
  // A refusal stays through the change it explains (scheduled → sent, read again after the 409) and goes with the next one.
  const [error, setError] = useState<{ text: string; seen: string[] } | null>(null);
  useEffect(() => {
    setError((e) => (!e || e.seen.includes(m.status) ? e : e.seen.length >= 2 ? null : { ...e, seen: [...e.seen, m.status] }));
  }, [m.status]);
  const badge = scheduledStatusBadge(m);
  const sendAt = zonedTime(m.sendAt, m.timeZone);
  const when = m.status === 'scheduled' ? `Sends ${sendAt}` : m.sentAt ? `Sent ${zonedTime(m.sentAt, m.timeZone)}` : `Was due ${sendAt}`;
  const answered = m.status === 'confirmed' || m.status === 'cancelled' || m.status === 'reschedule_requested';

  async function withdraw() {
    setBusy(true);
    setError(null);
    try {
      const withdrawn = await props.api.withdrawScheduled(m.patientId, m.id);
      props.onChanged(withdrawn, `${KIND_LABELS[m.kind]} of ${sendAt} withdrawn`);
    } catch (e) {
      setError({ text: `Not withdrawn: ${describeError(e)}`, seen: [m.status] });
      // It went out (or is going) meanwhile: show where it stands now.
      if (e instanceof ApiError && e.status === 409) props.onStale();
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="scheduled-item" data-testid="scheduled-message" data-status={m.status}>
      <div class="scheduled-meta">
        <span class={`tag ${badge.tone}`}>{badge.label}</span>
        <span class="scheduled-kind">
          {KIND_LABELS[m.kind]}
          {m.template ? ` · ${templateTitle(m.template)}` : ''}
        </span>
        <span class="hint">{m.sentOn ? channelLabel(m.sentOn) : m.channel === 'auto' ? 'Auto channel' : channelLabel(m.channel)}</span>
      </div>
      <p class="scheduled-when">
        <time dateTime={m.status === 'scheduled' || !m.sentAt ? m.sendAt : m.sentAt}>{when}</time>
        <span class="hint"> ({m.timeZone})</span>
      </p>
      {m.deferredUntil && (
        <p class="hint">
          {m.status === 'scheduled' ? 'Waits for quiet hours until ' : 'Waited for quiet hours until '}
          <time dateTime={m.deferredUntil}>{zonedTime(m.deferredUntil, m.timeZone)}</time>
        </p>
      )}
      {answered && <p class="hint">Patient answered {zonedTime(m.statusChangedAt, m.timeZone)}</p>}
      <p class="scheduled-body">{readableBody(m.body)}</p>
      {m.status === 'scheduled' && (
        <button type="button" class="ghost" onClick={() => void withdraw()} disabled={busy} aria-label={`Withdraw the ${KIND_LABELS[m.kind].toLowerCase()} of ${sendAt}`}>
          Withdraw
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error.text}
        </p>
      )}
    </li>
  );
}

interface FormState {
  template: string;
  body: string;
  kind: ScheduledKind;
  expectsReply: boolean;
  appointmentAt: string;
  firstName: string;
  location: string;
  provider: string;
  detail: string;
  sendAt: string;
  channel: OutreachChannel;
}

const EMPTY: FormState = {
  template: OWN, body: '', kind: 'reminder', expectsReply: false, appointmentAt: '', firstName: '', location: '', provider: '', detail: '', sendAt: '', channel: 'auto',
};

const VARIABLE_INPUTS: { key: 'location' | 'provider' | 'detail'; label: string; hint: string }[] = [
  { key: 'location', label: 'Location', hint: 'Where, e.g. “Riverside Clinic, Suite 4”' },
  { key: 'provider', label: 'Provider', hint: 'Who the patient sees, e.g. “Dr. Chen”' },
  { key: 'detail', label: 'Detail', hint: 'Anything else the text asks for' },
];

function ScheduleForm(props: { api: Api; patient: PatientProfile; idPrefix: string; zone: Zone; onCancel(): void; onScheduled(m: ScheduledMessage): void }) {
  const { api, patient, zone } = props;
  const ids = useMemo(() => fieldIdsFor(props.idPrefix), [props.idPrefix]);
  const [catalogue, setCatalogue] = useState<TemplateCatalogue | null>(null);
  const [catalogueError, setCatalogueError] = useState<string | null>(null);
  const [form, setForm] = useState<FormState>(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<FieldKey, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [preview, setPreview] = useState<{ key: string; answer: TemplatePreview | null; problem: string | null } | null>(null);

  useEffect(() => {
    let cancelled = false;
    api.templates().then(
      (c) => {
        if (cancelled) return;
        setCatalogue(c);
        // The reminder is what clinics schedule most; else the first template.
        const first = c.items.find((t) => t.name === 'appointment_reminder') ?? c.items[0];
        setForm((f) => ({ ...f, template: first?.name ?? OWN }));
      },
      (e) => !cancelled && setCatalogueError(`The templates could not be loaded: ${describeError(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [api]);

  const phiSafe = catalogue?.phiSafeNotifications ?? false;
  const template = catalogue?.items.find((t) => t.name === form.template) ?? null;
  const own = form.template === OWN;
  const needed = useMemo(() => neededVariables(own ? [form.body] : template ? sentTexts(template, phiSafe) : []), [own, form.body, template, phiSafe]);
  // The name on file fills {{firstName}}; the field is offered when there is none (or the hub asked for it).
  const askFirstName = needed.has('firstName') && (!patient.name?.trim() || Boolean(errors['variables.firstName']));

  /** The request as the hub takes it: only the variables the text uses (the hub refuses others), times resolved in the zone. */
  function variables(): Partial<Record<GivenVariable, string>> {
    const v: Partial<Record<GivenVariable, string>> = {};
    if (needed.has('appointmentAt') && form.appointmentAt) {
      const at = instantOfLocal(form.appointmentAt, zone.zone);
      if (at) v.appointmentAt = at.toISOString();
    }
    if (askFirstName && form.firstName.trim()) v.firstName = form.firstName.trim();
    for (const { key } of VARIABLE_INPUTS) if (needed.has(key) && form[key].trim()) v[key] = form[key].trim();
    return v;
  }
  const what = (): Pick<PreviewRequest, 'template' | 'body' | 'kind'> => (own ? { body: form.body.trim(), kind: form.kind } : { template: form.template });

  // The live preview: the hub renders exactly what it would send (a moment after typing stops).
  const previewRequest: PreviewRequest | null = catalogue && (own ? form.body.trim() !== '' : template !== null) ? { patientId: patient.id, ...what(), variables: variables() } : null;
  const previewKey = previewRequest ? JSON.stringify(previewRequest) : '';
  const latestKey = useRef('');
  latestKey.current = previewKey;
  useEffect(() => {
    if (!previewRequest) return;
    const key = previewKey;
    const timer = setTimeout(() => {
      api.previewTemplate(previewRequest).then(
        (answer) => latestKey.current === key && setPreview({ key, answer, problem: null }),
        (e) => latestKey.current === key && setPreview({ key, answer: null, problem: e instanceof ApiError ? bareMessage(e) : describeError(e) }),
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [previewKey]);
  const current = preview?.key === previewKey ? preview : null;

  const edit = (key: keyof FormState) => (e: Event) => {
    const target = e.currentTarget as HTMLInputElement;
    const value = target.type === 'checkbox' ? target.checked : target.value;
    setForm((f) => ({ ...f, [key]: value }));
    // The error of a field goes once the agent changes it (the next submit asks the hub again).
    const field = (['appointmentAt', 'firstName', 'location', 'provider', 'detail'].includes(key) ? `variables.${key}` : key) as FieldKey;
    if (errors[field]) setErrors((all) => ({ ...all, [field]: undefined }));
  };

  async function submit(event: Event) {
    event.preventDefault();
    if (saving) return;
    setErrors({});
    setFormError(null);
    if (!form.sendAt) {
      setErrors({ sendAt: 'Choose when to send it' });
      focusLater(ids.sendAt);
      return;
    }
    // The patient's own zone goes as the local time (the hub reads it there); another zone as the instant it names here.
    const sendAt = zone.source === 'patient' ? form.sendAt : (instantOfLocal(form.sendAt, zone.zone)?.toISOString() ?? form.sendAt);
    const request: ScheduleRequest = {
      ...what(),
      variables: variables(),
      sendAt,
      channel: form.channel,
      // Replies are read as answers to reminders only; a template says so itself.
      ...(own && form.kind === 'reminder' ? { expectsReply: form.expectsReply } : {}),
    };
    setSaving(true);
    try {
      props.onScheduled(await api.scheduleMessage(patient.id, request));
    } catch (e) {
      // By its field when the form shows it (the first name's field appears with its error).
      if (isFieldRefusal(e, ids) && (document.getElementById(ids[e.field]) || e.field === 'variables.firstName')) {
        setErrors({ [e.field]: bareMessage(e) });
        focusLater(ids[e.field]);
      } else {
        setFormError(`Not scheduled: ${describeError(e)}`);
      }
    } finally {
      setSaving(false);
    }
  }

  const { described, fieldError } = fieldErrorsOf(ids, errors);
  const zoneHint = `${props.idPrefix}-zone-hint`;
  const at = (local: string) => {
    const instant = local ? instantOfLocal(local, zone.zone) : null;
    return instant ? zonedTime(instant, zone.zone) : null;
  };
  const appointmentWhen = at(form.appointmentAt);
  const sendWhen = at(form.sendAt);

  return (
    <form class="schedule-form" noValidate aria-labelledby={`${props.idPrefix}-form-title`} onSubmit={(e) => void submit(e)}>
      <h4 id={`${props.idPrefix}-form-title`}>Schedule a message</h4>
      {catalogueError && (
        <p class="error" role="alert">
          {catalogueError}
        </p>
      )}
      <div class="pf-field">
        <label for={ids.template}>Message</label>
        <select id={ids.template} value={form.template} onChange={edit('template')} disabled={!catalogue} {...described('template', `${ids.template}-hint`)}>
          {catalogue?.items.map((t) => (
            <option key={t.name} value={t.name}>
              {templateTitle(t.name)}
            </option>
          ))}
          {!phiSafe && <option value={OWN}>Write my own</option>}
        </select>
        <p id={`${ids.template}-hint`} class="hint">
          {own
            ? 'Your own text; it may use {{firstName}}, {{date}}, {{time}}, {{location}}, {{provider}}, {{detail}}.'
            : (template?.description ?? 'Loading the templates…')}
          {phiSafe ? ' The clinic sends PHI-free texts: details go behind a secure link.' : ''}
        </p>
        {fieldError('template')}
      </div>
      {own && (
        <>
          <div class="pf-field">
            <label for={ids.kind}>Kind</label>
            <select id={ids.kind} value={form.kind} onChange={edit('kind')} {...described('kind')}>
              {(Object.keys(KIND_LABELS) as ScheduledKind[]).map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </select>
            {fieldError('kind')}
          </div>
          <div class="pf-field">
            <label for={ids.body}>Text</label>
            <textarea id={ids.body} rows={4} maxLength={1600} value={form.body} onInput={edit('body')} {...described('body')} />
            {fieldError('body')}
          </div>
          {form.kind === 'reminder' && (
            <label class="check">
              <input type="checkbox" checked={form.expectsReply} onChange={edit('expectsReply')} /> Read the patient’s reply as confirm, cancel or reschedule
            </label>
          )}
        </>
      )}
      <p id={zoneHint} class="hint">
        Times are in {zoneWords(zone)}.
      </p>
      {needed.has('appointmentAt') && (
        <div class="pf-field">
          <label for={ids['variables.appointmentAt']}>Appointment date and time</label>
          <input
            id={ids['variables.appointmentAt']}
            type="datetime-local"
            value={form.appointmentAt}
            onInput={edit('appointmentAt')}
            {...described('variables.appointmentAt', zoneHint)}
          />
          {appointmentWhen && <p class="hint">{appointmentWhen}</p>}
          {fieldError('variables.appointmentAt')}
        </div>
      )}
      {askFirstName && (
        <div class="pf-field">
          <label for={ids['variables.firstName']}>Patient’s first name</label>
          <input id={ids['variables.firstName']} value={form.firstName} maxLength={200} onInput={edit('firstName')} {...described('variables.firstName')} />
          {fieldError('variables.firstName')}
        </div>
      )}
      {VARIABLE_INPUTS.filter((v) => needed.has(v.key)).map((v) => {
        const id = ids[`variables.${v.key}`];
        return (
          <div class="pf-field" key={v.key}>
            <label for={id}>{v.label}</label>
            <input id={id} value={form[v.key]} maxLength={200} onInput={edit(v.key)} {...described(`variables.${v.key}`, `${id}-hint`)} />
            <p id={`${id}-hint`} class="hint">
              {v.hint}
            </p>
            {fieldError(`variables.${v.key}`)}
          </div>
        );
      })}
      <div class="pf-field">
        <label for={ids.sendAt}>Send at</label>
        <input id={ids.sendAt} type="datetime-local" value={form.sendAt} onInput={edit('sendAt')} {...described('sendAt', zoneHint)} />
        {sendWhen && <p class="hint">{sendWhen}</p>}
        {fieldError('sendAt')}
      </div>
      <div class="pf-field">
        <label for={ids.channel}>Send by</label>
        <select id={ids.channel} value={form.channel} onChange={edit('channel')} {...described('channel', `${ids.channel}-hint`)}>
          <option value="auto">Auto</option>
          <option value="sms">SMS</option>
          <option value="email">Email</option>
        </select>
        <p id={`${ids.channel}-hint`} class="hint">
          Auto: the patient’s preferred channel, else the one they last wrote on; checked again when it goes out.
        </p>
        {fieldError('channel')}
      </div>
      <PreviewBox id={`${props.idPrefix}-preview`} channel={form.channel} preview={current?.answer ?? null} problem={current?.problem ?? null} pending={previewRequest !== null && current === null} />
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      <div class="panel-actions">
        <button type="submit" class="primary" disabled={saving || !catalogue}>
          {saving ? 'Scheduling…' : 'Schedule message'}
        </button>
        <button type="button" class="ghost" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The exact text and its SMS facts; the hub's reason when it cannot render yet (a variable still missing). */
function PreviewBox(props: { id: string; channel: OutreachChannel; preview: TemplatePreview | null; problem: string | null; pending: boolean }) {
  const { preview } = props;
  return (
    <div class="schedule-preview" role="group" aria-labelledby={`${props.id}-title`} data-testid="schedule-preview">
      <h5 id={`${props.id}-title`}>Preview</h5>
      {preview ? (
        <>
          {preview.subject && props.channel !== 'sms' && <p class="hint">Email subject: {preview.subject}</p>}
          <p class="scheduled-body">{preview.body}</p>
          <p class={`hint${preview.sms.tooLong ? ' error' : ''}`}>
            {plural(preview.sms.segments, 'SMS segment')} ({preview.sms.encoding}) · {plural(preview.sms.characters, 'character')}
            {preview.sms.tooLong ? ' — too long for SMS (1,600 max)' : ''}
            {preview.language !== 'en' ? ` · in ${preview.language}` : ''}
            {preview.phiFree ? ' · PHI-free variant' : ''}
          </p>
        </>
      ) : props.problem ? (
        <p class="hint">Not ready: {props.problem}</p>
      ) : (
        <p class="hint">{props.pending ? 'Preparing the preview…' : 'Choose a template or write the text.'}</p>
      )}
    </div>
  );
}
