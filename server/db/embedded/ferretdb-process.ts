/**
 * Runs the embedded FerretDB (SQLite backend) on a free loopback port, with
 * its data under `<dataDir>/ferretdb`, and stops it with the hub.
 *
 * The embedded store is one process's: FerretDB does not isolate updates and
 * the hub's document locks live in its own process, so a second hub (or an
 * operator script) on the same DATA_DIR would lose updates. `<dataDir>/ferretdb.lock`
 * names the process that holds it; another one is refused, saying which. A
 * lock whose process is gone (kill -9, a lost machine) is taken over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { ensureFerretDbBinary } from './ferretdb-binary.ts';

export interface EmbeddedDatabase {
  /** mongodb:// URI without a database name. */
  readonly uri: string;
  /** The loopback port it listens on (start it again on this port to keep the same URI). */
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  /**
   * Listen on this loopback port instead of a free one: a restart on the same port (and data) is the same
   * database to clients that stayed connected (tests of a database outage).
   */
  port?: number;
  log?: (line: string) => void;
}

/** Attempts at binding: a free port taken by someone else in between, or our fixed port not yet released. */
const BIND_ATTEMPTS = 3;
const FIXED_PORT_BIND_ATTEMPTS = 20;

/** Another live process holds the embedded store of this DATA_DIR. */
export class EmbeddedStoreInUseError extends Error {}

export async function startEmbeddedFerretDb({ dataDir, port: fixedPort, log = () => {} }: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const binary = await ensureFerretDbBinary(log);
  const root = resolve(dataDir);
  const sqliteDir = join(root, 'ferretdb');
  const stateDir = join(root, 'ferretdb-state');
  await mkdir(sqliteDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const releaseLock = await lockDataDir(root, log);
  try {
    return await startProcess(binary, sqliteDir, stateDir, fixedPort, log, releaseLock);
  } catch (error) {
    await releaseLock();
    throw error;
  }
}

async function startProcess(
  binary: string, sqliteDir: string, stateDir: string, fixedPort: number | undefined, log: (line: string) => void, releaseLock: () => Promise<void>,
): Promise<EmbeddedDatabase> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freeLoopbackPort());
    const child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${sqliteDir}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${stateDir}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitForPort(port, child, 30_000);
    } catch (error) {
      process.removeListener('exit', killOnExit);
      child.kill('SIGKILL');
      // Another process may have taken the port between our probe and FerretDB's bind; a fixed port may still be
      // held by the process that just stopped.
      if (/address already in use/.test(stderr) && attempt < (fixedPort ? FIXED_PORT_BIND_ATTEMPTS : BIND_ATTEMPTS)) {
        if (fixedPort) await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw new Error(`embedded FerretDB did not start: ${(error as Error).message}\n${stderr}`);
    }
    log(`embedded FerretDB listening on 127.0.0.1:${port}, data in ${sqliteDir}`);
    return {
      uri: `mongodb://127.0.0.1:${port}/`,
      port,
      stop: async () => {
        process.removeListener('exit', killOnExit);
        await stopChild(child);
        await releaseLock();
      },
    };
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FerretDB did not answer on port ${port} within ${timeoutMs} ms`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Takes `<root>/ferretdb.lock` for this process (created exclusively), or refuses when a live process holds it.
 * Returns its release, also run if this process exits without stopping the store.
 */
async function lockDataDir(root: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const path = join(root, 'ferretdb.lock');
  const mine = JSON.stringify({ pid: process.pid, since: new Date().toISOString() });
  for (let attempt = 1; ; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(mine);
      await file.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
      const holder = await readFile(path, 'utf8').then((text) => JSON.parse(text) as { pid?: unknown; since?: unknown }, () => ({}) as { pid?: unknown; since?: unknown });
      if (typeof holder.pid === 'number' && isAlive(holder.pid)) {
        throw new EmbeddedStoreInUseError(
          `The embedded database in ${root} is in use by another process (pid ${holder.pid}, since ${String(holder.since)}): it serves one process at a time. ` +
            'Stop that hub or script first; to run several hub nodes, set MONGODB_URI to a MongoDB replica set (and REDIS_URL).',
        );
      }
      log(`taking over the embedded database lock of a process that is gone (pid ${String(holder.pid)})`);
      await unlink(path).catch(() => undefined);
    }
  }
  const releaseOnExit = () => {
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
    } catch {
      // Already gone.
    }
  };
  process.once('exit', releaseOnExit);
  return async () => {
    process.removeListener('exit', releaseOnExit);
    if ((await readFile(path, 'utf8').catch(() => null)) === mine) await unlink(path).catch(() => undefined);
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
