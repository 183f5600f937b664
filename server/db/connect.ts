/** Opens the hub's own mongoose connection and makes sure collections and indexes exist. */
import mongoose, { type Connection, type Model } from 'mongoose';
import { DatabaseHealth, HEARTBEAT_FREQUENCY_MS, SERVER_SELECTION_TIMEOUT_MS } from './database-health.ts';
import { DocumentLocks } from './document-locks.ts';
import { bindModels, ensureIndexes, type Models } from './models.ts';
import { serializeWrites } from './serialized-models.ts';
import { detectStoreCapabilities, type StoreCapabilities } from './store-capabilities.ts';

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  /** Per-document write serialization; every model write already takes it (serialized-models.ts). */
  readonly locks: DocumentLocks;
  /** Whether the database answers now (driver heartbeats and failed operations); 'degraded' during an outage. */
  readonly health: DatabaseHealth;
  /** What the store guarantees (FerretDB or MongoDB), asked at connect; decides whether `locks` serialize. */
  readonly capabilities: StoreCapabilities;
  /** Resolves when the server answers a ping; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Emit the driver's command events (`connection.getClient().on('commandStarted')`): tests and benches count and check queries. */
  monitorCommands?: boolean;
}

export async function connectDatabase(uri: string, databaseName: string, options: ConnectOptions = {}): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName: databaseName,
    monitorCommands: options.monitorCommands ?? false,
    serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
    // An outage and its end are noticed within a couple of seconds (database-health.ts).
    heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  const health = new DatabaseHealth(connection.getClient());
  const models = bindModels(connection);
  const capabilities = await detectStoreCapabilities(connection.db!);
  // On MongoDB the locks only check nesting order; writes that do not name one document are refused on both stores alike.
  const locks = new DocumentLocks(!capabilities.isolatedUpdates);
  // On the embedded store a conditional write is checked under its lock and written by _id (serialized-models.ts).
  for (const model of Object.values(models) as Model<unknown>[]) serializeWrites(model, locks, { conditionsInLock: !capabilities.isolatedUpdates });
  await ensureIndexes(models);
  return {
    connection,
    models,
    locks,
    capabilities,
    health,
    ping: async () => {
      if (!connection.db) throw new Error('database not connected');
      await connection.db.admin().command({ ping: 1 });
    },
    close: () => {
      health.stop();
      return connection.close();
    },
  };
}
