/**
 * Delivery status only moves forward: a late "sent" callback after
 * "delivered" changes nothing. Every change is kept in the message's history.
 */
import type { DeliveryError, DeliveryStatus, MessageDoc } from '../db/documents.ts';
import { toConversationRecord, toMessageRecord } from '../timeline/records.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

const RANK: Record<DeliveryStatus, number> = {
  none: 0,
  received: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  undelivered: 4,
  failed: 4,
  delivered: 5,
  read: 6,
};

const lowerThan = (status: DeliveryStatus) =>
  (Object.keys(RANK) as DeliveryStatus[]).filter((s) => RANK[s] < RANK[status]);

/**
 * Moves a message to `status` if that is forward; returns the updated message,
 * or null when the change would go backwards (or the message is unknown).
 * Publishes the change to agents.
 */
export async function advanceDeliveryStatus(
  ctx: TimelineContext,
  messageId: string,
  status: DeliveryStatus,
  extra: { error?: DeliveryError | null; providerMessageId?: string; errorCode?: string } = {},
): Promise<MessageDoc | null> {
  const at = ctx.clock();
  const updated = await ctx.locks.run(`message:${messageId}`, () => ctx.models.Message.findOneAndUpdate(
    { _id: messageId, 'delivery.status': { $in: lowerThan(status) } },
    {
      $set: {
        'delivery.status': status,
        ...(extra.error !== undefined ? { 'delivery.error': extra.error } : {}),
        ...(extra.providerMessageId ? { providerMessageId: extra.providerMessageId } : {}),
      },
      $push: { 'delivery.history': { status, at, ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) } },
    },
    { returnDocument: 'after', lean: true },
  ));
  if (updated) await publishMessageUpdate(ctx, updated);
  if (updated && (status === 'failed' || status === 'undelivered')) ctx.onDeliveryFailed?.(updated);
  return updated;
}

export async function publishMessageUpdate(ctx: TimelineContext, message: MessageDoc): Promise<void> {
  const conversation = await ctx.models.Conversation.findById(message.conversationId).lean();
  if (conversation) {
    ctx.events.messageUpdated(toMessageRecord(message, ctx.cipher), toConversationRecord(conversation, ctx.cipher));
  }
}

/**
 * A provider's status callback: finds our message by the provider's id and
 * moves it forward. `known` is false for an id we never sent; `updated` is
 * null when the status was not forward (a late callback).
 */
export async function advanceDeliveryByProviderId(
  ctx: TimelineContext,
  providerMessageId: string,
  status: DeliveryStatus,
  errorCode?: string,
  errorText?: string,
): Promise<{ known: boolean; updated: MessageDoc | null }> {
  const message = await ctx.models.Message.findOne({ providerMessageId }, { _id: 1 }).lean();
  if (!message) return { known: false, updated: null };
  const failed = status === 'failed' || status === 'undelivered';
  const updated = await advanceDeliveryStatus(ctx, message._id, status, {
    ...(errorCode ? { errorCode } : {}),
    ...(failed ? { error: { code: errorCode ? `PROVIDER_${errorCode}` : 'UNDELIVERED', message: errorText ?? 'The carrier did not deliver the message', retryable: false } } : {}),
  });
  return { known: true, updated };
}
