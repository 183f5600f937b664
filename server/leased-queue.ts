/**
 * A queue kept in a collection, worked by every hub node at once: documents
 * with a `dueAt` (null once settled) and an `attempts` count. A worker looks
 * for due ones, and takes each with one conditional update by `_id` (still
 * claimable and due? then push `dueAt` a lease ahead and count the attempt),
 * so of two nodes only one holds a document; one that dies holding it leaves
 * it to whoever claims it after the lease. `attempts` is the claim's fencing
 * token: the handler writes its outcome only while `attempts` is still its
 * own. Satisfaction surveys, scheduled messages and outgoing webhook calls
 * use it (the outbox has its own worker: its claims, timeouts and late
 * answers are its whole point).
 */
import type { Model } from 'mongoose';
import type { Logger } from './logger.ts';

export interface LeasedQueueSpec<T extends { _id: string; attempts: number }> {
  /** For the logs: "the survey worker", … */
  name: string;
  model: () => Model<T>;
  /** What else a claimable document matches (e.g. `{status: 'scheduled'}`). */
  claimable: Record<string, unknown>;
  leaseMs: number;
  clock: () => Date;
  logger: () => Logger;
  /** Handles one claimed document; a failure is logged and the document is claimed again after its lease. */
  handle(claimed: T): Promise<void>;
}

/** Due documents one look takes in (each is still claimed on its own). */
const CLAIM_CANDIDATES = 20;

export class LeasedQueue<T extends { _id: string; attempts: number }> {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly spec: LeasedQueueSpec<T>) {}

  start(pollMs: number): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Works the queue now (concurrent kicks coalesce into one more pass). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error) => this.spec.logger().error({ err: error }, `${this.spec.name} failed`))
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
  }

  /** Resolves when nothing is being handled now. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    const model = this.spec.model() as unknown as Model<{ _id: string; dueAt: Date | null }>;
    while (!this.stopped) {
      const due = await model.find({ dueAt: { $lte: this.spec.clock() } }, { _id: 1 }).sort({ dueAt: 1 }).limit(CLAIM_CANDIDATES).lean();
      let claimedAny = false;
      for (const { _id } of due) {
        if (this.stopped) return;
        const claimed = await this.claim(_id);
        if (!claimed) continue; // another node has it
        claimedAny = true;
        await this.spec.handle(claimed).catch((error) =>
          this.spec.logger().error({ err: error, id: _id }, `${this.spec.name}: handling one failed; it is tried again after its lease`),
        );
      }
      if (!claimedAny) return;
    }
  }

  private async claim(_id: string): Promise<T | null> {
    const now = this.spec.clock();
    const model = this.spec.model() as unknown as Model<{ _id: string }>;
    const claimed = await model.findOneAndUpdate(
      { _id, ...this.spec.claimable, dueAt: { $lte: now } },
      { $set: { dueAt: new Date(now.getTime() + this.spec.leaseMs) }, $inc: { attempts: 1 } },
      { returnDocument: 'after', lean: true },
    );
    return claimed as T | null;
  }
}
