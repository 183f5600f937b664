/**
 * Debian's redis-server for the multi-node tests (installed by
 * `npm run setup:redis`): started on a loopback port with no persistence,
 * stopped (and restarted on the same port) by the test that owns it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

export function redisServerVersion(): string | null {
  if (!existsSync(REDIS_SERVER_PATH)) return null;
  try {
    return execFileSync(REDIS_SERVER_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** Starts redis-server on a free loopback port (or `port`); resolves once it accepts connections. */
export async function startTestRedis(port?: number): Promise<TestRedis> {
  if (!redisServerVersion()) throw new Error(`redis-server is missing at ${REDIS_SERVER_PATH}: run npm run setup:redis`);
  const chosen = port ?? (await freeLoopbackPort());
  let child: ChildProcess | undefined;
  const redis: TestRedis = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    async start() {
      child = await launch(chosen);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await exited;
    },
  };
  await redis.start();
  return redis;
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER_PATH, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
}
