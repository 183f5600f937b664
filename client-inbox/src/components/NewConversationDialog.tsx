/**
 * "New conversation": the clinic writes to a patient first — by SMS, by
 * email, or auto (the hub picks the channel). The patient's open
 * conversation is continued, or one is opened and assigned to the agent; the
 * message is queued like any reply. The hub decides whether it may go: no
 * consent, no address, or an address staff typed in but the patient never
 * proved come back as a 409 whose reason is shown next to the channel.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import { fieldErrorsOf, focusLater, isFieldRefusal } from '../field-errors.tsx';
import { channelLabel, consentLabel, plural } from '../format.ts';
import { ownIdentities, readableReason } from '../patients.ts';
import { countSms } from '../sms-count.ts';
import type { PatientProfile, StartedConversation } from '../types.ts';
import { Modal } from './Modal.tsx';

type Channel = 'auto' | 'sms' | 'email';
type FieldKey = 'channel' | 'subject' | 'body';
type FieldErrors = Partial<Record<FieldKey, string>>;
const FIELD_IDS: Record<FieldKey, string> = { channel: 'nc-channel', subject: 'nc-subject', body: 'nc-body' };

const TRUST_WORDS: Record<string, string> = { verified: 'verified', asserted: 'given, not verified', threaded: 'not verified' };

/** What the patient panel knows about a channel, as a hint beside it (the hub still decides). */
function channelFacts(patient: PatientProfile | null, channel: 'sms' | 'email'): string | null {
  if (!patient) return null;
  const kind = channel === 'sms' ? 'phone' : 'email';
  const own = ownIdentities(patient, kind);
  const consent = (patient.consent as Record<string, { status: string } | undefined>)[channel]?.status ?? 'unknown';
  const address = own.length === 0 ? (channel === 'sms' ? 'no phone number' : 'no email address') : own.map((i) => `${i.value} (${i.shared ? 'shared' : (TRUST_WORDS[i.trust] ?? i.trust)})`).join(', ');
  return `${address} · consent: ${consentLabel(consent).toLowerCase()}`;
}

export function NewConversationDialog(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  patient: { id: string; name: string | null };
  onStarted(result: StartedConversation): void;
  /** Offered when the hub says the patient has not consented. */
  onRecordConsent?(): void;
  /** Offered when the hub says the address is not verified (where an agent verifies it). */
  onShowPatient?(): void;
  returnFocusTo?(): HTMLElement | null | undefined;
}) {
  const { api, patient } = props;
  const [channel, setChannel] = useState<Channel>('auto');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [profile, setProfile] = useState<PatientProfile | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [refusal, setRefusal] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    if (!props.open) return;
    setChannel('auto');
    setSubject('');
    setBody('');
    setErrors({});
    setRefusal(null);
    setFormError(null);
    setProfile(null);
    let cancelled = false;
    api.get<PatientProfile>(`/api/patients/${encodeURIComponent(patient.id)}`).then(
      (p) => !cancelled && setProfile(p),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [props.open, patient.id]);

  const count = useMemo(() => countSms(body), [body]);
  async function send(event: Event) {
    event.preventDefault();
    if (sending) return;
    if (!body.trim()) {
      setErrors({ body: 'Write the message first' });
      focusLater(FIELD_IDS.body);
      return;
    }
    setSending(true);
    setErrors({});
    setRefusal(null);
    setFormError(null);
    try {
      const result = await api.post<StartedConversation>(`/api/patients/${encodeURIComponent(patient.id)}/conversations`, {
        channel,
        body: body.trim(),
        ...(channel === 'email' && subject.trim() ? { subject: subject.trim() } : {}),
      });
      props.onStarted(result);
    } catch (e) {
      if (isFieldRefusal(e, FIELD_IDS)) {
        setErrors({ [e.field]: readableReason(e) });
        setRefusal(e.code);
        focusLater(FIELD_IDS[e.field]);
      } else {
        setFormError(`Not sent: ${e instanceof ApiError ? readableReason(e) : describeError(e)}`);
      }
    } finally {
      setSending(false);
    }
  }

  const { described, fieldError } = fieldErrorsOf(FIELD_IDS, errors);

  const choices: { id: Channel; label: string; facts: string | null }[] = [
    { id: 'auto', label: 'Auto', facts: 'the hub picks a channel that reaches the patient' },
    { id: 'sms', label: channelLabel('sms'), facts: channelFacts(profile, 'sms') },
    { id: 'email', label: channelLabel('email'), facts: channelFacts(profile, 'email') },
  ];

  return (
    <Modal open={props.open} title={`New conversation with ${patient.name ?? 'the patient'}`} onClose={props.onClose} class="modal-wide" returnFocusTo={props.returnFocusTo}>
      <form class="patient-form new-conversation" noValidate aria-label="New conversation" onSubmit={(e) => void send(e)}>
        <fieldset class="pf-choices" id={FIELD_IDS.channel} tabIndex={-1} {...(errors.channel ? { 'aria-describedby': `${FIELD_IDS.channel}-error` } : {})}>
          <legend>Send by</legend>
          {choices.map((c) => (
            <label key={c.id} class="check">
              <input type="radio" name="nc-channel" value={c.id} checked={channel === c.id} onChange={() => setChannel(c.id)} />
              <span>
                {c.label}
                {c.facts && <span class="hint"> — {c.facts}</span>}
              </span>
            </label>
          ))}
          {fieldError('channel')}
          {errors.channel && (
            <p class="refusal-actions">
              {refusal === 'CONSENT_MISSING' && props.onRecordConsent && (
                <button type="button" onClick={props.onRecordConsent}>
                  Record consent…
                </button>
              )}
              {refusal === 'IDENTITY_NOT_VERIFIED' && props.onShowPatient && (
                <button type="button" onClick={props.onShowPatient}>
                  Show patient details
                </button>
              )}
            </p>
          )}
        </fieldset>
        {channel === 'email' && (
          <div class="pf-field">
            <label for={FIELD_IDS.subject}>Subject</label>
            <input id={FIELD_IDS.subject} value={subject} maxLength={200} onInput={(e) => setSubject(e.currentTarget.value)} {...described('subject')} />
            {fieldError('subject')}
          </div>
        )}
        <div class="pf-field">
          <label for={FIELD_IDS.body}>Message</label>
          <textarea
            id={FIELD_IDS.body}
            rows={5}
            maxLength={10_000}
            value={body}
            onInput={(e) => setBody(e.currentTarget.value)}
            {...described('body', channel === 'sms' ? 'nc-sms-count' : undefined)}
          />
          {channel === 'sms' && (
            <p id="nc-sms-count" class={`counter${count.tooLong ? ' is-over' : ''}`}>
              {plural(count.characters, 'character')} · {plural(count.segments, 'text')}
            </p>
          )}
          {fieldError('body')}
        </div>
        {formError && (
          <p class="error" role="alert">
            {formError}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={sending}>
            {sending ? 'Sending…' : 'Send'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
