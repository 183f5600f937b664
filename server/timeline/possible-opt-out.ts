/**
 * "Stop texting me" is not a keyword, but CTIA expects reasonable opt-out
 * requests to be honoured: such a message leaves consent as it is and flags
 * the conversation for an agent, who records the opt-out in one step or
 * dismisses the flag. Never silent: the flag and an event are in the thread.
 */
import type { Actor } from '../access/access-policy.ts';
import type { ConversationDoc, MessageDoc } from '../db/documents.ts';
import { AppError } from '../errors.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import { appendMessage } from './append-message.ts';
import { CHANNEL_WORDS } from './consent.ts';
import { recordAddressConsent } from './identity/related-contacts.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';


export async function flagPossibleOptOut(ctx: TimelineContext, conversation: ConversationDoc, message: MessageDoc): Promise<void> {
  if (message.channel === 'internal') return;
  const flag = { messageId: message._id, channel: message.channel, at: ctx.clock() };
  await ctx.locks.run(`conversation:${conversation._id}`, () => ctx.models.Conversation.updateOne({ _id: conversation._id }, { $set: { possibleOptOut: flag } }));
  const current = await ctx.models.Conversation.findById(conversation._id).lean().orFail();
  const appended = await appendMessage(ctx, current, {
    direction: 'system', channel: 'internal', kind: 'event', author: { type: 'system', agentId: null }, deliveryStatus: 'none',
    body: `Possible opt-out: the patient may be asking to stop ${CHANNEL_WORDS[message.channel as ChannelId]}. Consent is unchanged until an agent records the opt-out.`,
  });
  ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), toConversationRecord(appended.conversation, ctx.cipher));
  ctx.logger.info({ conversationId: conversation._id, messageId: message._id, channel: message.channel }, 'possible opt-out flagged');
}

/** An agent's decision on the flag: record the opt-out for the address the request came from, or dismiss it. */
export async function resolvePossibleOptOut(
  ctx: TimelineContext,
  actor: Actor,
  conversation: ConversationDoc,
  decision: 'record' | 'dismiss',
): Promise<ConversationRecord> {
  const flag = conversation.possibleOptOut;
  if (!flag) throw new AppError('CONFLICT', 'This conversation has no possible opt-out to act on');
  if (decision === 'record') {
    const message = await ctx.models.Message.findById(flag.messageId, { senderIdentityId: 1, patientId: 1 }).lean();
    await recordAddressConsent(ctx, message?.patientId ?? conversation.patientId, message?.senderIdentityId, flag.channel, 'opted_out', `agent_recorded_request:${actor.agentId}`);
  }
  // Cleared only if it is still the flag the agent saw: a newer request stays flagged.
  await ctx.locks.run(`conversation:${conversation._id}`, () =>
    ctx.models.Conversation.updateOne({ _id: conversation._id, 'possibleOptOut.messageId': flag.messageId }, { $set: { possibleOptOut: null } }),
  );
  const current = await ctx.models.Conversation.findById(conversation._id).lean().orFail();
  const appended = await appendMessage(ctx, current, {
    direction: 'system', channel: 'internal', kind: 'event', author: { type: 'agent', agentId: actor.agentId }, deliveryStatus: 'none',
    body: decision === 'record' ? `Opt-out from ${CHANNEL_WORDS[flag.channel as ChannelId]} recorded at the patient's request` : 'Possible opt-out reviewed: not an opt-out request',
  });
  const record = toConversationRecord(appended.conversation, ctx.cipher);
  ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), record);
  ctx.events.conversationUpdated(record);
  return record;
}
