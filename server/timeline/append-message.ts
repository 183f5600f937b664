/**
 * Appends one message to a conversation's timeline with the next seq.
 *
 * Seq is claimed by inserting `seqKey = <conversationId>:<seq>` under a unique
 * index, starting from the conversation's last known seq and stepping up on a
 * duplicate. A seq k+1 is only tried once k is known to exist, so seqs have no
 * gaps and become visible in order: a reader asking for "after seq N" never
 * skips one. `providerKey` is unique too, so a provider's retry of the same
 * message returns the stored one instead of a second copy.
 */
import { createHash } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { isDuplicateKeyError } from '../db/models.ts';
import type { AttachmentDoc, ConversationDoc, DeliveryStatus, Direction, MessageDoc } from '../db/documents.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { TimelineContext } from './timeline-context.ts';

export interface NewMessage {
  direction: Direction;
  channel: ChannelId | 'internal';
  kind?: MessageDoc['kind'];
  body: string;
  attachments?: { name: string; contentType: string; size: number; ref: string; contentId?: string }[];
  author: MessageDoc['author'];
  providerKey?: string;
  providerMessageId?: string | null;
  clientId?: string | null;
  channelReason?: string | null;
  recipientIdentityId?: string | null;
  senderIdentityId?: string | null;
  senderTrust?: MessageDoc['senderTrust'];
  senderUnauthenticated?: string | null;
  emailMessageId?: string | null;
  /** Inbound: the whole message as received (before reply stripping), kept sealed for "show original". */
  original?: { text?: string; html?: string } | null;
  /** Inbound: what the channel could not do exactly (e.g. an unknown charset), shown to agents. */
  receptionNote?: string | null;
  deliveryStatus: DeliveryStatus;
  /** Queue for the delivery worker now. */
  queueForDelivery?: boolean;
  /** Channel fallback: the failed message this one stands in for, stored with it (never a moment without the link). */
  fallback?: MessageDoc['fallback'];
  /** Outbound SMS: the patient's sticky number as known when queued (the worker then needs no read). */
  fromNumber?: string | null;
}

export interface AppendResult {
  message: MessageDoc;
  conversation: ConversationDoc;
  duplicate: boolean;
}

const PREVIEW_LENGTH = 140;
const MAX_SEQ_ATTEMPTS = 200;

export async function appendMessage(ctx: TimelineContext, conversation: ConversationDoc, input: NewMessage): Promise<AppendResult> {
  const { models, cipher } = ctx;
  const now = ctx.clock();
  const id = messageIdFor(input.providerKey);
  const providerKey = input.providerKey ?? `hub:${id}`;
  const attachments: AttachmentDoc[] = (input.attachments ?? []).map((a) => ({
    nameEnc: cipher.encrypt(a.name),
    contentType: a.contentType,
    size: a.size,
    ref: a.ref,
    ...(a.contentId ? { contentId: a.contentId } : {}),
  }));
  const bodyEnc = cipher.encrypt(input.body);

  let seq = conversation.lastSeq + 1;
  for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++, seq++) {
    const doc: MessageDoc = {
      _id: id,
      conversationId: conversation._id,
      patientId: conversation.patientId,
      seq,
      seqKey: `${conversation._id}:${seq}`,
      providerKey,
      providerMessageId: input.providerMessageId ?? null,
      direction: input.direction,
      channel: input.channel,
      kind: input.kind ?? 'text',
      bodyEnc,
      attachments,
      author: input.author,
      clientId: input.clientId ?? null,
      channelReason: input.channelReason ?? null,
      recipientIdentityId: input.recipientIdentityId ?? null,
      senderIdentityId: input.senderIdentityId ?? null,
      senderTrust: input.senderTrust ?? null,
      senderUnauthenticated: input.senderUnauthenticated ?? null,
      emailMessageId: input.emailMessageId ?? null,
      ...(input.original && (input.original.text || input.original.html) ? { originalEnc: cipher.encrypt(JSON.stringify(input.original)) } : {}),
      ...(input.receptionNote ? { receptionNote: input.receptionNote } : {}),
      ...(input.fallback ? { fallback: input.fallback } : {}),
      ...(input.fromNumber ? { fromNumber: input.fromNumber } : {}),
      delivery: { status: input.deliveryStatus, history: [{ status: input.deliveryStatus, at: now }], error: null },
      outboxDueAt: input.queueForDelivery ? now : null,
      attempts: 0,
      createdAt: now,
    };
    try {
      await models.Message.collection.insertOne(doc as never);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      if (input.providerKey) {
        const existing = await models.Message.findById(id).lean();
        if (existing) return completeInterruptedAppend(ctx, existing);
      }
      // Someone else took this seq; it exists, so the next one is safe to try.
      continue;
    }
    try {
      appending.add(id);
      const updated = await ctx.locks.run(`conversation:${conversation._id}`, () => recordOnConversation(ctx, conversation, doc));
      return { message: doc, conversation: updated, duplicate: false };
    } catch (error) {
      // The conversation is gone (a merge on another node folded it away after this message was stored):
      // the message goes too, unless the merge already moved it, and the caller's retry lands where the thread is now.
      if (error instanceof mongoose.Error.DocumentNotFoundError) await models.Message.deleteOne({ _id: id, conversationId: conversation._id });
      throw error;
    } finally {
      appending.delete(id);
    }
  }
  throw new Error(`could not append to conversation ${conversation._id} after ${MAX_SEQ_ATTEMPTS} attempts`);
}

/** Messages this process has stored and is recording on their conversation right now. */
const appending = new Set<string>();

/**
 * A provider's retry of a message already stored. Usually the first delivery
 * completed and this is a duplicate. But when the database went away between
 * storing the message and recording it on its conversation (the provider got
 * a 503 and retried), the conversation never counted it: its lastSeq is
 * still below the message's seq. Then the retry completes the recording and
 * is treated as new (events, routing), so the message is not silently
 * missing from the inbox. Not while this process is still recording it
 * itself; across nodes a retry landing within the milliseconds of another
 * node's first recording could count it twice (messageCount off by one).
 */
export async function completeInterruptedAppend(ctx: TimelineContext, existing: MessageDoc): Promise<AppendResult> {
  const { models } = ctx;
  const current = await models.Conversation.findById(existing.conversationId).lean().orFail();
  if (current.lastSeq >= existing.seq || appending.has(existing._id)) return { message: existing, conversation: current, duplicate: true };
  const completed = await ctx.locks.run(`conversation:${current._id}`, async () => {
    const latest = await models.Conversation.findById(current._id).lean().orFail();
    return latest.lastSeq >= existing.seq || appending.has(existing._id) ? null : recordOnConversation(ctx, latest, existing);
  });
  if (!completed) return { message: existing, conversation: await models.Conversation.findById(current._id).lean().orFail(), duplicate: true };
  ctx.logger.warn({ messageId: existing._id, conversationId: current._id }, 'a retried message completed a recording an outage cut short');
  return { message: existing, conversation: completed, duplicate: false };
}

/**
 * Moves a stored message to the end of another conversation (a patient merge),
 * keeping its id, provider key, author and time: the seq is claimed the same
 * way as for a new message, by the unique seqKey, here on update. `duplicate`
 * is true when someone else moved it first (it is left where they put it).
 */
export async function relocateMessage(ctx: TimelineContext, message: MessageDoc, target: ConversationDoc): Promise<AppendResult> {
  const { models } = ctx;
  const latest = (await models.Conversation.findById(target._id, { lastSeq: 1 }).lean()) ?? target;
  let seq = latest.lastSeq + 1;
  for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++, seq++) {
    const moved: MessageDoc = { ...message, conversationId: target._id, patientId: target.patientId, seq, seqKey: `${target._id}:${seq}` };
    try {
      // Only from where it was read: of two merges moving it at once (two nodes), one moves it and counts it.
      const written = await models.Message.updateOne(
        { _id: message._id, conversationId: message.conversationId, seq: message.seq },
        { $set: { conversationId: moved.conversationId, patientId: moved.patientId, seq, seqKey: moved.seqKey } },
      );
      if (written.matchedCount !== 1) {
        const current = (await models.Conversation.findById(target._id).lean()) ?? target;
        return { message: (await models.Message.findById(message._id).lean()) ?? moved, conversation: current, duplicate: true };
      }
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      continue;
    }
    const updated = await ctx.locks.run(`conversation:${target._id}`, () => recordOnConversation(ctx, target, moved));
    return { message: moved, conversation: updated, duplicate: false };
  }
  throw new Error(`could not move message ${message._id} into conversation ${target._id} after ${MAX_SEQ_ATTEMPTS} attempts`);
}

/** Compare-and-set attempts on the conversation before giving up (only writers on several nodes at once retry). */
const MAX_RECORD_ATTEMPTS = 50;

/**
 * Moves the conversation's counters, preview and KPI timestamps for a newly
 * stored message, in one update. Counters are atomic operators (`$inc`,
 * `$max` keeps lastSeq and lastMessageAt monotonic, `$addToSet`); what is
 * decided from the conversation as read (is this the latest message, so its
 * preview shows; is it the first response; does it move a pending
 * conversation back to open) is written only while those fields are still
 * as read: the filter holds them, and a writer that lost re-reads and decides
 * again. So the preview is always the highest seq's and a resolve is never
 * undone, with any number of nodes appending at once.
 */
async function recordOnConversation(ctx: TimelineContext, conversation: ConversationDoc, message: MessageDoc): Promise<ConversationDoc> {
  const { models, cipher } = ctx;
  const inbound = message.direction === 'inbound';
  const visibleToPatient = inbound || message.direction === 'outbound';
  const firstResponse = message.direction === 'outbound' && message.author.type === 'agent';
  for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
    // First as the caller read it (usually just now): the filter below holds what the decisions read, so a stale
    // copy only costs a retry, which reads it again. The common case saves a round trip (a scan on the embedded store).
    const current = attempt === 0 ? conversation : ((await models.Conversation.findById(conversation._id).lean()) ?? conversation);
    const isLatest = current.lastSeq < message.seq;
    const set: Partial<ConversationDoc> = { updatedAt: message.createdAt };
    if (isLatest && visibleToPatient) {
      set.previewEnc = cipher.encrypt(cipher.decrypt(message.bodyEnc).slice(0, PREVIEW_LENGTH));
      set.previewDirection = message.direction;
    }
    if (isLatest && inbound) {
      set.lastInboundChannel = message.channel as ConversationDoc['lastInboundChannel'];
      set.lastInboundAt = message.createdAt;
    }
    if (firstResponse && !current.firstResponseAt) set.firstResponseAt = message.createdAt;
    if (inbound && current.status === 'pending') set.status = 'open';
    const updated = await models.Conversation.findOneAndUpdate(
      {
        _id: conversation._id,
        // Only the fields the decisions above read: an unrelated change (an assignment, a read tick) costs no retry.
        ...(visibleToPatient ? { lastSeq: current.lastSeq } : {}),
        ...(firstResponse ? { firstResponseAt: current.firstResponseAt ?? null } : {}),
        ...(inbound ? { status: current.status } : {}),
      },
      {
        $set: set,
        $max: { lastSeq: message.seq, lastMessageAt: message.createdAt },
        $inc: { messageCount: 1, ...(inbound ? { unreadCount: 1 } : {}) },
        ...(message.channel !== 'internal' ? { $addToSet: { channels: message.channel } } : {}),
      },
      { returnDocument: 'after', lean: true },
    );
    if (updated) return updated;
    // Gone altogether (a merge folded it away): nothing to retry against.
    await models.Conversation.findById(conversation._id, { _id: 1 }).lean().orFail();
  }
  throw new Error(`conversation ${conversation._id} kept changing; message ${message._id} not recorded on it after ${MAX_RECORD_ATTEMPTS} attempts`);
}

/**
 * A message's `_id`: derived from its provider key when it has one, so a
 * provider's retry is found (and refused) by `_id`, the lookup every store
 * serves from an index; otherwise a fresh ObjectId.
 */
export function messageIdFor(providerKey: string | undefined): string {
  return providerKey ? `m${createHash('sha256').update(providerKey).digest('hex').slice(0, 24)}` : new Types.ObjectId().toHexString();
}
