/**
 * The test run's database: one embedded FerretDB for the whole run (started by
 * the global fixture), or the MongoDB named by MONGODB_URI. Each test file
 * uses its own database name, so files never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../../server/db/embedded/ferretdb-process.ts';

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
let uri: string | undefined = process.env.MONGODB_URI;

export async function startTestDatabase(): Promise<void> {
  if (uri) return;
  dataDir = await mkdtemp(join(tmpdir(), 'carethread-test-'));
  embedded = await startEmbeddedFerretDb({ dataDir });
  uri = embedded.uri;
}

export async function stopTestDatabase(): Promise<void> {
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

export function testDatabaseUri(): string {
  if (!uri) throw new Error('the test database is not started (test/setup/global-fixture.ts)');
  return uri;
}

/** Where the embedded store keeps its files (SQLite databases and their -wal/-shm), or null on MONGODB_URI. */
export function testDatabaseDir(): string | null {
  return embedded ? (dataDir ?? null) : null;
}

/** A fresh database name for one test file or hub. */
export function uniqueDatabaseName(label: string): string {
  return `t_${label.replace(/[^A-Za-z0-9]/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
}
