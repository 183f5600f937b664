/**
 * The store's own count of the data commands it served (`serverStatus`
 * `metrics.commands.<name>.total`: FerretDB and MongoDB both keep it), to
 * count what a hub in another process issues without monitoring its driver.
 * Only data commands count (find, insert, update, findAndModify, …), not
 * handshakes, heartbeats or this counter's own serverStatus.
 */
import mongoose from 'mongoose';

const DATA_COMMANDS = ['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct', 'getMore'];

export interface StoreCounter {
  /** Data commands served so far (all databases of the store). */
  read(): Promise<number>;
  close(): Promise<void>;
}

export async function openStoreCounter(uri: string): Promise<StoreCounter> {
  const client = await mongoose.mongo.MongoClient.connect(uri);
  return {
    async read() {
      const status = (await client.db('admin').command({ serverStatus: 1 })) as { metrics?: { commands?: Record<string, { total?: number | { toNumber(): number } }> } };
      const commands = status.metrics?.commands ?? {};
      let total = 0;
      for (const name of DATA_COMMANDS) {
        const t = commands[name]?.total;
        total += typeof t === 'number' ? t : t ? Number(t.toNumber()) : 0;
      }
      return total;
    },
    close: () => client.close(),
  };
}
