/** The hub as a newcomer runs it: its own embedded database under DATA_DIR, restarts, bad settings. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../server/config.ts';
import { startEmbeddedFerretDb } from '../../../server/db/embedded/ferretdb-process.ts';
import { patientWrites, startTestHub, TEST_ENV } from '../../support/test-hub.ts';

describe('persistence across a restart of the hub and its embedded database', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-restart-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps patients, conversations, messages and agents in DATA_DIR', async () => {
    let db = await startEmbeddedFerretDb({ dataDir });
    let t = await startTestHub({ label: 'restart', mongoUri: db.uri, databaseName: 'carethread' });
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550801', body: 'still here after a restart?' });
    const agent = await t.agent({ name: 'Persistent Pat' });
    await t.close();
    await db.stop();
    expect((await stat(join(dataDir, 'ferretdb'))).isDirectory()).to.equal(true);

    db = await startEmbeddedFerretDb({ dataDir });
    t = await startTestHub({ label: 'restart', mongoUri: db.uri, databaseName: 'carethread' });
    try {
      const session = await t.login(agent.agent.email, 'agent-password-123');
      const messages = await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, session.token);
      expect(messages.status).to.equal(200);
      expect(messages.body.items.map((m: { body: string }) => m.body)).to.deep.equal(['still here after a restart?']);
      // The same number after the restart is still the same patient.
      const again = await patientWrites(t, { channel: 'sms', from: '415-555-0801', body: 'yes' });
      expect(again.patientId).to.equal(inbound.patientId);
      expect(again.message.seq).to.equal(2);
    } finally {
      await t.close();
      await db.stop();
    }
  });
});

describe('configuration', () => {
  const production = {
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'https://hub.example.org',
    JWT_SECRET: TEST_ENV.JWT_SECRET!,
    PHI_ENCRYPTION_KEY: `p1:${Buffer.alloc(32, 1).toString('base64')}`,
    PHI_BLIND_INDEX_KEY: Buffer.alloc(32, 2).toString('base64'),
    AUDIT_CHAIN_KEY: `audit1:${Buffer.alloc(32, 3).toString('base64')}`,
    MONGODB_URI: 'mongodb://db.example.internal:27017/?replicaSet=rs0',
    TWILIO_AUTH_TOKEN: 'x'.repeat(32),
    SENDGRID_INBOUND_SECRET: 'y'.repeat(32),
    WIDGET_IDENTITY_SECRET: 'z'.repeat(40),
    WIDGET_ALLOWED_ORIGINS: 'https://www.example-clinic.org',
  };
  const problemsOf = (env: Record<string, string | undefined>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.join('\n');
      throw error;
    }
    return '';
  };

  it('accepts a complete production configuration', () => {
    expect(problemsOf(production)).to.equal('');
  });

  it('refuses production without its secrets, naming every missing one', () => {
    const problems = problemsOf({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://hub.example.org' });
    for (const name of ['JWT_SECRET', 'PHI_ENCRYPTION_KEY', 'PHI_BLIND_INDEX_KEY', 'AUDIT_CHAIN_KEY', 'TWILIO_AUTH_TOKEN', 'SENDGRID_INBOUND_SECRET', 'WIDGET_IDENTITY_SECRET']) {
      expect(problems).to.include(name);
    }
  });

  it('refuses the embedded database in production unless explicitly allowed, saying why', () => {
    const { MONGODB_URI: _uri, ...embedded } = production;
    expect(problemsOf(embedded)).to.match(/MONGODB_URI: required in production\. The embedded database .* has no authentication/);
    expect(problemsOf({ ...embedded, ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'true' })).to.equal('');
    expect(problemsOf({ ...production, AUDIT_CHAIN_KEY: `dev1:${Buffer.alloc(32, 3).toString('base64')}` })).to.include('AUDIT_CHAIN_KEY: development keys are refused');
  });

  it('refuses a second process on the same embedded database: `npm start` exits 1 naming the one that holds it; a lock left by a dead process is taken over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carethread-one-node-'));
    try {
      const held = await startEmbeddedFerretDb({ dataDir: dir });
      try {
        // In this process too: a second store on the same files is refused before FerretDB starts.
        const refused = await startEmbeddedFerretDb({ dataDir: dir }).then(() => null, (error: Error) => error);
        expect(refused?.message).to.match(new RegExp(`in use by another process \\(pid ${process.pid}`));
        const env = { ...process.env, ...TEST_ENV, DATA_DIR: dir, PORT: '0' } as NodeJS.ProcessEnv;
        delete env.MONGODB_URI;
        const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        expect(code, stderr).to.equal(1);
        expect(stderr).to.include('CareThread cannot start');
        expect(stderr).to.include(`in use by another process (pid ${process.pid}`);
        expect(stderr).to.include('set MONGODB_URI to a MongoDB replica set');
      } finally {
        await held.stop();
      }
      // Stopped: free again. A lock a killed process left behind (its pid gone) does not keep the store closed.
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => gone.on('exit', resolve));
      await writeFile(join(dir, 'ferretdb.lock'), JSON.stringify({ pid: gone.pid, since: new Date().toISOString() }));
      const again = await startEmbeddedFerretDb({ dataDir: dir });
      expect(JSON.parse(await readFile(join(dir, 'ferretdb.lock'), 'utf8')).pid).to.equal(process.pid);
      await again.stop();
      expect(await stat(join(dir, 'ferretdb.lock')).then(() => 'still there', () => 'released')).to.equal('released');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses several nodes (REDIS_URL) on the embedded database: `npm start` exits 1 saying to set MONGODB_URI', async () => {
    const { MONGODB_URI: _uri, ...embedded } = production;
    const severalNodes = { ...embedded, ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'true', REDIS_URL: 'redis://127.0.0.1:6390' };
    expect(problemsOf(severalNodes)).to.match(/REDIS_URL is set .* but MONGODB_URI is not: .*embedded database.*Set MONGODB_URI to a MongoDB replica set/);
    expect(problemsOf({ ...production, REDIS_URL: 'redis://127.0.0.1:6390' })).to.equal('');
    expect(problemsOf({ ...production, REDIS_URL: 'http://cache:6379' })).to.include('REDIS_URL');

    const env = { ...process.env, ...severalNodes } as NodeJS.ProcessEnv;
    delete env.MONGODB_URI;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(1);
    expect(stderr).to.include('CareThread cannot start');
    expect(stderr).to.match(/REDIS_URL is set .* but MONGODB_URI is not/);
    expect(stderr).to.include('Set MONGODB_URI to a MongoDB replica set');
  });

  it('names malformed settings', () => {
    expect(problemsOf({ ...production, PHI_ENCRYPTION_KEY: 'k1:c2hvcnQ=' })).to.match(/PHI_ENCRYPTION_KEY.*32 bytes/);
    expect(problemsOf({ ...production, MONGODB_URI: 'postgres://x' })).to.include('MONGODB_URI');
    expect(problemsOf({ ...production, PORT: 'eighty' })).to.include('PORT');
    expect(problemsOf({ ...production, JWT_SECRET: 'short' })).to.include('JWT_SECRET');
    expect(problemsOf({ ...production, WIDGET_ALLOWED_ORIGINS: '' })).to.include('WIDGET_ALLOWED_ORIGINS');
    expect(problemsOf({ ...production, WIDGET_BUSINESS_HOURS: 'weekdays 8-6' })).to.match(/WIDGET_BUSINESS_HOURS.*mon-fri 08:00-18:00/);
    expect(problemsOf({ ...production, CLINIC_TIMEZONE: 'Mars/Olympus' })).to.include('CLINIC_TIMEZONE');
    expect(problemsOf({ ...production, BOOTSTRAP_ADMIN_EMAIL: 'a@b.org' })).to.include('BOOTSTRAP_ADMIN_PASSWORD');
  });

  it('refuses development keys in production', () => {
    expect(problemsOf({ ...production, PHI_ENCRYPTION_KEY: `dev1:${Buffer.alloc(32, 1).toString('base64')}` })).to.include('development keys');
  });

  it('generates development secrets once, into DATA_DIR, readable only by the owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carethread-devsecrets-'));
    try {
      const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
      const second = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
      expect(first.jwtSecret).to.equal(second.jwtSecret);
      expect(first.devSecretsFile).to.equal(join(dir, 'dev-secrets.json'));
      expect((await stat(first.devSecretsFile!)).mode & 0o777).to.equal(0o600);
      const stored = JSON.parse(await readFile(first.devSecretsFile!, 'utf8'));
      expect(stored.BOOTSTRAP_ADMIN_PASSWORD).to.equal(first.bootstrapAdmin!.password);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops `npm start` with a message naming the bad setting', async () => {
    const env = { ...process.env, ...production, JWT_SECRET: '', PORT: 'eighty' } as NodeJS.ProcessEnv;
    delete env.JWT_SECRET;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(1);
    expect(stderr).to.include('JWT_SECRET');
    expect(stderr).to.include('PORT');
  });
});
