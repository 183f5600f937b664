/** For operator scripts: the hub's database as `npm start` would open it (embedded FerretDB unless MONGODB_URI). */
import { loadConfig, type Config } from '../server/config.ts';
import { connectDatabase, type Database } from '../server/db/connect.ts';
import { startHubStore } from '../server/db/hub-store.ts';

export async function openHubDatabase(): Promise<{ config: Config; db: Database; close(): Promise<void> }> {
  const config = loadConfig();
  const store = await startHubStore(config);
  const db = await connectDatabase(store.uri, config.databaseName);
  return {
    config,
    db,
    async close() {
      await db.close();
      await store.stop();
    },
  };
}
