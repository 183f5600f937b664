/**
 * Periodic clean-up the stores cannot do themselves (FerretDB has no TTL
 * indexes, and the hub uses none on MongoDB either, so both behave alike):
 * ended rate-limit windows, and uploads no message claimed in time.
 */
import { sweepUnattachedUploads } from './attachments/attachment-store.ts';
import { sweepRateLimits } from './db/rate-limits.ts';
import type { TimelineContext } from './timeline/timeline-context.ts';

export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: TimelineContext,
    private readonly settings: { unattachedUploadMs: number; everyMs?: number },
  ) {}

  start(run: (what: string, work: () => Promise<unknown>) => void): void {
    const tick = () => run('housekeeping', () => this.runOnce());
    this.timer = setInterval(tick, this.settings.everyMs ?? 10 * 60_000);
    this.timer.unref();
    tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(): Promise<{ rateLimitWindows: number; unattachedUploads: number }> {
    const rateLimitWindows = await sweepRateLimits(this.ctx.models, this.ctx.clock());
    const unattachedUploads = await sweepUnattachedUploads(this.ctx, this.settings.unattachedUploadMs);
    if (rateLimitWindows || unattachedUploads) this.ctx.logger.info({ rateLimitWindows, unattachedUploads }, 'housekeeping removed expired records');
    return { rateLimitWindows, unattachedUploads };
  }
}
