/** Opens the hub's own mongoose connection and makes sure collections and indexes exist. */
import mongoose, { type Connection, type Model } from 'mongoose';
import { DocumentLocks } from './document-locks.ts';
import { bindModels, ensureIndexes, type Models } from './models.ts';
import { serializeWrites } from './serialized-models.ts';

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  /** Per-document write serialization; every model write already takes it (serialized-models.ts). */
  readonly locks: DocumentLocks;
  /** Resolves when the server answers a ping; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectDatabase(uri: string, databaseName: string): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName: databaseName,
    serverSelectionTimeoutMS: 10_000,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  const models = bindModels(connection);
  const locks = new DocumentLocks();
  for (const model of Object.values(models) as Model<unknown>[]) serializeWrites(model, locks);
  await ensureIndexes(models);
  return {
    connection,
    models,
    locks,
    ping: async () => {
      if (!connection.db) throw new Error('database not connected');
      await connection.db.admin().command({ ping: 1 });
    },
    close: () => connection.close(),
  };
}
