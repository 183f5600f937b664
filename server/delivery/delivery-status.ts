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
  extra: StatusExtra = {},
  /**
   * A provider's event id (a status callback): the change is written only if the event was not applied before, and
   * the id is remembered with it (the newest `keep`), in the same write. Null then also when it was seen before.
   */
  event?: { id: string; keep: number },
): Promise<MessageDoc | null> {
  const update = statusUpdate(status, ctx.clock(), extra);
  const updated = await ctx.locks.run(`message:${messageId}`, async () => {
    const written = await ctx.models.Message.findOneAndUpdate(
      { _id: messageId, 'delivery.status': { $in: lowerThan(status) }, ...(event ? { 'delivery.eventIds': { $ne: event.id } } : {}) },
      { $set: update.set, $push: { ...update.push, ...(event ? { 'delivery.eventIds': { $each: [event.id], $slice: -event.keep } } : {}) } },
      { returnDocument: 'after', lean: true },
    );
    if (written && event) await trimEventIds(ctx, written, event.keep);
    return written;
  });
  if (updated) await statusChanged(ctx, updated, status);
  return updated;
}

/**
 * FerretDB 1.24 ignores $push's $slice (measured): the list is trimmed under the same lock, and only while it is as
 * read (MongoDB honours $slice, so this never runs there; on any store it cannot drop an id pushed meanwhile).
 */
export async function trimEventIds(ctx: TimelineContext, message: MessageDoc, keep: number): Promise<void> {
  const ids = message.delivery.eventIds ?? [];
  if (ids.length > keep) await ctx.models.Message.updateOne({ _id: message._id, 'delivery.eventIds': ids }, { $set: { 'delivery.eventIds': ids.slice(-keep) } });
}

/**
 * Takes a message out of the outbox (`set`, under the claim's `where`) and
 * moves its status forward in the same single-document write, so a crash
 * can never leave a message out of the outbox but still "queued": sent, and
 * shown as waiting forever. When the status is not forward (`from`, the
 * status the caller last read, says so already, or a provider's callback
 * came first), only `set` is written. Returns the message (its `attempts`
 * as stored) and whether the status moved, or null when `where` no longer
 * holds. Publishes a change agents can see.
 */
export async function leaveOutbox(
  ctx: TimelineContext,
  message: Pick<MessageDoc, '_id' | 'delivery'>,
  where: Record<string, unknown>,
  set: Record<string, unknown>,
  status: DeliveryStatus,
  extra: StatusExtra = {},
): Promise<{ message: MessageDoc; advanced: boolean } | null> {
  const { Message } = ctx.models;
  const update = statusUpdate(status, ctx.clock(), extra);
  const result = await ctx.locks.run(`message:${message._id}`, async () => {
    if (RANK[message.delivery.status] < RANK[status]) {
      const forward = await Message.findOneAndUpdate(
        { _id: message._id, ...where, 'delivery.status': { $in: lowerThan(status) } },
        { $set: { ...set, ...update.set }, $push: update.push },
        { returnDocument: 'after', lean: true },
      );
      if (forward) return { message: forward, advanced: true };
    }
    const before = await Message.findOneAndUpdate({ _id: message._id, ...where }, { $set: set }, { returnDocument: 'before', lean: true });
    return before ? { message: before, advanced: false } : null;
  });
  if (result?.advanced) await statusChanged(ctx, result.message, status);
  else if (result?.message.delivery.error && set['delivery.error'] === null) {
    // Still "queued" (Twilio queues before sending): agents must see the retry state is over all the same.
    const current = await Message.findById(message._id).lean();
    if (current) await publishMessageUpdate(ctx, current);
  }
  return result;
}

type StatusExtra = { error?: DeliveryError | null; providerMessageId?: string; errorCode?: string };

function statusUpdate(status: DeliveryStatus, at: Date, extra: StatusExtra) {
  return {
    set: {
      'delivery.status': status,
      ...(extra.error !== undefined ? { 'delivery.error': extra.error } : {}),
      ...(extra.providerMessageId ? { providerMessageId: extra.providerMessageId } : {}),
      // A delivery report (or a failure, which falls back at once) ends the wait for one.
      ...(RANK[status] >= RANK.undelivered ? { fallbackDueAt: null } : {}),
    },
    push: { 'delivery.history': { status, at, ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) } },
  };
}

async function statusChanged(ctx: TimelineContext, message: MessageDoc, status: DeliveryStatus): Promise<void> {
  await publishMessageUpdate(ctx, message);
  if (status === 'failed' || status === 'undelivered') ctx.onDeliveryFailed?.(message);
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
