/**
 * `npm run bench:patients`: how fast a CSV of patients imports, and how fast
 * patient search answers at that size, on the embedded FerretDB (or
 * MONGODB_URI).
 *
 *   BENCH_PATIENT_ROWS     rows in the generated file (default 10000)
 *   BENCH_CONVERSATIONS    conversations seeded for a share of the patients (default 2000)
 *   MONGODB_URI            benchmark a MongoDB instead (a throwaway database is created and dropped)
 *
 * Starts its own FerretDB in a temporary DATA_DIR, builds a hub without
 * listening, imports a generated file (fictional names with accents, dates
 * of birth, MRNs, phones, emails) into the empty store, imports it again
 * (every row then matches: nothing is written), seeds conversations, then
 * times searchPatients() for an admin and a team agent by each kind of key.
 * Prints figures only; no assertions. Everything it started is stopped and
 * the temp dir is deleted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Actor } from '../server/access/access-policy.ts';
import { DEFAULT_TEAM } from '../server/auth/agent-directory.ts';
import { loadConfig } from '../server/config.ts';
import type { ConversationDoc } from '../server/db/documents.ts';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../server/db/embedded/ferretdb-process.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';
import { importPatients } from '../server/timeline/patients/patient-import.ts';
import { searchPatients } from '../server/timeline/patients/patient-search.ts';
import type { TimelineContext } from '../server/timeline/timeline-context.ts';
import { BENCH_ENV } from './bench-env.ts';


const ROWS = positiveInt('BENCH_PATIENT_ROWS', 10_000);
const CONVERSATIONS = Math.min(positiveInt('BENCH_CONVERSATIONS', 2000), ROWS);
const SEARCH_RUNS = 5;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

const FIRST = ['Zoë', 'Ángel', 'Chloé', 'Dev', 'Elena', 'Farah', 'Gabe', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Léa', 'Milo', 'Nora', 'Omar', 'Pía', 'Quinn', 'Raúl', 'Søren', 'Tomás'];
const LAST = ['Adams', 'Baker', 'Chen', 'Díaz', 'Evans', 'Fischer', 'García', 'Hughes', 'Ito', 'Jones', 'Khan', 'López', 'Moreau', 'Novák', "O'Neil", 'Peña', 'Quist', 'Ruiz', 'Schäfer', 'Tanaka'];

/** The i-th fictional patient (deterministic): every name pair, dates over 80 years, unique MRN, phone and email. */
function row(i: number): string[] {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  const middle = `M${(i * 7919).toString(36).slice(-4)}`; // a made-up middle name: name and date of birth stay unique
  const day = new Date(Date.UTC(1940, 0, 1) + ((i * 104_729) % (80 * 365)) * 86_400_000).toISOString().slice(0, 10);
  const phone = `(415) ${200 + Math.floor(i / 10_000)}-${String(i % 10_000).padStart(4, '0')}`;
  return [`"${first} ${middle} ${last}"`, day, `BENCH-${String(i).padStart(6, '0')}`, phone, `bench.patient${i}@example.org`, i % 3 === 0 ? 'email' : 'sms', 'en', 'America/New_York', ''];
}

async function main(): Promise<void> {
  const externalUri = process.env.MONGODB_URI;
  const dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-'));
  const databaseName = `bench_${randomBytes(4).toString('hex')}`;
  let embedded: EmbeddedDatabase | undefined;
  let hub: Hub | undefined;
  try {
    if (!externalUri) embedded = await startEmbeddedFerretDb({ dataDir });
    const config = loadConfig({ ...BENCH_ENV, DATA_DIR: dataDir, MONGODB_DATABASE: databaseName });
    hub = await buildHub({ config, mongoUri: externalUri ?? embedded!.uri, logger: createLogger({ level: config.logLevel }) });
    const ctx = hub.services.timeline;
    console.log(`CareThread patients bench: ${externalUri ? 'MONGODB_URI' : 'embedded FerretDB 1.x (SQLite)'}, ${ROWS} rows, ${CONVERSATIONS} conversations`);

    const csv = ['name,date_of_birth,mrn,phone,email,preferred_channel,language,timezone,team', ...Array.from({ length: ROWS }, (_, i) => row(i).join(','))].join('\n');
    console.log(`file: ${(Buffer.byteLength(csv) / 1024 / 1024).toFixed(2)} MB`);
    for (const run of ['first import (empty store)', 'second import (every row exists)']) {
      const started = performance.now();
      const report = await importPatients(ctx, csv, { defaultTeamId: DEFAULT_TEAM.id, createdBy: null });
      const seconds = (performance.now() - started) / 1000;
      console.log(`${run}: ${seconds.toFixed(2)} s, ${Math.round(ROWS / seconds)} rows/s (created ${report.created}, existing ${report.existing}, skipped ${report.skipped.length})`);
    }

    await seedConversations(ctx);
    const admin: Actor = { agentId: 'bench-admin', role: 'admin', teamIds: [], sessionId: 'bench' };
    const agent: Actor = { agentId: 'bench-agent', role: 'agent', teamIds: ['nurses'], sessionId: 'bench' };
    const queries: [string, string][] = [
      ['name, whole word', 'Søren'],
      ['name, prefix', 'Sch'],
      ['name, two words', 'chloe garc'],
      ['date of birth', row(4242)[1]!],
      ['MRN', 'bench-004242'],
      ['phone', '415.200.4242'],
      ['email', 'Bench.Patient4242@example.org'],
    ];
    console.log('');
    console.log(`search (limit 20), median of ${SEARCH_RUNS} runs after one warm-up:`);
    for (const [label, q] of queries) {
      const line: string[] = [];
      for (const [who, actor] of [['admin', admin], ['agent of a team with conversations only', agent]] as const) {
        const times: number[] = [];
        let results = 0;
        for (let r = 0; r <= SEARCH_RUNS; r++) {
          const started = performance.now();
          const page = await searchPatients(ctx, actor, { q, limit: 20 });
          if (r > 0) times.push(performance.now() - started);
          results = page.items.length;
        }
        times.sort((a, b) => a - b);
        line.push(`${who} ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms (${results} results)`);
      }
      console.log(`  ${label.padEnd(18)} ${line.join('; ')}`);
    }

    if (externalUri) await hub.services.db.connection.dropDatabase();
  } finally {
    await hub?.close().catch((error) => console.error(`error closing the hub: ${(error as Error).message}`));
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Conversations of the team `nurses` for the first patients (the agent sees those patients through them). */
async function seedConversations(ctx: TimelineContext): Promise<void> {
  const patients = await ctx.models.Patient.find({}, { _id: 1, nameEnc: 1 }).sort({ _id: 1 }).limit(CONVERSATIONS).lean();
  const now = ctx.clock();
  const docs: ConversationDoc[] = patients.map((p) => ({
    _id: `${p._id}-1`, patientId: p._id, status: 'open', assigneeId: null, teamId: 'nurses', priority: 'normal', subject: null,
    channels: ['sms'], lastInboundChannel: 'sms', lastInboundAt: now, lastMessageAt: now, lastSeq: 1, previewEnc: null, previewDirection: null,
    patientNameEnc: p.nameEnc, unreadCount: 0, messageCount: 1, openedAt: now, firstResponseAt: null, assignedAt: null, resolvedAt: null,
    reopenedAt: null, reopenCount: 0, updatedAt: now,
  }));
  for (let i = 0; i < docs.length; i += 1000) await ctx.models.Conversation.insertMany(docs.slice(i, i + 1000), { lean: true });
}

await main();
