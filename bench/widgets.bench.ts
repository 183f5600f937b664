/**
 * `npm run bench -- widgets`: how many idle web chat sockets one hub node
 * holds with heartbeats, what each costs in heap and RSS, and how fast they
 * connect (issue #23, item 4).
 *
 * - The hub runs in its own process with the memory probe preloaded
 *   (bench/memory-probe.ts: memoryUsage on stderr every second, and after a
 *   full GC on SIGUSR2; `--expose-gc`), its abuse ceilings raised as the
 *   tests raise them, and its file-descriptor limit raised with prlimit(1)
 *   where the bench may (root, or a hard limit high enough).
 * - Visitors: a sample is created through the API (POST /api/widget/visitors,
 *   10 in flight: the rate and latency are printed); the rest are seeded with
 *   insertMany as copies of one API-created visitor (its identity and patient
 *   documents with a new visitor id, identity `_id`, sealed value and patient
 *   `_id`), and their tokens signed as the hub signs them (VisitorTokens,
 *   BENCH_ENV's JWT_SECRET). The /widget handshake reads them like any other
 *   (the identity by `_id`, the patient by `_id`).
 * - Clients: forked worker processes (bench/widget-client-worker.ts), each
 *   holding up to 5,000 sockets from its own loopback address (127.0.0.<n>:
 *   one source address has ~28,000 ephemeral ports), opening them a few at
 *   a time; a socket counts once the hub's `session` event arrives (the
 *   hub's whole connection setup done).
 * - Steps (short: 2,000 then 10,000; full: 10,000 then 50,000) on the same
 *   hub: connect up to the step, stay idle for 30 s (short 10 s) with the
 *   hub's heartbeats (pingInterval 10 s, pingTimeout 10 s as configured in
 *   server/hub.ts), count disconnections and heartbeats seen, then a full GC
 *   in the hub and its heap and RSS: per connection = (value − value of the
 *   idle hub before any socket, after GC) ÷ sockets open.
 * - Stops early (and says so) when connections fail (> 1 %), the connect
 *   phase passes its cap, or the hub exits.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import mongoose from 'mongoose';
import { loadConfig } from '../server/config.ts';
import { PhiCipher } from '../server/crypto/phi-cipher.ts';
import { identityKey } from '../server/timeline/ingest/resolve-identity.ts';
import { VisitorTokens } from '../server/widget/visitor-tokens.ts';
import { BENCH_ENV } from './bench-env.ts';
import { fmt, pause, percentiles, startHubProcess, type Bench, type BenchContext, type BenchReport, type HubProcess } from './harness.ts';
import { startBareServer } from './realtime.bench.ts';
import type { FromWorker, ToWorker } from './widget-client-worker.ts';

const { MongoClient } = mongoose.mongo;

/** Sockets per client process (and per loopback source address). */
const PER_WORKER = 5000;
/** Sockets being opened at once, over all workers. */
const IN_FLIGHT = 64;
/** File descriptors asked for the hub and the workers (each socket is one on each side). */
const NOFILE = 200_000;

/** The abuse ceilings the tests raise (test/support/test-hub.ts): every visitor here comes from loopback. */
const WIDGET_ENV: Record<string, string> = {
  WIDGET_NEW_CHATS_PER_IP_PER_HOUR: '1000000',
  WIDGET_NEW_CHATS_PER_HOUR: '1000000',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '1000000',
  WIDGET_MESSAGES_PER_CHAT_PER_MINUTE: '1000',
  WIDGET_UPLOADS_PER_IP_PER_HOUR: '1000000',
  VERIFICATION_CODES_PER_IP_PER_HOUR: '1000000',
  VERIFICATION_CODES_PER_HOUR: '1000000',
  LOGIN_FAILURES_PER_IP_PER_HOUR: '1000000',
  CSAT_SURVEYS: 'off',
};

interface MemoryLine {
  at: number;
  gc: boolean;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Reads the probe's lines from the hub's stderr; `afterGc()` asks for a full GC and resolves with the line after it. */
function watchMemory(child: ChildProcess) {
  let partial = '';
  let latest: MemoryLine | undefined;
  let waiting: ((line: MemoryLine) => void) | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const at = line.indexOf('[memory-probe] ');
      if (at < 0) continue;
      const parsed = JSON.parse(line.slice(at + 15)) as MemoryLine;
      latest = parsed;
      if (parsed.gc && waiting) {
        waiting(parsed);
        waiting = undefined;
      }
    }
  });
  return {
    latest: () => latest,
    afterGc(): Promise<MemoryLine> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the server did not report memory after GC within 30 s')), 30_000);
        waiting = (line) => {
          clearTimeout(timer);
          resolve(line);
        };
        child.kill('SIGUSR2');
      });
    },
  };
}

/** Raises a process's open-files limit (soft and hard) with prlimit(1); returns the limit it has after, and why raising failed. */
function raiseNofile(pid: number): { limit: number; refused: string | null } {
  let refused: string | null = null;
  try {
    execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${NOFILE}:${NOFILE}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    // Not allowed (no CAP_SYS_RESOURCE and the hard limit is lower): the limit stays and the report says so.
    refused = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim().replace(/^prlimit: /, '');
  }
  try {
    const out = execFileSync('prlimit', [`--pid=${pid}`, '--nofile', '--noheadings', '--output=SOFT'], { encoding: 'utf8' });
    return { limit: Number(out.trim()), refused };
  } catch {
    return { limit: NaN, refused };
  }
}

interface Worker {
  child: ChildProcess;
  address: string;
  next(type: FromWorker['type']): Promise<FromWorker>;
  send(message: ToWorker): void;
}

async function startWorker(index: number): Promise<Worker> {
  const child = fork(join(import.meta.dirname, 'widget-client-worker.ts'), [], {
    cwd: join(import.meta.dirname, '..'),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: FromWorker[] = [];
  const waiters: { type: FromWorker['type']; resolve: (m: FromWorker) => void }[] = [];
  child.on('message', (message: FromWorker) => {
    const at = waiters.findIndex((w) => w.type === message.type);
    if (at >= 0) waiters.splice(at, 1)[0]!.resolve(message);
    else queue.push(message);
  });
  const worker: Worker = {
    child,
    address: `127.0.0.${2 + index}`,
    next: (type) =>
      new Promise((resolve, reject) => {
        const at = queue.findIndex((m) => m.type === type);
        if (at >= 0) return resolve(queue.splice(at, 1)[0]!);
        const onExit = () => reject(new Error(`client worker ${index} exited`));
        child.once('exit', onExit);
        waiters.push({ type, resolve: (m) => { child.off('exit', onExit); resolve(m); } });
      }),
    send: (message) => child.send(message),
  };
  await worker.next('ready');
  raiseNofile(child.pid!);
  return worker;
}

/** Visitors through the API: how long the hub takes to start a chat (each writes identity, patient, rate limits, audit). */
async function createVisitorsThroughApi(url: string, count: number, inFlight: number) {
  const latencies: number[] = [];
  const tokens: { token: string; visitorId: string }[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      next++;
      const t0 = performance.now();
      const res = await fetch(`${url}/api/widget/visitors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bench Visitor' }) });
      const body = (await res.json()) as { token?: string; session?: { visitorId: string } };
      if (res.status === 201 && body.token && body.session) {
        latencies.push(performance.now() - t0);
        tokens.push({ token: body.token, visitorId: body.session.visitorId });
      } else errors++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { tokens, latencies, errors, seconds: (performance.now() - started) / 1000 };
}

/** Copies of one API-created visitor (identity + patient), written with insertMany; returns their tokens. */
async function seedVisitors(mongoUri: string, databaseName: string, template: { visitorId: string }, count: number) {
  const started = performance.now();
  const config = loadConfig({ ...BENCH_ENV, MONGODB_DATABASE: databaseName });
  const cipher = new PhiCipher(config.phiKeys, config.blindIndexKey);
  const keyCtx = { cipher, settings: { defaultPhoneRegion: config.defaultPhoneRegion } } as Parameters<typeof identityKey>[0];
  const tokensOf = new VisitorTokens(BENCH_ENV.JWT_SECRET!, () => new Date());
  const client = await MongoClient.connect(mongoUri);
  try {
    const db = client.db(databaseName);
    type Doc = Record<string, unknown> & { _id: string };
    const identities = db.collection<Doc>('identities');
    const patients = db.collection<Doc>('patients');
    const identity = await identities.findOne({ _id: identityKey(keyCtx, { kind: 'web', value: template.visitorId }).id });
    if (!identity) throw new Error('the API-created visitor has no identity document');
    const patient = await patients.findOne({ _id: identity.patientId as string });
    if (!patient) throw new Error('the API-created visitor has no patient document');
    const tokens: string[] = [];
    for (let done = 0; done < count; ) {
      const batch = Math.min(1000, count - done);
      const now = new Date();
      const newPatients: Doc[] = [];
      const newIdentities: Doc[] = [];
      for (let i = 0; i < batch; i++) {
        const visitorId = VisitorTokens.newVisitorId();
        const patientId = new mongoose.Types.ObjectId().toHexString();
        newPatients.push({ ...patient, _id: patientId, createdAt: now, updatedAt: now });
        newIdentities.push({ ...identity, _id: identityKey(keyCtx, { kind: 'web', value: visitorId }).id, patientId, valueEnc: cipher.encrypt(visitorId), createdAt: now, lastSeenAt: now });
        tokens.push(tokensOf.issue(visitorId));
      }
      await patients.insertMany(newPatients, { ordered: false });
      await identities.insertMany(newIdentities, { ordered: false });
      done += batch;
    }
    const seconds = (performance.now() - started) / 1000;

    // What the /widget handshake asks the store: the identity by _id, then its patient by _id.
    const stored = await identities.countDocuments({});
    const all = await identities.find({}, { projection: { _id: 1, patientId: 1 } }).toArray();
    const lookups: number[] = [];
    for (let i = 0; i < 20; i++) {
      const pick = all[Math.floor(((i + 0.5) / 20) * all.length)]!;
      const t0 = performance.now();
      await identities.findOne({ _id: pick._id });
      await patients.findOne({ _id: pick.patientId as string });
      lookups.push(performance.now() - t0);
    }
    // A full scan's cost per document: the last identity read minus the first (a findOne stops at its match).
    const timeOne = async (id: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await identities.findOne({ _id: id });
        times.push(performance.now() - t0);
      }
      return percentiles(times).p50;
    };
    const scanUs = (Math.max(0, (await timeOne(all.at(-1)!._id)) - (await timeOne(all[0]!._id))) * 1000) / stored;
    const explained = (await identities.find({ _id: all.at(-1)!._id }).explain()) as { queryPlanner?: { Plan?: unknown; winningPlan?: { stage?: string; inputStage?: { stage?: string } } } };
    const planner = explained.queryPlanner;
    const plan = planner?.Plan ? JSON.stringify(planner.Plan) : [planner?.winningPlan?.stage, planner?.winningPlan?.inputStage?.stage].filter(Boolean).join(' ← ');
    return { tokens, seconds, stored, lookup: percentiles(lookups), plan, scanUs };
  } finally {
    await client.close();
  }
}

interface Server {
  url: string;
  child: ChildProcess;
  memory: ReturnType<typeof watchMemory>;
  /** After a full GC with no socket open. */
  base: MemoryLine;
}

interface StepOutcome {
  open: number;
  connectRow: (string | number)[];
  idleRow: (string | number)[];
  perHeap: number;
  perRss: number;
  notes: string[];
  stop: string | null;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * Opens the sockets from `from` up to `step` (tokens[i] for socket i), stays idle `idleSeconds` with heartbeats,
 * then counts what is open and what dropped, and the server's memory after a full GC against its base.
 */
async function holdStep(label: string, server: Server, workers: Worker[], tokens: readonly string[], from: number, step: number, caps: { connectSeconds: number; idleSeconds: number }): Promise<StepOutcome> {
  const notes: string[] = [];
  const slice = tokens.slice(from, step);
  // Contiguous shares: worker k holds sockets k·PER_WORKER … (k+1)·PER_WORKER − 1.
  const shares: string[][] = workers.map(() => []);
  slice.forEach((token, i) => shares[Math.floor((from + i) / PER_WORKER)]!.push(token));
  const inFlight = Math.max(1, Math.ceil(IN_FLIGHT / workers.length));
  const deadline = Date.now() + caps.connectSeconds * 1000;
  const started = performance.now();
  const results = (await Promise.all(
    workers.map(async (w, i) => {
      if (shares[i]!.length === 0) return null;
      w.send({ type: 'connect', url: server.url, tokens: shares[i]!, localAddress: w.address, inFlight, deadline });
      return (await w.next('connected')) as Extract<FromWorker, { type: 'connected' }>;
    }),
  )).filter((r): r is Extract<FromWorker, { type: 'connected' }> => r !== null);
  const seconds = (performance.now() - started) / 1000;
  const ok = results.reduce((s, r) => s + r.ok, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  const notTried = slice.length - ok - failed;
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const connectMs = percentiles(results.flatMap((r) => r.connectMs));
  const connectRow = [label, `${fmt(from)} → ${fmt(step)}`, fmt(ok), fmt(failed), fmt(notTried), fmt(ok / seconds), fmt(connectMs.p50), fmt(connectMs.p95), fmt(connectMs.p99), fmt(connectMs.max), fmt(seconds)];
  if (Object.keys(errors).length) notes.push(`${label}: connection errors on the way to ${fmt(step)}: ${Object.entries(errors).map(([k, v]) => `${v}× "${k}"`).join('; ')}.`);
  if (notTried > 0) notes.push(`${label}: the step to ${fmt(step)} reached ${fmt(from + ok)} within its ${caps.connectSeconds} s connect cap (${fmt(ok / seconds)} connects/s here).`);

  // Idle with heartbeats.
  for (const w of workers) w.send({ type: 'reset' });
  const rssSamples: number[] = [];
  const idleEnds = Date.now() + caps.idleSeconds * 1000;
  while (Date.now() < idleEnds && server.child.exitCode === null) {
    await pause(1000);
    rssSamples.push(await rssOf(server.child.pid!).catch(() => NaN));
  }
  if (server.child.exitCode !== null) {
    return { open: 0, connectRow, idleRow: [], perHeap: NaN, perRss: NaN, notes, stop: `the ${label} process exited (${server.child.exitCode}) while holding about ${fmt(from + ok)} sockets` };
  }
  const counts = await Promise.all(workers.map(async (w) => {
    w.send({ type: 'count' });
    return (await w.next('counts')) as Extract<FromWorker, { type: 'counts' }>;
  }));
  const open = counts.reduce((s, c) => s + c.open, 0);
  const drops = counts.reduce((s, c) => s + c.disconnects, 0);
  const pings = counts.reduce((s, c) => s + c.pings, 0);
  const reasons: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
  if (Object.keys(reasons).length) notes.push(`${label}: disconnections while idle at ${fmt(step)}: ${Object.entries(reasons).map(([k, v]) => `${v}× ${k}`).join('; ')}.`);
  const clientRss = counts.reduce((s, c) => s + c.rss, 0);
  const after = await server.memory.afterGc();
  const { base } = server;
  const perHeap = (after.heapUsed - base.heapUsed) / open;
  const perRss = (after.rss - base.rss) / open;
  const perExternal = (after.external - base.external) / open;
  const peak = Math.max(after.rss, ...rssSamples.filter(Number.isFinite));
  const idleRow = [label, fmt(open), fmt(drops), fmt(pings / Math.max(1, open), 2), mb(after.heapUsed), mb(after.rss), kb(perHeap), kb(perExternal), kb(perRss), mb(peak), mb(clientRss)];
  const stop = failed > slice.length * 0.01 ? `${fmt(failed)} of ${fmt(slice.length)} connections to the ${label} on the way to ${fmt(step)} failed` : null;
  return { open, connectRow, idleRow, perHeap, perRss, notes, stop };
}

export const bench: Bench = {
  name: 'widgets',
  summary: 'idle /widget sockets one hub holds with heartbeats: connect rate, heap and RSS per connection, drops',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const asked = ctx.short ? [2000, 10_000] : [10_000, 50_000];
    const caps = { connectSeconds: ctx.short ? 12 : 180, idleSeconds: ctx.short ? 10 : 30 };
    const bareCaps = { connectSeconds: ctx.short ? 15 : 60, idleSeconds: ctx.short ? 10 : 20 };
    const apiSample = ctx.short ? 50 : 300;
    const embeddedVisitors = ctx.short ? 200 : 1000;
    const notes: string[] = [];
    const workers: Worker[] = [];
    let hub: HubProcess | undefined;
    let bare: Awaited<ReturnType<typeof startBareServer>> | undefined;
    try {
      const probe = pathToFileURL(join(import.meta.dirname, 'memory-probe.ts')).href;
      const probeArgs = ['--expose-gc', '--import', 'tsx', '--import', probe];
      const databaseName = ctx.databaseName('widgets');
      hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env: WIDGET_ENV, nodeArgs: probeArgs });
      const { limit: hubNofile, refused } = raiseNofile(hub.child.pid!);
      const hubMemory = watchMemory(hub.child);
      // Each socket is one file descriptor in the hub: beyond its limit the hub refuses connections (EMFILE).
      const fdsInUse = (await readdir(`/proc/${hub.child.pid}/fd`)).length;
      const fdRoom = Number.isFinite(hubNofile) ? hubNofile - fdsInUse - 100 : Infinity;
      const steps = [...new Set(asked.map((n) => Math.min(n, fdRoom)))];
      if (steps.at(-1)! < asked.at(-1)!) {
        notes.push(
          `${fmt(asked.at(-1)!)} sockets not tried: the hub's open-files limit is ${fmt(hubNofile)} (${refused ? `prlimit could not raise it: ${refused}` : 'as raised'}), ` +
            `${fmt(fdsInUse)} already in use, so the last step is ${fmt(steps.at(-1)!)}. Where the limit can be raised (LimitNOFILE=, ulimit -n) the memory per socket below is what to multiply.`,
        );
      }
      const target = steps.at(-1)!;
      ctx.log(`hub up; its open-files limit ${fmt(hubNofile)} (${fdsInUse} in use); steps ${steps.map((n) => fmt(n)).join(', ')}`);

      // Visitors: a sample through the API, the rest seeded as copies.
      const api = await createVisitorsThroughApi(hub.url, apiSample, 10);
      const apiLatency = percentiles(api.latencies);
      const apiRate = api.tokens.length / api.seconds;
      ctx.log(`${api.tokens.length} visitors through the API in ${api.seconds.toFixed(1)} s (${fmt(apiRate)}/s)`);
      if (api.tokens.length === 0) throw new Error(`no visitor could be created through the API (${api.errors} errors)\n${hub.output()}`);
      // On the embedded store every read by _id scans its collection (see the note): a connect costs time in
      // proportion to the visitors stored, so there the sockets share a few hundred visitors (several tabs each).
      const visitors = ctx.store.embedded ? Math.min(target, embeddedVisitors) : target;
      const seeded = await seedVisitors(ctx.store.uri, databaseName, api.tokens[0]!, Math.max(0, visitors - api.tokens.length));
      ctx.log(`${seeded.tokens.length} visitors seeded in ${seeded.seconds.toFixed(1)} s; identity + patient by _id: p50 ${fmt(seeded.lookup.p50)} ms at ${fmt(seeded.stored)} visitors (${seeded.plan})`);
      const visitorTokens = [...api.tokens.map((t) => t.token), ...seeded.tokens];
      const tokens = Array.from({ length: target }, (_, i) => visitorTokens[i % visitorTokens.length]!);
      notes.push(
        `Visitors through the API (POST /api/widget/visitors, 10 in flight): ${fmt(apiRate)}/s, p50 ${fmt(apiLatency.p50)} ms, p99 ${fmt(apiLatency.p99)} ms, ${api.errors} errors; ` +
          `${fmt(Math.max(target, asked.at(-1)!))} that way would take at least ${fmt(Math.max(target, asked.at(-1)!) / apiRate)} s (more as the store grows), so ${fmt(seeded.tokens.length)} more were seeded as copies of one with insertMany in ${fmt(seeded.seconds)} s.`,
        `Store time per connect: the /widget handshake reads the visitor's identity and then its patient by _id; with ${fmt(seeded.stored)} visitors stored that pair takes p50 ${fmt(seeded.lookup.p50)} ms, p99 ${fmt(seeded.lookup.p99)} ms through the driver (plan: ${seeded.plan}).` +
          (ctx.store.embedded
            ? ` FerretDB scans the collection even for _id: reading the last identity costs ${fmt(seeded.scanUs)} µs more per stored visitor than reading the first, so at 50,000 visitors each connect would spend about ${fmt((seeded.scanUs * 50_000) / 1000)} ms in the store (half a scan of each collection on average). ` +
              `That is why the ${fmt(target)} sockets here share ${fmt(visitorTokens.length)} visitors (${fmt(target / visitorTokens.length)} tabs each; a socket still joins its visitor's and patient's rooms). On MONGODB_URI every socket is its own visitor.`
            : ` Every socket is its own visitor.`),
      );

      await pause(1500);
      const hubServer: Server = { url: hub.url, child: hub.child, memory: hubMemory, base: await hubMemory.afterGc() };
      ctx.log(`idle hub after GC: heap ${mb(hubServer.base.heapUsed)}, RSS ${mb(hubServer.base.rss)}`);

      const workerCount = Math.ceil(target / PER_WORKER);
      for (let i = 0; i < workerCount; i++) workers.push(await startWorker(i));

      const connectRows: (string | number)[][] = [];
      const idleRows: (string | number)[][] = [];
      let open = 0;
      let hubLast: StepOutcome | undefined;
      let stoppedBecause: string | null = null;
      for (const step of steps) {
        const outcome = await holdStep('hub', hubServer, workers, tokens, open, step, caps);
        connectRows.push(outcome.connectRow);
        if (outcome.idleRow.length) idleRows.push(outcome.idleRow);
        notes.push(...outcome.notes);
        ctx.log(`hub, step ${fmt(step)}: ${outcome.connectRow[2]} connected (${outcome.connectRow[5]}/s); idle: ${fmt(outcome.open)} open, ${outcome.idleRow[2] ?? '?'} dropped, ${kb(outcome.perHeap)} heap and ${kb(outcome.perRss)} RSS per socket`);
        open = outcome.open;
        hubLast = outcome;
        stoppedBecause = outcome.stop;
        if (stoppedBecause) break;
      }
      if (stoppedBecause) notes.push(`Stopped early: ${stoppedBecause}.`);

      // The reference: a bare Socket.IO server (same options, same client) holding as many sockets.
      let bareLast: StepOutcome | undefined;
      if (open > 0) {
        await Promise.all(workers.map(async (w) => {
          w.send({ type: 'drop' });
          await w.next('dropped');
        }));
        await hub.stop();
        hub = undefined;
        bare = await startBareServer(probeArgs);
        const bareMemory = watchMemory(bare.child);
        await pause(1500);
        const bareServer: Server = { url: bare.url, child: bare.child, memory: bareMemory, base: await bareMemory.afterGc() };
        bareLast = await holdStep('bare Socket.IO', bareServer, workers, Array.from({ length: open }, () => 'bare'), 0, open, bareCaps);
        connectRows.push(bareLast.connectRow);
        if (bareLast.idleRow.length) idleRows.push(bareLast.idleRow);
        notes.push(...bareLast.notes);
        ctx.log(`bare Socket.IO: ${fmt(bareLast.open)} open, ${kb(bareLast.perHeap)} heap and ${kb(bareLast.perRss)} RSS per socket`);
      }

      notes.splice(
        0,
        0,
        `Per socket = (memory after a full GC with the sockets open − the same process idle after GC, hub ${mb(hubServer.base.heapUsed)} heap / ${mb(hubServer.base.rss)} RSS) ÷ sockets open. ` +
          `Socket.IO's own figure is about 10 KB per idle connection; goal ≤ 12 KB` +
          (hubLast && Number.isFinite(hubLast.perHeap) ? `: the hub ${kb(hubLast.perHeap)} heap and ${kb(hubLast.perRss)} RSS per socket at ${fmt(hubLast.open)}` : '') +
          (bareLast && Number.isFinite(bareLast.perHeap) ? `; a bare Socket.IO server with the same options and client ${kb(bareLast.perHeap)} heap and ${kb(bareLast.perRss)} RSS (hub ÷ bare, heap: ${fmt(hubLast!.perHeap / bareLast.perHeap)}×).` : '.'),
        `Heartbeats as the hub configures them (pingInterval 10 s, pingTimeout 10 s); "pings/socket" is the heartbeats each socket answered while idle (about idle seconds ÷ 10 when every socket is pinged on time). Each widget socket joins two rooms (its visitor's and its patient's; the bare server's sockets two rooms of their own). ` +
          `The hub's open-files limit: ${fmt(hubNofile)}${refused ? ' (not raised)' : ' (raised with prlimit)'}; clients in ${workers.length} processes of ≤ ${fmt(PER_WORKER)} sockets, ${IN_FLIGHT} connecting at once in all, each process from its own 127.0.0.x.`,
      );
      return {
        tables: [
          { caption: `Connecting widget sockets (ms until the server's session event)`, columns: ['server', 'step', 'connected', 'failed', 'not tried (cap)', 'sockets/s', 'p50', 'p95', 'p99', 'max', 's'], rows: connectRows },
          {
            caption: `Idle widget sockets with heartbeats (hub ${caps.idleSeconds} s, bare ${bareCaps.idleSeconds} s), server memory after a full GC`,
            columns: ['server', 'open', 'dropped', 'pings/socket', 'heap', 'RSS', 'heap/socket', 'external/socket', 'RSS/socket', 'peak RSS', 'clients RSS'],
            rows: idleRows,
          },
        ],
        notes,
      };
    } finally {
      await Promise.all(workers.map(async (w) => {
        if (w.child.exitCode !== null) return;
        const exited = new Promise((r) => w.child.once('exit', r));
        try {
          w.send({ type: 'close' });
        } catch {
          // already gone
        }
        const killer = setTimeout(() => w.child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }));
      await hub?.stop();
      await bare?.stop();
    }
  },
};

const mb = (bytes: number) => `${fmt(bytes / 1048576)} MB`;
const kb = (bytes: number) => `${fmt(bytes / 1024)} KB`;
