/**
 * Work the hub starts without a caller waiting for it (a first-contact card,
 * a card rollout at start): kept track of, so its failure is logged, `close()`
 * lets it finish before the database goes, and `settled()` can say when
 * nothing is left running.
 */
import type { Logger } from './logger.ts';

export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  /** Runs `work` in the background; a failure is logged with `what`, never thrown. */
  start(what: string, work: () => Promise<unknown>): void {
    const task: Promise<unknown> = Promise.resolve()
      .then(work)
      .catch((error) => this.logger.error({ err: error }, `${what} failed`))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  get idle(): boolean {
    return this.running.size === 0;
  }

  /** Resolves once every task started so far, and every task they started, has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
