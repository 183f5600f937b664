/**
 * Serializes this process's read-modify-write updates per document.
 *
 * Why: FerretDB 1.24 on SQLite applies an update as read, modify in Go, write
 * back, without isolating the three (FerretDB/FerretDB#3040). Measured here:
 * 50 concurrent `$inc` on one document leave it at 13, and conditional
 * "compare-and-set" filters let two writers both win. The hub's updates are
 * written as single-document atomic operations, which MongoDB honours across
 * any number of nodes; running each document's updates one at a time in this
 * process makes them hold on the single-node embedded store too.
 * test/integration/timeline/concurrency.test.ts fails without it.
 */
export class DocumentLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier call for the same key has settled. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys currently held or waited on (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
