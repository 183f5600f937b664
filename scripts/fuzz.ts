/**
 * `npm run fuzz`: schemathesis against the hub's own OpenAPI document.
 *
 * Starts a throwaway hub in this process (development mode, sandboxed
 * channels, the embedded database in a temporary DATA_DIR, loopback only),
 * seeds a little fictional data so ids exist, logs in as the bootstrap
 * administrator and lets schemathesis (pinned, installed from PyPI into
 * .cache/fuzz-venv) call every operation for a bounded time with its
 * checks for server errors and conformance to the documented responses.
 *
 * The hub counts what it answered itself (every request, by status), so the
 * numbers do not depend on schemathesis's report format. Exits 1 when the
 * hub answered any 5xx or a response did not match its documented schema.
 *
 * Environment (all optional):
 *   FUZZ_SECONDS       time budget for schemathesis (default 150; at most 840,
 *                      the access token lives 15 minutes)
 *   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 30)
 *   FUZZ_WORKERS       concurrent schemathesis workers (default 2)
 *   FUZZ_SEED          seed, to replay a run
 *   FUZZ_CHECKS        checks to run, comma-separated (default: all but
 *                      positive_data_acceptance, see below)
 *   FUZZ_ROLE          admin (default: every operation can succeed) or agent
 *
 * Writes test-output/fuzz-summary.txt (the summary printed at the end),
 * test-output/fuzz-schemathesis.txt (schemathesis's own output, with
 * reproduction commands), test-output/fuzz-report.json and
 * test-output/fuzz-hub.log (the hub's log: the stack of each 500). All of it
 * is about generated data only; the hub is discarded with its database.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../server/config.ts';
import { startHubStore, type HubStore } from '../server/db/hub-store.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';

const SCHEMATHESIS_VERSION = '4.32.5';
const ROOT = resolve(import.meta.dirname, '..');
const VENV = join(ROOT, '.cache', 'fuzz-venv');
const OUT = join(ROOT, 'test-output');
const SCHEMATHESIS = join(VENV, 'bin', 'schemathesis');
const WORK = join(ROOT, '.cache', 'fuzz');

const seconds = Math.min(840, Math.max(10, Number(process.env.FUZZ_SECONDS ?? 150) || 150));
const maxExamples = Math.max(1, Number(process.env.FUZZ_MAX_EXAMPLES ?? 30) || 30);
const workers = Math.min(8, Math.max(1, Number(process.env.FUZZ_WORKERS ?? 2) || 2));
const role = process.env.FUZZ_ROLE === 'agent' ? 'agent' : 'admin';
/**
 * Every check but positive_data_acceptance: it counts a 400 for a request the
 * JSON Schema allows as a failure, and the hub's rules that a schema cannot
 * say (after or before, not both; a team that exists; an IANA time zone; a
 * cursor it issued) give exactly those 400s, by design.
 */
const checks = process.env.FUZZ_CHECKS ?? 'all';
const excludedChecks = process.env.FUZZ_CHECKS ? [] : ['positive_data_acceptance'];

/**
 * Operations left out, and why. Only what would end the session the fuzzer
 * uses: everything else, including admin operations, is called.
 */
const EXCLUDED = [
  { method: 'POST', path: '/api/auth/logout', why: 'ends the session the fuzzer authenticates with' },
];

/** Failure kinds (schemathesis's class names) that mean "the response does not match the documented schema". */
const SCHEMA_MISMATCH = new Set(['JsonSchemaError', 'MalformedJson', 'ContentDeserializationError', 'DiscriminatorMismatch']);

function ensureSchemathesis(): void {
  if (existsSync(SCHEMATHESIS)) {
    const version = spawnSync(SCHEMATHESIS, ['--version'], { encoding: 'utf8' });
    if (version.status === 0 && version.stdout.includes(SCHEMATHESIS_VERSION)) return;
  }
  console.log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV}`);
  const steps: string[][] = [
    ['python3', '-m', 'venv', VENV],
    [join(VENV, 'bin', 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
  ];
  for (const [command, ...args] of steps) {
    const result = spawnSync(command!, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}); python3 with venv and PyPI access are needed`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

interface Served {
  /** Starts counting afresh (after seeding). */
  reset(): void;
  total: number;
  byStatus: Map<number, number>;
  /** "METHOD /route/:pattern" -> count, for each 5xx. */
  serverErrors: Map<string, number>;
}

function countResponses(hub: Hub): Served {
  const served: Served = {
    total: 0, byStatus: new Map(), serverErrors: new Map(),
    reset() {
      served.total = 0;
      served.byStatus.clear();
      served.serverErrors.clear();
    },
  };
  hub.httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      served.total += 1;
      served.byStatus.set(res.statusCode, (served.byStatus.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) {
        // Express leaves the matched route on the request: the pattern, never the ids or values sent.
        const route = (req as IncomingMessage & { route?: { path?: string } }).route?.path ?? (req.url ?? '').split('?')[0];
        const key = `${res.statusCode} ${req.method} ${route}`;
        served.serverErrors.set(key, (served.serverErrors.get(key) ?? 0) + 1);
      }
    });
  });
  return served;
}

async function api(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Fictional data so list operations return items and generated ids sometimes
 * meet real ones; returns the plain agent's token and a web visitor's token.
 */
async function seed(base: string, adminToken: string): Promise<{ agentToken: string; visitorToken: string }> {
  const expect = (what: string, res: { status: number; body: any }, ...ok: number[]) => {
    if (!ok.includes(res.status)) throw new Error(`seeding (${what}) failed: ${res.status} ${JSON.stringify(res.body?.error ?? null)}`);
    return res.body;
  };
  const agent = { email: 'fuzz.agent@fuzz.invalid', password: randomBytes(12).toString('hex') };
  expect('agent', await api(base, 'POST', '/api/agents', { ...agent, name: 'Fuzz Agent', role: 'agent', teamIds: ['front-desk'] }, adminToken), 201);
  const inbound = [
    { channel: 'sms', from: '+14155550101', body: 'Fictional test message one' },
    { channel: 'email', from: 'fuzz.patient@fuzz.invalid', body: 'Fictional test message two' },
    { channel: 'sms', from: '+14155550102', body: 'Fictional test message three' },
  ];
  for (const message of inbound) {
    const stored = expect('inbound', await api(base, 'POST', '/api/dev/inbound', message, adminToken), 200, 201);
    expect('note', await api(base, 'POST', `/api/conversations/${stored.conversation.id as string}/notes`, { body: 'Fictional note' }, adminToken), 200, 201);
  }
  expect('canned response', await api(base, 'POST', '/api/canned-responses', { teamId: 'front-desk', shortcut: 'fuzz', title: 'Fuzz', body: 'Fictional canned text' }, adminToken), 201);
  const visitor = expect('widget visitor', await api(base, 'POST', '/api/widget/visitors', { name: 'Fuzz Visitor' }), 201);
  const agentLogin = expect('agent login', await api(base, 'POST', '/api/auth/login', agent), 200);
  return { agentToken: agentLogin.accessToken as string, visitorToken: visitor.token as string };
}

/**
 * schemathesis.toml for the run: the tokens travel in this file (mode 600,
 * deleted with the run), not on a command line other users can read. The
 * widget's API authenticates web visitors, not agents: it gets a visitor's token.
 */
async function writeConfig(path: string, tokens: { agent: string; visitor: string }): Promise<void> {
  const quoted = (text: string) => JSON.stringify(text);
  await writeFile(path, [
    `headers = { Authorization = ${quoted(`Bearer ${tokens.agent}`)} }`,
    '',
    '[[operations]]',
    'include-path-regex = "^/api/widget/"',
    `headers = { Authorization = ${quoted(`Bearer ${tokens.visitor}`)} }`,
    '',
  ].join('\n'), { mode: 0o600 });
}

function runSchemathesis(args: string[], transcript: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', PYTHONUNBUFFERED: '1' };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete env[name];
  return new Promise((done, fail) => {
    // Its crash cache (for `st replay`) lands in the working directory: keep it out of the repository.
    const child = spawn(SCHEMATHESIS, args, { cwd: WORK, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(transcript);
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        if (process.env.FUZZ_VERBOSE === '1') process.stdout.write(chunk);
        file.write(chunk);
      });
    }
    // A safety net above schemathesis's own --max-time: its last phase may overrun a little, never by minutes.
    const killer = setTimeout(() => child.kill('SIGTERM'), (seconds + 120) * 1000);
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      file.end(() => done(code ?? (signal ? 124 : 1)));
    });
  });
}

interface Report {
  operations?: { total: number; selected: number; tested: number; errored: number; skipped: number } | null;
  test_cases?: { generated: number; with_failures: number; unique_failures: number; errored: number };
  failures?: { type: string; code: string; title: string; count: number; operations: string[] }[];
  errors?: { title: string; count: number }[];
  running_time?: number;
  stop_reason?: string;
}

async function main(): Promise<number> {
  const started = Date.now();
  ensureSchemathesis();
  await mkdir(OUT, { recursive: true });
  await mkdir(WORK, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'carethread-fuzz-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const admin = { email: 'fuzz.admin@fuzz.invalid', password: randomBytes(18).toString('base64url') };
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    DATA_DIR: dataDir,
    MONGODB_URI: undefined,
    MONGODB_DATABASE: 'carethread_fuzz',
    BOOTSTRAP_ADMIN_EMAIL: admin.email,
    BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    // Channels stay in sandbox mode whatever the caller's environment holds: nothing leaves the machine.
    TWILIO_ACCOUNT_SID: undefined,
    SENDGRID_API_KEY: undefined,
    LOG_LEVEL: 'warn',
  };
  const hubLog = createWriteStream(join(OUT, 'fuzz-hub.log'));
  const logger = createLogger({ level: 'warn', destination: hubLog });
  const configPath = join(WORK, 'schemathesis.toml');
  let store: HubStore | undefined;
  let hub: Hub | undefined;
  const stop = async () => {
    await hub?.close().catch(() => undefined);
    hub?.httpServer.close();
    await store?.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await rm(configPath, { force: true });
    await new Promise((done) => hubLog.end(done));
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const config = loadConfig(env);
    store = await startHubStore(config, () => undefined);
    hub = await buildHub({ config, mongoUri: store.uri, logger });
    const served = countResponses(hub);
    await hub.listen(port, '127.0.0.1');
    const login = await api(base, 'POST', '/api/auth/login', admin);
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    const adminToken = login.body.accessToken as string;
    const { agentToken, visitorToken } = await seed(base, adminToken);
    served.reset();
    await writeConfig(configPath, { agent: role === 'agent' ? agentToken : adminToken, visitor: visitorToken });

    const reportPath = join(OUT, 'fuzz-report.json');
    await rm(reportPath, { force: true });
    const args = [
      '--config-file', configPath,
      'run', `${base}/api/openapi.json`,
      '--url', base,
      '--checks', checks,
      ...(excludedChecks.length ? ['--exclude-checks', excludedChecks.join(',')] : []),
      '--max-time', String(seconds),
      '--max-examples', String(maxExamples),
      '--workers', String(workers),
      '--request-timeout', '30',
      '--generation-database', 'none',
      '--report', 'json', '--report-json-path', reportPath,
      '--no-color',
      ...(process.env.FUZZ_SEED ? ['--seed', process.env.FUZZ_SEED] : []),
      ...EXCLUDED.flatMap((e) => ['--exclude-path', e.path]),
    ];
    console.log(`fuzzing ${base} for ${seconds}s (schemathesis ${SCHEMATHESIS_VERSION}, ${workers} workers, ${maxExamples} examples per operation)`);
    const exitCode = await runSchemathesis(args, join(OUT, 'fuzz-schemathesis.txt'));
    const report: Report = JSON.parse(await readFile(reportPath, 'utf8').catch(() => '{}'));

    const failures = report.failures ?? [];
    const mismatches = failures.filter((f) => SCHEMA_MISMATCH.has(f.type));
    const serverErrors = [...served.serverErrors.values()].reduce((a, b) => a + b, 0);
    const statusLine = [...served.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
    const lines = [
      `CareThread fuzz run, ${new Date().toISOString()}`,
      `schemathesis ${SCHEMATHESIS_VERSION}: ${SCHEMATHESIS} ${args.map((a) => (/[\s"]/.test(a) ? `'${a}'` : a)).join(' ')}`,
      `authenticated as: ${role === 'agent' ? 'a plain agent (front-desk team)' : 'the bootstrap administrator'}; /api/widget/* as a web visitor`,
      `excluded: ${EXCLUDED.map((e) => `${e.method} ${e.path} (${e.why})`).join('; ')}`,
      `operations: ${report.operations ? `${report.operations.total} in the document, ${report.operations.selected} selected, ${report.operations.tested} tested, ${report.operations.errored} errored, ${report.operations.skipped} skipped` : 'unknown (no report)'}`,
      `test cases: ${report.test_cases ? `${report.test_cases.generated} generated, ${report.test_cases.with_failures} with failures` : 'unknown'}`,
      `requests answered by the hub during fuzzing: ${served.total} (${statusLine})`,
      `5xx: ${serverErrors}`,
      ...[...served.serverErrors.entries()].map(([route, n]) => `  ${route}: ${n}`),
      `schema mismatches: ${mismatches.reduce((a, f) => a + f.count, 0)} (${mismatches.length} kinds)`,
      `failures (unique, by kind):${failures.length ? '' : ' none'}`,
      ...failures.map((f) => `  ${f.type} "${f.title}" x${f.count}: ${f.operations.join(', ')}`),
      ...(report.errors?.length ? ['errors:', ...report.errors.map((e) => `  ${e.title} x${e.count}`)] : []),
      `schemathesis exit code ${exitCode}, stop reason ${report.stop_reason ?? 'unknown'}; whole run ${Math.round((Date.now() - started) / 1000)}s`,
    ];
    const summary = `${lines.join('\n')}\n`;
    await writeFile(join(OUT, 'fuzz-summary.txt'), summary);
    const failed = serverErrors > 0 || mismatches.length > 0 || !report.operations;
    // schemathesis's own transcript is long: it is printed only when the run failed (or FUZZ_VERBOSE=1).
    if (failed && process.env.FUZZ_VERBOSE !== '1') process.stdout.write(await readFile(join(OUT, 'fuzz-schemathesis.txt'), 'utf8').catch(() => ''));
    console.log(`\n${summary}(also in test-output/fuzz-summary.txt; schemathesis's transcript in test-output/fuzz-schemathesis.txt)`);
    return failed ? 1 : 0;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`fuzz run failed: ${(error as Error).message}`);
    process.exit(2);
  },
);
