/**
 * `npm run bench -- reads`: the agents' reads as the store grows (issue #23, item 5).
 *
 * At 2,000, 20,000 and 200,000 conversations (short: 1,000 and 3,000 — on the
 * embedded store a read at 20,000 takes seconds), each size seeded into its
 * own database by bench/seed.ts (a quarter as many patients, each with a
 * verified phone; 3 messages per conversation), a hub in its own process
 * (startHubProcess) first sits idle a few seconds (on the embedded store the
 * FerretDB process's CPU is sampled from /proc: what the hub's pollers cost
 * it), then answers, one request at a time, as the bootstrap admin:
 *   - inbox first page      GET /api/conversations?limit=25
 *   - inbox page 6          the same with the cursor reached by following nextCursor 5 times
 *   - conversation messages GET /api/conversations/:id/messages?limit=50 (a different conversation each run)
 *   - patient by phone      GET /api/patients?q=<E.164> (a different patient each run)
 * Every sample is kept (p50/p95/p99/max, errors counted); each query runs for
 * a time budget (at least 3 runs, unless one request is slower than the
 * per-request cap, 3 s short / 30 s full: then it is not repeated, marked *;
 * one unanswered after 20 s short / 60 s full is abandoned and counted as a
 * timeout error). The filters the hub
 * issues (server/timeline/inbox-list.ts, message-history.ts,
 * patients/patient-search.ts) are explained through the driver: on MongoDB the
 * winning plan (IXSCAN vs COLLSCAN) and documents examined; on FerretDB whether
 * the filter is pushed down to SQLite and SQLite's plan (without a pushdown
 * FerretDB reads and decodes the whole collection). With the hub stopped, the
 * inbox page and message-history queries are timed again straight through the
 * driver: the store's cost alone.
 *
 * Readings on the embedded store: the cost per stored document (the slope of
 * a query's time between two sizes ÷ the documents it reads more), and the
 * largest size whose inbox page p95 stays under 200 ms, extrapolated linearly
 * from that slope (said so). A size whose projected seeding time exceeds the
 * cap is skipped and its times projected linearly from the two largest sizes
 * measured (said so).
 *
 *   BENCH_READS_SIZES      comma-separated conversation counts (overrides the sizes above)
 *   BENCH_READS_BUDGET_S   seconds of timed requests per query and size (short 1.5, full 15)
 *   BENCH_READS_SEED_CAP_S a size whose projected seeding time exceeds this is skipped (short 60, full 300)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import mongoose from 'mongoose';
import type { Document, Filter } from 'mongodb';
import { fmt, login, pause, percentiles, startHubProcess, type Bench, type BenchContext, type BenchReport, type BenchTable, type HubProcess } from './harness.ts';
import { seedStore, type SeedResult } from './seed.ts';

const { MongoClient } = mongoose.mongo;

const PAGE = 25;
const CURSOR_PAGES = 5;
const MESSAGES_LIMIT = 50;
/** The inbox page p95 the reading looks for the largest size under. */
const P95_TARGET_MS = 200;

type QueryName = 'inbox first page' | 'inbox page 6 (cursor)' | 'conversation messages (50)' | 'patient by phone';
const QUERIES: QueryName[] = ['inbox first page', 'inbox page 6 (cursor)', 'conversation messages (50)', 'patient by phone'];

interface Measured {
  size: number;
  seedMs: number;
  counts: Record<string, number>;
  results: Map<QueryName, { times: number[]; errors: number; timeouts: number; capped: boolean }>;
  verdicts: Map<QueryName, Verdict>;
  /** The delivery worker's outbox poll at this size. */
  outbox: Verdict | null;
  /** Embedded store: FerretDB's CPU seconds per second while the hub sat idle (its background polls), before the reads. */
  idleStoreLoad: number | null;
  /** The inbox page and message-history queries sent straight through the driver, the hub stopped: the store's own cost. */
  direct: Map<'inbox first page' | 'conversation messages (50)', number[]>;
}

interface Verdict {
  /** One line: what the store does for the query's filters. */
  text: string;
  /** Documents the store reads for it (FerretDB without pushdown: the whole collections; MongoDB: totalDocsExamined). */
  scanned: number | null;
}

function sizesFor(short: boolean): number[] {
  const raw = process.env.BENCH_READS_SIZES;
  if (raw) {
    const sizes = raw.split(',').map((s) => Number(s.trim()));
    if (sizes.some((n) => !Number.isInteger(n) || n < 30)) throw new Error(`BENCH_READS_SIZES: integers ≥ 30, not "${raw}"`);
    return sizes;
  }
  return short ? [1_000, 3_000] : [2_000, 20_000, 200_000];
}

function secondsEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: a positive number of seconds, not "${raw}"`);
  return n;
}

export const bench: Bench = {
  name: 'reads',
  summary: 'reads at scale: inbox pages, message history, patient by phone over HTTP at 2k/20k/200k conversations, with explain',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const sizes = sizesFor(ctx.short);
    const budgetMs = secondsEnv('BENCH_READS_BUDGET_S', ctx.short ? 1.5 : 15) * 1000;
    const seedCapMs = secondsEnv('BENCH_READS_SEED_CAP_S', ctx.short ? 60 : 300) * 1000;
    /** A request slower than this is not repeated (one sample). */
    const requestCapMs = ctx.short ? 3_000 : 30_000;
    /** A request still unanswered after this is abandoned (counted as a timeout, no sample). */
    const requestTimeoutMs = ctx.short ? 20_000 : 60_000;
    const measured: Measured[] = [];
    const skipped: string[] = [];
    let docsPerSecond: number | null = null;
    const notes: string[] = [];

    for (const size of sizes) {
      const docsToSeed = size + Math.round(size / 4) * 2 + size * 3;
      if (docsPerSecond && (docsToSeed / docsPerSecond) * 1000 > seedCapMs) {
        const projected = docsToSeed / docsPerSecond;
        skipped.push(`${size.toLocaleString('en-US')} conversations: not seeded (projected ${fmt(projected)} s at the ${fmt(docsPerSecond)} documents/s measured, over the ${seedCapMs / 1000} s cap; BENCH_READS_SEED_CAP_S raises it)`);
        continue;
      }
      const databaseName = ctx.databaseName(`c${size}`);
      ctx.log(`${size.toLocaleString('en-US')} conversations: seeding ${docsToSeed.toLocaleString('en-US')} documents…`);
      const seeded = await seedStore({ mongoUri: ctx.store.uri, databaseName, conversations: size, log: ctx.log });
      docsPerSecond = Object.values(seeded.counts).reduce((s, v) => s + v, 0) / (seeded.ms / 1000);
      const hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName });
      try {
        const m: Measured = { size, seedMs: seeded.ms, counts: seeded.counts, results: new Map(), verdicts: new Map(), outbox: null, idleStoreLoad: null, direct: new Map() };
        const probe = await measureSize(ctx, hub, seeded, { budgetMs, requestCapMs, requestTimeoutMs, results: m.results, idle: (load) => (m.idleStoreLoad = load) });
        Object.assign(m, await explainSize(ctx, databaseName, seeded, probe));
        measured.push(m);
      } finally {
        await hub.stop();
      }
      measured.at(-1)!.direct = await measureDirect(ctx, databaseName, seeded, { budgetMs: budgetMs / 2, requestCapMs });
    }

    const tables: BenchTable[] = [
      {
        caption: `Reads through the hub's HTTP API, one at a time, admin (page ${PAGE}; messages limit ${MESSAGES_LIMIT}); ms`,
        columns: ['conversations', 'seeding s', 'query', 'n', 'errors', 'p50', 'p95', 'p99', 'max', 'documents scanned / explain'],
        rows: measured.flatMap((m) =>
          QUERIES.map((q, i) => {
            const r = m.results.get(q)!;
            const p = percentiles(r.times);
            const v = m.verdicts.get(q);
            return [
              i === 0 ? m.size.toLocaleString('en-US') : '',
              i === 0 ? fmt(m.seedMs / 1000) : '',
              q,
              `${p.n}${r.capped ? '*' : ''}`,
              r.timeouts ? `${r.errors} (${r.timeouts} timeout)` : r.errors,
              fmt(p.p50), fmt(p.p95), fmt(p.p99), fmt(p.max),
              v ? v.text : 'n/a',
            ];
          }),
        ),
      },
      {
        caption: 'The same queries straight through the driver, the hub stopped (the store alone); ms',
        columns: ['conversations', 'query', 'n', 'p50', 'p95', 'max'],
        rows: measured.flatMap((m) =>
          [...m.direct].map(([q, times], i) => {
            const p = percentiles(times);
            return [i === 0 ? m.size.toLocaleString('en-US') : '', q, p.n, fmt(p.p50), fmt(p.p95), fmt(p.max)];
          }),
        ),
      },
      {
        caption: 'Seeded store per size (bench/seed.ts: insertMany in batches of 1,000, indexes created first), and the idle hub\'s load on it',
        columns: ['conversations', 'patients', 'identities', 'messages', 'seeding s', 'documents/s', 'store CPU, hub idle'],
        rows: measured.map((m) => {
          const total = Object.values(m.counts).reduce((s, v) => s + v, 0);
          return [
            m.size.toLocaleString('en-US'), m.counts.patients!.toLocaleString('en-US'), m.counts.identities!.toLocaleString('en-US'), m.counts.messages!.toLocaleString('en-US'),
            fmt(m.seedMs / 1000), fmt(total / (m.seedMs / 1000)), m.idleStoreLoad === null ? 'n/a' : `${fmt(m.idleStoreLoad * 100)} % of a core`,
          ];
        }),
      },
    ];
    if (measured.some((m) => [...m.results.values()].some((r) => r.capped))) {
      notes.push(`* fewer runs: a request took longer than ${requestCapMs / 1000} s (or timed out after ${requestTimeoutMs / 1000} s: an error, no sample), so it was not repeated (the figure is one or a few samples).`);
    }
    notes.push(...skipped);
    const skippedSizes = sizes.filter((n) => !measured.some((m) => m.size === n));
    if (skippedSizes.length && measured.length >= 2) {
      const a = measured.at(-2)!;
      const b = measured.at(-1)!;
      const project = (ta: number[], tb: number[], n: number) => {
        const pa = percentiles(ta).p50;
        const pb = percentiles(tb).p50;
        return pb + ((pb - pa) / (b.size - a.size)) * (n - b.size);
      };
      for (const n of skippedSizes) {
        const http = QUERIES.map((q) => `${q} ≈ ${fmt(project(a.results.get(q)!.times, b.results.get(q)!.times, n) / 1000)} s`).join(', ');
        const da = a.direct.get('inbox first page');
        const db = b.direct.get('inbox first page');
        notes.push(
          `Projected at ${n.toLocaleString('en-US')} conversations (not measured: linear from the p50s at ${a.size.toLocaleString('en-US')} and ${b.size.toLocaleString('en-US')}): ${http}` +
            (da?.length && db?.length ? `; the inbox page from the store alone ≈ ${fmt(project(da, db, n) / 1000)} s.` : '.'),
        );
      }
    }

    if (ctx.store.embedded && measured.length >= 2) {
      const costRows: (string | number)[][] = [];
      const slopeRow = (q: string, via: string, a: Measured, b: Measured, sa: number, sb: number, ta: number[], tb: number[]) => {
        const pa = percentiles(ta);
        const pb = percentiles(tb);
        costRows.push([q, via, `${a.size.toLocaleString('en-US')} → ${b.size.toLocaleString('en-US')}`, `${sa.toLocaleString('en-US')} → ${sb.toLocaleString('en-US')}`, fmt(((pb.p50 - pa.p50) / (sb - sa)) * 1000), fmt(((pb.p95 - pa.p95) / (sb - sa)) * 1000)]);
      };
      for (let i = 1; i < measured.length; i++) {
        const a = measured[i - 1]!;
        const b = measured[i]!;
        for (const q of QUERIES) {
          const sa = a.verdicts.get(q)?.scanned;
          const sb = b.verdicts.get(q)?.scanned;
          if (sa == null || sb == null || sb === sa) continue;
          slopeRow(q, 'HTTP', a, b, sa, sb, a.results.get(q)!.times, b.results.get(q)!.times);
        }
        for (const q of ['inbox first page', 'conversation messages (50)'] as const) {
          const collection = q === 'inbox first page' ? 'conversations' : 'messages';
          const ta = a.direct.get(q);
          const tb = b.direct.get(q);
          if (ta?.length && tb?.length) slopeRow(q, 'driver, hub stopped', a, b, a.counts[collection]!, b.counts[collection]!, ta, tb);
        }
      }
      tables.push({
        caption: 'Cost per stored document (embedded store): the slope of a query\'s time between two sizes ÷ the documents it reads more',
        columns: ['query', 'via', 'conversations', 'documents read', 'µs/document (p50)', 'µs/document (p95)'],
        rows: costRows,
      });

      // The largest inbox size under the p95 target, linear from the last two sizes.
      const a = measured.at(-2)!;
      const b = measured.at(-1)!;
      const limitNote = (via: string, ta: number[], tb: number[]) => {
        const pa = percentiles(ta).p95;
        const pb = percentiles(tb).p95;
        const slope = (pb - pa) / (b.size - a.size);
        if (!(slope > 0)) return `${via}: the inbox first page's p95 did not grow between ${a.size.toLocaleString('en-US')} and ${b.size.toLocaleString('en-US')} conversations (${fmt(pa)} → ${fmt(pb)} ms): no limit to extrapolate.`;
        const limit = a.size + (P95_TARGET_MS - pa) / slope;
        const intercept = pa - slope * a.size;
        if (limit <= 0) {
          return (
            `${via}: the inbox first page's p95 grows ${fmt(slope * 1000)} ms per 1,000 conversations (${fmt(pa)} ms at ${a.size.toLocaleString('en-US')}, ${fmt(pb)} ms at ${b.size.toLocaleString('en-US')}); ` +
            `the line's intercept (the cost at no conversations) is ${fmt(intercept)} ms, already over ${P95_TARGET_MS} ms: extrapolated linearly, no size keeps it under ${P95_TARGET_MS} ms on this machine as loaded now.`
          );
        }
        const curve = intercept < 0 ? ` The line's intercept is ${fmt(intercept)} ms: the time grew faster than linearly between these sizes (the store saturated), so this is a rough bound.` : '';
        const where = limit > b.size ? 'beyond the sizes measured: an extrapolation' : limit < a.size ? 'below the sizes measured: an extrapolation' : 'between the sizes measured: an interpolation';
        return (
          `${via}: the inbox first page's p95 grows ${fmt(slope * 1000)} ms per 1,000 conversations (${fmt(pa)} ms at ${a.size.toLocaleString('en-US')}, ${fmt(pb)} ms at ${b.size.toLocaleString('en-US')}); ` +
          `linearly, it stays under ${P95_TARGET_MS} ms up to about ${Math.max(0, Math.round(limit / 100) * 100).toLocaleString('en-US')} conversations (${where}).${curve}`
        );
      };
      notes.push(`Embedded store, ${limitNote('through the hub', a.results.get('inbox first page')!.times, b.results.get('inbox first page')!.times)}`);
      const da = a.direct.get('inbox first page');
      const db = b.direct.get('inbox first page');
      if (da?.length && db?.length) notes.push(`Embedded store, ${limitNote('the store alone (driver, hub stopped)', da, db)}`);
    }
    notes.push(...backgroundNotes(ctx, measured));
    return { tables, notes };
  },
};

interface Probe {
  /** The cursor of page 6 (after following nextCursor 5 times), decoded for explain. */
  cursor: { at: Date; id: string } | null;
}

async function measureSize(
  ctx: BenchContext,
  hub: HubProcess,
  seeded: SeedResult,
  options: { budgetMs: number; requestCapMs: number; requestTimeoutMs: number; results: Measured['results']; idle(load: number): void },
): Promise<Probe> {
  // What the idle hub costs the store (its pollers), over a few seconds after the start settled.
  const ferret = ctx.store.embedded ? ferretDbPid(ctx.store.uri) : null;
  if (ferret) {
    await pause(2_000);
    const before = cpuSeconds(ferret);
    const started = performance.now();
    await pause(ctx.short ? 2_000 : 5_000);
    const load = (cpuSeconds(ferret) - before) / ((performance.now() - started) / 1000);
    options.idle(load);
    ctx.log(`idle hub: FerretDB busy ${fmt(load * 100)} % of a core`);
  }
  const token = await login(hub.url);
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path: string, timeoutMs = 180_000): Promise<{ ok: boolean; ms: number; body: any; timedOut?: boolean }> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${hub.url}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
      const body = res.status === 200 ? await res.json() : await res.text();
      return { ok: res.status === 200, ms: performance.now() - t0, body };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return { ok: false, ms: performance.now() - t0, body: (error as Error).message, timedOut };
    }
  };

  // The cursor of page 6, found once by following nextCursor.
  let cursor: string | null = null;
  for (let page = 0; page < CURSOR_PAGES; page++) {
    const r = await get(`/api/conversations?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
    if (!r.ok) throw new Error(`inbox page ${page + 1}: ${String(r.body).slice(0, 200)}`);
    cursor = r.body.nextCursor;
    if (!cursor) break;
  }

  const patients = seeded.patients;
  const conversations = seeded.conversationIds;
  const paths: Record<QueryName, (run: number) => string> = {
    'inbox first page': () => `/api/conversations?limit=${PAGE}`,
    'inbox page 6 (cursor)': () => `/api/conversations?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`,
    // A different conversation / patient each run, spread over the whole seeded range.
    'conversation messages (50)': (run) => `/api/conversations/${encodeURIComponent(conversations[(run * 7919 + 13) % conversations.length]!)}/messages?limit=${MESSAGES_LIMIT}`,
    'patient by phone': (run) => `/api/patients?q=${encodeURIComponent(patients[(run * 104_729 + 7) % patients.length]!.phone)}`,
  };

  // Sanity: the seeded store reads as a hub's would (a full inbox page, 3 messages, the right patient).
  const first = await get(paths['inbox first page'](0));
  const history = await get(paths['conversation messages (50)'](0));
  const lookup = await get(paths['patient by phone'](0));
  const expectedPatient = patients[7 % patients.length]!.id;
  const sane = first.ok && first.body.items.length === PAGE && history.ok && history.body.items.length > 0 && lookup.ok && lookup.body.items?.[0]?.id === expectedPatient;
  ctx.log(`sanity: inbox ${first.ok ? first.body.items.length : 'error'} items, messages ${history.ok ? history.body.items.length : 'error'}, patient by phone ${lookup.ok ? `${lookup.body.items.length} found (${lookup.body.items?.[0]?.id === expectedPatient ? 'the seeded one' : 'NOT the seeded one'})` : 'error'}`);
  if (!sane) throw new Error(`the hub cannot read the seeded store as expected\n${hub.output().slice(-2000)}`);

  for (const query of QUERIES) {
    const times: number[] = [];
    let errors = 0;
    let capped = false;
    let timeouts = 0;
    const started = performance.now();
    for (let run = 1; ; run++) {
      const r = await get(paths[query](run), options.requestTimeoutMs);
      if (r.ok) times.push(r.ms);
      else errors++;
      if (r.timedOut) timeouts++;
      const elapsed = performance.now() - started;
      if (r.ms > options.requestCapMs) {
        capped = true;
        break;
      }
      if (run >= 3 && elapsed >= options.budgetMs) break;
      if (run >= 1000 || errors > 10) break;
    }
    options.results.set(query, { times, errors, timeouts, capped });
    // An abandoned request may still be running in the hub: let the store finish it before the next query.
    if (timeouts) await pause(Math.min(options.requestTimeoutMs, 30_000));
    const p = percentiles(times);
    ctx.log(`${query}: n=${p.n} p50 ${fmt(p.p50)} ms p95 ${fmt(p.p95)} ms${errors ? `, ${errors} errors` : ''}`);
  }
  return { cursor: cursor ? decodeCursor(cursor) : null };
}

/** The embedded FerretDB's process id, found by its listen address (Linux /proc; null elsewhere). */
function ferretDbPid(uri: string): number | null {
  try {
    const listen = `--listen-addr=127.0.0.1:${new URL(uri).port}`;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmdline.includes('ferretdb') && cmdline.includes(listen)) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

/** User + system CPU seconds of a process so far (Linux /proc, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The inbox page and a conversation's messages straight through the driver (the hub stopped): the store's cost alone. */
async function measureDirect(ctx: BenchContext, databaseName: string, seeded: SeedResult, options: { budgetMs: number; requestCapMs: number }): Promise<Measured['direct']> {
  const client = await MongoClient.connect(ctx.store.uri);
  const direct: Measured['direct'] = new Map();
  try {
    const db = client.db(databaseName);
    const cases = {
      'inbox first page': () => db.collection('conversations').find({}).sort({ lastMessageAt: -1, _id: -1 }).limit(PAGE + 1).toArray(),
      'conversation messages (50)': (run: number) =>
        db.collection('messages').find({ conversationId: seeded.conversationIds[(run * 7919 + 13) % seeded.conversationIds.length]! }).sort({ seq: -1 }).limit(MESSAGES_LIMIT + 1).toArray(),
    } as const;
    for (const [name, run] of Object.entries(cases) as [keyof typeof cases, (run: number) => Promise<unknown[]>][]) {
      const times: number[] = [];
      const started = performance.now();
      for (let i = 1; ; i++) {
        const t0 = performance.now();
        await run(i);
        const ms = performance.now() - t0;
        times.push(ms);
        if (ms > options.requestCapMs || (i >= 3 && performance.now() - started >= options.budgetMs) || i >= 500) break;
      }
      direct.set(name, times);
      ctx.log(`driver, hub stopped, ${name}: n=${times.length} p50 ${fmt(percentiles(times).p50)} ms`);
    }
  } finally {
    await client.close();
  }
  return direct;
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
  return { at: new Date(ms), id };
}

interface Explained {
  collection: string;
  label: string;
  pushedDown: boolean;
  text: string;
  examined: number | null;
}

/** The filters the hub issues for each request, explained through the driver. */
async function explainSize(ctx: BenchContext, databaseName: string, seeded: SeedResult, probe: Probe): Promise<{ verdicts: Map<QueryName, Verdict>; outbox: Verdict }> {
  const client = await MongoClient.connect(ctx.store.uri);
  try {
    const db = client.db(databaseName);
    const sizes: Record<string, number> = {};
    for (const name of ['conversations', 'messages', 'patients', 'identities']) sizes[name] = await db.collection(name).countDocuments();
    const explain = async (collection: string, label: string, filter: Document, sort?: Document, limit?: number): Promise<Explained> => {
      let cursor = db.collection(collection).find(filter as Filter<Document>);
      if (sort) cursor = cursor.sort(sort);
      if (limit) cursor = cursor.limit(limit);
      let plan: Record<string, any>;
      try {
        // FerretDB's executionStats runs the whole query again (seconds at these sizes) and reports no counts: its plan says enough.
        plan = (await cursor.explain(ctx.store.embedded ? 'queryPlanner' : 'executionStats')) as Record<string, any>;
      } catch (error) {
        return { collection, label, pushedDown: false, text: `${label}: explain failed (${(error as Error).message.slice(0, 80)})`, examined: null };
      }
      return summarize(collection, label, plan, sizes[collection] ?? null);
    };

    const conversationId = seeded.conversationIds[Math.floor(seeded.conversationIds.length / 2)]!;
    const patient = seeded.patients[Math.floor(seeded.patients.length / 2)]!;
    const identity = await db.collection('identities').findOne({ patientId: patient.id });
    const inboxSort = { lastMessageAt: -1, _id: -1 };
    const plans: Record<QueryName, Explained[]> = {
      'inbox first page': [await explain('conversations', 'inbox', {}, inboxSort, PAGE + 1)],
      'inbox page 6 (cursor)': [
        await explain(
          'conversations',
          'inbox',
          probe.cursor ? { $and: [{}, { $or: [{ lastMessageAt: { $lt: probe.cursor.at } }, { lastMessageAt: probe.cursor.at, _id: { $lt: probe.cursor.id } }] }] } : {},
          inboxSort,
          PAGE + 1,
        ),
      ],
      'conversation messages (50)': [
        await explain('conversations', 'conversation by _id', { _id: conversationId }),
        await explain('messages', 'messages', { conversationId }, { seq: -1 }, MESSAGES_LIMIT + 1),
      ],
      'patient by phone': [
        await explain('identities', 'identity by _id', { _id: identity?._id ?? 'phone:none' }),
        await explain('patients', 'patient by _id', { _id: patient.id }),
        await explain('conversations', 'conversations of patient', { patientId: { $in: [patient.id] } }, { lastMessageAt: -1 }),
        await explain('identities', 'identities of patient', { patientId: { $in: [patient.id] } }),
      ],
    };
    const verdicts = new Map<QueryName, Verdict>();
    for (const q of QUERIES) {
      const parts = plans[q];
      const examined = parts.every((p) => p.examined !== null) ? parts.reduce((s, p) => s + p.examined!, 0) : null;
      const prefix = examined === null ? '' : `${examined.toLocaleString('en-US')} docs${ctx.store.embedded ? ' decoded' : ' examined'}: `;
      verdicts.set(q, { text: prefix + parts.map((p) => p.text).join('; '), scanned: examined });
      ctx.log(`explain ${q}: ${parts.map((p) => p.text).join('; ')}`);
    }
    // The hub's own background poll (delivery worker, every second): what it costs on this store at this size.
    const outbox = await explain('messages', 'outbox poll', { outboxDueAt: { $lte: new Date() } }, { outboxDueAt: 1 }, 20);
    return { verdicts, outbox: { text: outbox.text, scanned: outbox.examined } };
  } finally {
    await client.close();
  }
}

/** One explain, in a few words: FerretDB's pushdowns and SQLite plan, or MongoDB's stages and documents examined. */
function summarize(collection: string, label: string, raw: Record<string, any>, collectionSize: number | null): Explained {
  const plan = (Array.isArray(raw) ? raw[0] : raw) as Record<string, any>;
  const planner = plan.queryPlanner as Record<string, any> | undefined;
  if (typeof plan.filterPushdown === 'boolean' || Array.isArray(planner?.Plan)) {
    // FerretDB: with a filter pushdown SQLite selects the rows (by _id: one row); without, every row is read and filtered in Go.
    const steps = Array.isArray(planner?.Plan)
      ? (planner!.Plan as unknown[]).map((step) => {
          const text = typeof step === 'string' ? step : String((step as { Detail?: unknown })?.Detail ?? JSON.stringify(step));
          return (/detail=(.*)$/.exec(text)?.[1] ?? text).replace(/_[0-9a-f]{8}\b/g, '');
        })
      : [];
    const sqlite = steps.filter(Boolean).join(', ');
    const pushed = plan.filterPushdown === true;
    const flags = [plan.sortPushdown === true ? 'sort pushed down' : '', plan.limitPushdown === true ? 'limit pushed down' : ''].filter(Boolean).join(', ');
    // Pushed down: SQLite filters the rows (with SCAN it still reads every row, but FerretDB decodes only the matches).
    const text = pushed
      ? `${label}: pushed down (SQLite ${sqlite || 'n/a'}${flags ? `; ${flags}` : ''})`
      : `${label}: all ${collectionSize?.toLocaleString('en-US') ?? '?'} ${collection} read (no pushdown${flags ? `; ${flags}` : ''})`;
    return { collection, label, pushedDown: pushed, text, examined: pushed ? 0 : collectionSize };
  }
  // MongoDB: the winning plan's stages and the documents examined.
  const stages: string[] = [];
  let stage = planner?.winningPlan as Record<string, any> | undefined;
  while (stage) {
    stages.push(stage.indexName ? `${stage.stage}(${stage.indexName})` : String(stage.stage));
    stage = (stage.inputStage ?? stage.queryPlan ?? stage.inputStages?.[0]) as Record<string, any> | undefined;
  }
  const stats = plan.executionStats as { totalDocsExamined?: number; totalKeysExamined?: number } | undefined;
  const collscan = stages.some((s) => s.startsWith('COLLSCAN'));
  return {
    collection,
    label,
    pushedDown: !collscan,
    text: `${label}: ${collscan ? 'COLLSCAN' : 'IXSCAN'} [${stages.join(' <- ')}], ${stats?.totalDocsExamined ?? '?'} docs / ${stats?.totalKeysExamined ?? '?'} keys examined`,
    examined: stats?.totalDocsExamined ?? null,
  };
}

function backgroundNotes(ctx: BenchContext, measured: Measured[]): string[] {
  const notes: string[] = [];
  const outbox = measured.map((m) => ({ size: m.size, v: m.outbox, messages: m.counts.messages! })).filter((o) => o.v);
  if (outbox.length) {
    const last = outbox.at(-1)!;
    notes.push(
      `Background: the delivery worker's look for due messages (Message.find({outboxDueAt: {$lte: now}})), every second on MongoDB and every 30 s on the embedded store (OUTBOX_POLL_SECONDS); at ${last.size.toLocaleString('en-US')} conversations (${last.messages.toLocaleString('en-US')} messages): ${last.v!.text}. ` +
        (ctx.store.embedded ? 'The idle hub\'s store CPU above also includes its start-up reads of whole collections (resuming media imports, the contact-card rollout) and the routing sweep every 30 s, each a scan there.' : ''),
    );
  }
  notes.push('Scanned counts on FerretDB are the collection sizes when its explain reports no filter pushdown (FerretDB 1.x reports no documents-examined figure); on MongoDB, executionStats.totalDocsExamined. The request also reads the session and writes an audit entry (small collections, not counted).');
  return notes;
}
