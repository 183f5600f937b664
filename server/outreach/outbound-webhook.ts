/**
 * The outgoing webhook (OUTBOUND_WEBHOOK_URL): the clinic's scheduling system
 * hears that a patient confirmed, cancelled or asked to reschedule, without
 * polling GET /api/scheduled-messages.
 *
 * - Durable: an event is stored (`webhook_deliveries`, `_id` = the event id,
 *   so the same event is stored once) before any call, and a worker on one
 *   node at a time (a lease on `dueAt`, like the outbox) posts it.
 * - Signed: `CareThread-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 *   "<t>.<body>" with OUTBOUND_WEBHOOK_SECRET>`. The receiver recomputes it
 *   over the raw body, compares in constant time, and refuses a `t` older
 *   than a few minutes (a replayed call). `CareThread-Event-Id` is stable
 *   across retries: the receiver drops one it has seen.
 * - Retried: any answer but 2xx (or none within 10 s) is tried again after
 *   an exponential backoff with full jitter, up to 12 calls over about a day,
 *   then marked failed and logged. Delivery is at least once.
 * - No PHI: ids, the status, the clinic's own reference, times.
 */
import { createHmac } from 'node:crypto';
import type { WebhookDeliveryDoc } from '../db/documents.ts';
import { retryDelayMs } from '../delivery/delivery-worker.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { LeasedQueue } from '../leased-queue.ts';

export const WEBHOOK_SIGNATURE_HEADER = 'CareThread-Signature';
export const WEBHOOK_EVENT_HEADER = 'CareThread-Event-Id';
const LEASE_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 12;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 4 * 3600_000;

export interface WebhookEvent {
  /** Stable: the same happening always has the same id (a retried reply stores nothing new). */
  id: string;
  type: string;
  data: Record<string, string | number | boolean | null>;
}

/** The signature header's value for a body sent at `unixSeconds`. */
export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${digest}`;
}

export class OutboundWebhook {
  private readonly worker: LeasedQueue<WebhookDeliveryDoc>;

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly target: { url: string; secret: string } | null,
    private readonly random: () => number = Math.random,
  ) {
    this.worker = new LeasedQueue({
      name: 'webhook: the worker',
      model: () => this.ctx().models.WebhookDelivery,
      claimable: { status: 'pending' },
      leaseMs: LEASE_MS,
      clock: () => this.ctx().clock(),
      logger: () => this.ctx().logger,
      handle: (claimed) => this.deliver(claimed),
    });
  }

  get enabled(): boolean {
    return this.target !== null;
  }

  /** Stores the event for delivery (once per id); nothing without OUTBOUND_WEBHOOK_URL. */
  async enqueue(event: WebhookEvent): Promise<void> {
    if (!this.target) return;
    const ctx = this.ctx();
    const now = ctx.clock();
    const payload = JSON.stringify({ id: event.id, type: event.type, createdAt: now.toISOString(), data: event.data });
    await ctx.models.WebhookDelivery.updateOne(
      { _id: event.id },
      { $setOnInsert: { event: event.type, payload, status: 'pending', dueAt: now, attempts: 0, createdAt: now } },
      { upsert: true },
    );
    this.kick();
  }

  start(pollMs: number): void {
    if (this.target) this.worker.start(pollMs);
  }

  kick(): void {
    if (this.target) this.worker.kick();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Resolves when no call is being made now. */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  private async deliver(delivery: WebhookDeliveryDoc): Promise<void> {
    const ctx = this.ctx();
    const { url, secret } = this.target!;
    let problem: string | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CareThread-Webhook/1',
          [WEBHOOK_EVENT_HEADER]: delivery._id,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, Math.floor(ctx.clock().getTime() / 1000), delivery.payload),
        },
        body: delivery.payload,
        redirect: 'error',
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) problem = `HTTP ${response.status}`;
    } catch (error) {
      problem = (error as Error).name === 'TimeoutError' ? 'no answer within 10 s' : `not reached (${(error as Error).name})`;
    }
    // Only while this claim holds it (`attempts` fences a claim whose lease another node took over).
    const mine = { _id: delivery._id, attempts: delivery.attempts };
    const now = ctx.clock();
    if (!problem) {
      await ctx.models.WebhookDelivery.updateOne(mine, { $set: { status: 'delivered', dueAt: null, deliveredAt: now, lastError: null } });
      ctx.logger.info({ eventId: delivery._id, event: delivery.event, attempts: delivery.attempts }, 'webhook delivered');
      return;
    }
    if (delivery.attempts >= MAX_ATTEMPTS) {
      await ctx.models.WebhookDelivery.updateOne(mine, { $set: { status: 'failed', dueAt: null, lastError: problem } });
      ctx.logger.error({ eventId: delivery._id, event: delivery.event, attempts: delivery.attempts, problem }, 'webhook failed for good');
      return;
    }
    const dueAt = new Date(now.getTime() + Math.max(1000, retryDelayMs(delivery.attempts, BACKOFF_BASE_MS, BACKOFF_MAX_MS, this.random)));
    await ctx.models.WebhookDelivery.updateOne(mine, { $set: { dueAt, lastError: problem } });
    ctx.logger.warn({ eventId: delivery._id, event: delivery.event, attempts: delivery.attempts, problem, retryInMs: dueAt.getTime() - now.getTime() }, 'webhook will be retried');
  }
}
