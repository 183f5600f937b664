/**
 * Records the shape of every query the hubs of this test run issue, and the
 * indexes their models declare, so one check at the end of the run can prove
 * each shape has an index that serves it on MongoDB (test/setup/global-fixture.ts).
 *
 * Each model's query methods are wrapped (in tests only) to note, at the
 * call, which of our files made it: queries a test makes itself through the
 * hub's models, to look at what was stored, are not the hub's and are left
 * out. The shape is taken when the query runs, with its final filter and sort.
 */
import type { Connection, Model } from 'mongoose';
import { describeIndex, describeShape, indexServing, shapesOfPipeline, shapesOfQuery, type IndexKey, type QueryShape } from '../../server/db/query-shapes.ts';

export interface RecordedShape {
  shape: QueryShape;
  count: number;
  /** Where the hub issued it first (file:line of the nearest frame of our code). */
  site: string;
}

const recorded = new Map<string, RecordedShape>();
const indexesByCollection = new Map<string, IndexKey[]>();

/** The model methods every read and write goes through (findById, exists, … call these). */
const QUERY_METHODS = [
  'find', 'findOne', 'findOneAndUpdate', 'findOneAndDelete', 'findOneAndReplace',
  'updateOne', 'replaceOne', 'deleteOne', 'deleteMany', 'countDocuments', 'distinct',
] as const;

interface RunnableQuery {
  op?: string;
  exec(...args: unknown[]): Promise<unknown>;
  getFilter(): Record<string, unknown>;
  getOptions(): { sort?: unknown };
}

export function recordQueryShapes(connection: Connection): void {
  for (const model of Object.values(connection.models)) {
    if (!indexesByCollection.has(model.collection.name)) captureDeclaredIndexes(model);
    wrap(model);
  }
}

function wrap(model: Model<unknown>): void {
  const statics = model as unknown as Record<string, (...args: unknown[]) => unknown> & { __shapesRecorded?: true };
  if (statics.__shapesRecorded) return;
  statics.__shapesRecorded = true;
  const collection = model.collection.name;
  for (const method of QUERY_METHODS) {
    const original = statics[method]!;
    statics[method] = function recorded(this: unknown, ...args: unknown[]) {
      const query = original.apply(this, args) as RunnableQuery;
      const site = issuingSite();
      if (site === null) return query;
      const exec = query.exec;
      query.exec = function recordedExec(...execArgs: unknown[]) {
        note(shapesOfQuery(collection, query.op ?? method, query.getFilter(), query.getOptions().sort), site);
        return exec.apply(query, execArgs);
      };
      return query;
    };
  }
  const aggregate = statics.aggregate!;
  statics.aggregate = function recordedAggregate(this: unknown, ...args: unknown[]) {
    const result = aggregate.apply(this, args) as { pipeline(): Record<string, unknown>[]; exec(...a: unknown[]): Promise<unknown> };
    const site = issuingSite();
    if (site === null) return result;
    const exec = result.exec;
    result.exec = function recordedExec(...execArgs: unknown[]) {
      note(shapesOfPipeline(collection, result.pipeline()), site);
      return exec.apply(result, execArgs);
    };
    return result;
  };
}

function note(shapes: QueryShape[], site: string): void {
  for (const shape of shapes) {
    const key = describeShape(shape);
    const entry = recorded.get(key);
    if (entry) entry.count++;
    else recorded.set(key, { shape, count: 1, site });
  }
}

/** The nearest frame of our own code that made the call, or null when it is a test's. */
function issuingSite(): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const frame = /((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
    if (!frame) continue;
    const path = frame[1]!.replace('file://', '');
    if (path.includes('/node_modules/') || path.endsWith('/query-recorder.ts') || path.startsWith('node:')) continue;
    if (path.includes('/test/')) return null;
    const root = path.search(/\/(server|channels|scripts)\//);
    return `${root >= 0 ? path.slice(root + 1) : path}:${frame[2]}`;
  }
  return 'unknown';
}

/** The indexes a model declares (what ensureIndexes creates on MongoDB). */
function captureDeclaredIndexes(model: Model<unknown>): void {
  const keys = model.schema.indexes().map(([fields]) => Object.entries(fields).map(([f, d]) => [f, Number(d)] as const));
  indexesByCollection.set(model.collection.name, keys);
}

export function recordedQueryShapes(): RecordedShape[] {
  return [...recorded.values()];
}

export function declaredIndexes(collection: string): IndexKey[] {
  return indexesByCollection.get(collection) ?? [];
}

/**
 * Reads that scan a collection on purpose, with the reason. Anything else
 * without an index fails the run.
 */
const SCANS_BY_DESIGN: { collection: string; site?: RegExp; reason: string }[] = [
  { collection: 'teams', reason: 'teams are set up by admins: tens of documents' },
  { collection: 'agents', reason: 'the staff directory: hundreds of documents at most' },
  { collection: 'faq_entries', reason: 'the FAQ admins write: tens of documents, read once and cached' },
  { collection: 'canned_responses', reason: 'canned replies admins write: hundreds at most' },
  { collection: 'message_templates', reason: 'message templates supervisors write: tens at most' },
  { collection: 'patients', site: /patient-import\.ts/, reason: 'an import that touches a large share of the directory reads it once instead of in chunks' },
  { collection: 'identities', site: /patient-import\.ts/, reason: 'as above, for the phone numbers and emails of an import' },
];

export interface QueryShapeReport {
  /** Shapes the hub issued that no declared index serves: each a scan on MongoDB. */
  unserved: string[];
  /** Every shape with the index that serves it (or why it may scan), for test-output/query-shapes.txt. */
  lines: string[];
}

export function checkQueryShapes(): QueryShapeReport {
  const unserved: string[] = [];
  const lines: string[] = [];
  for (const { shape, count, site } of recordedQueryShapes()) {
    const index = indexServing(shape, declaredIndexes(shape.collection));
    const allowed = SCANS_BY_DESIGN.find((a) => a.collection === shape.collection && (!a.site || a.site.test(site)));
    const verdict = index ? describeIndex(index) : allowed ? `scan by design: ${allowed.reason}` : 'NO INDEX';
    lines.push(`${describeShape(shape)}  ×${count}  (${site})  → ${verdict}`);
    if (!index && !allowed) unserved.push(`${describeShape(shape)}  (first issued at ${site})`);
  }
  return { unserved, lines: lines.sort() };
}
