/** For operator scripts: the hub's database as `npm start` would open it (embedded FerretDB unless MONGODB_URI). */
import { loadConfig, type Config } from '../server/config.ts';
import { connectDatabase, type Database } from '../server/db/connect.ts';
import { startEmbeddedFerretDb } from '../server/db/embedded/ferretdb-process.ts';

export async function openHubDatabase(): Promise<{ config: Config; db: Database; close(): Promise<void> }> {
  const config = loadConfig();
  const embedded = config.mongodbUri ? undefined : await startEmbeddedFerretDb({ dataDir: config.dataDir });
  const db = await connectDatabase(config.mongodbUri ?? embedded!.uri, config.databaseName);
  return {
    config,
    db,
    async close() {
      await db.close();
      await embedded?.stop();
    },
  };
}
