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
 *
 * On time, too (DELIVERY_FALLBACK_AFTER_MINUTES): an agent's reply or a
 * scheduled message that the provider took by SMS or email but that has no
 * delivery report by its `fallbackDueAt` (set when it left the outbox, cleared
 * by any report) is offered the same way ("SMS not delivered after 30 min →
 * sent by Email"). A sweep finds them (an index range on `fallbackDueAt`);
 * the claim also requires the message to be still unreported, so a report
 * that lands meanwhile wins. Web chat has read receipts, not delivery
 * reports: it never falls back on time. Surveys, contact cards and the hub's
 * automatic texts never do either.
 */
import { IDENTITY_KIND_OF, type ChannelId } from '../../channels/channel-id.ts';
import type { MessageDoc } from '../db/documents.ts';
import { appendMessage, messageIdFor } from '../timeline/append-message.ts';
import { publishMessageUpdate } from './delivery-status.ts';
import { toConversationRecord, toMessageRecord } from '../timeline/records.ts';
import { unavailability } from '../timeline/reply/choose-reply-channel.ts';
import { loadReachability, queueOutbound, replyFacts } from '../timeline/reply/send-reply.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

const LABEL: Record<string, string> = { sms: 'SMS', email: 'Email', webchat: 'Web chat' };

/** Channels whose provider reports delivery: only these can be late. */
const REPORTS_DELIVERY: ReadonlySet<string> = new Set(['sms', 'email']);
/** Still waiting for a report: the provider took it (it left the outbox) and said nothing final yet. */
const UNREPORTED = ['queued', 'sending', 'sent'];
/** Overdue messages one sweep takes in. */
const SWEEP_BATCH = 50;

export interface DeliveryFallbackOptions {
  /** DELIVERY_FALLBACK, in order; fewer than two channels: off. */
  policy: readonly ChannelId[];
  /** DELIVERY_FALLBACK_AFTER_MINUTES in ms; 0: only failures fall back. */
  afterMs: number;
  startWork: (what: string, work: () => Promise<void>) => void;
}

export class DeliveryFallback {
  private readonly policy: readonly ChannelId[];
  private readonly afterMs: number;
  private readonly startWork: DeliveryFallbackOptions['startWork'];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: () => TimelineContext, options: DeliveryFallbackOptions) {
    this.policy = options.policy;
    this.afterMs = options.afterMs;
    this.startWork = options.startWork;
  }

  get enabled(): boolean {
    return this.policy.length > 1;
  }

  /** When `message`, just handed to `channel`'s provider, falls back unless a delivery report comes first (null: never). */
  dueAt(message: MessageDoc, channel: ChannelId): Date | null {
    if (!this.enabled || this.afterMs <= 0 || !REPORTS_DELIVERY.has(channel) || !this.policy.includes(channel)) return null;
    // What a person wrote to the patient: an agent's reply, a scheduled message, or a fallback copy of either.
    const personal = message.kind === 'text' && (message.author.type === 'agent' || /^(scheduled|fallback):/.test(message.providerKey ?? ''));
    return personal ? new Date(this.ctx().clock().getTime() + this.afterMs) : null;
  }

  /** Looks for overdue messages every `intervalMs` (only with a deadline set). */
  start(intervalMs: number): void {
    if (!this.enabled || this.afterMs <= 0) return;
    this.timer = setInterval(() => this.startWork('delivery fallback sweep', () => this.sweep()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Offers every message whose deadline passed without a delivery report. */
  async sweep(): Promise<void> {
    const ctx = this.ctx();
    for (;;) {
      const due = await ctx.models.Message.find({ fallbackDueAt: { $lte: ctx.clock() } }, { _id: 1 }).sort({ fallbackDueAt: 1 }).limit(SWEEP_BATCH).lean();
      // Each offer takes its message off the list (claimed, or no longer waiting), so every page is new.
      for (const { _id } of due) await this.offer(_id, 'overdue');
      if (due.length < SWEEP_BATCH) return;
    }
  }

  /** A message just failed for good (the worker's refusal or a provider's undelivered). */
  failed(message: MessageDoc): void {
    if (!this.enabled || message.direction !== 'outbound' || message.channel === 'internal') return;
    this.startWork('delivery fallback', () => this.offer(message._id));
  }

  async offer(messageId: string, overdue?: 'overdue'): Promise<void> {
    const ctx = this.ctx();
    const now = ctx.clock();
    const failed = await ctx.models.Message.findById(messageId).lean();
    if (!failed) return;
    const late = overdue && UNREPORTED.includes(failed.delivery.status) && failed.outboxDueAt === null && !failed.fallback?.next;
    // An overdue message the sweep found stops waiting whatever comes of it, so the next sweep moves on.
    const stopWaiting = () => ctx.models.Message.updateOne({ _id: failed._id, fallbackDueAt: failed.fallbackDueAt ?? null }, { $set: { fallbackDueAt: null } });
    if (overdue && !late) {
      // A report came first (or it already fell back): nothing is overdue.
      await stopWaiting();
      return;
    }
    if (!late && ((failed.delivery.status !== 'failed' && failed.delivery.status !== 'undelivered') || failed.fallback?.next)) return;
    const { patient, identities } = await loadReachability(ctx, failed.patientId);
    const conversation = await ctx.models.Conversation.findById(failed.conversationId).lean();
    // A message for a guardian or caregiver is theirs: it never falls back to the patient.
    if (!conversation || identities.find((i) => i._id === failed.recipientIdentityId)?.relation) {
      if (late) await stopWaiting();
      return;
    }
    const tried = [...(failed.fallback?.tried ?? []), failed.channel as ChannelId];
    const facts = replyFacts(ctx, patient, identities, conversation);
    const next = this.policy.find((c) => !tried.includes(c) && unavailability(facts, c) === null && identities.some((i) => i.kind === IDENTITY_KIND_OF[c]));
    const why = late
      ? `${LABEL[failed.channel]} not delivered after ${minutes(this.afterMs)}`
      : `${LABEL[failed.channel]} ${failed.delivery.status}${failed.delivery.error ? ` (${failed.delivery.error.message})` : ''}`;
    const nextId = next ? messageIdFor(`fallback:${failed._id}`) : 'none';
    // Claimed once: of two callbacks or two nodes, one offers it.
    // On time, only while still unreported: a delivery report that lands meanwhile wins.
    const stillLate: Record<string, unknown> = late ? { 'delivery.status': { $in: UNREPORTED }, fallbackDueAt: { $lte: now } } : {};
    const claimed = await ctx.locks.run(`message:${failed._id}`, () =>
      ctx.models.Message.findOneAndUpdate(
        { _id: failed._id, 'fallback.next': null, ...stillLate },
        { $set: { 'fallback.next': nextId, 'fallback.tried': tried, fallbackDueAt: null } },
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
    // Agents see the failed message lead to the one sent instead (once that one is theirs to see).
    await publishMessageUpdate(ctx, claimed);
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

/** "30 min", "2 h", "90 s": the deadline as agents read it. */
function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${Math.round(ms / 60_000)} min`;
}
