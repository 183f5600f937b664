/**
 * "Record consent": consent the patient gave to staff (on the phone, on a
 * signed form, in the portal) for SMS or email, into the same ledger as every
 * other consent. An opt-in needs the exact words read to (or signed by) the
 * patient. An SMS opt-out the patient sent by text is theirs to undo: the hub
 * refuses a staff opt-in then (they text START), and says so.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { bareMessage, fieldErrorsOf, focusLater, isFieldRefusal } from '../field-errors.tsx';
import { channelLabel, consentLabel } from '../format.ts';
import { CONSENT_METHODS } from '../patients.ts';
import type { ConsentMethod } from '../types.ts';
import { Modal } from './Modal.tsx';

type FieldKey = 'channel' | 'status' | 'method' | 'wording';
type FieldErrors = Partial<Record<FieldKey, string>>;
const FIELD_IDS: Record<FieldKey, string> = { channel: 'cd-channel', status: 'cd-status', method: 'cd-method', wording: 'cd-wording' };

export interface RecordedConsent {
  channel: 'sms' | 'email';
  status: 'opted_in' | 'opted_out';
  changed: boolean;
}

export function ConsentDialog(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  patient: { id: string; name: string | null };
  onRecorded(consent: RecordedConsent): void;
}) {
  const { api, patient } = props;
  const [channel, setChannel] = useState<'sms' | 'email'>('sms');
  const [status, setStatus] = useState<'opted_in' | 'opted_out'>('opted_in');
  const [method, setMethod] = useState<ConsentMethod>('verbal');
  const [wording, setWording] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState('');

  useEffect(() => {
    if (!props.open) return;
    setChannel('sms');
    setStatus('opted_in');
    setMethod('verbal');
    setWording('');
    setErrors({});
    setFormError(null);
    setNote('');
  }, [props.open]);

  async function save(event: Event) {
    event.preventDefault();
    if (saving) return;
    const optIn = status === 'opted_in';
    if (optIn && wording.trim().length === 0) {
      setErrors({ wording: 'Enter the exact words the patient agreed to' });
      focusLater(FIELD_IDS.wording);
      return;
    }
    setSaving(true);
    setErrors({});
    setFormError(null);
    setNote('');
    try {
      const answer = await api.post<{ channel: 'sms' | 'email'; status: 'opted_in' | 'opted_out'; changed: boolean }>(
        `/api/patients/${encodeURIComponent(patient.id)}/consents`,
        { channel, status, method, ...(optIn ? { wording: wording.trim() } : {}) },
      );
      if (!answer.changed) {
        setNote(`Nothing recorded: ${channelLabel(channel)} is already “${consentLabel(answer.status)}”.`);
        return;
      }
      props.onRecorded({ channel: answer.channel, status: answer.status, changed: answer.changed });
    } catch (e) {
      if (isFieldRefusal(e, FIELD_IDS)) {
        setErrors({ [e.field]: bareMessage(e) });
        focusLater(FIELD_IDS[e.field]);
      } else {
        setFormError(`Not recorded: ${describeError(e)}`);
      }
    } finally {
      setSaving(false);
    }
  }

  const { described, fieldError } = fieldErrorsOf(FIELD_IDS, errors);

  return (
    <Modal open={props.open} title="Record consent" onClose={props.onClose}>
      <form class="patient-form consent-form" noValidate aria-label={`Record consent for ${patient.name ?? 'the patient'}`} onSubmit={(e) => void save(e)}>
        <p class="hint">Consent {patient.name ?? 'the patient'} gave to staff. It is kept with who recorded it and when.</p>
        <div class="pf-field">
          <label for={FIELD_IDS.channel}>Channel</label>
          <select id={FIELD_IDS.channel} value={channel} onChange={(e) => setChannel(e.currentTarget.value as 'sms' | 'email')} {...described('channel')}>
            <option value="sms">SMS (text messages)</option>
            <option value="email">Email</option>
          </select>
          {fieldError('channel')}
        </div>
        <fieldset class="pf-choices" id={FIELD_IDS.status} tabIndex={-1} {...(errors.status ? { 'aria-describedby': `${FIELD_IDS.status}-error` } : {})}>
          <legend>The patient</legend>
          <label class="check">
            <input type="radio" name="cd-status" value="opted_in" checked={status === 'opted_in'} onChange={() => setStatus('opted_in')} /> Agreed to receive
            messages (opt in)
          </label>
          <label class="check">
            <input type="radio" name="cd-status" value="opted_out" checked={status === 'opted_out'} onChange={() => setStatus('opted_out')} /> Asked not to
            receive messages (opt out)
          </label>
          {fieldError('status')}
        </fieldset>
        <div class="pf-field">
          <label for={FIELD_IDS.method}>How</label>
          <select id={FIELD_IDS.method} value={method} onChange={(e) => setMethod(e.currentTarget.value as ConsentMethod)} {...described('method')}>
            {CONSENT_METHODS.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
          {fieldError('method')}
        </div>
        {status === 'opted_in' && (
          <div class="pf-field">
            <label for={FIELD_IDS.wording}>Wording the patient agreed to</label>
            <textarea
              id={FIELD_IDS.wording}
              rows={3}
              maxLength={2000}
              required
              value={wording}
              onInput={(e) => setWording(e.currentTarget.value)}
              {...described('wording', 'cd-wording-hint')}
            />
            <p id="cd-wording-hint" class="hint">
              The exact words read to the patient or on the form they signed, e.g. “I agree to receive appointment texts from the clinic. Reply STOP to
              opt out.”
            </p>
            {fieldError('wording')}
          </div>
        )}
        {formError && (
          <p class="error" role="alert">
            {formError}
          </p>
        )}
        <div class="modal-actions">
          <span class="hint pf-status" role="status">
            {note}
          </span>
          <button type="button" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Recording…' : 'Record consent'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
