/**
 * The shape of a database command (which fields it matches by equality, by
 * range, and how it sorts) and whether an index serves it on MongoDB.
 *
 * Used by the test run, which records every query the hub issues and checks
 * each against the indexes the models declare (test/support/query-recorder.ts). On the embedded FerretDB every read scans
 * the collection anyway; on MongoDB a shape no index serves is a collection
 * scan under load, so the test fails on one.
 *
 * An index serves a shape the way MongoDB's planner uses it (equality, sort,
 * range): its first keys are equality fields of the query (in any order, at
 * least one when the query has any, not necessarily all); the sort fields come next, in order, all in the
 * index's direction or all reversed, so no sort happens in memory; with
 * neither equality nor sort, its first key is one of the range fields. The
 * fields the index lacks are checked on the documents it found, so its
 * leading field should be selective: that is the index author's judgement.
 */

export interface QueryShape {
  readonly collection: string;
  /** The collection method: find, findOneAndUpdate, updateOne, aggregate, … */
  readonly command: string;
  readonly equality: readonly string[];
  readonly range: readonly string[];
  readonly sort: readonly (readonly [string, 1 | -1])[];
  /** A top-level operator no index serves ($where, $expr, $nor, …) or an unknown field operator. */
  readonly unindexable: boolean;
}

export type IndexKey = readonly (readonly [string, number])[];

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte', '$ne', '$nin', '$exists', '$regex', '$not', '$elemMatch', '$size', '$type', '$mod']);
/** `$in` and `$all` give the index point bounds (`$all`: those of one of its values, the rest checked on the documents). */
const EQUALITY_OPERATORS = new Set(['$eq', '$in', '$all']);

/**
 * The shapes of one query: its collection, the mongoose operation (find,
 * findOneAndUpdate, countDocuments, …), its filter and sort. An `$or` gives
 * one shape per branch.
 */
export function shapesOfQuery(collection: string, operation: string, filter: unknown, sort: unknown): QueryShape[] {
  return shapesOf(collection, operation, asObject(filter), asObject(sort));
}

/** The shapes of an aggregation: its leading `$match`, and a `$sort` right at the start. */
export function shapesOfPipeline(collection: string, pipeline: readonly Record<string, unknown>[]): QueryShape[] {
  const match = pipeline[0]?.$match ? asObject(pipeline[0].$match) : {};
  const sortStage = pipeline.find((stage, i) => i <= 1 && stage.$sort);
  return shapesOf(collection, 'aggregate', match, sortStage ? asObject(sortStage.$sort) : {});
}

function shapesOf(collection: string, command: string, filter: Record<string, unknown>, sort: Record<string, unknown>): QueryShape[] {
  const sortKeys = Object.entries(sort).map(([field, dir]) => [field, Number(dir) < 0 ? -1 : 1] as const);
  return fieldSets(filter).map((set) => ({
    collection,
    command,
    equality: [...set.equality].sort(),
    range: [...set.range].filter((f) => !set.equality.has(f)).sort(),
    sort: sortKeys,
    unindexable: set.unindexable,
  }));
}

interface FieldSet {
  equality: Set<string>;
  range: Set<string>;
  unindexable: boolean;
}

/** One field set per way the filter can match (the branches of `$or` multiply out). */
function fieldSets(filter: Record<string, unknown>): FieldSet[] {
  let sets: FieldSet[] = [{ equality: new Set(), range: new Set(), unindexable: false }];
  const merge = (more: FieldSet[]) => {
    sets = sets.flatMap((a) => more.map((b) => ({
      equality: new Set([...a.equality, ...b.equality]),
      range: new Set([...a.range, ...b.range]),
      unindexable: a.unindexable || b.unindexable,
    })));
  };
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') {
      for (const part of value as Record<string, unknown>[]) merge(fieldSets(part));
    } else if (key === '$or') {
      merge((value as Record<string, unknown>[]).flatMap((part) => fieldSets(part)));
    } else if (key === '$comment') {
      continue;
    } else if (key.startsWith('$')) {
      merge([{ equality: new Set(), range: new Set(), unindexable: true }]);
    } else {
      const operators = isOperatorObject(value) ? Object.keys(value as object) : [];
      const kind = operators.length === 0 || operators.every((op) => EQUALITY_OPERATORS.has(op)) ? 'equality' : 'range';
      const unknown = operators.some((op) => !EQUALITY_OPERATORS.has(op) && !RANGE_OPERATORS.has(op) && op !== '$options');
      merge([{ equality: new Set(kind === 'equality' ? [key] : []), range: new Set(kind === 'range' ? [key] : []), unindexable: unknown }]);
    }
  }
  return sets;
}

/** The first index (by its keys) that serves the shape, or null. `_id` equality is always served. */
export function indexServing(shape: QueryShape, indexes: readonly IndexKey[]): IndexKey | null {
  if (shape.unindexable) return null;
  const byId: IndexKey = [['_id', 1]];
  if (shape.equality.includes('_id')) return byId;
  for (const index of [byId, ...indexes]) {
    if (serves(index, shape)) return index;
  }
  return null;
}

function serves(index: IndexKey, shape: QueryShape): boolean {
  let at = 0;
  const equality = new Set(shape.equality);
  while (at < index.length && equality.has(index[at]![0])) {
    equality.delete(index[at]![0]);
    at++;
  }
  // With equality fields in the query, an index that starts with none of them would be walked whole.
  if (shape.equality.length > 0 && at === 0) return false;
  // A sort field the filter fixes by equality orders nothing.
  const sort = shape.sort.filter(([field]) => !shape.equality.includes(field));
  if (sort.length > 0) {
    let direction = 0;
    for (const [field, dir] of sort) {
      const key = index[at];
      if (!key || key[0] !== field) return false;
      const relative = Math.sign(key[1]) === dir ? 1 : -1;
      if (direction !== 0 && relative !== direction) return false;
      direction = relative;
      at++;
    }
    return true;
  }
  if (at > 0) return true;
  return index.length > 0 && shape.range.includes(index[0]![0]);
}

/** A readable one-line form: `messages find eq(conversationId) range(seq) sort(seq:1)`. */
export function describeShape(shape: QueryShape): string {
  const parts = [shape.collection, shape.command];
  if (shape.equality.length) parts.push(`eq(${shape.equality.join(',')})`);
  if (shape.range.length) parts.push(`range(${shape.range.join(',')})`);
  if (shape.sort.length) parts.push(`sort(${shape.sort.map(([f, d]) => `${f}:${d}`).join(',')})`);
  if (shape.unindexable) parts.push('unindexable');
  if (!shape.equality.length && !shape.range.length && !shape.sort.length) parts.push('all');
  return parts.join(' ');
}

export function describeIndex(index: IndexKey): string {
  return `{${index.map(([f, d]) => `${f}:${d}`).join(', ')}}`;
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isOperatorObject(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return false;
  if (typeof (value as { toHexString?: unknown }).toHexString === 'function') return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}
