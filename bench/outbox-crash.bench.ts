/**
 * `npm run bench:crash`: how often a kill -9 in the middle of a burst makes
 * the hub send a message twice (the outbox is at least once), measured with
 * real hub processes in sandbox mode (test/integration/delivery/crash-scenario.ts).
 *
 *   BENCH_CRASH_RUNS           runs, each on a fresh database (default 10)
 *   BENCH_CRASH_KILLS          kill -9 per run, at random points of the burst (default 3)
 *   BENCH_CRASH_MESSAGES       outbound messages per run (default 500)
 *   BENCH_CRASH_CONVERSATIONS  conversations they are spread over (default 100)
 *   MONGODB_URI                measure a MongoDB instead of the embedded FerretDB
 *
 * Prints, per run and in all: messages, kills, duplicates (messages in the
 * sandbox outbox twice), messages taken over after a kill, and the burst's
 * throughput before the first kill. No assertions: the integration test
 * (outbox-crash.test.ts) asserts; this counts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../server/db/embedded/ferretdb-process.ts';
import { measureRecordWindow, runOutboxCrash, type CrashRunResult } from '../test/integration/delivery/crash-scenario.ts';

const RUNS = positiveInt(process.env.BENCH_CRASH_RUNS, 10);
const KILLS = positiveInt(process.env.BENCH_CRASH_KILLS, 3);
const MESSAGES = positiveInt(process.env.BENCH_CRASH_MESSAGES, 500);
const CONVERSATIONS = positiveInt(process.env.BENCH_CRASH_CONVERSATIONS, 100);

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Kill points spread over the burst, random within equal slices (never at 0 nor at the end). */
function killPoints(): number[] {
  const slice = Math.floor(MESSAGES / (KILLS + 1));
  return Array.from({ length: KILLS }, (_, i) => slice * i + randomInt(Math.max(1, Math.floor(slice / 2)), slice + 1));
}

const externalUri = process.env.MONGODB_URI;
let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
try {
  if (!externalUri) {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-crash-'));
    embedded = await startEmbeddedFerretDb({ dataDir });
  }
  const uri = externalUri ?? embedded!.uri;
  console.log(`outbox crash bench: ${RUNS} runs × ${KILLS} kill -9, ${MESSAGES} messages over ${CONVERSATIONS} conversations, on ${externalUri ? 'MONGODB_URI' : 'embedded FerretDB'}`);
  const results: CrashRunResult[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const databaseName = `bench_crash_${randomBytes(4).toString('hex')}`;
    const result = await runOutboxCrash({ mongoUri: uri, databaseName, messages: MESSAGES, conversations: CONVERSATIONS, killAt: killPoints(), timeoutMs: 600_000 });
    results.push(result);
    console.log(
      `run ${String(run).padStart(2)}: killed at ${result.killedAt.join(', ')}; ${result.duplicates.length} duplicated, ${result.missing.length} missing, ` +
        `${result.notSent.length} not sent, ${result.reclaimed} taken over; ${result.burstPerSecond.toFixed(0)} msg/s before the first kill, ` +
        `burst done in ${(result.totalSendMs / 1000).toFixed(1)} s`,
    );
    if (externalUri) continue;
    // The embedded store keeps every database: drop this run's to keep later runs' scans comparable.
    const connection = await mongoose.createConnection(uri, { dbName: databaseName }).asPromise();
    await connection.dropDatabase().finally(() => connection.close());
  }
  const kills = results.reduce((n, r) => n + r.killedAt.length, 0);
  const duplicates = results.reduce((n, r) => n + r.duplicates.length, 0);
  const runsWithDuplicates = results.filter((r) => r.duplicates.length > 0).length;
  const missing = results.reduce((n, r) => n + r.missing.length + r.notSent.length, 0);
  const rates = results.map((r) => r.burstPerSecond).sort((a, b) => a - b);
  console.log('');
  console.log(`in all: ${duplicates} duplicate(s) in ${runsWithDuplicates} of ${results.length} runs, after ${kills} kill -9 (${((100 * duplicates) / kills).toFixed(1)}% of kills); ${missing} message(s) lost or unsent`);
  console.log(`burst throughput before the first kill: median ${rates[Math.floor(rates.length / 2)]!.toFixed(0)} msg/s (min ${rates[0]!.toFixed(0)}, max ${rates.at(-1)!.toFixed(0)})`);
  // How wide the window is that a kill must hit, measured in-process on the same burst.
  const window = await measureRecordWindow({ mongoUri: uri, databaseName: `bench_window_${randomBytes(4).toString('hex')}`, messages: MESSAGES, conversations: CONVERSATIONS });
  console.log(
    `the at-least-once window (provider accepted → the hub's record sent to the store), over ${window.messages} messages: ` +
      `p50 ${window.windowMs.p50.toFixed(2)} ms, p99 ${window.windowMs.p99.toFixed(2)} ms, max ${window.windowMs.max.toFixed(2)} ms, ` +
      `of a ${window.cycleMs.toFixed(0)} ms cycle per message: a kill at a random moment duplicates a message with p ≈ ${((100 * window.windowMs.p50) / window.cycleMs).toFixed(2)}%`,
  );
} finally {
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
