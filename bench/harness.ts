/**
 * The bench harness: what every bench in `npm run bench -- <name>` shares.
 *
 * - A bench is a module that exports `bench: Bench` and is listed in
 *   bench/run.ts. `run(ctx)` measures and returns tables and notes; it
 *   asserts nothing. `ctx.short` asks for the quick version (`npm run bench`
 *   with no name runs every bench short, under 5 minutes in all).
 * - The store: the embedded FerretDB in a temporary directory, or MONGODB_URI
 *   (a throwaway database, dropped after). Every report names it and the core
 *   count, since every figure depends on both.
 * - The hub under test runs in its own process (`startHubProcess`): the load
 *   generator's CPU and heap do not count against it, as in production.
 * - Bounded: each bench caps its own time and counts; everything it starts
 *   is stopped in `finally`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../server/db/embedded/ferretdb-process.ts';
import { BENCH_ENV } from './bench-env.ts';

const REPO = join(import.meta.dirname, '..');
/** The driver mongoose ships (not a dependency of its own). */
const { MongoClient } = mongoose.mongo;

export interface StoreInfo {
  uri: string;
  /** `ferretdb 1.24.2 (embedded, SQLite)` or `mongodb 7.0.x (MONGODB_URI)`. */
  label: string;
  embedded: boolean;
}

export interface BenchContext {
  short: boolean;
  store: StoreInfo;
  /** A fresh database name on the store (dropped when the bench ends). */
  databaseName(label: string): string;
  /** Progress for the console (not part of the report). */
  log(line: string): void;
}

export interface BenchTable {
  caption: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface BenchReport {
  tables: BenchTable[];
  /** Readings: ratios, the limit found, what dominates. */
  notes: string[];
}

export interface Bench {
  name: string;
  summary: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}

export function environmentLine(store: StoreInfo): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, store ${store.label}`;
}

/** Starts the store the benches use (embedded FerretDB unless MONGODB_URI) and names it. */
export async function openBenchStore(log: (line: string) => void): Promise<{ store: StoreInfo; close(): Promise<void> }> {
  const external = process.env.MONGODB_URI;
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  if (!external) {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-'));
    embedded = await startEmbeddedFerretDb({ dataDir, log });
  }
  const uri = external ?? embedded!.uri;
  const client = await MongoClient.connect(uri);
  const info = (await client.db('admin').command({ buildInfo: 1 })) as { version: string; ferretdbVersion?: string };
  await client.close();
  const label = info.ferretdbVersion
    ? `FerretDB ${info.ferretdbVersion} (${external ? 'MONGODB_URI' : 'embedded, SQLite'})`
    : `MongoDB ${info.version} (MONGODB_URI)`;
  return {
    store: { uri, label, embedded: !external },
    async close() {
      await embedded?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops the databases a bench created (on MongoDB; the embedded store's directory goes with it). */
export async function dropDatabases(uri: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const client = await MongoClient.connect(uri);
  try {
    for (const name of names) await client.db(name).dropDatabase().catch(() => {});
  } finally {
    await client.close();
  }
}

export const newDatabaseName = (label: string) => `bench_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 20)}_${randomBytes(3).toString('hex')}`;

export interface HubProcess {
  url: string;
  child: ChildProcess;
  /** stderr and warn/error lines, for a failure message. */
  output(): string;
  /** Resident set size of the hub process now (bytes), from /proc. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A hub in its own process (`node --import tsx server/main.ts`) on the given
 * store and database, with the bench settings and `env` over them; resolves
 * once /readyz answers 200.
 */
export async function startHubProcess(options: { mongoUri: string; databaseName: string; env?: Record<string, string>; nodeArgs?: string[] }): Promise<HubProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'server/main.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
      ...BENCH_ENV, MONGODB_URI: options.mongoUri, MONGODB_DATABASE: options.databaseName, PORT: String(port),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the hub exited (${child.exitCode})\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the hub did not become ready within 60 s\n${output}`);
    }
    await pause(100);
  }
  return {
    url,
    child,
    output: () => output,
    async rss() {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Logs in through the API; the admin is BENCH_ENV's bootstrap administrator. */
export async function login(url: string, email = BENCH_ENV.BOOTSTRAP_ADMIN_EMAIL!, password = BENCH_ENV.BOOTSTRAP_ADMIN_PASSWORD!): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of raw samples (benches keep every sample: they are bounded). */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN, mean };
}

/** A number for a table: 3 significant figures, thousands separated. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

export function renderTable(table: BenchTable): string {
  const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  return [table.caption, line(table.columns), line(widths.map((w) => '-'.repeat(w))), ...table.rows.map(line)].join('\n');
}

/** The same table as Markdown, for bench/RESULTS.md. */
export function markdownTable(table: BenchTable): string {
  return [
    `**${table.caption}**`,
    '',
    `| ${table.columns.join(' | ')} |`,
    `|${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...table.rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
