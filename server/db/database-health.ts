/**
 * Whether the database answers, decided from what the MongoDB driver sees:
 * its topology (a server the hub can write to, or none), its heartbeats, and
 * real operations that could not reach the server. The hub uses it to refuse
 * webhooks at once with 503 while the database is away (so Twilio and
 * SendGrid retry instead of waiting on a request that cannot be stored), to
 * answer /readyz, and to tell agents' inboxes.
 *
 * No timers of its own: the driver's heartbeats (every HEARTBEAT_FREQUENCY_MS)
 * notice an outage and its end even with no traffic.
 */
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { AppError } from '../errors.ts';

export type DatabaseState = 'ok' | 'degraded';

export interface DatabaseStatus {
  state: DatabaseState;
  /** Why it is degraded (a code, no host names); null when ok. */
  reason: 'database_unreachable' | null;
  /** When this state began. */
  since: Date;
}

/** How often the driver checks the server: an outage and a recovery are noticed within about this long. */
export const HEARTBEAT_FREQUENCY_MS = 2000;
/** How long an operation waits for a server while the database is up (rides out a replica set election). */
export const SERVER_SELECTION_TIMEOUT_MS = 10_000;
/** ...and while it is known to be down: a request fails in a couple of seconds, not ten. */
export const DEGRADED_SERVER_SELECTION_TIMEOUT_MS = 2000;
/** What a 503 for an unreachable database suggests to wait (Retry-After). */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The error every route and socket answers with while the database is away: 503 with Retry-After. */
export function databaseUnavailable(): AppError {
  return new AppError('DATABASE_UNAVAILABLE', 'The database is not answering; try again shortly', { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
}

/**
 * The embedded FerretDB (SQLite) gives up on a write that waited 10 s for SQLite's write lock with InternalError
 * "database is locked (5) (SQLITE_BUSY)" (measured: a findAndModify behind a long updateMany; seen at 20,000
 * conversations by `npm run bench -- inbound`). Nothing is wrong with the request and nothing is down: it is
 * answered 503 with Retry-After, so the provider (or the client) tries again; the steps it did are idempotent.
 */
export function isStoreBusy(error: unknown): boolean {
  const { name, code, message } = (error ?? {}) as { name?: string; code?: unknown; message?: unknown };
  return name === 'MongoServerError' && code === 1 && typeof message === 'string' && /SQLITE_BUSY|database is locked/.test(message);
}

/** The store's own failures as the answer a route or socket gives: an outage, or a store too busy to answer; else null. */
export function storeFailure(error: unknown): AppError | null {
  if (isDatabaseOutage(error)) return databaseUnavailable();
  if (isStoreBusy(error)) return new AppError('DATABASE_BUSY', 'The database is too busy to answer now; try again shortly', { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
  return null;
}

const { MongoNetworkError, MongoServerSelectionError, MongoNotConnectedError, MongoTopologyClosedError } = mongoose.mongo;
/** By name too: an error from another copy of the driver (or mongoose's wrapper of the first connect) is the same failure. */
const OUTAGE_ERROR_NAMES = new Set([
  'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoPoolClearedError', 'MongoServerSelectionError', 'MongooseServerSelectionError',
  'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoClientClosedError',
]);

/**
 * Answers a server gives while it cannot serve at all: shutting down (FerretDB and MongoDB answer operations in
 * flight so), stepped down or not primary during an election, recovering, its own network failing.
 */
const UNAVAILABLE_SERVER_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * True for a failure to reach the database at all (refused, reset, no server to select, pool cleared, server
 * shutting down or without a primary), as opposed to an answer it gave (a duplicate key, a bad query): those
 * are the request's own outcome.
 */
export function isDatabaseOutage(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError || e instanceof MongoNotConnectedError || e instanceof MongoTopologyClosedError) return true;
    const { name, code } = e as { name?: string; code?: unknown };
    if (OUTAGE_ERROR_NAMES.has(name ?? '')) return true;
    if (typeof code === 'number' && UNAVAILABLE_SERVER_CODES.has(code) && (name === 'MongoServerError' || name === 'MongoWriteConcernError')) return true;
  }
  return false;
}

type Client = ReturnType<Connection['getClient']>;
type TopologyDescription = InstanceType<typeof mongoose.mongo.TopologyDescription>;
const WRITABLE_SERVER_TYPES = new Set(['Standalone', 'RSPrimary', 'Mongos', 'LoadBalancer']);

export class DatabaseHealth {
  private current: DatabaseStatus = { state: 'ok', reason: null, since: new Date() };
  private readonly listeners = new Set<(status: DatabaseStatus) => void>();
  private readonly detachAll: () => void;
  /** Addresses of the servers the hub can write to; null until the driver has described its topology to us. */
  private writable: Set<string> | null;
  /** When a connection was last refused (0: never). */
  private lastRefusedAt = 0;

  constructor(private readonly client: Client) {
    this.writable = writableServers((client as unknown as { topology?: { description?: TopologyDescription } }).topology?.description);
    const detach: (() => void)[] = [];
    const on = (event: string, handler: (e: never) => void) => {
      client.on(event as 'topologyDescriptionChanged', handler as never);
      detach.push(() => client.off(event as 'topologyDescriptionChanged', handler as never));
    };
    on('topologyDescriptionChanged', (e: { newDescription: TopologyDescription }) => {
      this.writable = writableServers(e.newDescription);
      if (this.writable && this.writable.size === 0) this.lost();
      else this.answered('heartbeat');
    });
    // A real operation could not even open a connection (refused, reset, timed out): down now, before the next heartbeat says so.
    on('connectionCheckOutFailed', (e: { reason: string }) => {
      if (e.reason !== 'connectionError') return;
      this.lastRefusedAt = Date.now();
      this.lost();
    });
    // Proof the server answers again: a heartbeat, or a new connection's handshake (load-balanced topologies have no heartbeats).
    on('serverHeartbeatSucceeded', (e: { connectionId: string }) => this.answered('heartbeat', e.connectionId));
    on('connectionReady', (e: { address: string }) => this.answered('new connection', e.address));
    this.detachAll = () => detach.forEach((off) => off());
  }

  get available(): boolean {
    return this.current.state === 'ok';
  }

  get status(): DatabaseStatus {
    return { ...this.current };
  }

  /** Called on every change of state (not on repeats); returns the unsubscribe. */
  onChange(listener: (status: DatabaseStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops listening to the driver (before the connection closes: a closing client is not an outage). */
  stop(): void {
    this.detachAll();
    this.listeners.clear();
  }

  /**
   * A server answered. A heartbeat travels on a connection opened long ago: a server that is shutting down (or at
   * its connection limit) still answers there while it refuses new connections, so after a refusal only a quiet
   * spell of two heartbeats, or a new connection that succeeded, counts as back. No flapping while it stops.
   */
  private answered(how: 'heartbeat' | 'new connection', address?: string): void {
    if (this.current.state === 'ok') return;
    if (this.writable !== null && (this.writable.size === 0 || (address !== undefined && !this.writable.has(address)))) return;
    if (how === 'heartbeat' && Date.now() - this.lastRefusedAt < 2 * HEARTBEAT_FREQUENCY_MS) return;
    this.recovered();
  }

  private lost(): void {
    if (this.current.state === 'degraded') return;
    this.setSelectionTimeout(DEGRADED_SERVER_SELECTION_TIMEOUT_MS);
    this.change({ state: 'degraded', reason: 'database_unreachable', since: new Date() });
  }

  private recovered(): void {
    if (this.current.state === 'ok') return;
    this.setSelectionTimeout(SERVER_SELECTION_TIMEOUT_MS);
    this.change({ state: 'ok', reason: null, since: new Date() });
  }

  private change(status: DatabaseStatus): void {
    this.current = status;
    for (const listener of [...this.listeners]) listener({ ...status });
  }

  /**
   * Mongoose no longer buffers operations once a connection has opened, so during an outage each one waits
   * serverSelectionTimeoutMS for a server. The driver reads that from the client's options on every operation
   * (mongodb 6-7, executeOperation), so it can be shortened while the database is known to be down and restored
   * after; should a driver version copy it elsewhere, this does nothing and requests just take the full wait.
   */
  private setSelectionTimeout(ms: number): void {
    const options = this.client.options as { serverSelectionTimeoutMS?: unknown };
    if (typeof options?.serverSelectionTimeoutMS === 'number' && !Object.isFrozen(options)) options.serverSelectionTimeoutMS = ms;
  }
}

function writableServers(description: TopologyDescription | undefined): Set<string> | null {
  if (!description?.servers) return null;
  return new Set([...description.servers.values()].filter((s) => WRITABLE_SERVER_TYPES.has(s.type)).map((s) => s.address));
}
