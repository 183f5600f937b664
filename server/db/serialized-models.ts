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
 */
import type { QueryFilter, Model, UpdateQuery } from 'mongoose';
import { documentKey, type DocumentLocks } from './document-locks.ts';

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
}

export function serializeWrites<T>(model: Model<T>, locks: DocumentLocks): void {
  for (const method of KEYED_WRITES) {
    const original = (model as unknown as Record<string, (...args: unknown[]) => ExecutableQuery>)[method]!;
    Object.defineProperty(model, method, {
      configurable: true,
      writable: true,
      value: function keyedWrite(this: unknown, ...args: unknown[]) {
        const query = original.apply(this, args);
        const exec = query.exec;
        query.exec = function lockedExec(op?: unknown) {
          const id = documentIdOf(query.getFilter());
          if (id === undefined) return Promise.reject(new UnserializedWriteError(model.modelName, method));
          return locks.run(documentKey(model.modelName, id), () => exec.call(query, op));
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
