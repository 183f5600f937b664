/**
 * Sends queued outbound messages through their channel adapter.
 *
 * The outbox is the `outboxDueAt` field on messages: a worker claims one
 * message at a time with a findOneAndUpdate that pushes its due time a lease
 * ahead, so two hub nodes never send the same message and a node that dies
 * mid-send leaves the message to be retried when the lease runs out.
 */
import type { ChannelAdapter, OutboundEnvelope, SendFailure, SendOutcome } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { DeliveryError, MessageDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { recordAddressConsent } from '../timeline/identity/related-contacts.ts';
import { advanceDeliveryStatus, publishMessageUpdate } from './delivery-status.ts';

/** Decides what a provider receives for a message; the stored message keeps its real body. */
export type OutboundContent = (message: MessageDoc, channel: ChannelId, body: string) => { body: string; subject?: string };

/** Extra, channel-specific envelope fields the hub works out (email threading). */
export type EnvelopeExtras = (message: MessageDoc, channel: ChannelId) => Promise<Partial<OutboundEnvelope>>;

export interface DeliveryWorkerOptions {
  extras?: EnvelopeExtras;
  /** PHI-safe notifications swap the body for a notice with a link; default: the message itself. */
  content?: OutboundContent;
  pollIntervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
}

/** How many due messages one look at the outbox considers (others wait for the next look). */
const CLAIM_CANDIDATES = 10;

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly content: OutboundContent;
  private readonly extras: EnvelopeExtras;

  constructor(
    private readonly ctx: TimelineContext,
    private readonly adapters: Record<ChannelId, ChannelAdapter>,
    options: DeliveryWorkerOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.content = options.content ?? ((_message, _channel, body) => ({ body }));
    this.extras = options.extras ?? (async () => ({}));
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Drains the outbox now (coalesces concurrent kicks). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error) => this.ctx.logger.error({ err: error }, 'delivery worker failed'))
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no drain is running and no message is due now (a retry due later does not count). */
  async idle(): Promise<void> {
    while (!this.stopped) {
      if (this.draining) {
        await this.draining;
        continue;
      }
      const due = await this.ctx.models.Message.exists({ outboxDueAt: { $lte: this.ctx.clock() } });
      if (!due) return;
      this.kick();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const message = await this.claim();
      if (!message) return;
      await this.deliver(message);
    }
  }

  /**
   * Claims the next due message: a conditional update by `_id` (still due?)
   * that pushes its due time a lease ahead, so of two nodes (or two drains)
   * only one wins it; the loser tries the next candidate.
   */
  private async claim(): Promise<MessageDoc | null> {
    const now = this.ctx.clock();
    const due = await this.ctx.models.Message.find({ outboxDueAt: { $lte: now } }, { _id: 1 })
      .sort({ outboxDueAt: 1 })
      .limit(CLAIM_CANDIDATES)
      .lean();
    for (const { _id } of due) {
      const claimed = await this.ctx.models.Message.findOneAndUpdate(
        { _id, outboxDueAt: { $lte: now } },
        { $set: { outboxDueAt: new Date(now.getTime() + this.leaseMs) }, $inc: { attempts: 1 } },
        { returnDocument: 'after', lean: true },
      );
      if (claimed) return claimed;
    }
    return null;
  }

  private async deliver(message: MessageDoc): Promise<void> {
    const { models, cipher, logger } = this.ctx;
    const adapter = this.adapters[message.channel as ChannelId];
    const identity = message.recipientIdentityId ? await models.Identity.findById(message.recipientIdentityId).lean() : null;
    if (!adapter || !identity) {
      await this.fail(message, { code: 'NO_RECIPIENT', message: 'The recipient address is gone', retryable: false });
      return;
    }
    const content = this.content(message, adapter.id, cipher.decrypt(message.bodyEnc));
    const extras = await this.extras(message, adapter.id);
    const outcome = await adapter
      .send({
        ...extras,
        messageId: message._id,
        conversationId: message.conversationId,
        channel: adapter.id,
        to: cipher.decrypt(identity.valueEnc),
        ...content,
      })
      .catch((error: Error): SendOutcome => ({ ok: false, error: { code: 'ADAPTER_ERROR', message: error.message, retryable: true } }));

    if (outcome.ok) {
      await models.Message.updateOne({ _id: message._id }, { $set: { outboxDueAt: null, providerMessageId: outcome.providerMessageId } });
      await advanceDeliveryStatus(this.ctx, message._id, outcome.status, { providerMessageId: outcome.providerMessageId, error: null });
      logger.info({ messageId: message._id, channel: adapter.id, attempts: message.attempts }, 'message handed to provider');
      await outcome.afterRecorded?.();
      return;
    }
    if (outcome.error.recipientOptedOut) {
      await recordAddressConsent(this.ctx, message.patientId, message.recipientIdentityId, adapter.id, 'opted_out', `provider_refused:${outcome.error.providerCode ?? outcome.error.code}`);
    }
    if (outcome.error.retryable && message.attempts < this.maxAttempts) {
      const backoffMs = Math.min(2 ** message.attempts * 1000, 5 * 60_000);
      const updated = await models.Message.findOneAndUpdate(
        { _id: message._id },
        { $set: { outboxDueAt: new Date(this.ctx.clock().getTime() + backoffMs), 'delivery.error': storedError(outcome.error) } },
        { returnDocument: 'after', lean: true },
      );
      if (updated) await publishMessageUpdate(this.ctx, updated);
      logger.warn({ messageId: message._id, code: outcome.error.code, attempts: message.attempts, backoffMs }, 'delivery will be retried');
      return;
    }
    await this.fail(message, outcome.error);
  }

  private async fail(message: MessageDoc, error: SendFailure): Promise<void> {
    await this.ctx.models.Message.updateOne({ _id: message._id }, { $set: { outboxDueAt: null } });
    await advanceDeliveryStatus(this.ctx, message._id, 'failed', { error: storedError(error), errorCode: error.providerCode ?? error.code });
    this.ctx.logger.warn({ messageId: message._id, code: error.code }, 'delivery failed');
  }
}

/** What a message keeps of a failure: what agents read. */
function storedError(error: SendFailure): DeliveryError {
  return { code: error.code, message: error.message, retryable: error.retryable, ...(error.suggestion ? { suggestion: error.suggestion } : {}) };
}
