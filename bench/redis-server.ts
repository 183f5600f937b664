/**
 * Debian's redis-server (`npm run setup:redis`) for a bench: a free loopback
 * port, no persistence, stopped by the bench that started it. The same way
 * test/support/redis-server.ts starts one (bench/ does not import test/).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './harness.ts';

const REDIS_SERVER = '/usr/bin/redis-server';

export interface BenchRedis {
  url: string;
  /** `Redis server v=7.x.y …`. */
  version: string;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`redis-server is missing at ${REDIS_SERVER}: run npm run setup:redis`);
  const version = execFileSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
