/**
 * Channel fallback, per clinic policy (DELIVERY_FALLBACK, e.g. `sms,email,webchat`;
 * off when empty): a message that failed for good is offered once on the
 * next channel of the policy the patient has consent and a verified identity
 * for, as a new message linked to the failed one, with an event in the
 * timeline that names the chain ("SMS undelivered (…) → sent by Email").
 * A fallback never goes to an unverified, opted-out or bounced identity (the
 * reply rules decide), never to the patient when the failed message was for
 * a guardian or caregiver, and is claimed by one conditional update, so a
 * retried callback or two nodes offer it once.
 */
import { IDENTITY_KIND_OF, type ChannelId } from '../../channels/channel-id.ts';
import type { MessageDoc } from '../db/documents.ts';
import { appendMessage, messageIdFor } from '../timeline/append-message.ts';
import { toConversationRecord, toMessageRecord } from '../timeline/records.ts';
import { unavailability } from '../timeline/reply/choose-reply-channel.ts';
import { loadReachability, queueOutbound, replyFacts } from '../timeline/reply/send-reply.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

const LABEL: Record<string, string> = { sms: 'SMS', email: 'Email', webchat: 'Web chat' };

export class DeliveryFallback {
  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly policy: readonly ChannelId[],
    private readonly startWork: (what: string, work: () => Promise<void>) => void,
  ) {}

  get enabled(): boolean {
    return this.policy.length > 1;
  }

  /** A message just failed for good (the worker's refusal or a provider's undelivered). */
  failed(message: MessageDoc): void {
    if (!this.enabled || message.direction !== 'outbound' || message.channel === 'internal') return;
    this.startWork('delivery fallback', () => this.offer(message._id));
  }

  async offer(messageId: string): Promise<void> {
    const ctx = this.ctx();
    const failed = await ctx.models.Message.findById(messageId).lean();
    if (!failed || (failed.delivery.status !== 'failed' && failed.delivery.status !== 'undelivered') || failed.fallback?.next) return;
    const { patient, identities } = await loadReachability(ctx, failed.patientId);
    // A message for a guardian or caregiver is theirs: it never falls back to the patient.
    if (identities.find((i) => i._id === failed.recipientIdentityId)?.relation) return;
    const conversation = await ctx.models.Conversation.findById(failed.conversationId).lean();
    if (!conversation) return;
    const tried = [...(failed.fallback?.tried ?? []), failed.channel as ChannelId];
    const facts = replyFacts(ctx, patient, identities, conversation);
    const next = this.policy.find((c) => !tried.includes(c) && unavailability(facts, c) === null && identities.some((i) => i.kind === IDENTITY_KIND_OF[c]));
    const why = `${LABEL[failed.channel]} ${failed.delivery.status}${failed.delivery.error ? ` (${failed.delivery.error.message})` : ''}`;
    const nextId = next ? messageIdFor(`fallback:${failed._id}`) : 'none';
    // Claimed once: of two callbacks or two nodes, one offers it.
    const claimed = await ctx.locks.run(`message:${failed._id}`, () =>
      ctx.models.Message.findOneAndUpdate(
        { _id: failed._id, 'fallback.next': null },
        { $set: { 'fallback.next': nextId, 'fallback.tried': tried } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (!claimed) return;
    if (!next) {
      await this.event(conversation._id, `${why}; no other channel of the clinic's fallback policy reaches the patient`);
      return;
    }
    const { message } = await queueOutbound(ctx, conversation, identities, { channel: next, reason: 'fallback' }, {
      body: ctx.cipher.decrypt(failed.bodyEnc), author: failed.author, providerKey: `fallback:${failed._id}`,
      fallback: { of: failed._id, next: null, tried },
    });
    await this.event(conversation._id, `${why} → sent by ${LABEL[next]}`);
    ctx.logger.info({ messageId: failed._id, fallbackMessageId: message.id, from: failed.channel, to: next }, 'delivery fell back to another channel');
  }

  private async event(conversationId: string, body: string): Promise<void> {
    const ctx = this.ctx();
    const conversation = await ctx.models.Conversation.findById(conversationId).lean();
    if (!conversation) return;
    const appended = await appendMessage(ctx, conversation, {
      direction: 'system', channel: 'internal', kind: 'event', body, author: { type: 'system', agentId: null }, deliveryStatus: 'none',
    });
    ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), toConversationRecord(appended.conversation, ctx.cipher));
  }
}
