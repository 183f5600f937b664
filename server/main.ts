/** `npm start`: read config, bring up the database (embedded unless MONGODB_URI), serve. */
import { ConfigError, loadConfig } from './config.ts';
import { EmbeddedStoreInUseError } from './db/embedded/ferretdb-process.ts';
import { startHubStore } from './db/hub-store.ts';
import { buildHub } from './hub.ts';
import { createLogger } from './logger.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`CareThread cannot start.\n${error.message}\nSee .env.example and README.md.`);
    process.exit(1);
  }
  throw error;
}
const logger = createLogger({ level: config.logLevel });

const store = await startHubStore(config, (line) => logger.info(line)).catch((error: unknown) => {
  if (!(error instanceof EmbeddedStoreInUseError)) throw error;
  console.error(`CareThread cannot start.\n${error.message}`);
  process.exit(1);
});
const hub = await buildHub({ config, mongoUri: store.uri, logger });
const { port } = await hub.listen(config.port);
const { engine, version, isolatedUpdates } = hub.services.db.capabilities;
logger.info(
  { port, database: store.embedded ? 'embedded FerretDB' : 'MONGODB_URI', store: { engine, version, isolatedUpdates }, sandboxSms: config.sandbox.sms, sandboxEmail: config.sandbox.email },
  `CareThread listening on ${config.publicBaseUrl}`,
);
if (!isolatedUpdates && config.redisUrl) {
  logger.warn(`MONGODB_URI names a ${engine} ${version} store, which does not isolate updates: this node's per-document locks do not reach other nodes; run several nodes only against MongoDB`);
}
if (config.devSecretsFile) {
  logger.warn(`development secrets (and the bootstrap admin's password) are in ${config.devSecretsFile}`);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await hub.close().catch((error) => logger.error({ err: error }, 'error while closing the hub'));
  await store.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
