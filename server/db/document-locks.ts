/**
 * Serializes this process's writes per document: the one place that knows
 * about FerretDB's unisolated updates.
 *
 * Why: FerretDB 1.24 on SQLite applies an update as read, modify in Go, write
 * back the whole document, without isolating the three (FerretDB/FerretDB#3040).
 * Measured here: 50 concurrent `$inc` on one document leave it at 13,
 * conditional "compare-and-set" filters let two writers both win, and a
 * `$set` of one field can write back a document as it was before another
 * writer's change (a read tick lost to the delivery worker's bookkeeping).
 * The hub's updates are written as single-document atomic operations, which
 * MongoDB honours across any number of nodes; running each document's writes
 * one at a time in this process makes them hold on the single-node embedded
 * store too.
 *
 * Two layers use it:
 * - every write through a model (serialized-models.ts) takes the lock of the
 *   document its filter names by `_id`, automatically;
 * - read-modify-write sections (read a document, decide, write it) wrap
 *   themselves in `run(key)` with the same key, so the write inside is not
 *   locked twice (locks are reentrant within one async flow).
 *
 * Keys are `<kind>:<id>`; a document's kind is its model name in lower case
 * (`conversation:<id>`). Nested locks must be taken in rank order (LOCK_RANKS),
 * so two flows can never wait on each other: taking a lock of a lower or equal
 * rank than one already held throws LockOrderError at once, instead of
 * hanging one day under load. test/integration/timeline/concurrency.test.ts
 * fails without this module.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The order in which locks may nest: a flow holding a lock only takes locks of
 * a higher rank. Kinds not listed are single documents written on their own
 * (rank LEAF_RANK): nothing may be locked inside them.
 */
const LOCK_RANKS: Record<string, number> = {
  visitor: 10, // a web visitor's sends and links
  merge: 20, // folding one patient into another
  verify: 20, // a one-time code being checked
  login: 20, // failed-login counting
  rate: 20, // a rate-limit bucket
  session: 30,
  registry: 35, // creating or editing patients: duplicate checks, then the writes
  patient: 40,
  conversation: 50,
  message: 60,
};
const LEAF_RANK = 100;

export class LockOrderError extends Error {
  constructor(wanted: string, held: string) {
    super(`lock order: "${wanted}" requested while holding "${held}" (see LOCK_RANKS in server/db/document-locks.ts)`);
    this.name = 'LockOrderError';
  }
}

interface Holding {
  key: string;
  rank: number;
  released: boolean;
}

export class DocumentLocks {
  private readonly tails = new Map<string, Promise<unknown>>();
  /** The locks the current async flow holds (marked released when let go, since a callback may outlive them). */
  private readonly held = new AsyncLocalStorage<readonly Holding[]>();

  /**
   * @param serialize false on a store that isolates updates (MongoDB, see
   * store-capabilities.ts): `run` then only checks the lock order and runs
   * the work at once, and correctness rests on conditional updates alone
   * (server/db/STORE-CONTRACT.md).
   */
  constructor(readonly serialize = true) {}

  /** Runs `work` after every earlier call for the same key has settled; at once if this flow already holds it. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const holdings = (this.held.getStore() ?? []).filter((h) => !h.released);
    if (holdings.some((h) => h.key === key)) return work();
    const rank = rankOf(key);
    const blocking = holdings.find((h) => h.rank >= rank);
    if (blocking) return Promise.reject(new LockOrderError(key, blocking.key));
    if (!this.serialize) {
      // Keep checking the nesting order, so the code paths stay the same on both stores.
      const holding: Holding = { key, rank, released: false };
      return this.held.run([...holdings, holding], work).finally(() => {
        holding.released = true;
      });
    }

    const holding: Holding = { key, rank, released: false };
    const previous = this.tails.get(key) ?? Promise.resolve();
    const start = () => work();
    const result = this.held.run([...holdings, holding], () => previous.then(start, start)).finally(() => {
      holding.released = true;
    });
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

function rankOf(key: string): number {
  const kind = key.slice(0, key.indexOf(':'));
  return LOCK_RANKS[kind] ?? LEAF_RANK;
}

/** The lock key of one stored document. */
export function documentKey(modelName: string, id: string): string {
  return `${modelName.toLowerCase()}:${id}`;
}
