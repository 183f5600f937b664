/**
 * The patient side panel: who the patient is (date of birth, MRN, time zone)
 * with "Edit", "Record consent" and "New conversation"; identities (verified
 * or not), contacts typed into the web chat (unverified), consent per channel
 * with its history, preferred channel and language, past conversations, and
 * "Send our contact card". Beside a conversation, or on its own (a patient
 * opened from "Find a patient", or just added) as the patient's page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { channelLabel, CHANNELS, consentLabel, fullTime, identityKindLabel, shortTime, statusLabel } from '../format.ts';
import { consentSourceLabel } from '../patients.ts';
import type { ChannelId, ConversationRecord, MessageRecord, Page, PatientProfile, Role, StartedConversation } from '../types.ts';
import { ConsentDialog } from './ConsentDialog.tsx';
import { NewConversationDialog } from './NewConversationDialog.tsx';
import { PatientFormDialog } from './PatientFormDialog.tsx';
import { ScheduledMessages } from './ScheduledMessages.tsx';

type IdentityRecord = PatientProfile['identities'][number];

const TRUST_TAG: Record<string, string> = { verified: 'Verified', asserted: 'Given, not verified', threaded: 'Replied in this thread; not verified' };

function FormError(props: { error: string | null }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}

/** A guardian or caregiver with their own consent: replies reach them only when an agent picks them in the reply box. */
function AddRelatedContact(props: { api: Api; patientId: string; onAdded(): void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ relation: 'guardian', name: '', kind: 'phone', value: '', consent: false, reason: '' });
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (e: Event) => {
    const target = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: target.type === 'checkbox' ? target.checked : target.value });
  };
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      await props.api.post(`/api/patients/${encodeURIComponent(props.patientId)}/related-contacts`, form);
      setOpen(false);
      setForm({ relation: 'guardian', name: '', kind: 'phone', value: '', consent: false, reason: '' });
      props.onAdded();
    } catch (e) {
      setError(describeError(e));
    }
  }
  if (!open) {
    return (
      <button type="button" class="ghost" onClick={() => setOpen(true)}>
        Add guardian or caregiver…
      </button>
    );
  }
  return (
    <form class="related-contact" onSubmit={submit} aria-label="Add guardian or caregiver">
      <label>
        Relation
        <select value={form.relation} onChange={set('relation')}>
          <option value="guardian">Guardian</option>
          <option value="caregiver">Caregiver</option>
        </select>
      </label>
      <label>
        Their name
        <input value={form.name} onInput={set('name')} required maxLength={200} />
      </label>
      <label>
        By
        <select value={form.kind} onChange={set('kind')}>
          <option value="phone">Phone (SMS)</option>
          <option value="email">Email</option>
        </select>
      </label>
      <label>
        {form.kind === 'phone' ? 'Phone number' : 'Email address'}
        <input value={form.value} onInput={set('value')} required maxLength={320} />
      </label>
      <label class="check">
        <input type="checkbox" checked={form.consent} onChange={set('consent')} /> They agreed to receive messages there
      </label>
      <label>
        Why? (kept in the audit trail)
        <input value={form.reason} onInput={set('reason')} required minLength={10} maxLength={500} />
      </label>
      <button type="submit">Add contact</button>
      <button type="button" class="ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <FormError error={error} />
    </form>
  );
}

/**
 * One identity with its trust level. Agents verify an identity the patient
 * proved to them, or mark a shared one; supervisors detach one that is not
 * the patient's. Each asks for the reason, which goes to the audit trail.
 */
function IdentityFact(props: { identity: IdentityRecord; api: Api; patientId: string; canReview: boolean; onChanged(): void }) {
  const { identity: i, api } = props;
  const [action, setAction] = useState<'verify' | 'shared' | 'detach' | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const base = `/api/patients/${encodeURIComponent(props.patientId)}/identities/${encodeURIComponent(i.id)}`;
  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      if (action === 'verify') await api.post(`${base}/verify`, { reason });
      else if (action === 'shared') await api.post(`${base}/shared`, { shared: !i.shared, reason });
      else if (action === 'detach') await api.post(`${base}/detach`, { reason });
      setAction(null);
      setReason('');
      props.onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  }
  const words = { verify: 'Verify', shared: i.shared ? 'Not shared' : 'Mark shared', detach: 'Detach' } as const;
  return (
    <li data-testid="identity" data-trust={i.trust}>
      <span class="fact-label">{identityKindLabel(i.kind)}</span>
      <span class="fact-value">{i.value}</span>
      {i.relation ? (
        <>
          <span class="tag">{`${i.relation === 'guardian' ? 'Guardian' : 'Caregiver'}${i.contactName ? `: ${i.contactName}` : ''}`}</span>
          <span class={`tag consent-${i.contactConsent?.status ?? 'unknown'}`}>{consentLabel(i.contactConsent?.status ?? 'unknown')}</span>
        </>
      ) : (
        <span class={`tag ${i.verified ? 'tag-ok' : 'tag-warn'}`}>{TRUST_TAG[i.trust] ?? i.trust}</span>
      )}
      {i.shared && <span class="tag tag-warn">Shared</span>}
      {i.kind !== 'web' && (
        <span class="identity-actions">
          {!i.verified && !i.shared && !i.relation && (
            <button type="button" class="ghost" onClick={() => setAction('verify')} aria-label={`Verify ${i.value}`}>
              Verify…
            </button>
          )}
          <button type="button" class="ghost" onClick={() => setAction('shared')} aria-label={`${words.shared} ${i.value}`}>
            {words.shared}…
          </button>
          {props.canReview && (
            <button type="button" class="ghost" onClick={() => setAction('detach')} aria-label={`Detach ${i.value}`}>
              Detach…
            </button>
          )}
        </span>
      )}
      {action && (
        <form class="identity-reason" onSubmit={submit}>
          <label>
            Why? (kept in the audit trail)
            <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} minLength={10} required />
          </label>
          <button type="submit">{words[action]}</button>
          <button type="button" class="ghost" onClick={() => setAction(null)}>
            Cancel
          </button>
          <FormError error={error} />
        </form>
      )}
    </li>
  );
}

export function PatientPanel(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  patientId: string;
  patient: PatientProfile | null;
  error: string | null;
  onPatient(patient: PatientProfile): void;
  /** The conversation the panel is beside; null on the patient's own page. */
  conversation: ConversationRecord | null;
  /** Beside a conversation (default), or the patient's page in the main pane. */
  mode?: 'panel' | 'page';
  /** A line shown above the details (the page of a patient just added). */
  notice?: string | null;
  /** Bumped when something may have changed the patient (consent keywords, verification). */
  version: number;
  onOpen(id: string): void;
  /** The agent's role: supervisors and admins may detach identities, and save a namesake. */
  role: Role;
  /** Something about the patient changed (an identity verified, detached, consent recorded): reload it. */
  onChanged(): void;
  /** "Open this patient" on a duplicate found while editing. */
  onOpenPatient?(id: string): void;
}) {
  const { api, patientId, patient, error } = props;
  const page = props.mode === 'page';
  const [past, setPast] = useState<ConversationRecord[] | null>(null);
  const [dialog, setDialog] = useState<'edit' | 'consent' | 'write' | null>(null);
  const [status, setStatus] = useState('');
  /** Where focus goes after a dialog: the conversation pane when the dialog opened another conversation. */
  const focusPane = useRef(false);
  const titleId = page ? 'patient-page-title' : 'patient-panel-title';

  useEffect(() => {
    let cancelled = false;
    api
      .get<Page<ConversationRecord>>(`/api/conversations?patient=${encodeURIComponent(patientId)}&status=open,pending,resolved&limit=20`)
      .then((page) => !cancelled && setPast(page.items), () => undefined);
    return () => {
      cancelled = true;
    };
  }, [api, patientId, props.version]);

  const name = patient?.name ?? props.conversation?.patientName ?? 'Patient';
  const started = (result: StartedConversation) => {
    focusPane.current = result.conversation.id !== props.conversation?.id;
    setDialog(null);
    setStatus(result.opened ? 'Conversation opened: the message is queued' : 'Message queued in the patient’s open conversation');
    props.onOpen(result.conversation.id);
    props.onChanged();
  };
  const returnFocusTo = () => {
    const pane = focusPane.current;
    focusPane.current = false;
    return pane ? document.getElementById('conversation-main') : null;
  };

  return (
    <aside
      id={page ? 'patient-page' : 'patient-panel'}
      class={`patient-panel${page ? ' patient-page' : ''}`}
      aria-label="Patient details"
      hidden={!props.open}
    >
      <div class="panel-head">
        <h2 id={titleId} tabIndex={-1}>
          {name}
        </h2>
        <button type="button" class={`ghost${page ? '' : ' panel-close'}`} onClick={props.onClose}>
          {page ? 'Close' : 'Hide details'}
        </button>
      </div>
      {props.notice && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!patient && !error && <p class="hint">Loading the patient…</p>}
      {patient && (
        <>
          <section aria-labelledby={`${titleId}-about`}>
            <h3 id={`${titleId}-about`}>Patient</h3>
            <dl class="about">
              <div>
                <dt>Date of birth</dt>
                <dd>{patient.dateOfBirth ?? '—'}</dd>
              </div>
              <div>
                <dt>MRN</dt>
                <dd>{patient.mrn ?? '—'}</dd>
              </div>
              <div>
                <dt>Time zone</dt>
                <dd>{patient.preferences.timezone ?? '—'}</dd>
              </div>
            </dl>
            <div class="panel-actions">
              <button type="button" onClick={() => setDialog('edit')}>
                Edit
              </button>
              <button type="button" onClick={() => setDialog('consent')}>
                Record consent
              </button>
              <button type="button" class="primary" onClick={() => setDialog('write')}>
                New conversation
              </button>
            </div>
            <p class="hint panel-status" role="status">
              {status}
            </p>
          </section>
          <section aria-labelledby="pp-contacts">
            <h3 id="pp-contacts">Contact details</h3>
            {patient.identities.length === 0 && <p class="hint">None yet.</p>}
            <ul class="facts">
              {patient.identities.map((i) => (
                <IdentityFact key={i.id} identity={i} api={api} patientId={patientId} canReview={props.role !== 'agent'} onChanged={props.onChanged} />
              ))}
            </ul>
            <AddRelatedContact api={api} patientId={patientId} onAdded={props.onChanged} />
            {patient.unverifiedContacts.length > 0 && (
              <>
                <h4>Typed into the web chat (not verified)</h4>
                <ul class="facts">
                  {patient.unverifiedContacts.map((c, index) => (
                    <li key={index}>
                      <span class="fact-label">{identityKindLabel(c.kind)}</span>
                      <span class="fact-value">{c.value}</span>
                      <span class="tag tag-warn">Unverified</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
          <section aria-labelledby="pp-consent">
            <h3 id="pp-consent">Consent</h3>
            <table class="consent">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Status</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {CHANNELS.map((ch) => {
                  const c = (patient.consent as Record<string, { status: string; at: string | null; source: string | null } | undefined>)[ch];
                  return (
                    <tr key={ch}>
                      <th scope="row">{channelLabel(ch)}</th>
                      <td>
                        <span class={`tag consent-${c?.status ?? 'unknown'}`}>{consentLabel(c?.status ?? 'unknown')}</span>
                      </td>
                      <td>
                        {c?.at ? <time dateTime={c.at} title={fullTime(c.at)}>{shortTime(c.at)}</time> : '—'}
                        {c?.source ? <span class="hint"> · {consentSourceLabel(c.source)}</span> : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {patient.consentHistory.length > 0 && (
              <details class="history">
                <summary>Consent history ({patient.consentHistory.length})</summary>
                <ol>
                  {[...patient.consentHistory].reverse().map((h, index) => (
                    <li key={index}>
                      <strong>{channelLabel(h.channel)}</strong>: {consentLabel(h.status)} — {fullTime(h.at)}
                      {h.source ? ` (${consentSourceLabel(h.source)})` : ''}
                    </li>
                  ))}
                </ol>
              </details>
            )}
          </section>
          <Preferences api={api} patient={patient} onSaved={(prefs) => props.onPatient({ ...patient, preferences: prefs })} />
          <ScheduledMessages api={api} patient={patient} idPrefix={page ? 'sm-page' : 'sm'} open={props.open} version={props.version} />
        </>
      )}
      <section aria-labelledby="pp-conversations">
        <h3 id="pp-conversations">Conversations</h3>
        {past === null ? (
          <p class="hint">Loading…</p>
        ) : (
          <ul class="past">
            {past.map((c) => (
              <li key={c.id}>
                {c.id === props.conversation?.id ? (
                  <span class="past-current">
                    This conversation · {statusLabel(c.status)} · {shortTime(c.lastMessageAt)}
                  </span>
                ) : (
                  <button type="button" class="link" onClick={() => props.onOpen(c.id)}>
                    {statusLabel(c.status)} · {shortTime(c.lastMessageAt)}: {c.preview.body ?? 'no messages'}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      {props.conversation && <ContactCard api={api} conversationId={props.conversation.id} />}
      {patient && (
        <>
          <PatientFormDialog
            open={dialog === 'edit'}
            onClose={() => setDialog(null)}
            api={api}
            agent={{ role: props.role, teamIds: [] }}
            teams={[]}
            patient={patient}
            onSaved={(saved) => {
              setDialog(null);
              props.onPatient(saved);
              setStatus('Patient details saved');
              props.onChanged();
            }}
            onOpenPatient={(id) => {
              setDialog(null);
              props.onOpenPatient?.(id);
            }}
          />
          <NewConversationDialog
            open={dialog === 'write'}
            onClose={() => setDialog(null)}
            api={api}
            patient={{ id: patient.id, name: patient.name }}
            onStarted={started}
            onRecordConsent={() => setDialog('consent')}
            returnFocusTo={returnFocusTo}
          />
          <ConsentDialog
            open={dialog === 'consent'}
            onClose={() => setDialog(null)}
            api={api}
            patient={{ id: patient.id, name: patient.name }}
            onRecorded={(consent) => {
              setDialog(null);
              setStatus(`${channelLabel(consent.channel)} consent recorded: ${consentLabel(consent.status).toLowerCase()}`);
              props.onChanged();
            }}
          />
        </>
      )}
    </aside>
  );
}

function Preferences(props: { api: Api; patient: PatientProfile; onSaved(prefs: PatientProfile['preferences']): void }) {
  const { patient } = props;
  const [channel, setChannel] = useState<string>(patient.preferences.channel ?? '');
  const [language, setLanguage] = useState<string>(patient.preferences.language ?? '');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setChannel(patient.preferences.channel ?? '');
    setLanguage(patient.preferences.language ?? '');
  }, [patient.id, patient.preferences.channel, patient.preferences.language]);

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      const prefs = await props.api.patch<PatientProfile['preferences']>(`/api/patients/${encodeURIComponent(patient.id)}/preferences`, {
        channel: channel ? (channel as ChannelId) : null,
        language: language.trim() ? language.trim() : null,
      });
      props.onSaved(prefs);
      setStatus('Preferences saved');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="pp-prefs">
      <h3 id="pp-prefs">Preferences</h3>
      <form class="prefs" onSubmit={save}>
        <label for="pp-channel">Preferred channel</label>
        <select id="pp-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
          <option value="">No preference</option>
          {CHANNELS.map((ch) => (
            <option key={ch} value={ch}>
              {channelLabel(ch)}
            </option>
          ))}
        </select>
        <label for="pp-language">Language</label>
        <input id="pp-language" type="text" value={language} placeholder="e.g. en, es" onInput={(e) => setLanguage(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Save preferences
        </button>
        <span role="status" class="hint">
          {status}
        </span>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

function ContactCard(props: { api: Api; conversationId: string }) {
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function send() {
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      const message = await props.api.post<MessageRecord>(`/api/conversations/${encodeURIComponent(props.conversationId)}/contact-card`, {});
      setStatus(message?.channel ? `Contact card queued for ${channelLabel(message.channel)}` : 'Contact card sent');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="pp-card">
      <h3 id="pp-card">Our contact card</h3>
      <p class="hint">Sends the clinic’s vCard so the patient can save our number and address.</p>
      <button type="button" onClick={send} disabled={busy}>
        Send our contact card
      </button>
      <span role="status" class="hint">
        {' '}
        {status}
      </span>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
