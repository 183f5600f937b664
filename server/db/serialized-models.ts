/**
 * Makes every write through a model take the lock of the document it names
 * (see document-locks.ts for why): `updateOne({_id}, …)` and friends run one
 * at a time per document, in this process, without the caller doing anything.
 *
 * A write whose filter does not name one document by `_id` cannot be
 * serialized, so it is refused at once (UnserializedWriteError): write it as
 * "find the ids, then update each by `_id` with the same condition"
 * (`updateEach`), which MongoDB and the embedded store both keep atomic per
 * document. Inserts need no lock (a new document is alone; unique indexes
 * settle races), nor do deletes (nothing is written back).
 *
 * Conditions checked under the lock (`conditionsInLock`, the embedded
 * store): FerretDB 1.x pushes down to SQLite only a filter that is exactly
 * `{_id}`; a conditional write such as `{_id, lastSeq: 4}` decodes the whole
 * collection to find its one document (measured: 75-81 % of an inbound
 * message's store time at 2,000 conversations, `npm run bench -- share`).
 * There, holding the document's lock (every write to it in this process takes
 * it, and the embedded store has one hub process), the write reads the
 * document by `_id`, checks the rest of the filter in memory (sift, MongoDB's
 * query semantics), and writes by `_id` alone: the same outcome, two
 * pushed-down round trips instead of a scan. On MongoDB the condition stays
 * in the filter, where the server checks it atomically across nodes.
 */
import type { QueryFilter, Model, UpdateQuery } from 'mongoose';
import sift from 'sift';
import { documentKey, type DocumentLocks } from './document-locks.ts';

/** Marks the read of a conditional write checked under its lock (bench/command-counts.ts tells it apart). */
export const IN_LOCK_CHECK_COMMENT = 'carethread: in-lock condition check';

/** sift is CommonJS: its default export is the `.default` of what an ES import gets. */
const matches = sift.default;

/** Writes that change one existing document, named by the `_id` in their filter. */
const KEYED_WRITES = [
  'updateOne',
  'findOneAndUpdate',
  'findByIdAndUpdate',
  'replaceOne',
  'findOneAndReplace',
] as const;

/** Writes that may touch many documents at once: refused (use updateEach). */
const UNKEYED_WRITES = ['updateMany', 'bulkWrite'] as const;

export class UnserializedWriteError extends Error {
  constructor(modelName: string, method: string) {
    super(`${modelName}.${method} must name one document by _id (use updateEach for many; see server/db/serialized-models.ts)`);
    this.name = 'UnserializedWriteError';
  }
}

interface ExecutableQuery {
  exec(op?: unknown): Promise<unknown>;
  getFilter(): Record<string, unknown>;
  getOptions(): { upsert?: boolean };
  setQuery(filter: Record<string, unknown>): void;
}

export interface SerializeOptions {
  /** Check a write's conditions on the document read by `_id` under its lock, and write by `_id` alone (see above). */
  conditionsInLock?: boolean;
}

export function serializeWrites<T>(model: Model<T>, locks: DocumentLocks, options: SerializeOptions = {}): void {
  for (const method of KEYED_WRITES) {
    const original = (model as unknown as Record<string, (...args: unknown[]) => ExecutableQuery>)[method]!;
    Object.defineProperty(model, method, {
      configurable: true,
      writable: true,
      value: function keyedWrite(this: unknown, ...args: unknown[]) {
        const query = original.apply(this, args);
        const exec = query.exec;
        query.exec = function lockedExec(op?: unknown) {
          const filter = query.getFilter();
          const id = documentIdOf(filter);
          if (id === undefined) return Promise.reject(new UnserializedWriteError(model.modelName, method));
          return locks.run(documentKey(model.modelName, id), async () => {
            const { _id, ...conditions } = filter;
            // An upsert's conditions also shape the document it inserts: left to the store as written.
            if (options.conditionsInLock && Object.keys(conditions).length > 0 && !query.getOptions().upsert) {
              const current = await model.collection.findOne({ _id } as never, { comment: IN_LOCK_CHECK_COMMENT });
              if (!current || !matches(conditions)(current)) return noMatch(method);
              query.setQuery({ _id });
            }
            return exec.call(query, op);
          });
        };
        return query;
      },
    });
  }
  for (const method of UNKEYED_WRITES) {
    Object.defineProperty(model, method, {
      configurable: true,
      writable: true,
      value: () => {
        throw new UnserializedWriteError(model.modelName, method);
      },
    });
  }
}

/**
 * Updates every document that matches `filter`, one at a time by `_id`, each
 * keeping `filter` as its condition (a document changed in between is left
 * alone when it no longer matches). Returns how many were changed.
 */
export async function updateEach<T>(model: Model<T>, filter: QueryFilter<T>, update: UpdateQuery<T>): Promise<number> {
  const ids = (await model.find(filter, { _id: 1 }).lean()) as unknown as { _id: unknown }[];
  let changed = 0;
  for (const { _id } of ids) {
    const result = await model.updateOne({ ...filter, _id } as QueryFilter<T>, update);
    changed += result.modifiedCount;
  }
  return changed;
}

/** What the store answers a keyed write whose filter matched nothing. */
function noMatch(method: (typeof KEYED_WRITES)[number]): unknown {
  if (method === 'updateOne' || method === 'replaceOne') return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
  return null;
}

function documentIdOf(filter: Record<string, unknown>): string | undefined {
  const id = filter._id;
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return String(id);
  if (id && typeof id === 'object') {
    if ('$eq' in id && typeof (id as { $eq: unknown }).$eq === 'string') return (id as { $eq: string }).$eq;
    if (typeof (id as { toHexString?: unknown }).toHexString === 'function') return (id as { toHexString(): string }).toHexString();
  }
  return undefined;
}
