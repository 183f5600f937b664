/**
 * Consent a patient gives to staff (on the phone, on a signed form, in the
 * portal), recorded by an agent into the same ledger as every other consent:
 * source `staff:<method>`, the agent in `capturedBy`, the time, and for an
 * opt-in the exact wording the patient agreed to.
 *
 * An opt-out the patient (or their carrier) sent over SMS is theirs to undo:
 * while the latest SMS consent is such an opt-out (STOP and the other
 * keywords, an opt-out request in words an agent recorded from their text,
 * Twilio 21610, a provider refusing because the number opted out), a staff
 * opt-in for SMS is refused; the patient texts START. A staff opt-in made
 * before a STOP is simply overtaken by it (the latest event wins).
 */
import type { Actor } from '../../access/access-policy.ts';
import type { Consent } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { recordConsent } from '../consent.ts';
import type { TimelineContext } from '../timeline-context.ts';

export type StaffConsentMethod = 'verbal' | 'written' | 'portal' | 'form';

export interface StaffConsentInput {
  channel: 'sms' | 'email';
  status: 'opted_in' | 'opted_out';
  method: StaffConsentMethod;
  wording?: string | undefined;
}

const OPT_OUT_BY_TEXT = /^(sms_keyword:|agent_recorded_request:|provider_refused:|twilio_error_21610$)/;

/** True when the consent is an SMS opt-out only the patient may undo (by texting START). */
export function isPatientSmsOptOut(consent: Consent | undefined): boolean {
  return consent?.status === 'opted_out' && OPT_OUT_BY_TEXT.test(consent.source ?? '');
}

export async function recordStaffConsent(
  ctx: TimelineContext,
  actor: Actor,
  patientId: string,
  input: StaffConsentInput,
): Promise<{ changed: boolean; consent: Consent }> {
  if (input.status === 'opted_in' && !input.wording) {
    throw new AppError('INVALID_INPUT', 'wording: the exact words the patient agreed to are required for an opt-in', { field: 'wording' });
  }
  // Checked on the very state the change is written over (recordConsent's compare-and-set): a STOP
  // recorded meanwhile, on this node or another, is seen by the check and wins.
  const refuseOverPatientStop = (current: Consent | undefined) => {
    if (input.channel === 'sms' && input.status === 'opted_in' && isPatientSmsOptOut(current)) {
      throw new AppError(
        'OPTED_OUT_BY_PATIENT',
        'The patient opted out of text messages by text (or their carrier did): only the patient can opt back in, by texting START to the clinic’s number',
        { field: 'status' },
      );
    }
  };
  return ctx.locks.run(`patient:${patientId}`, async () => {
    const changed = await recordConsent(
      ctx, patientId, input.channel, input.status, `staff:${input.method}`,
      input.status === 'opted_in' ? input.wording : undefined, actor.agentId, refuseOverPatientStop,
    );
    const after = await ctx.models.Patient.findById(patientId, { consent: 1 }).lean().orFail();
    return { changed, consent: after.consent[input.channel] };
  });
}
