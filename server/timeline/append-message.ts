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
import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../db/models.ts';
import type { AttachmentDoc, ConversationDoc, DeliveryStatus, Direction, MessageDoc } from '../db/documents.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { TimelineContext } from './timeline-context.ts';

export interface NewMessage {
  direction: Direction;
  channel: ChannelId | 'internal';
  kind?: MessageDoc['kind'];
  body: string;
  attachments?: { name: string; contentType: string; size: number; ref: string }[];
  author: MessageDoc['author'];
  providerKey?: string;
  providerMessageId?: string | null;
  clientId?: string | null;
  channelReason?: string | null;
  recipientIdentityId?: string | null;
  deliveryStatus: DeliveryStatus;
  /** Queue for the delivery worker now. */
  queueForDelivery?: boolean;
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
  const id = new Types.ObjectId().toHexString();
  const providerKey = input.providerKey ?? `hub:${id}`;
  const attachments: AttachmentDoc[] = (input.attachments ?? []).map((a) => ({
    nameEnc: cipher.encrypt(a.name),
    contentType: a.contentType,
    size: a.size,
    ref: a.ref,
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
      delivery: { status: input.deliveryStatus, history: [{ status: input.deliveryStatus, at: now }], error: null },
      outboxDueAt: input.queueForDelivery ? now : null,
      attempts: 0,
      createdAt: now,
    };
    try {
      await models.Message.collection.insertOne(doc as never);
      const updated = await ctx.locks.run(`conversation:${conversation._id}`, () => recordOnConversation(ctx, conversation, doc));
      return { message: doc, conversation: updated, duplicate: false };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      if (input.providerKey) {
        const existing = await models.Message.findOne({ providerKey }).lean();
        if (existing) {
          const current = await models.Conversation.findById(existing.conversationId).lean().orFail();
          return { message: existing, conversation: current, duplicate: true };
        }
      }
      // Someone else took this seq; it exists, so the next one is safe to try.
    }
  }
  throw new Error(`could not append to conversation ${conversation._id} after ${MAX_SEQ_ATTEMPTS} attempts`);
}

/** Moves the conversation's counters, preview and KPI timestamps for a newly stored message. */
async function recordOnConversation(ctx: TimelineContext, conversation: ConversationDoc, message: MessageDoc): Promise<ConversationDoc> {
  const { models, cipher } = ctx;
  const inbound = message.direction === 'inbound';
  const visibleToPatient = inbound || message.direction === 'outbound';
  const body = cipher.decrypt(message.bodyEnc);
  const inc = { messageCount: 1, ...(inbound ? { unreadCount: 1 } : {}) };
  const addToSet = message.channel !== 'internal' ? { $addToSet: { channels: message.channel } } : {};
  const latestFields = {
    lastSeq: message.seq,
    lastMessageAt: message.createdAt,
    updatedAt: message.createdAt,
    ...(visibleToPatient
      ? { previewEnc: cipher.encrypt(body.slice(0, PREVIEW_LENGTH)), previewDirection: message.direction }
      : {}),
    ...(inbound ? { lastInboundChannel: message.channel, lastInboundAt: message.createdAt } : {}),
  };
  let updated = await models.Conversation.findOneAndUpdate(
    { _id: conversation._id, lastSeq: { $lt: message.seq } },
    { $set: latestFields, $inc: inc, ...addToSet },
    { returnDocument: 'after', lean: true },
  );
  // A later seq was recorded first: only the counters move.
  updated ??= await models.Conversation.findOneAndUpdate({ _id: conversation._id }, { $inc: inc, ...addToSet }, { returnDocument: 'after', lean: true }).orFail();

  if (message.direction === 'outbound' && message.author.type === 'agent' && !updated.firstResponseAt) {
    await models.Conversation.updateOne({ _id: updated._id, firstResponseAt: null }, { $set: { firstResponseAt: message.createdAt } });
    updated.firstResponseAt = message.createdAt;
  }
  if (inbound && updated.status === 'pending') {
    await models.Conversation.updateOne({ _id: updated._id, status: 'pending' }, { $set: { status: 'open' } });
    updated.status = 'open';
  }
  return updated;
}
