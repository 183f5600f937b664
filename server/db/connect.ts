/** Opens the hub's own mongoose connection and makes sure collections and indexes exist. */
import mongoose, { type Connection } from 'mongoose';
import { bindModels, ensureIndexes, type Models } from './models.ts';

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
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
  await ensureIndexes(models);
  return {
    connection,
    models,
    ping: async () => {
      if (!connection.db) throw new Error('database not connected');
      await connection.db.admin().command({ ping: 1 });
    },
    close: () => connection.close(),
  };
}
