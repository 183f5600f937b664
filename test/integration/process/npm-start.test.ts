/** `npm start` as a newcomer runs it: embedded database up and down with the hub, or MONGODB_URI and nothing else. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { testDatabaseUri, uniqueDatabaseName } from '../../support/embedded-db.ts';
import { waitFor } from '../../support/test-hub.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function startHub(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const clean = { ...process.env };
  delete clean.MONGODB_URI;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: { ...clean, NODE_ENV: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function waitReady(port: number, hub: ChildProcess): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline && hub.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('hub did not become ready');
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('npm start', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-start-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('brings up its own FerretDB under DATA_DIR, prints where the dev secrets are, and stops it on SIGTERM', async () => {
    const port = await freePort();
    const hub = startHub({ PORT: String(port), DATA_DIR: dataDir });
    await waitReady(port, hub.child);
    expect(existsSync(join(dataDir, 'ferretdb'))).to.equal(true);
    // Printed once start-up is over, which can come a moment after /readyz first answers (a loaded machine).
    await waitFor(async () => hub.output().includes(join(dataDir, 'dev-secrets.json')));
    const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: secrets.BOOTSTRAP_ADMIN_EMAIL, password: secrets.BOOTSTRAP_ADMIN_PASSWORD }),
    });
    expect(login.status).to.equal(200);
    const dbPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(hub.output())?.[1]);
    expect(await portOpen(dbPort)).to.equal(true);
    hub.child.kill('SIGTERM');
    expect(await new Promise((resolve) => hub.child.once('exit', resolve))).to.equal(0);
    expect(await portOpen(dbPort)).to.equal(false);
  });

  it('uses MONGODB_URI when set and starts no database of its own', async () => {
    const port = await freePort();
    const hub = startHub({ PORT: String(port), DATA_DIR: dataDir, MONGODB_URI: testDatabaseUri(), MONGODB_DATABASE: uniqueDatabaseName('start') });
    try {
      await waitReady(port, hub.child);
      expect(existsSync(join(dataDir, 'ferretdb'))).to.equal(false);
      await waitFor(async () => hub.output().includes('CareThread listening'));
      expect(hub.output()).to.include('"database":"MONGODB_URI"');
      expect(hub.output()).to.match(/"store":{"engine":"(ferretdb|mongodb)","version":"[^"]+","isolatedUpdates":(true|false)}/);
    } finally {
      hub.child.kill('SIGTERM');
      await new Promise((resolve) => hub.child.once('exit', resolve));
    }
  });
});
