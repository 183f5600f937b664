/**
 * `npm run bench`: how fast the agents' inbox lists and how fast inbound
 * messages are stored, on the embedded FerretDB (or MONGODB_URI).
 *
 *   BENCH_CONVERSATIONS    conversations to seed (default 2000; patients = a quarter of that)
 *   BENCH_INGEST_MESSAGES  inbound messages per ingest run (default 200)
 *   MONGODB_URI          benchmark a MongoDB instead (a throwaway database is created and dropped)
 *
 * Starts its own FerretDB in a temporary DATA_DIR, builds a hub without
 * listening, seeds conversations directly, then times listInbox() for an
 * admin and a plain agent under several filters, prints what FerretDB's
 * explain says it pushes down to SQLite, and measures ingestInbound
 * throughput sequentially and with 10 in flight. Prints figures only; no
 * assertions. Everything it started is stopped and the temp dir is deleted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { QueryFilter as FilterQuery } from 'mongoose';
import { Types } from 'mongoose';
import type { ChannelId } from '../channels/channel-id.ts';
import type { NormalizedInbound } from '../channels/contract.ts';
import { visibleConversationsFilter, type Actor } from '../server/access/access-policy.ts';
import { createAgent, DEFAULT_TEAM, ensureTeam } from '../server/auth/agent-directory.ts';
import { loadConfig } from '../server/config.ts';
import type { ConversationDoc, ConversationStatus, PatientDoc, Priority } from '../server/db/documents.ts';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../server/db/embedded/ferretdb-process.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';
import { ingestInbound } from '../server/timeline/ingest/ingest-inbound.ts';
import { listInbox, type InboxFilters } from '../server/timeline/inbox-list.ts';
import type { TimelineContext } from '../server/timeline/timeline-context.ts';
import { BENCH_ENV } from './bench-env.ts';
import { prng } from './seed.ts';


const CONVERSATIONS = positiveInt(process.env.BENCH_CONVERSATIONS, 2000);
const PATIENTS = Math.max(1, Math.round(CONVERSATIONS / 4));
const RUNS = 30;
const WARMUP_RUNS = 3;
const PAGE_SIZE = 25;
const PAGES = 5;
const INGEST_MESSAGES = positiveInt(process.env.BENCH_INGEST_MESSAGES, 200);
const INGEST_CONCURRENCY = 10;
const TEAMS = [
  { id: DEFAULT_TEAM.id, name: DEFAULT_TEAM.name, weight: 0.7 },
  { id: 'billing', name: 'Billing', weight: 0.2 },
  { id: 'nurses', name: 'Nurse line', weight: 0.1 },
];

function positiveInt(raw: string | undefined, fallback: number): number {
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CONVERSATIONS must be a positive integer, not "${raw}"`);
  return n;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main(): Promise<void> {
  const externalUri = process.env.MONGODB_URI;
  const dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-'));
  const databaseName = `bench_${randomBytes(4).toString('hex')}`;
  let embedded: EmbeddedDatabase | undefined;
  let hub: Hub | undefined;
  try {
    if (!externalUri) embedded = await startEmbeddedFerretDb({ dataDir });
    const config = loadConfig({ ...BENCH_ENV, DATA_DIR: dataDir, MONGODB_DATABASE: databaseName });
    const logger = createLogger({ level: config.logLevel });
    hub = await buildHub({ config, mongoUri: externalUri ?? embedded!.uri, logger });
    const ctx = hub.services.timeline;
    console.log(`CareThread inbox bench: ${externalUri ? 'MONGODB_URI' : 'embedded FerretDB 1.x (SQLite)'}, ${CONVERSATIONS} conversations across ${PATIENTS} patients, page size ${PAGE_SIZE}, ${RUNS} runs per case (after ${WARMUP_RUNS} warm-up)`);

    const { admin, agent, agentIds } = await seedAgents(ctx);
    const seeded = await seedConversations(ctx, agentIds);
    console.log(`seeded ${seeded.conversations} conversations (${seeded.patients} patients) in ${seeded.ms.toFixed(0)} ms; visible to the front-desk agent: ${seeded.visibleToAgent}`);
    console.log('');

    await benchInbox(ctx, [
      { label: 'admin', actor: admin },
      { label: 'agent (front-desk)', actor: agent },
    ]);
    console.log('');
    await explainInbox(ctx, admin, agent);
    console.log('');
    await benchIngest(ctx);

    if (externalUri) await hub.services.db.connection.dropDatabase();
  } finally {
    await hub?.close().catch((error) => console.error(`error closing the hub: ${(error as Error).message}`));
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function seedAgents(ctx: TimelineContext): Promise<{ admin: Actor; agent: Actor; agentIds: Record<string, string[]> }> {
  const now = ctx.clock();
  for (const team of TEAMS) await ensureTeam(ctx.models, team.id, team.name, now);
  const adminDoc = await ctx.models.Agent.findOne({ role: 'admin' }).lean().orFail();
  const agentDoc = await createAgent(ctx.models, { email: 'agent@bench.local', name: 'Bench Agent', password: 'agent-password-123', role: 'agent', teamIds: [DEFAULT_TEAM.id] }, now);
  // Assignees for the seeded conversations: the bench agent plus a few made-up colleagues per team.
  const agentIds: Record<string, string[]> = {};
  for (const team of TEAMS) {
    agentIds[team.id] = Array.from({ length: 4 }, () => new Types.ObjectId().toHexString());
  }
  agentIds[DEFAULT_TEAM.id]!.push(agentDoc._id);
  return {
    admin: { agentId: adminDoc._id, role: 'admin', teamIds: adminDoc.teamIds, sessionId: 'bench' },
    agent: { agentId: agentDoc._id, role: 'agent', teamIds: [DEFAULT_TEAM.id], sessionId: 'bench' },
    agentIds,
  };
}

const FIRST_NAMES = ['Ava', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farah', 'Gabe', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Milo', 'Nora', 'Omar', 'Pia'];
const LAST_NAMES = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jones', 'Khan', 'Lopez', 'Moreau', 'Novak'];
const PREVIEWS = [
  'Can I reschedule my appointment?', 'Thank you, see you Friday.', 'Is my prescription ready?',
  'I have a question about my bill.', 'What time do you open?', 'Do you take my insurance?',
];

/** Conversation documents written directly (insertMany), in the shape the timeline would leave them. */
async function seedConversations(ctx: TimelineContext, agentIds: Record<string, string[]>) {
  const started = performance.now();
  const random = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const now = Date.now();
  const dayMs = 86_400_000;
  const patients: PatientDoc[] = [];
  for (let p = 0; p < PATIENTS; p++) {
    const createdAt = new Date(now - 90 * dayMs);
    patients.push({
      _id: new Types.ObjectId().toHexString(),
      nameEnc: ctx.cipher.encrypt(`${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`),
      preferences: { channel: null, language: null, timezone: null },
      consent: { sms: { status: 'opted_in' }, email: { status: 'unknown' }, webchat: { status: 'unknown' } },
      consentHistory: [],
      claimedContacts: [],
      mergedInto: null,
      latestConversationId: null,
      conversationCount: 0,
      createdAt,
      updatedAt: createdAt,
    });
  }
  const conversations: ConversationDoc[] = [];
  for (let i = 0; i < CONVERSATIONS; i++) {
    const patient = patients[i % PATIENTS]!;
    const n = patient.conversationCount + 1;
    const isLatest = i + PATIENTS >= CONVERSATIONS;
    const roll = random();
    const status: ConversationStatus = !isLatest ? 'resolved' : roll < 0.6 ? 'open' : roll < 0.75 ? 'pending' : 'resolved';
    const teamRoll = random();
    const team = teamRoll < TEAMS[0]!.weight ? TEAMS[0]! : teamRoll < TEAMS[0]!.weight + TEAMS[1]!.weight ? TEAMS[1]! : TEAMS[2]!;
    const assigned = status === 'resolved' || random() < 0.6;
    const channelRoll = random();
    const channels: ChannelId[] = channelRoll < 0.45 ? ['sms'] : channelRoll < 0.7 ? ['email'] : channelRoll < 0.85 ? ['webchat'] : ['sms', 'email'];
    // Whole minutes over 30 days: some conversations share a lastMessageAt, as the _id tiebreak must handle.
    const lastMessageAt = new Date(Math.floor((now - random() * 30 * dayMs) / 60_000) * 60_000);
    const openedAt = new Date(lastMessageAt.getTime() - random() * 2 * dayMs);
    const messageCount = 1 + Math.floor(random() * 12);
    const priority: Priority = random() < 0.1 ? 'high' : random() < 0.02 ? 'urgent' : 'normal';
    conversations.push({
      _id: `${patient._id}-${n}`,
      patientId: patient._id,
      status,
      assigneeId: assigned ? pick(agentIds[team.id]!) : null,
      teamId: team.id,
      priority,
      subject: null,
      channels,
      lastInboundChannel: channels[0]!,
      lastInboundAt: lastMessageAt,
      lastMessageAt,
      lastSeq: messageCount,
      previewEnc: ctx.cipher.encrypt(pick(PREVIEWS)),
      previewDirection: random() < 0.7 ? 'inbound' : 'outbound',
      patientNameEnc: patient.nameEnc,
      unreadCount: status === 'resolved' ? 0 : Math.floor(random() * 3),
      messageCount,
      openedAt,
      firstResponseAt: assigned ? openedAt : null,
      assignedAt: assigned ? openedAt : null,
      resolvedAt: status === 'resolved' ? lastMessageAt : null,
      reopenedAt: null,
      reopenCount: 0,
      updatedAt: lastMessageAt,
    });
    patient.conversationCount = n;
    patient.latestConversationId = `${patient._id}-${n}`;
  }
  for (let i = 0; i < patients.length; i += 500) await ctx.models.Patient.insertMany(patients.slice(i, i + 500), { lean: true });
  for (let i = 0; i < conversations.length; i += 500) await ctx.models.Conversation.insertMany(conversations.slice(i, i + 500), { lean: true });
  const visibleToAgent = conversations.filter((c) => c.teamId === DEFAULT_TEAM.id).length;
  return { conversations: conversations.length, patients: patients.length, visibleToAgent, ms: performance.now() - started };
}

interface InboxCase {
  label: string;
  filters: Omit<InboxFilters, 'limit' | 'cursor'>;
  pages?: number;
}

const INBOX_CASES: InboxCase[] = [
  { label: 'no filter', filters: {} },
  { label: 'status=open', filters: { status: ['open'] } },
  { label: 'assignee=unassigned', filters: { assignee: 'unassigned' } },
  { label: 'channel=sms', filters: { channel: 'sms' } },
  { label: `${PAGES} pages by cursor`, filters: {}, pages: PAGES },
];

async function timeRuns(run: () => Promise<number>): Promise<{ p50: number; p95: number; items: number }> {
  let items = 0;
  for (let i = 0; i < WARMUP_RUNS; i++) items = await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    items = await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), items };
}

async function benchInbox(ctx: TimelineContext, actors: { label: string; actor: Actor }[]): Promise<void> {
  console.log('listInbox() latency');
  const row = streamTable([['actor', 18], ['filter', 19], ['items', 5], ['p50 ms', 9], ['p95 ms', 9], ['p50 ms/page', 11]]);
  for (const { label, actor } of actors) {
    for (const c of INBOX_CASES) {
      const pages = c.pages ?? 1;
      const result = await timeRuns(async () => {
        let cursor: string | undefined;
        let items = 0;
        for (let page = 0; page < pages; page++) {
          const list = await listInbox(ctx, actor, { ...c.filters, limit: PAGE_SIZE, cursor });
          items += list.items.length;
          if (!list.nextCursor) break;
          cursor = list.nextCursor;
        }
        return items;
      });
      row([label, c.label, String(result.items), ms(result.p50), ms(result.p95), ms(result.p50 / pages)]);
    }
  }
}

/** The query listInbox builds (server/timeline/inbox-list.ts), rebuilt here so explain can see it. */
function inboxQuery(actor: Actor, filters: InboxCase['filters'], cursor?: { at: Date; id: string }): FilterQuery<ConversationDoc> {
  const and: FilterQuery<ConversationDoc>[] = [visibleConversationsFilter(actor)];
  if (filters.status?.length) and.push({ status: filters.status.length === 1 ? filters.status[0] : { $in: filters.status } });
  if (filters.assignee === 'unassigned') and.push({ assigneeId: null });
  if (filters.channel) and.push({ channels: filters.channel });
  if (cursor) and.push({ $or: [{ lastMessageAt: { $lt: cursor.at } }, { lastMessageAt: cursor.at, _id: { $lt: cursor.id } }] });
  return and.length === 1 ? and[0]! : { $and: and };
}

async function explainInbox(ctx: TimelineContext, admin: Actor, agent: Actor): Promise<void> {
  const total = await ctx.models.Conversation.estimatedDocumentCount();
  // A cursor in the middle of the list, like page 2's.
  const second = await ctx.models.Conversation.find({}).sort({ lastMessageAt: -1, _id: -1 }).skip(PAGE_SIZE - 1).limit(1).lean();
  const cursor = second[0] ? { at: second[0].lastMessageAt, id: second[0]._id } : undefined;
  console.log(`explain() of the inbox query: find(filter).sort({lastMessageAt:-1,_id:-1}).limit(${PAGE_SIZE + 1}), ${total} conversations in the collection`);
  const row = streamTable([
    ['actor', 18], ['filter', 19], ['filterPushdown', 14], ['sortPushdown', 12], ['limitPushdown', 13],
    ['examined', 8], ['matching', 8], ['returned', 8], ['plan', 0],
  ]);
  let explainShown = false;
  for (const { label, actor } of [{ label: 'admin', actor: admin }, { label: 'agent (front-desk)', actor: agent }]) {
    const cases: { label: string; filter: FilterQuery<ConversationDoc> }[] = [
      ...INBOX_CASES.filter((c) => !c.pages).map((c) => ({ label: c.label, filter: inboxQuery(actor, c.filters) })),
      ...(cursor ? [{ label: 'page 2 (cursor)', filter: inboxQuery(actor, {}, cursor) }] : []),
    ];
    for (const c of cases) {
      const query = () => ctx.models.Conversation.find(c.filter).sort({ lastMessageAt: -1, _id: -1 }).limit(PAGE_SIZE + 1);
      let explain: Record<string, any>;
      try {
        explain = (await query().explain('executionStats')) as unknown as Record<string, any>;
      } catch (error) {
        console.log(`explain is not available: ${(error as Error).message}`);
        return;
      }
      if (Array.isArray(explain)) explain = explain[0] as Record<string, any>;
      if (!explainShown && process.env.BENCH_SHOW_EXPLAIN) {
        console.log(JSON.stringify(explain, null, 2));
        explainShown = true;
      }
      const [matching, returned] = await Promise.all([ctx.models.Conversation.countDocuments(c.filter), query().lean().then((d) => d.length)]);
      const stats = explain.executionStats as { totalDocsExamined?: number; nReturned?: number } | undefined;
      row([
        label,
        c.label,
        flag(explain.filterPushdown),
        flag(explain.sortPushdown),
        flag(explain.limitPushdown),
        stats?.totalDocsExamined !== undefined ? String(stats.totalDocsExamined) : 'n/a',
        String(matching),
        String(stats?.nReturned ?? returned),
        planSummary(explain),
      ]);
    }
  }
  console.log('  examined = documents the server read (MongoDB executionStats; FerretDB does not report it). matching = countDocuments(filter).');
  console.log('  With filterPushdown=false FerretDB reads every row of the collection and filters in Go; with sortPushdown=false it sorts all matches before the limit.');
}

const flag = (value: unknown) => (typeof value === 'boolean' ? String(value) : 'n/a');

/** A one-line summary of the plan: SQLite's plan details (FerretDB) or the winning plan's stages (MongoDB). */
function planSummary(explain: Record<string, any>): string {
  const planner = explain.queryPlanner as Record<string, any> | undefined;
  if (!planner) return 'n/a';
  if (Array.isArray(planner.Plan)) {
    // FerretDB: SQLite's EXPLAIN QUERY PLAN rows, e.g. "id=2 parent=0 notused=0 detail=SCAN conversations_7550b62f".
    const steps = (planner.Plan as unknown[]).map((step) => {
      const text = typeof step === 'string' ? step : String((step as { Detail?: unknown })?.Detail ?? '');
      return (/detail=(.*)$/.exec(text)?.[1] ?? text).replace(/_[0-9a-f]{8}\b/, '');
    });
    return steps.filter(Boolean).join('; ') || 'n/a';
  }
  const stages: string[] = [];
  let stage = planner.winningPlan as Record<string, any> | undefined;
  while (stage) {
    stages.push(stage.indexName ? `${stage.stage}(${stage.indexName})` : String(stage.stage));
    stage = (stage.inputStage ?? stage.queryPlan) as Record<string, any> | undefined;
  }
  return stages.join(' <- ') || 'n/a';
}

async function benchIngest(ctx: TimelineContext): Promise<void> {
  const channels: ChannelId[] = ['sms', 'email', 'webchat'];
  const message = (run: string, area: string, i: number): NormalizedInbound => {
    const channel = channels[i % channels.length]!;
    const from =
      channel === 'sms'
        ? { kind: 'phone' as const, value: `+1${area}555${String(i).padStart(4, '0')}` }
        : channel === 'email'
          ? { kind: 'email' as const, value: `bench.${run}.${i}@example.org` }
          : { kind: 'web' as const, value: `bench-${run}-visitor-${i}` };
    return { channel, from, providerKey: `bench:${run}:${i}`, body: `Benchmark message ${i}`, displayName: `Bench Patient ${i}` };
  };

  const sizes = async () => {
    const [patients, conversations, messages] = await Promise.all([
      ctx.models.Patient.estimatedDocumentCount(),
      ctx.models.Conversation.estimatedDocumentCount(),
      ctx.models.Message.estimatedDocumentCount(),
    ]);
    return `${patients}/${conversations}/${messages}`;
  };
  /** Runs the phase and reports overall and first/last-block rates (completions per second). */
  const phase = async (concurrency: number, run: string, area: string) => {
    const before = await sizes();
    const done: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < INGEST_MESSAGES; i = next++) {
          await ingestInbound(ctx, message(run, area, i));
          done.push(performance.now());
        }
      }),
    );
    const totalMs = performance.now() - start;
    const block = Math.min(100, INGEST_MESSAGES);
    const firstRate = block / ((done[block - 1]! - start) / 1000);
    const lastRate = block / ((done[done.length - 1]! - (done[done.length - block - 1] ?? start)) / 1000);
    return { before, totalMs, rate: INGEST_MESSAGES / (totalMs / 1000), firstRate, lastRate, block };
  };

  console.log(`ingestInbound() throughput (${INGEST_MESSAGES} messages from distinct new patients, sms/email/webchat in turn)`);
  const block = Math.min(100, INGEST_MESSAGES);
  const row = streamTable([
    ['mode', 14], ['patients/convs/msgs before', 26], ['total ms', 9], ['messages/s', 10], ['ms/message', 10],
    [`first ${block} msg/s`, 13], [`last ${block} msg/s`, 12],
  ]);
  const sequential = await phase(1, 'seq', '212');
  row(['sequential', sequential.before, sequential.totalMs.toFixed(0), sequential.rate.toFixed(1), (sequential.totalMs / INGEST_MESSAGES).toFixed(2), sequential.firstRate.toFixed(1), sequential.lastRate.toFixed(1)]);
  const concurrent = await phase(INGEST_CONCURRENCY, 'par', '646');
  row([`concurrency ${INGEST_CONCURRENCY}`, concurrent.before, concurrent.totalMs.toFixed(0), concurrent.rate.toFixed(1), (concurrent.totalMs / INGEST_MESSAGES).toFixed(2), concurrent.firstRate.toFixed(1), concurrent.lastRate.toFixed(1)]);
  console.log(`  concurrent / sequential throughput ratio: ${(concurrent.rate / sequential.rate).toFixed(2)}x`);
  console.log(`  (the concurrent run starts with the sequential run's ${INGEST_MESSAGES} patients and messages already stored; first/last columns show how the rate moves as collections grow)`);
}

/** Prints a header now and returns a function printing each row as it is measured (a long bench shows progress). */
function streamTable(columns: [title: string, width: number][]): (cells: string[]) => void {
  const widths = columns.map(([title, width]) => Math.max(title.length, width));
  const numeric = (s: string) => /^-?[\d./]+x?$/.test(s) || s === 'n/a';
  const line = (cells: string[]) =>
    '  ' + cells.map((cell, col) => (col > 0 && numeric(cell) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ').trimEnd();
  console.log(line(columns.map(([title]) => title)));
  console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  return (cells) => console.log(line(cells));
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
}
