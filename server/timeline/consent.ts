/**
 * Consent per channel, kept with time and source (TCPA/CTIA for SMS). A
 * change is one update of the patient, a line in its history and a system
 * event in the patient's latest conversation, so agents see it in the thread.
 */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { Consent, ConsentStatus } from '../db/documents.ts';
import { appendMessage } from './append-message.ts';
import { toConversationRecord, toMessageRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';

/** A channel in the words of the timeline's consent events ("opted out of text messages"). */
export const CHANNEL_WORDS: Record<ChannelId, string> = { sms: 'text messages', email: 'email', webchat: 'web chat' };

/** Compare-and-set attempts before giving up (only writers on several nodes at once retry). */
const MAX_CONSENT_ATTEMPTS = 10;

/**
 * Records a consent change; returns false when the patient was already in that state.
 *
 * The change is written only if the channel's consent is still the one it was
 * decided on (status, time, source and wording in the filter): of two changes
 * at once (a STOP and a START, two nodes, a retried webhook), each is decided
 * against the state the other left, never against a state already gone.
 * `check` (when given) sees the state each attempt decides on and may refuse
 * by throwing (staff-consent.ts: an opt-in never overrides the patient's STOP).
 */
export async function recordConsent(
  ctx: TimelineContext,
  patientId: string,
  channel: ChannelId,
  status: Exclude<ConsentStatus, 'unknown'>,
  source: string,
  /** The exact text the patient agreed to, when they ticked a box (kept with the consent). */
  wording?: string,
  /** The agent who recorded consent the patient gave to staff. */
  capturedBy?: string,
  check?: (current: Consent | undefined) => void,
): Promise<boolean> {
  const at = ctx.clock();
  const changed = await ctx.locks.run(`patient:${patientId}`, async () => {
    for (let attempt = 0; attempt < MAX_CONSENT_ATTEMPTS; attempt++) {
      const patient = await ctx.models.Patient.findById(patientId).lean();
      const current = patient?.consent[channel];
      check?.(current);
      // Same state is a no-op, except that express consent with its wording upgrades an implied one.
      if (!patient || (current?.status === status && (!wording || current.wording === wording))) return null;
      const written = await ctx.models.Patient.updateOne(
        { _id: patientId, ...consentAsRead(channel, current) },
        {
          $set: { [`consent.${channel}`]: { status, at, source, ...(wording ? { wording } : {}), ...(capturedBy ? { capturedBy } : {}) }, updatedAt: at },
          $push: { consentHistory: { channel, status, at, source, ...(wording ? { wording } : {}), ...(capturedBy ? { capturedBy } : {}) } },
        },
      );
      if (written.matchedCount === 1) return patient;
    }
    throw new Error(`consent of patient ${patientId} kept changing; not recorded after ${MAX_CONSENT_ATTEMPTS} attempts`);
  });
  if (!changed) return false;
  ctx.logger.info({ patientId, channel, status, source }, 'consent changed');
  await ctx.audit.record({ action: 'patient.update', via: 'system', patientId, details: { consent: `${channel}:${status}`, source } });
  if (changed.latestConversationId) {
    const conversation = await ctx.models.Conversation.findById(changed.latestConversationId).lean();
    if (conversation) {
      const text = status === 'opted_out' ? `Patient opted out of ${CHANNEL_WORDS[channel]} (${source})` : `Patient opted in to ${CHANNEL_WORDS[channel]} (${source})`;
      const appended = await appendMessage(ctx, conversation, {
        direction: 'system', channel: 'internal', kind: 'event', body: text, author: { type: 'system', agentId: null }, deliveryStatus: 'none',
      });
      ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), toConversationRecord(appended.conversation, ctx.cipher));
    }
  }
  return true;
}

/** A filter matching the channel's consent only while it is still `current` (a missing field matches null). */
export function consentAsRead(channel: ChannelId, current: Consent | undefined): Record<string, unknown> {
  const path = `consent.${channel}`;
  return {
    [`${path}.status`]: current?.status ?? null,
    [`${path}.at`]: current?.at ?? null,
    [`${path}.source`]: current?.source ?? null,
    [`${path}.wording`]: current?.wording ?? null,
  };
}
