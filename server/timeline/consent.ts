/**
 * Consent per channel, kept with time and source (TCPA/CTIA for SMS). A
 * change is one update of the patient, a line in its history and a system
 * event in the patient's latest conversation, so agents see it in the thread.
 */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { ConsentStatus } from '../db/documents.ts';
import { appendMessage } from './append-message.ts';
import { toConversationRecord, toMessageRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';

/** A channel in the words of the timeline's consent events ("opted out of text messages"). */
export const CHANNEL_WORDS: Record<ChannelId, string> = { sms: 'text messages', email: 'email', webchat: 'web chat' };

/** Records a consent change; returns false when the patient was already in that state. */
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
): Promise<boolean> {
  const at = ctx.clock();
  const changed = await ctx.locks.run(`patient:${patientId}`, async () => {
    const patient = await ctx.models.Patient.findById(patientId).lean();
    const current = patient?.consent[channel];
    // Same state is a no-op, except that express consent with its wording upgrades an implied one.
    if (!patient || (current?.status === status && (!wording || current.wording === wording))) return null;
    await ctx.models.Patient.updateOne(
      { _id: patientId },
      {
        $set: { [`consent.${channel}`]: { status, at, source, ...(wording ? { wording } : {}), ...(capturedBy ? { capturedBy } : {}) }, updatedAt: at },
        $push: { consentHistory: { channel, status, at, source, ...(wording ? { wording } : {}), ...(capturedBy ? { capturedBy } : {}) } },
      },
    );
    return patient;
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
