/**
 * Sends queued outbound messages through their channel adapter: the outbox.
 *
 * The outbox is the `outboxDueAt` field on messages. A message is stored
 * queued (due now) before any provider is called; a worker claims one with a
 * single-document conditional update (still due? then push its due time a
 * lease ahead and count the attempt), so two hub nodes never hold the same
 * message, and a node that dies mid-send leaves it to be claimed again when
 * the lease runs out.
 *
 * - A lease outlasts a provider call: each adapter's SDK times out after
 *   `sendTimeoutMs` of silence, the worker stops waiting a quarter later at
 *   the latest (a provider trickling bytes), and the lease is at least twice
 *   `sendTimeoutMs` (config refuses less). The worker calls a provider only
 *   with enough lease left for the call and for recording its outcome, and
 *   after a timeout schedules the retry no earlier than the lease's end.
 * - `attempts` is the claim's fencing token: a failure is recorded only while
 *   `attempts` is still this claim's, so a worker that outlived its lease never
 *   overwrites what a later claim did. A success is always recorded (the
 *   message did go out; nobody should send it again).
 * - Transient failures (the adapter says `retryable`) wait an exponential
 *   backoff with full jitter, capped (`backoffMaxMs`), up to `maxAttempts`
 *   provider calls; anything else fails the message at once with its reason.
 *
 * Delivery is at least once, not exactly once: a crash (or a lost answer)
 * between the provider accepting a message and the hub recording it leaves the
 * message claimed but unrecorded, and it is sent again after the lease. README
 * "Delivery: the outbox" documents and measures that window (`npm run bench:crash`).
 */
import { randomInt } from 'node:crypto';
import type { ChannelAdapter, OutboundEnvelope, SendFailure, SendOutcome } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { DeliveryError, MessageDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { recordAddressConsent } from '../timeline/identity/related-contacts.ts';
import { leaveOutbox, publishMessageUpdate } from './delivery-status.ts';

/** Decides what a provider receives for a message; the stored message keeps its real body. */
export type OutboundContent = (message: MessageDoc, channel: ChannelId, body: string) => { body: string; subject?: string };

/** Extra, channel-specific envelope fields the hub works out (email threading). */
export type EnvelopeExtras = (message: MessageDoc, channel: ChannelId) => Promise<Partial<OutboundEnvelope>>;

export interface DeliveryWorkerOptions {
  extras?: EnvelopeExtras;
  /** PHI-safe notifications swap the body for a notice with a link; default: the message itself. */
  content?: OutboundContent;
  pollIntervalMs?: number;
  /** How long a claim holds a message (OUTBOX_LEASE_SECONDS); at least twice `sendTimeoutMs`. */
  leaseMs?: number;
  /** Provider calls per message at most (OUTBOX_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** How long one provider call may take (OUTBOX_SEND_TIMEOUT_SECONDS); the adapters' SDKs use the same. */
  sendTimeoutMs?: number;
  /** The first retry waits up to this (doubling each attempt)… */
  backoffBaseMs?: number;
  /** …and no retry waits longer than this (OUTBOX_BACKOFF_MAX_SECONDS). */
  backoffMaxMs?: number;
  /** A number in [0, 1) for the jitter; tests pin it. */
  random?: () => number;
  /** True while nothing can be sent (the database is unreachable): the worker neither polls nor claims. */
  paused?: () => boolean;
  /**
   * SMS with several clinic numbers (server/delivery/sender-pool.ts): the number a message goes from (the patient's
   * sticky sender), stored on it with the provider's id; and told of each text handed over from a number (its reputation).
   */
  smsSender?: { from(message: MessageDoc): Promise<string | null>; sent(number: string): Promise<void> };
  /** When a message the provider took falls back unless a delivery report comes first (delivery-fallback.ts); null: never. */
  fallbackDueAt?: (message: MessageDoc, channel: ChannelId) => Date | null;
}

export const OUTBOX_DEFAULTS = { leaseMs: 60_000, maxAttempts: 6, sendTimeoutMs: 15_000, backoffBaseMs: 1000, backoffMaxMs: 5 * 60_000 } as const;

/** How many due messages one look at the outbox takes in (each is still claimed on its own). */
const CLAIM_CANDIDATES = 20;

/**
 * Exponential backoff with full jitter (uniform between 0 and the capped
 * exponential), after the `attempt`th provider call failed: spreads the
 * retries of a burst that failed together instead of sending them back in
 * one wave. https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

const uniform = () => randomInt(0, 2 ** 32) / 2 ** 32;

/** What a provider call came to, within the worker's deadline. */
type Attempt = { kind: 'answered'; outcome: SendOutcome } | { kind: 'timed_out'; late: Promise<SendOutcome> };

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly sendTimeoutMs: number;
  /** How long the worker waits for a provider call: the SDK's own timeout first, this as a backstop. */
  private readonly deadlineMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly random: () => number;
  private readonly paused: () => boolean;
  private readonly content: OutboundContent;
  private readonly extras: EnvelopeExtras;
  private readonly smsSender: DeliveryWorkerOptions['smsSender'];
  private readonly fallbackDueAt: NonNullable<DeliveryWorkerOptions['fallbackDueAt']>;
  /** Provider calls the worker stopped waiting for that may still answer (their outcome is recorded if it can be). */
  private readonly lateAnswers = new Set<Promise<void>>();
  /** Messages queued in this process since the last drain: claimed by `_id`, without a look for due ones. */
  private readonly hinted = new Set<string>();
  /** A look for every due message is wanted (a poll, a wake-up, a kick without an id, a full page). */
  private lookNeeded = false;
  /** Kicks set for the retries this worker scheduled, so they go out on time however slowly it polls. */
  private readonly wakeUps = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ctx: TimelineContext,
    private readonly adapters: Record<ChannelId, ChannelAdapter>,
    options: DeliveryWorkerOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? OUTBOX_DEFAULTS.leaseMs;
    this.maxAttempts = options.maxAttempts ?? OUTBOX_DEFAULTS.maxAttempts;
    this.sendTimeoutMs = options.sendTimeoutMs ?? OUTBOX_DEFAULTS.sendTimeoutMs;
    this.backoffBaseMs = options.backoffBaseMs ?? OUTBOX_DEFAULTS.backoffBaseMs;
    this.backoffMaxMs = options.backoffMaxMs ?? OUTBOX_DEFAULTS.backoffMaxMs;
    this.random = options.random ?? uniform;
    this.paused = options.paused ?? (() => false);
    this.deadlineMs = Math.round(this.sendTimeoutMs * 1.25);
    if (this.leaseMs < 2 * this.sendTimeoutMs) {
      throw new Error(`the outbox lease (${this.leaseMs} ms) must be at least twice the provider timeout (${this.sendTimeoutMs} ms)`);
    }
    this.content = options.content ?? ((_message, _channel, body) => ({ body }));
    this.extras = options.extras ?? (async () => ({}));
    this.smsSender = options.smsSender;
    this.fallbackDueAt = options.fallbackDueAt ?? (() => null);
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Works the outbox now (coalesces concurrent kicks). Given the id of a message just queued, the worker claims
   * that one by `_id`; without one (a poll, a wake-up, the database back) it looks for every due message, which is
   * an index seek on MongoDB but a scan of every message on the embedded store, so a reply costs no such look.
   */
  kick(messageId?: string): void {
    if (this.stopped || this.paused()) return;
    if (messageId) this.hinted.add(messageId);
    else this.lookNeeded = true;
    this.run();
  }

  private run(): void {
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
          if (!this.stopped && (this.hinted.size > 0 || this.lookNeeded)) this.run();
        }
      });
  }

  /** Resolves when no drain is running and no message is due now (a retry due later does not count), or while paused. */
  async idle(): Promise<void> {
    while (!this.stopped && !this.paused()) {
      if (this.draining) {
        await this.draining;
        continue;
      }
      if (this.lateAnswers.size) {
        await Promise.all(this.lateAnswers);
        continue;
      }
      const due = await this.ctx.models.Message.exists({ outboxDueAt: { $lte: this.ctx.clock() } });
      if (!due) return;
      this.kick();
    }
  }

  /** Stops claiming; a send already with its provider finishes and is recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const wake of this.wakeUps) clearTimeout(wake);
    this.wakeUps.clear();
    await this.draining;
    await Promise.all(this.lateAnswers);
  }

  private async drain(): Promise<void> {
    while (!this.stopped && !this.paused()) {
      const hinted = [...this.hinted];
      this.hinted.clear();
      for (const _id of hinted) await this.claimAndDeliver(_id);
      if (this.lookNeeded) {
        this.lookNeeded = false;
        const due = await this.ctx.models.Message.find({ outboxDueAt: { $lte: this.ctx.clock() } }, { _id: 1 })
          .sort({ outboxDueAt: 1 })
          .limit(CLAIM_CANDIDATES)
          .lean();
        for (const { _id } of due) await this.claimAndDeliver(_id);
        // A full page: more may be due behind it. (Fewer: every message due at the look was in it.)
        if (due.length === CLAIM_CANDIDATES) this.lookNeeded = true;
      }
      if (this.hinted.size === 0 && !this.lookNeeded) return;
    }
  }

  private async claimAndDeliver(_id: string): Promise<void> {
    if (this.stopped) return;
    const claim = await this.claim(_id);
    if (!claim) return; // another node (or a retry's backoff) has it
    // One message's trouble (a store error while recording) must not stall the others: it is retried after its lease.
    await this.deliver(claim.message, claim.leaseUntil).catch((error) =>
      this.ctx.logger.error({ err: error, messageId: _id }, 'outbox: delivering a message failed; it is tried again after its lease'),
    );
  }

  /**
   * Claims one message: a conditional update by `_id` (still due?) that
   * pushes its due time a lease ahead and counts the attempt, so of two nodes
   * (or two drains) only one wins it.
   */
  private async claim(_id: string): Promise<{ message: MessageDoc; leaseUntil: Date } | null> {
    const now = this.ctx.clock();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const message = await this.ctx.models.Message.findOneAndUpdate(
      { _id, outboxDueAt: { $lte: now } },
      { $set: { outboxDueAt: leaseUntil }, $inc: { attempts: 1 } },
      { returnDocument: 'after', lean: true },
    );
    return message ? { message, leaseUntil } : null;
  }

  private async deliver(message: MessageDoc, leaseUntil: Date): Promise<void> {
    const { models, cipher, logger } = this.ctx;
    const attempt = message.attempts;
    if (attempt > 1 && !message.delivery.error) {
      // Claimed before, and no outcome was ever recorded: the node holding it stopped (or lost its lease) mid-send,
      // or released it unsent. Whether the provider got it is unknown; sending again may make the patient receive
      // it twice (delivery is at least once: README "Delivery: the outbox").
      logger.warn({ messageId: message._id, channel: message.channel, attempts: attempt }, 'outbox: the last attempt ended without an outcome; sending again');
    }
    const adapter = this.adapters[message.channel as ChannelId];
    const identity = message.recipientIdentityId ? await models.Identity.findById(message.recipientIdentityId).lean() : null;
    if (!adapter || !identity) {
      await this.fail(message, attempt, { code: 'NO_RECIPIENT', message: 'The recipient address is gone', retryable: false });
      return;
    }
    // The clinic number it goes from (SMS with a pool): kept with the message from here on, recorded when it is sent.
    const from = adapter.id === 'sms' ? await this.smsSender?.from(message) : null;
    if (from) message = { ...message, fromNumber: from };
    const content = this.content(message, adapter.id, cipher.decrypt(message.bodyEnc));
    const extras = await this.extras(message, adapter.id);
    // Call the provider only with lease enough for the whole call and for recording its outcome after it
    // (of what the lease has beyond the call, a quarter stays for recording; the rest may go to preparing).
    const leaseLeft = leaseUntil.getTime() - this.ctx.clock().getTime();
    if (leaseLeft < this.deadlineMs + (this.leaseMs - this.deadlineMs) / 4) {
      await models.Message.updateOne({ _id: message._id, attempts: attempt }, { $set: { outboxDueAt: this.ctx.clock() } });
      logger.warn({ messageId: message._id, attempts: attempt, leaseLeftMs: leaseLeft }, 'outbox: too little lease left to call the provider; released');
      this.hinted.add(message._id); // claimed again with a whole lease in this drain
      return;
    }
    const envelope: OutboundEnvelope = {
      ...extras,
      messageId: message._id,
      conversationId: message.conversationId,
      channel: adapter.id,
      to: cipher.decrypt(identity.valueEnc),
      ...(from ? { from } : {}),
      ...content,
    };
    const result = await this.callProvider(adapter, envelope);
    if (result.kind === 'timed_out') {
      this.awaitLateAnswer(message, attempt, result.late);
      const failure: SendFailure = { code: 'PROVIDER_TIMEOUT', message: `${adapter.label}: the provider did not answer within ${Math.round(this.deadlineMs / 1000)} s`, retryable: true };
      // Not before the lease ends: the call we stopped waiting for may still reach the provider until then.
      await this.failed(message, attempt, adapter, failure, leaseUntil);
      return;
    }
    const { outcome } = result;
    if (outcome.ok) {
      await this.recordSent(message, attempt, adapter, outcome);
      return;
    }
    await this.failed(message, attempt, adapter, outcome.error);
  }

  /**
   * The adapter's send, waited for at most `deadlineMs`. The SDKs time out after `sendTimeoutMs` of silence and
   * abort the request; this backstop covers a provider that keeps a call alive by trickling bytes.
   */
  private async callProvider(adapter: ChannelAdapter, envelope: OutboundEnvelope): Promise<Attempt> {
    const sending = adapter.send(envelope).catch((error: Error): SendOutcome => {
      // The error's text is not logged nor stored: an adapter's exception may quote the address or the body.
      this.ctx.logger.error({ messageId: envelope.messageId, channel: adapter.id, error: error.name }, 'outbox: the channel adapter threw');
      return { ok: false, error: { code: 'ADAPTER_ERROR', message: `${adapter.label} could not send it (${error.name})`, retryable: true } };
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timed_out'>((resolve) => {
      timer = setTimeout(() => resolve('timed_out'), this.deadlineMs);
    });
    const first = await Promise.race([sending, deadline]);
    clearTimeout(timer);
    return first === 'timed_out' ? { kind: 'timed_out', late: sending } : { kind: 'answered', outcome: first };
  }

  /** A provider that answers after the worker gave up: a success is recorded (the retry is then not needed); a failure only logged. */
  private awaitLateAnswer(message: MessageDoc, attempt: number, late: Promise<SendOutcome>): void {
    const adapter = this.adapters[message.channel as ChannelId];
    const done: Promise<void> = late
      .then(async (outcome) => {
        if (outcome.ok) await this.recordSent(message, attempt, adapter, outcome, 'late');
        else this.ctx.logger.info({ messageId: message._id, code: outcome.error.code, attempts: attempt }, 'outbox: a timed-out provider call failed later');
      })
      .catch((error) => this.ctx.logger.error({ err: error, messageId: message._id }, 'outbox: recording a late provider answer failed'))
      .finally(() => this.lateAnswers.delete(done));
    this.lateAnswers.add(done);
  }

  /**
   * The provider has the message. Recorded whatever the claim's state: it
   * went out, so nobody may send it again. `outboxDueAt: null` and the new
   * status are one write, the first after the provider's answer, to keep the
   * window between its acceptance and this record as short as the store
   * allows, and so a crash cannot leave a sent message showing "queued". If a
   * later claim exists the message may have been sent twice: that is logged.
   */
  private async recordSent(message: MessageDoc, attempt: number, adapter: ChannelAdapter, outcome: Extract<SendOutcome, { ok: true }>, late?: 'late'): Promise<void> {
    const { logger } = this.ctx;
    const recorded = await leaveOutbox(
      this.ctx,
      message,
      // A late answer counts only while the message still waits in the outbox: not once it failed for good
      // (its failure stands; the fallback may have sent it elsewhere) nor once another attempt was recorded.
      late ? { outboxDueAt: { $ne: null } } : {},
      // The retry state (an earlier attempt's error) goes with it: the message is with the provider now.
      // The number it went from, so its status callbacks count against that number's reputation.
      // And, with a fallback deadline, when it falls back if no delivery report comes first.
      {
        outboxDueAt: null, providerMessageId: outcome.providerMessageId, 'delivery.error': null, fallbackDueAt: this.fallbackDueAt(message, adapter.id),
        ...(adapter.id === 'sms' && message.fromNumber ? { fromNumber: message.fromNumber } : {}),
      },
      outcome.status,
    );
    if (!recorded) {
      logger.warn({ messageId: message._id, channel: adapter.id, attempts: attempt }, 'outbox: the provider accepted a message after the hub gave up waiting and had settled it; it may have gone out twice');
      return;
    }
    if (recorded.message.attempts !== attempt) {
      logger.warn({ messageId: message._id, channel: adapter.id, attempts: attempt, laterAttempts: recorded.message.attempts }, 'outbox: sent after its lease was taken over; it may have gone out twice');
    }
    logger.info({ messageId: message._id, channel: adapter.id, attempts: attempt, ...(late ? { late: true } : {}) }, 'message handed to provider');
    if (adapter.id === 'sms' && message.fromNumber && this.smsSender) {
      // Bookkeeping: the message is sent whatever happens to its count.
      await this.smsSender.sent(message.fromNumber).catch((error) => logger.error({ err: error, messageId: message._id }, 'outbox: counting a sent text against its number failed'));
    }
    await outcome.afterRecorded?.();
  }

  /** A failed provider call: retried later if it may pass then and attempts remain, else the message fails with the reason. */
  private async failed(message: MessageDoc, attempt: number, adapter: ChannelAdapter, error: SendFailure, notBefore?: Date): Promise<void> {
    const { models, logger } = this.ctx;
    if (error.recipientOptedOut) {
      await recordAddressConsent(this.ctx, message.patientId, message.recipientIdentityId, adapter.id, 'opted_out', `provider_refused:${error.providerCode ?? error.code}`);
    }
    if (!error.retryable) {
      await this.fail(message, attempt, error);
      return;
    }
    if (attempt >= this.maxAttempts) {
      await this.fail(message, attempt, {
        ...error,
        message: `${error.message}; not sent after ${attempt} attempts`,
        suggestion: 'Send it again later, or use another channel',
        retryable: false,
      });
      return;
    }
    const now = this.ctx.clock().getTime();
    const backoffMs = retryDelayMs(attempt, this.backoffBaseMs, this.backoffMaxMs, this.random);
    const dueAt = new Date(Math.max(now + backoffMs, notBefore?.getTime() ?? 0));
    const retryState: SendFailure = {
      ...error,
      message: `${error.message}; trying again (attempt ${attempt} of ${this.maxAttempts} failed)`,
      suggestion: error.suggestion ?? 'Nothing to do yet: the hub sends it again shortly',
    };
    // Only while this claim still holds it: a worker that outlived its lease must not reschedule a later claim's message.
    const updated = await models.Message.findOneAndUpdate(
      { _id: message._id, attempts: attempt },
      { $set: { outboxDueAt: dueAt, 'delivery.error': storedError(retryState) } },
      { returnDocument: 'after', lean: true },
    );
    if (!updated) {
      logger.warn({ messageId: message._id, attempts: attempt }, 'outbox: lease taken over before the failure was recorded');
      return;
    }
    this.wakeAt(dueAt, message._id);
    await publishMessageUpdate(this.ctx, updated);
    logger.warn({ messageId: message._id, channel: adapter.id, code: error.code, providerCode: error.providerCode, attempts: attempt, retryInMs: dueAt.getTime() - now }, 'delivery will be retried');
  }

  /** A kick for the message when `at` comes (a retry this worker scheduled): the poll is then only the safety net. */
  private wakeAt(at: Date, messageId: string): void {
    const wake = setTimeout(() => {
      this.wakeUps.delete(wake);
      this.kick(messageId);
    }, Math.max(0, at.getTime() - this.ctx.clock().getTime()) + 5);
    wake.unref();
    this.wakeUps.add(wake);
  }

  private async fail(message: MessageDoc, attempt: number, error: SendFailure): Promise<void> {
    const released = await leaveOutbox(this.ctx, message, { attempts: attempt }, { outboxDueAt: null }, 'failed', {
      error: storedError(error),
      errorCode: error.providerCode ?? error.code,
    });
    if (!released) {
      this.ctx.logger.warn({ messageId: message._id, attempts: attempt }, 'outbox: lease taken over before the failure was recorded');
      return;
    }
    this.ctx.logger.warn({ messageId: message._id, code: error.code, providerCode: error.providerCode, attempts: attempt }, 'delivery failed');
  }
}

/** What a message keeps of a failure: what agents read. */
function storedError(error: SendFailure): DeliveryError {
  return { code: error.code, message: error.message, retryable: error.retryable, ...(error.suggestion ? { suggestion: error.suggestion } : {}) };
}
