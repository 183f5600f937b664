/**
 * The database the hub (and its operator scripts) use: MONGODB_URI when set,
 * otherwise the embedded FerretDB under DATA_DIR, started here and stopped by
 * `stop()`.
 */
import type { Config } from '../config.ts';
import { startEmbeddedFerretDb } from './embedded/ferretdb-process.ts';

export interface HubStore {
  readonly uri: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export async function startHubStore(config: Pick<Config, 'mongodbUri' | 'dataDir'>, log?: (line: string) => void): Promise<HubStore> {
  if (config.mongodbUri) return { uri: config.mongodbUri, embedded: false, stop: async () => {} };
  const db = await startEmbeddedFerretDb({ dataDir: config.dataDir, ...(log ? { log } : {}) });
  return { uri: db.uri, embedded: true, stop: () => db.stop() };
}
