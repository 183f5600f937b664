/**
 * "Add patient" and "Edit patient": name, date of birth, MRN, phone, email,
 * preferred channel, language and time zone. The hub checks everything: a
 * refusal comes back naming its field (400, or 409 CONFLICT for a phone,
 * email or MRN that is another patient's) and is shown next to that field. A
 * patient who may already be registered (409 DUPLICATE_PATIENT) is offered
 * instead — "Open this patient" — and supervisors and admins may register a
 * namesake anyway (same name and date of birth only: a phone, email or MRN is
 * never given to a second patient). A phone or email added here is "given,
 * not verified" until the patient writes from it or an agent verifies it.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { bareMessage, fieldErrorsOf, focusLater, isFieldRefusal } from '../field-errors.tsx';
import { channelLabel, CHANNELS } from '../format.ts';
import { duplicateReasonLabel, duplicatesOf, groupDuplicates, ownIdentities, timeZones, type PatientPrefill } from '../patients.ts';
import type { AgentSummary, ChannelId, DuplicatePatient, PatientFieldsBody, PatientProfile, Team } from '../types.ts';
import { Modal } from './Modal.tsx';

type FieldKey = 'name' | 'dateOfBirth' | 'mrn' | 'phone' | 'email' | 'preferredChannel' | 'language' | 'timezone' | 'teamId';
type Form = Record<FieldKey, string>;
type FieldErrors = Partial<Record<FieldKey, string>>;

const FIELD_IDS: Record<FieldKey, string> = {
  name: 'pf-name',
  dateOfBirth: 'pf-dob',
  mrn: 'pf-mrn',
  phone: 'pf-phone',
  email: 'pf-email',
  preferredChannel: 'pf-channel',
  language: 'pf-language',
  timezone: 'pf-timezone',
  teamId: 'pf-team',
};
const FIELD_ORDER = Object.keys(FIELD_IDS) as FieldKey[];

/** What a duplicate says next to the field it is about. */
const DUPLICATE_FIELD: Record<DuplicatePatient['reason'], { field: FieldKey; message: string }> = {
  phone: { field: 'phone', message: 'Another patient has this phone number' },
  email: { field: 'email', message: 'Another patient has this email address' },
  mrn: { field: 'mrn', message: 'Another patient has this MRN' },
  name_and_date_of_birth: { field: 'name', message: 'Another patient has this name and date of birth' },
};

function formFor(patient: PatientProfile | null | undefined, prefill: PatientPrefill | undefined, teamId: string): Form {
  if (patient) {
    return {
      name: patient.name ?? '',
      dateOfBirth: patient.dateOfBirth ?? '',
      mrn: patient.mrn ?? '',
      phone: '',
      email: '',
      preferredChannel: patient.preferences.channel ?? '',
      language: patient.preferences.language ?? '',
      timezone: patient.preferences.timezone ?? '',
      teamId: '',
    };
  }
  return {
    name: prefill?.name ?? '',
    dateOfBirth: prefill?.dateOfBirth ?? '',
    mrn: prefill?.mrn ?? '',
    phone: prefill?.phone ?? '',
    email: prefill?.email ?? '',
    preferredChannel: '',
    language: '',
    timezone: '',
    teamId,
  };
}

/** What to send: everything given (adding), or only what changed (editing; an emptied field is cleared). */
function bodyOf(form: Form, patient: PatientProfile | null | undefined): PatientFieldsBody {
  const text = (v: string) => v.trim();
  const body: PatientFieldsBody = {};
  if (!patient) {
    body.name = text(form.name);
    if (text(form.dateOfBirth)) body.dateOfBirth = text(form.dateOfBirth);
    if (text(form.mrn)) body.mrn = text(form.mrn);
    if (text(form.phone)) body.phone = text(form.phone);
    if (text(form.email)) body.email = text(form.email);
    if (form.preferredChannel) body.preferredChannel = form.preferredChannel as ChannelId;
    if (text(form.language)) body.language = text(form.language);
    if (text(form.timezone)) body.timezone = text(form.timezone);
    if (form.teamId) body.teamId = form.teamId;
    return body;
  }
  const was = formFor(patient, undefined, '');
  const changed = (key: FieldKey) => text(form[key]) !== text(was[key]);
  const orNull = (v: string) => (text(v) ? text(v) : null);
  if (changed('name')) body.name = text(form.name);
  if (changed('dateOfBirth')) body.dateOfBirth = orNull(form.dateOfBirth);
  if (changed('mrn')) body.mrn = orNull(form.mrn);
  if (text(form.phone)) body.phone = text(form.phone);
  if (text(form.email)) body.email = text(form.email);
  if (changed('preferredChannel')) body.preferredChannel = (form.preferredChannel || null) as ChannelId | null;
  if (changed('language')) body.language = orNull(form.language);
  if (changed('timezone')) body.timezone = orNull(form.timezone);
  return body;
}

export function PatientFormDialog(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  agent: Pick<AgentSummary, 'role' | 'teamIds'>;
  teams: Team[];
  /** Editing this patient (PATCH); absent: adding one. */
  patient?: PatientProfile | null;
  prefill?: PatientPrefill;
  onSaved(patient: PatientProfile, created: boolean): void;
  /** "Open this patient" on a duplicate. */
  onOpenPatient(id: string): void;
  returnFocusTo?(): HTMLElement | null | undefined;
}) {
  const { api, agent, patient } = props;
  const editing = Boolean(patient);
  const teamChoices = agent.role === 'admin' ? props.teams : props.teams.filter((t) => agent.teamIds.includes(t.id));
  const defaultTeam = teamChoices.find((t) => t.id === agent.teamIds[0])?.id ?? teamChoices[0]?.id ?? '';
  const [form, setForm] = useState<Form>(() => formFor(patient, props.prefill, defaultTeam));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [duplicates, setDuplicates] = useState<{ message: string; list: DuplicatePatient[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState('');
  const zones = useMemo(timeZones, []);
  const duplicateHeading = useRef<HTMLParagraphElement>(null);

  // The patient as the hub has them (editing), or what was typed in the search (adding), each time the dialog opens.
  useEffect(() => {
    if (!props.open) return;
    setForm(formFor(patient, props.prefill, defaultTeam));
    setErrors({});
    setFormError(null);
    setDuplicates(null);
    setStatus('');
  }, [props.open]);

  const edit = (key: FieldKey) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setForm((f) => ({ ...f, [key]: value }));
  };

  function refused(error: unknown) {
    const found = duplicatesOf(error);
    if (found) {
      const fieldErrors: FieldErrors = {};
      for (const d of found) {
        const { field, message } = DUPLICATE_FIELD[d.reason] ?? {};
        if (field && !fieldErrors[field]) fieldErrors[field] = message;
      }
      setErrors(fieldErrors);
      setFormError(null);
      setDuplicates({ message: describeError(error), list: found });
      requestAnimationFrame(() => duplicateHeading.current?.focus());
      return;
    }
    setDuplicates(null);
    if (isFieldRefusal(error, FIELD_IDS)) {
      setErrors({ [error.field]: bareMessage(error) });
      setFormError(null);
      focusLater(FIELD_IDS[error.field]);
      return;
    }
    setErrors({});
    setFormError(`Not saved: ${describeError(error)}`);
  }

  async function save(allowDuplicate = false) {
    if (saving) return;
    if (!form.name.trim()) {
      setErrors({ name: 'Enter the patient’s name' });
      setDuplicates(null);
      focusLater(FIELD_IDS.name);
      return;
    }
    const body = bodyOf(form, patient);
    if (patient && Object.keys(body).length === 0) {
      setStatus('Nothing changed');
      return;
    }
    if (allowDuplicate) body.allowDuplicate = true;
    setSaving(true);
    setErrors({});
    setFormError(null);
    setStatus('');
    try {
      const saved = patient
        ? await api.patch<PatientProfile>(`/api/patients/${encodeURIComponent(patient.id)}`, body)
        : await api.post<PatientProfile>('/api/patients', body);
      setDuplicates(null);
      props.onSaved(saved, !patient);
    } catch (e) {
      refused(e);
    } finally {
      setSaving(false);
    }
  }

  const { described, fieldError } = fieldErrorsOf(FIELD_IDS, errors);

  const canOverride = agent.role === 'supervisor' || agent.role === 'admin';
  const groups = duplicates ? groupDuplicates(duplicates.list) : [];
  // A phone, email or MRN of another patient is never shared: only a namesake (same name and date of birth) may be registered anyway.
  const onlyNamesakes = duplicates !== null && duplicates.list.length > 0 && duplicates.list.every((d) => d.reason === 'name_and_date_of_birth');
  const phones = patient ? ownIdentities(patient, 'phone') : [];
  const emails = patient ? ownIdentities(patient, 'email') : [];

  return (
    <Modal
      open={props.open}
      title={editing ? `Edit ${patient?.name ?? 'patient'}` : 'Add patient'}
      onClose={props.onClose}
      class="modal-wide"
      returnFocusTo={props.returnFocusTo}
    >
      <form
        class="patient-form"
        noValidate
        aria-label={editing ? 'Edit patient' : 'Add patient'}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div class="pf-grid">
          <div class="pf-field pf-wide">
            <label for={FIELD_IDS.name}>Name</label>
            <input id={FIELD_IDS.name} value={form.name} onInput={edit('name')} autoComplete="off" maxLength={200} required autoFocus {...described('name')} />
            {fieldError('name')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.dateOfBirth}>Date of birth</label>
            <input
              id={FIELD_IDS.dateOfBirth}
              value={form.dateOfBirth}
              onInput={edit('dateOfBirth')}
              autoComplete="off"
              maxLength={20}
              {...described('dateOfBirth', 'pf-dob-hint')}
            />
            <p id="pf-dob-hint" class="hint">
              YYYY-MM-DD or MM/DD/YYYY
            </p>
            {fieldError('dateOfBirth')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.mrn}>MRN</label>
            <input id={FIELD_IDS.mrn} value={form.mrn} onInput={edit('mrn')} autoComplete="off" maxLength={40} spellcheck={false} {...described('mrn', 'pf-mrn-hint')} />
            <p id="pf-mrn-hint" class="hint">
              Medical record number
            </p>
            {fieldError('mrn')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.phone}>{editing ? 'Add a phone number' : 'Phone'}</label>
            <input id={FIELD_IDS.phone} type="tel" value={form.phone} onInput={edit('phone')} autoComplete="off" maxLength={40} {...described('phone', 'pf-contact-hint')} />
            {phones.length > 0 && (
              <p class="hint">
                On file: {phones.map((i) => i.value).join(', ')}
              </p>
            )}
            {fieldError('phone')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.email}>{editing ? 'Add an email address' : 'Email'}</label>
            <input id={FIELD_IDS.email} type="email" value={form.email} onInput={edit('email')} autoComplete="off" maxLength={320} spellcheck={false} {...described('email', 'pf-contact-hint')} />
            {emails.length > 0 && (
              <p class="hint">
                On file: {emails.map((i) => i.value).join(', ')}
              </p>
            )}
            {fieldError('email')}
          </div>
          <p id="pf-contact-hint" class="hint pf-wide">
            Phone numbers and email addresses entered here are “given, not verified”: the clinic writes first only to an address the
            patient proved (they wrote from it, or an agent verified it with them).
          </p>
          <div class="pf-field">
            <label for={FIELD_IDS.preferredChannel}>Preferred channel</label>
            <select id={FIELD_IDS.preferredChannel} value={form.preferredChannel} onChange={edit('preferredChannel')} {...described('preferredChannel')}>
              <option value="">No preference</option>
              {CHANNELS.map((ch) => (
                <option key={ch} value={ch}>
                  {channelLabel(ch)}
                </option>
              ))}
            </select>
            {fieldError('preferredChannel')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.language}>Language</label>
            <input
              id={FIELD_IDS.language}
              value={form.language}
              onInput={edit('language')}
              autoComplete="off"
              maxLength={35}
              spellcheck={false}
              placeholder="e.g. en, es"
              list="pf-languages"
              {...described('language')}
            />
            <datalist id="pf-languages">
              <option value="en">English</option>
              <option value="es">Spanish</option>
              <option value="it">Italian</option>
              <option value="zh">Chinese</option>
              <option value="vi">Vietnamese</option>
              <option value="fr">French</option>
            </datalist>
            {fieldError('language')}
          </div>
          <div class="pf-field">
            <label for={FIELD_IDS.timezone}>Time zone</label>
            <input
              id={FIELD_IDS.timezone}
              value={form.timezone}
              onInput={edit('timezone')}
              autoComplete="off"
              maxLength={64}
              spellcheck={false}
              placeholder="e.g. America/Los_Angeles"
              list="pf-zones"
              {...described('timezone')}
            />
            <datalist id="pf-zones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            {fieldError('timezone')}
          </div>
          {!editing && teamChoices.length > 1 && (
            <div class="pf-field">
              <label for={FIELD_IDS.teamId}>Team</label>
              <select id={FIELD_IDS.teamId} value={form.teamId} onChange={edit('teamId')} {...described('teamId')}>
                {teamChoices.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
              {fieldError('teamId')}
            </div>
          )}
          {editing && fieldError('teamId')}
        </div>

        {duplicates && (
          <div class="duplicates" role="group" aria-labelledby="pf-duplicates-heading">
            <p id="pf-duplicates-heading" class="duplicates-head" tabIndex={-1} ref={duplicateHeading} role="alert">
              {duplicates.message}
            </p>
            <ul class="duplicates-list">
              {groups.map((g, i) => {
                const who = g.id ? (g.name ?? 'A patient without a name') : 'A patient of another team';
                const why = g.reasons.map(duplicateReasonLabel).join(', ');
                return (
                  <li key={g.id ?? `hidden-${i}`}>
                    <span class="duplicate-who">
                      <strong>{who}</strong> — {why}
                    </span>
                    {g.id && (
                      <button type="button" class="primary" aria-label={`Open this patient: ${who}`} onClick={() => props.onOpenPatient(g.id!)}>
                        Open this patient
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
            {onlyNamesakes && canOverride && (
              <p class="duplicates-override">
                <span class="hint">A different person with the same name and date of birth (twins, namesakes)?</span>
                <button type="button" disabled={saving} onClick={() => void save(true)}>
                  {editing ? 'Save anyway' : 'Create anyway'}
                </button>
              </p>
            )}
            {onlyNamesakes && !canOverride && <p class="hint">If this is a different person, ask a supervisor to register them.</p>}
          </div>
        )}

        {formError && (
          <p class="error" role="alert">
            {formError}
          </p>
        )}
        <div class="modal-actions">
          <span class="hint pf-status" role="status">
            {status}
          </span>
          <button type="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : editing ? 'Save changes' : 'Add patient'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
