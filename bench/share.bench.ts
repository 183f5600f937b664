/**
 * `npm run bench -- share` (issue #23, item 2): our share of an operation's
 * time versus the store's.
 *
 * 1. Records the database commands the hub issues for one inbound SMS, one
 *    reply handed to Twilio, one status callback and one inbox page
 *    (bench/command-counts.ts: an in-process hub with driver command
 *    monitoring, Twilio intercepted with nock), on a database seeded with
 *    `conversations` conversations, and prints them per operation with the
 *    budget and how many ran before the hub answered the request.
 * 2. Measures the hub's throughput for the same operations in its own process
 *    on that database (signed webhooks sequentially and 10 in flight, replies
 *    through the API to a fake Twilio API (bench/fake-twilio-api.ts), status
 *    callbacks, inbox pages).
 * 3. Replays exactly the recorded commands with the driver against the same
 *    database (fresh `_id`/`providerKey`/`seqKey`/… per replay so unique
 *    indexes do not refuse them; every other value as recorded) and prints
 *    hub ÷ replay throughput (goal ≥ 0.5) and the time split.
 * 4. Profiles one ingest run (`--cpu-prof`) and names the top costs
 *    (bench/cpu-profile.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mongoose, { Types } from 'mongoose';
import nock from 'nock';
import { loadConfig } from '../server/config.ts';
import type { ConversationDoc, PatientDoc } from '../server/db/documents.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';
import { BENCH_ENV } from './bench-env.ts';
import { countCommandsPerOperation, summarizeCommands, type CommandCount, type Operation } from './command-counts.ts';
import { readProfile, type CostLine, type ProfileSummary } from './cpu-profile.ts';
import { openStoreCounter } from './store-counters.ts';
import { BENCH_TWILIO_ENV, inboundSmsForm, postTwilioWebhook, startFakeTwilioApi, statusCallbackForm, type FakeTwilioApi } from './fake-twilio-api.ts';
import { fmt, login, pause, percentiles, startHubProcess, type Bench, type BenchContext, type BenchReport, type BenchTable, type HubProcess } from './harness.ts';

const { BSON, MongoClient, ObjectId } = mongoose.mongo;
type Doc = Record<string, unknown>;

const REPO = join(import.meta.dirname, '..');
const PATIENT_PHONES = 10;
const IN_FLIGHT = 10;

interface Sizes {
  conversations: number;
  ingest: number;
  replies: number;
  callbacks: number;
  pages: number;
  profileWebhooks: number;
  /** Each measured phase stops starting operations after this (the replay then runs as many as the hub did). */
  phaseSeconds: number;
  profileSeconds: number;
}

const SHORT: Sizes = { conversations: 500, ingest: 40, replies: 20, callbacks: 20, pages: 20, profileWebhooks: 100, phaseSeconds: 3, profileSeconds: 8 };
const FULL: Sizes = { conversations: 2000, ingest: 200, replies: 100, callbacks: 100, pages: 50, profileWebhooks: 300, phaseSeconds: 20, profileSeconds: 30 };

const OP = {
  ingest: 'inbound SMS (known patient, open conversation)',
  reply: 'agent reply, handed to Twilio',
  status: 'status callback (delivered)',
  inbox: 'inbox first page (25)',
} as const satisfies Record<string, Operation>;

export const bench: Bench = {
  name: 'share',
  summary: 'database commands per operation, replayed alone: hub ÷ store throughput; CPU profile of ingest',
  run,
};

async function run(ctx: BenchContext): Promise<BenchReport> {
  const sizes = ctx.short ? SHORT : FULL;
  const databaseName = ctx.databaseName('store');
  const tables: BenchTable[] = [];
  const notes: string[] = [];

  // 1. Record (in-process hub, monitored driver, Twilio intercepted by nock).
  ctx.log(`seeding ${sizes.conversations} conversations and recording the commands per operation`);
  const recorded = await record(ctx, databaseName, sizes.conversations);
  tables.push({
    caption: `Database commands per operation (recorded with driver command monitoring, ${sizes.conversations} conversations stored)`,
    columns: ['operation', 'commands', 'budget', 'before the answer', 'after the answer', 'commands (in order)'],
    rows: recorded.map((c) => [c.operation, c.commands.length, c.budget, c.beforeAnswer, c.commands.length - c.beforeAnswer, summarizeCommands(c.commands)]),
  });

  // 2. The hub in its own process, on the same database.
  const fake = await startFakeTwilioApi();
  let hub: HubProcess | undefined;
  const hubRates = new Map<string, { rate: number; p50: number; p95: number; n: number; errors: number; storeCommands?: number }>();
  const counter = await openStoreCounter(ctx.store.uri);
  let phones: string[] = [];
  try {
    hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env: fake.env });
    const token = await login(hub.url);
    ctx.log('hub process ready; opening the patients’ conversations');
    const setup = await openConversations(hub.url, token, fake);
    phones = setup.phones;
    ctx.log(`measuring the hub: ${sizes.ingest} webhooks sequential and ${IN_FLIGHT} in flight, ${sizes.replies} replies, ${sizes.callbacks} callbacks, ${sizes.pages} inbox pages`);
    const cap = sizes.phaseSeconds * 1000;
    // The store's own count of the commands served during a phase, per operation (the hub's background polls included).
    const measure = async (key: string, phase: () => Promise<{ rate: number; p50: number; p95: number; n: number; errors: number; ownCommands?: number }>) => {
      const before = await counter.read();
      const figures = await phase();
      hubRates.set(key, { ...figures, storeCommands: (await counter.read()) - before - (figures.ownCommands ?? 0) });
      return figures;
    };
    await measure('ingest seq', () => timeOps(sizes.ingest, 1, cap, (i) => postTwilioWebhook(hub!.url, '/webhooks/twilio/sms', inboundSmsForm(phones[i % phones.length]!, `bench message ${i}`)).then(okIf(200))));
    await measure('ingest par', () => timeOps(sizes.ingest, IN_FLIGHT, cap, (i) => postTwilioWebhook(hub!.url, '/webhooks/twilio/sms', inboundSmsForm(phones[i % phones.length]!, `bench message p${i}`)).then(okIf(200))));
    let sids: { sid: string; path: string }[] = [];
    await measure('reply', async () => {
      const replies = await timeReplies(hub!.url, token, setup.conversationIds, fake, sizes.replies, cap, ctx.store.uri, databaseName);
      sids = replies.sids;
      return replies.figures;
    });
    await measure('status', () => timeOps(Math.min(sizes.callbacks, sids.length), 1, cap, (i) => postTwilioWebhook(hub!.url, sids[i]!.path, statusCallbackForm(sids[i]!.sid, 'delivered')).then(okIf(200))));
    await measure('inbox', () => timeOps(sizes.pages, 1, cap, async () => {
      const res = await fetch(`${hub!.url}/api/conversations?limit=25`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status === 200;
    }));
  } finally {
    await hub?.stop();
    await fake.close();
    await counter.close();
  }

  // 3. Replay the recorded commands alone, against the same database.
  ctx.log('replaying the recorded commands with the driver');
  const client = await MongoClient.connect(ctx.store.uri);
  const replays = new Map<string, ReplayResult>();
  try {
    const db = client.db(databaseName);
    const byOp = new Map(recorded.map((c) => [c.operation, c]));
    let iteration = 0;
    const replayOp = async (key: string, op: Operation, n: number, inFlight: number) => {
      const result = await replay(db, byOp.get(op)!, n, inFlight, () => ++iteration);
      replays.set(key, result);
    };
    // As many as the hub did in each phase, so both see collections of the same size.
    const done = (key: string) => Math.max(1, hubRates.get(key)?.n ?? 1);
    await replayOp('ingest seq', OP.ingest, done('ingest seq'), 1);
    await replayOp('ingest par', OP.ingest, done('ingest par'), IN_FLIGHT);
    await replayOp('reply', OP.reply, done('reply'), 1);
    await replayOp('status', OP.status, done('status'), 1);
    await replayOp('inbox', OP.inbox, done('inbox'), 1);
    // What the replay added is removed, so the profiled run sees the database the hub left.
    await db.collection('messages').deleteMany({ _id: { $regex: REPLAY_MARK } } as Doc);
    await db.collection('audit_events').deleteMany({ _id: { $gte: REPLAY_NUMBER_BASE } } as Doc);
  } finally {
    await client.close();
  }

  const rows: (string | number)[][] = [];
  const labels: [string, Operation, string][] = [
    ['ingest seq', OP.ingest, 'inbound SMS webhook, sequential'],
    ['ingest par', OP.ingest, `inbound SMS webhook, ${IN_FLIGHT} in flight`],
    ['reply', OP.reply, 'reply (POST, until handed to Twilio), sequential'],
    ['status', OP.status, 'status callback (delivered), sequential'],
    ['inbox', OP.inbox, 'inbox first page (GET), sequential'],
  ];
  for (const [key, , label] of labels) {
    const h = hubRates.get(key);
    const r = replays.get(key);
    if (!h || !r) continue;
    const hubMs = 1000 / h.rate;
    const storeMs = r.inFlight === 1 ? r.msPerOp : NaN;
    rows.push([label, h.n, h.storeCommands !== undefined ? fmt(h.storeCommands / h.n) : '–', fmt(h.rate), fmt(h.p50), fmt(h.p95), h.errors, fmt(r.rate), fmt(h.rate / r.rate, 2), r.inFlight === 1 ? fmt(storeMs) : '–', r.inFlight === 1 ? fmt(hubMs - storeMs) : '–', `${r.matchedWrites}/${r.writes}`]);
  }
  tables.push({
    caption: 'Hub throughput (its own process) versus the same commands replayed alone with the driver (goal: hub ÷ replay ≥ 0.5)',
    columns: ['operation', 'n', 'store cmds/op', 'hub ops/s', 'hub p50 ms', 'hub p95 ms', 'errors', 'replay ops/s', 'hub ÷ replay', 'store ms/op', 'rest ms/op', 'replay writes matched'],
    rows,
  });

  // Where the store time goes inside each sequence.
  const costRows: (string | number)[][] = [];
  for (const [key, op] of [['ingest seq', OP.ingest], ['reply', OP.reply], ['status', OP.status], ['inbox', OP.inbox]] as const) {
    const r = replays.get(key);
    const rec = byOperation(recorded, op);
    if (!r || !rec) continue;
    const total = r.perCommandMs.reduce((s, v) => s + v, 0);
    const ranked = r.perCommandMs.map((ms, i) => ({ ms, i })).sort((a, b) => b.ms - a.ms).slice(0, 4);
    for (const { ms, i } of ranked) {
      costRows.push([op, i + 1, describeCommand(r.shapes[i]!), i < rec.beforeAnswer ? 'before' : 'after', fmt(ms / r.n), `${Math.round((100 * ms) / total)}%`]);
    }
  }
  tables.push({
    caption: 'The costliest commands of each operation in the sequential replay (# = position in the sequence; before/after the hub answered)',
    columns: ['operation', '#', 'command', 'answer', 'ms each', 'share of the op’s store time'],
    rows: costRows,
  });

  // 4. Profile one ingest run.
  ctx.log(`profiling the hub: ${sizes.profileWebhooks} webhooks (--cpu-prof)`);
  const profile = await profileIngest(ctx, databaseName, phones, sizes.profileWebhooks, sizes.profileSeconds * 1000);
  if (profile) {
    const { summary, seconds, rate } = profile;
    const pct = (line: CostLine) => `${(line.share * 100).toFixed(1)}%`;
    const ofBusy = (line: CostLine) => `${((line.selfUs / summary.busyUs) * 100).toFixed(1)}%`;
    tables.push({
      caption: `CPU profile of the hub during ${profile.n} sequential webhooks (${fmt(rate)}/s, ${seconds.toFixed(1)} s profiled; busy ${((summary.busyUs / summary.totalUs) * 100).toFixed(0)}% of it): by kind`,
      columns: ['kind', 'self ms', 'of total', 'of busy'],
      rows: summary.kinds.map((k) => [k.name, fmt(k.selfUs / 1000), pct(k), k.name === 'idle' ? '–' : ofBusy(k)]),
    });
    const busyPackages = summary.packages.filter((p) => p.name !== '(idle)');
    tables.push({
      caption: 'Top costs by package or file (self time; idle left out)',
      columns: ['package / our file', 'self ms', 'of total', 'of busy'],
      rows: busyPackages.slice(0, 8).map((p) => [p.name, fmt(p.selfUs / 1000), pct(p), ofBusy(p)]),
    });
    const busyFunctions = summary.functions.filter((f) => f.name !== '(idle)');
    tables.push({
      caption: 'Top costs by function (self time; idle left out)',
      columns: ['function (file:line)', 'self ms', 'of total', 'of busy'],
      rows: busyFunctions.slice(0, 8).map((f) => [f.name, fmt(f.selfUs / 1000), pct(f), ofBusy(f)]),
    });
    notes.push(`CPU profile: top five by package ${busyPackages.slice(0, 5).map((p) => `${p.name} ${ofBusy(p)}`).join(', ')} (of busy time); our own code (server/, channels/) is ${ofBusy(summary.kinds.find((k) => k.name === 'our code') ?? { name: '', selfUs: 0, share: 0 })} of it.`);
  } else {
    notes.push('CPU profile: the hub process wrote no .cpuprofile (it did not exit cleanly).');
  }

  // The audit chain (server/audit/audit-log.ts) appends one entry at a time per process: under concurrency every
  // audited operation waits for the inserts queued before its own, so their latency under load bounds the rate.
  const par = replays.get('ingest par');
  const ingestRec = byOperation(recorded, OP.ingest);
  if (par && ingestRec) {
    const auditAt = par.shapes.findIndex((c) => c.insert === 'audit_events');
    if (auditAt >= 0) {
      const auditMs = par.perCommandMs[auditAt]! / par.n;
      notes.push(`Under ${IN_FLIGHT} in flight (replay) one audit_events insert took ${fmt(auditMs)} ms: the hub appends its audit entries one at a time (one queue per process), so any path with an audit entry before its answer is held under ~${fmt(1000 / auditMs)} ops/s when the store is this busy; the replay's inserts run side by side.`);
    }
  }

  // Readings.
  for (const [key, , label] of labels) {
    const h = hubRates.get(key);
    const r = replays.get(key);
    if (h && r) {
      const ratio = h.rate / r.rate;
      notes.push(`${label}: hub ${fmt(h.rate)}/s vs replay ${fmt(r.rate)}/s = ${fmt(ratio, 2)} ${ratio >= 0.5 ? '(≥ 0.5: the store is the limit)' : '(< 0.5: our code costs more than the store)'}${r.inFlight === 1 ? `; store ${fmt(r.msPerOp)} ms of ${fmt(1000 / h.rate)} ms per op` : ''}.`);
    }
  }
  notes.push(
    'Replay: each operation = its recorded command sequence sent one after another with db.command() (driver fields lsid/$clusterTime/$db/txnNumber removed); ' +
      'inserted _id/providerKey/seqKey/providerMessageId (and the audit entry number) are fresh per replay, everything else as recorded. ' +
      'Conditional writes whose condition no longer holds (a conversation\'s lastSeq, a KPI fact\'s rev, a status already delivered) match nothing on replay ("replay writes matched"): ' +
      'the replay skips their write, so it is an upper bound on the store\'s speed and hub ÷ replay a lower bound.',
  );
  notes.push('store cmds/op: the data commands the store counted (serverStatus) during the hub\'s phase ÷ operations: a check that the hub process issues what was recorded (the bench\'s own polls of the outbox, while waiting for it to empty, are subtracted).');
  notes.push(
    `The hub run and the replay use one database: ${sizes.conversations} conversations inserted directly (no messages), ${PATIENT_PHONES} patients writing in by SMS, each answered once first. ` +
      'Hub replies: POSTed one after another; the rate counts until the last one is handed to the fake Twilio API (tunnelled through HTTP_PROXY, bench/fake-twilio-api.ts) and out of the outbox.',
  );
  if (ctx.store.embedded) notes.push('Embedded FerretDB pushes only an exact {_id} filter down to SQLite: any other filter (a compare-and-set condition, providerMessageId, outboxDueAt, the inbox) reads the whole collection, which is what the costliest commands above are.');
  return { tables, notes };
}

// ---------------------------------------------------------------------------------------------------------------
// Recording

async function record(ctx: BenchContext, databaseName: string, conversations: number): Promise<CommandCount[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-share-'));
  let hub: Hub | undefined;
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  try {
    const config = loadConfig({ ...BENCH_ENV, ...BENCH_TWILIO_ENV, DATA_DIR: dataDir, MONGODB_DATABASE: databaseName });
    hub = await buildHub({ config, mongoUri: ctx.store.uri, logger: createLogger({ level: config.logLevel }), monitorDatabaseCommands: true, deliveryPollMs: 600_000 });
    await seedConversations(hub, conversations);
    const { url } = await hub.listen(0, '127.0.0.1');
    const token = await login(url);
    return await countCommandsPerOperation({ hub, url, adminToken: token }, { keepDocuments: true });
  } finally {
    await hub?.close().catch(() => {});
    nock.cleanAll();
    nock.enableNetConnect();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Conversations (and a patient for every four) inserted directly, in the shape the timeline leaves them. */
async function seedConversations(hub: Hub, count: number): Promise<void> {
  const { models, cipher } = hub.services.timeline;
  const now = Date.now();
  const day = 86_400_000;
  const patients: PatientDoc[] = [];
  const conversations: ConversationDoc[] = [];
  const patientCount = Math.max(1, Math.round(count / 4));
  for (let p = 0; p < patientCount; p++) {
    const createdAt = new Date(now - 90 * day);
    patients.push({
      _id: new Types.ObjectId().toHexString(), nameEnc: cipher.encrypt(`Seeded Patient ${p}`),
      preferences: { channel: null, language: null, timezone: null },
      consent: { sms: { status: 'opted_in' }, email: { status: 'unknown' }, webchat: { status: 'unknown' } },
      consentHistory: [], claimedContacts: [], mergedInto: null, latestConversationId: null, conversationCount: 0, createdAt, updatedAt: createdAt,
    });
  }
  for (let i = 0; i < count; i++) {
    const patient = patients[i % patientCount]!;
    const n = patient.conversationCount + 1;
    const lastMessageAt = new Date(Math.floor((now - ((i * 7919) % 30) * day - i * 1000) / 1000) * 1000);
    const resolved = i + patientCount < count || i % 3 === 0;
    conversations.push({
      _id: `${patient._id}-${n}`, patientId: patient._id, status: resolved ? 'resolved' : 'open', assigneeId: null, teamId: 'front-desk', priority: 'normal', subject: null,
      channels: ['sms'], lastInboundChannel: 'sms', lastInboundAt: lastMessageAt, lastMessageAt, lastSeq: 3, previewEnc: cipher.encrypt('Can I reschedule my appointment?'),
      previewDirection: 'inbound', patientNameEnc: patient.nameEnc, unreadCount: resolved ? 0 : 1, messageCount: 3, openedAt: new Date(lastMessageAt.getTime() - day),
      firstResponseAt: null, assignedAt: null, resolvedAt: resolved ? lastMessageAt : null, reopenedAt: null, reopenCount: 0, updatedAt: lastMessageAt,
    });
    patient.conversationCount = n;
    patient.latestConversationId = `${patient._id}-${n}`;
  }
  for (let i = 0; i < patients.length; i += 500) await models.Patient.insertMany(patients.slice(i, i + 500), { lean: true });
  for (let i = 0; i < conversations.length; i += 500) await models.Conversation.insertMany(conversations.slice(i, i + 500), { lean: true });
}

// ---------------------------------------------------------------------------------------------------------------
// The hub's throughput

const okIf = (status: number) => (got: number) => got === status;

/** Up to `n` operations, `inFlight` at a time, none started after `capMs`: completions per second, latencies, errors. */
async function timeOps(n: number, inFlight: number, capMs: number, op: (i: number) => Promise<boolean>) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < n && performance.now() - started < capMs; i = next++) {
      const t0 = performance.now();
      const ok = await op(i).catch(() => false);
      latencies.push(performance.now() - t0);
      if (!ok) errors++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const p = percentiles(latencies);
  return { rate: latencies.length / seconds, p50: p.p50, p95: p.p95, n: latencies.length, errors };
}

/** Patients who wrote in by SMS, each answered once (the everyday case the recording counts). */
async function openConversations(url: string, token: string, fake: FakeTwilioApi) {
  const tag = randomBytes(2).readUInt16BE() % 9000;
  const phones = Array.from({ length: PATIENT_PHONES }, (_, i) => `+1415${String(1000 + tag).padStart(4, '0')}${String(100 + i).padStart(3, '0')}`);
  for (const phone of phones) {
    const status = await postTwilioWebhook(url, '/webhooks/twilio/sms', inboundSmsForm(phone, 'first message opens the conversation'));
    if (status !== 200) throw new Error(`the first webhook answered ${status}`);
  }
  const res = await fetch(`${url}/api/conversations?limit=${PATIENT_PHONES}`, { headers: { authorization: `Bearer ${token}` } });
  const conversationIds = ((await res.json()) as { items: { id: string }[] }).items.map((c) => c.id);
  const accepted = fake.requests.filter((r) => r.status === 201).length;
  for (const id of conversationIds) await postReply(url, token, id, 'hello, how can we help?');
  await fake.waitForAccepted(accepted + conversationIds.length, 60_000);
  return { phones, conversationIds };
}

async function postReply(url: string, token: string, conversationId: string, body: string): Promise<boolean> {
  const res = await fetch(`${url}/api/conversations/${conversationId}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ body }),
  });
  await res.arrayBuffer();
  return res.status === 201;
}

/** Replies POSTed one after another; done when the fake Twilio API has them all and the outbox is empty. */
async function timeReplies(url: string, token: string, conversationIds: string[], fake: FakeTwilioApi, max: number, capMs: number, mongoUri: string, databaseName: string) {
  const before = fake.requests.filter((r) => r.status === 201).length;
  const latencies: number[] = [];
  let errors = 0;
  const run = randomBytes(3).toString('hex');
  const started = performance.now();
  let n = 0;
  for (; n < max && performance.now() - started < capMs; n++) {
    const i = n;
    const t0 = performance.now();
    if (!(await postReply(url, token, conversationIds[i % conversationIds.length]!, `bench reply ${run} ${i}`))) errors++;
    latencies.push(performance.now() - t0);
  }
  await fake.waitForAccepted(before + n - errors, 120_000);
  // Handed over is recorded right after Twilio answers (outboxDueAt: null): wait for the last record.
  const client = await MongoClient.connect(mongoUri);
  let polls = 0;
  try {
    const messages = client.db(databaseName).collection('messages');
    const deadline = Date.now() + 30_000;
    for (;;) {
      polls++;
      if (Date.now() > deadline || !(await messages.findOne({ outboxDueAt: { $ne: null } }, { projection: { _id: 1 } }))) break;
      await pause(20);
    }
  } finally {
    await client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  // Each callback goes where Twilio would post it: the StatusCallback URL the hub gave (its path and query).
  const sids = fake.requests.filter((r) => r.status === 201 && r.form.Body?.startsWith(`bench reply ${run} `))
    .map((r) => ({ sid: r.sid!, path: new URL(r.form.StatusCallback!).pathname + new URL(r.form.StatusCallback!).search }));
  const p = percentiles(latencies);
  return { figures: { rate: n / seconds, p50: p.p50, p95: p.p95, n, errors, ownCommands: polls }, sids };
}

// ---------------------------------------------------------------------------------------------------------------
// Replay

/** Fresh values in replayed strings carry this mark (so what the replay inserted can be removed). */
const REPLAY_MARK = '~r';
/** Replayed audit entries get numbers from here up (the hub's chain numbers 1, 2, 3…). */
const REPLAY_NUMBER_BASE = 10_000_000_000;
const DRIVER_FIELDS = ['lsid', '$clusterTime', '$db', 'txnNumber', '$readPreference', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'autocommit', 'startTransaction'];
/** Fields with a unique index besides _id (server/db/models.ts), and the provider's id that providerKey embeds. */
const UNIQUE_FIELDS = ['providerKey', 'seqKey', 'providerMessageId'];

interface ReplayResult {
  n: number;
  inFlight: number;
  rate: number;
  msPerOp: number;
  /** Total ms per command position (sequential replays only). */
  perCommandMs: number[];
  shapes: Doc[];
  writes: number;
  matchedWrites: number;
}

interface FreshKeys {
  pattern: RegExp | null;
  numbers: Set<number>;
  objectIds: Set<string>;
}

function freshKeys(commands: Doc[]): FreshKeys {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const objectIds = new Set<string>();
  for (const command of commands) {
    if (!('insert' in command)) continue;
    for (const doc of (command.documents as Doc[]) ?? []) {
      const id = doc._id;
      if (typeof id === 'string') strings.add(id);
      else if (typeof id === 'number') numbers.add(id);
      else if (id instanceof ObjectId) objectIds.add(id.toHexString());
      for (const field of UNIQUE_FIELDS) if (typeof doc[field] === 'string' && (doc[field] as string).length >= 8) strings.add(doc[field] as string);
    }
  }
  const escaped = [...strings].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return { pattern: escaped.length ? new RegExp(escaped.join('|'), 'g') : null, numbers, objectIds };
}

function rewrite(value: unknown, keys: FreshKeys, n: number, objectIds: Map<string, InstanceType<typeof ObjectId>>, key?: string): unknown {
  if (typeof value === 'string') return keys.pattern ? value.replace(keys.pattern, (m) => `${m}${REPLAY_MARK}${n}`) : value;
  if (typeof value === 'number') return key === '_id' && keys.numbers.has(value) ? REPLAY_NUMBER_BASE + n * 100 + (value % 100) : value;
  if (value instanceof ObjectId) {
    const hex = value.toHexString();
    if (!keys.objectIds.has(hex)) return value;
    if (!objectIds.has(hex)) objectIds.set(hex, new ObjectId());
    return objectIds.get(hex);
  }
  if (Array.isArray(value)) return value.map((v) => rewrite(v, keys, n, objectIds));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, keys, n, objectIds, k)]));
  }
  return value;
}

function commandsOf(recorded: CommandCount): Doc[] {
  return recorded.documents!.map((b) => {
    const doc = BSON.deserialize(b) as Doc;
    for (const f of DRIVER_FIELDS) delete doc[f];
    return doc;
  });
}

async function replay(db: ReturnType<InstanceType<typeof MongoClient>['db']>, recorded: CommandCount, n: number, inFlight: number, nextIteration: () => number): Promise<ReplayResult> {
  const template = commandsOf(recorded);
  const keys = freshKeys(template);
  const perCommandMs = template.map(() => 0);
  let writes = 0;
  let matchedWrites = 0;
  let next = 0;
  // Commands prepared before the clock starts: the replay times the store, not our rewriting.
  const prepared = Array.from({ length: n }, () => {
    const iteration = nextIteration();
    const objectIds = new Map();
    return commandsOf(recorded).map((c) => rewrite(c, keys, iteration, objectIds) as Doc);
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < n; i = next++) {
      const commands = prepared[i]!;
      for (let c = 0; c < commands.length; c++) {
        const t0 = performance.now();
        const answer = await db.command(commands[c]!);
        perCommandMs[c]! += performance.now() - t0;
        const name = Object.keys(commands[c]!)[0]!;
        if (name === 'update' || name === 'findAndModify' || name === 'delete') {
          writes++;
          const matched = name === 'findAndModify' ? (answer.lastErrorObject as Doc | undefined)?.n : answer.n;
          if (typeof matched === 'number' && matched > 0) matchedWrites++;
        }
      }
    }
  }));
  const ms = performance.now() - started;
  return { n, inFlight, rate: n / (ms / 1000), msPerOp: ms / n, perCommandMs, shapes: template, writes, matchedWrites };
}

/** `findAndModify conversations {_id, lastSeq, status}` */
function describeCommand(command: Doc): string {
  const name = Object.keys(command)[0]!;
  const collection = String(command[name]);
  const filterOf = (): Doc | undefined => {
    if (name === 'find') return command.filter as Doc;
    if (name === 'findAndModify') return command.query as Doc;
    if (name === 'update') return ((command.updates as Doc[])[0]?.q as Doc) ?? undefined;
    return undefined;
  };
  const filter = filterOf();
  const shape = filter ? `{${Object.keys(filter).join(', ')}}` : '';
  const extra = name === 'update' && (command.updates as Doc[]).length > 1 ? ` ×${(command.updates as Doc[]).length} updates` : '';
  return `${name} ${collection} ${shape}${extra}`.trim();
}

const byOperation = (recorded: CommandCount[], op: Operation) => recorded.find((c) => c.operation === op);

// ---------------------------------------------------------------------------------------------------------------
// CPU profile

async function profileIngest(ctx: BenchContext, databaseName: string, phones: string[], webhooks: number, capMs: number): Promise<{ summary: ProfileSummary; seconds: number; rate: number; n: number } | null> {
  const dir = await mkdtemp(join(tmpdir(), 'carethread-bench-cpuprof-'));
  const fake = await startFakeTwilioApi();
  let hub: HubProcess | undefined;
  try {
    hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env: fake.env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const started = performance.now();
    const figures = await timeOps(webhooks, 1, capMs, (i) => postTwilioWebhook(hub!.url, '/webhooks/twilio/sms', inboundSmsForm(phones[i % phones.length]!, `profiled message ${i}`)).then(okIf(200)));
    const seconds = (performance.now() - started) / 1000;
    const stopping = performance.now();
    await hub.stop();
    hub = undefined;
    // The profile covers the process's life: only the run is counted (it ended when SIGTERM was sent; the exit took the rest).
    const window = { durationUs: seconds * 1e6, endGapUs: (performance.now() - stopping) * 1000 };
    // One profile per thread (tsx's loader runs in its own): the hub is the busiest.
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    let best: ProfileSummary | null = null;
    for (const f of files) {
      if ((await stat(join(dir, f))).size === 0) continue;
      const summary = await readProfile(join(dir, f), REPO, window);
      if (!best || summary.busyUs > best.busyUs) best = summary;
    }
    return best ? { summary: best, seconds, rate: figures.rate, n: figures.n } : null;
  } finally {
    await hub?.stop();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}
