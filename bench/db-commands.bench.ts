/**
 * `npm run bench:commands`: database commands per operation (one inbound SMS,
 * one reply handed to Twilio, one status callback, one inbox page), with the
 * budget test/integration/store/command-budget.test.ts keeps. Each command is
 * a round trip on MongoDB and a full scan of a collection on the embedded
 * FerretDB, so this count is the first lever on ingest speed.
 *
 *   MONGODB_URI   count against a MongoDB instead (a throwaway database is created and dropped)
 *
 * Twilio's API is intercepted (nock); nothing leaves the machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { loadConfig } from '../server/config.ts';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../server/db/embedded/ferretdb-process.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';
import { BENCH_ENV } from './bench-env.ts';
import { budgeted, countCommandsPerOperation, summarizeCommands } from './command-counts.ts';

const ENV: Record<string, string> = {
  ...BENCH_ENV,
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_FROM_NUMBER: '+15555550100',
  PUBLIC_BASE_URL: 'https://hub.bench.example',
};

async function main(): Promise<void> {
  const externalUri = process.env.MONGODB_URI;
  const dataDir = await mkdtemp(join(tmpdir(), 'carethread-bench-'));
  let embedded: EmbeddedDatabase | undefined;
  let hub: Hub | undefined;
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  try {
    if (!externalUri) embedded = await startEmbeddedFerretDb({ dataDir });
    const config = loadConfig({ ...ENV, DATA_DIR: dataDir, MONGODB_DATABASE: `bench_${randomBytes(4).toString('hex')}` });
    hub = await buildHub({ config, mongoUri: externalUri ?? embedded!.uri, logger: createLogger({ level: config.logLevel }), monitorDatabaseCommands: true, deliveryPollMs: 600_000 });
    const { url } = await hub.listen(0, '127.0.0.1');
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ENV.BOOTSTRAP_ADMIN_EMAIL, password: ENV.BOOTSTRAP_ADMIN_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const { engine, version } = hub.services.db.capabilities;
    console.log(`CareThread database commands per operation: ${engine} ${version}${externalUri ? ' (MONGODB_URI)' : ' (embedded)'}, ${cpus().length} cores`);
    const counts = await countCommandsPerOperation({ hub, url, adminToken: accessToken });
    const width = Math.max(...counts.map((c) => c.operation.length));
    console.log(`${'operation'.padEnd(width)}  commands  budget`);
    for (const c of counts) {
      const own = budgeted(c.commands);
      const inLock = c.commands.length - own;
      console.log(`${c.operation.padEnd(width)}  ${String(own).padStart(8)}  ${String(c.budget).padStart(6)}${own > c.budget ? '  OVER' : ''}${inLock ? `  (+${inLock} in-lock reads on this store)` : ''}`);
      console.log(`${''.padEnd(width)}  ${summarizeCommands(c.commands)}`);
    }
    if (externalUri) await hub.services.db.connection.dropDatabase();
  } finally {
    await hub?.close().catch((error) => console.error(`error closing the hub: ${(error as Error).message}`));
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
