/**
 * Several hub nodes: with REDIS_URL, Socket.IO's Redis adapter carries every
 * room emit to the sockets on the other nodes, and the helpers below answer
 * "is anyone in this room" for the whole cluster, not just this process.
 *
 * Which adapter: the classic pub/sub one (`createAdapter`). The sharded one
 * (SPUBLISH, Redis 7) pays off on a Redis Cluster; on one Redis both carry far
 * more than a clinic's traffic (bench/redis-adapter.bench.ts, here: pub/sub
 * ~30,000 pushes/s, sharded 34,000-48,000; a cross-node push or room question
 * p50 0.05-0.2 ms for all three), but the sharded adapter counts nodes by
 * heartbeat (a dead node is noticed after 10 s, a new one after 5 s) where
 * pub/sub counts live subscriptions, and its dynamic mode adds a Redis
 * subscribe and unsubscribe for every socket's own room.
 *
 * Redis going away must never take a node down: each node keeps serving its
 * own sockets, and only cross-node live pushes stop. So publishes fail fast
 * and are dropped (no offline queue growing through an outage), nothing the
 * adapter fires and forgets may reject unhandled, client errors are logged
 * once per outage without the URL's credentials, and the clients reconnect
 * with capped, jittered backoff. Nothing stored is lost: messages live in the
 * database, and when Redis is back each node asks its own sockets to
 * reconnect, which makes the inbox and the widget catch up by seq. (A node cut
 * off alone does the same; the other nodes' clients see that node's pushes
 * from meanwhile at their next reconnect or reload.)
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Namespace, Server } from 'socket.io';
import type { Logger } from '../logger.ts';

export interface RedisFanout {
  close(): Promise<void>;
}

export interface RedisFanoutOptions {
  url: string;
  logger: Logger;
  /** How long start-up waits for Redis before serving alone until it comes (default 5 s). */
  connectWaitMs?: number;
  /** Sockets are asked to reconnect within this long after Redis returns, not all at once (default 3 s). */
  resyncSpreadMs?: number;
}

/** How long a cluster-wide question waits for the other nodes' answers. */
const ANSWER_TIMEOUT_MS = 2000;
const ROOM_SIZE = 'fanout:room-size';
const ROOMS_WITH_PREFIX = 'fanout:rooms';

interface Cluster {
  /** Both Redis connections are up: a cross-node question can be answered. */
  ready(): boolean;
}

const clusters = new WeakMap<Server, Cluster>();

/** Plugs the Redis adapter into `io` (before its namespaces are created) and returns what closes it. */
export async function attachRedisFanout(io: Server, options: RedisFanoutOptions): Promise<RedisFanout> {
  const { logger } = options;
  const log = logger.child({ component: 'redis-fanout' });
  const reconnectStrategy = (retries: number) => Math.min(100 * 2 ** retries, 5000) + Math.floor(Math.random() * 250);
  // Publishes fail at once while Redis is away (a push that cannot cross nodes now is not worth holding).
  const pub = createClient({ url: options.url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 5000 } });
  // The subscriber keeps its offline queue: its few subscriptions, made at start, wait for Redis and are
  // renewed by the client on every reconnect.
  const sub = pub.duplicate({ disableOfflineQueue: false });

  let closed = false;
  let droppedPushes = 0;
  let lostAt: Date | null = null;
  const down = { pub: false, sub: false };
  const resyncTimers = new Set<NodeJS.Timeout>();
  const namespaces = new Set<Namespace>();

  for (const [role, client] of [['pub', pub], ['sub', sub]] as const) {
    client.on('error', (error: unknown) => {
      if (closed) return;
      if (!down[role]) {
        down[role] = true;
        lostAt ??= new Date();
        log.warn({ client: role, redisError: safeError(error, options.url) }, 'Redis unreachable: cross-node live pushes paused; this node keeps serving its own sockets');
      } else {
        log.debug({ client: role, redisError: safeError(error, options.url) }, 'Redis still unreachable');
      }
    });
    client.on('reconnecting', () => {
      if (!closed) down[role] = true;
      lostAt ??= new Date();
    });
    client.on('ready', () => {
      if (closed) return;
      down[role] = false;
      if (down.pub || down.sub || !lostAt) return;
      log.info({ outageSeconds: Math.round((Date.now() - lostAt.getTime()) / 1000), droppedPushes }, 'Redis is back: cross-node live pushes resume; asking this node\'s sockets to reconnect and catch up');
      lostAt = null;
      droppedPushes = 0;
      resyncLocalSockets(namespaces, options.resyncSpreadMs ?? 3000, resyncTimers);
    });
  }

  neverRejects(pub, ['publish', 'sPublish'], (method, error) => {
    droppedPushes++;
    log.debug({ method, redisError: safeError(error, options.url) }, 'cross-node push dropped');
  });
  neverRejects(sub, ['subscribe', 'pSubscribe', 'unsubscribe', 'pUnsubscribe'], (method, error) => {
    if (!closed) log.warn({ method, redisError: safeError(error, options.url) }, 'Redis subscription failed');
  });

  const connecting = Promise.all([pub.connect(), sub.connect()]).then(
    () => true,
    (error: unknown) => {
      log.error({ redisError: safeError(error, options.url) }, 'Redis connection failed');
      return false;
    },
  );
  let waitTimer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([connecting, new Promise<false>((resolve) => (waitTimer = setTimeout(() => resolve(false), options.connectWaitMs ?? 5000)))]);
  clearTimeout(waitTimer);
  if (connected) log.info('Socket.IO rooms span every node (Redis adapter)');
  else log.warn('Redis not reachable yet: this node serves its own sockets alone until it is');

  io.on('new_namespace', (nsp) => {
    namespaces.add(nsp);
    answerClusterQuestions(nsp);
  });
  io.adapter(createAdapter(pub, sub, { key: 'carethread', requestsTimeout: ANSWER_TIMEOUT_MS }));
  clusters.set(io, { ready: () => !closed && pub.isReady && sub.isReady });

  return {
    async close() {
      closed = true;
      clusters.delete(io);
      for (const timer of resyncTimers) clearTimeout(timer);
      resyncTimers.clear();
      await Promise.all(
        [pub, sub].map(async (client) => {
          try {
            // Politely when Redis answers (pending replies first), but a Redis that hangs must not hold up a shutdown.
            if (client.isReady) {
              let timer: NodeJS.Timeout | undefined;
              const gaveUp = await Promise.race([client.close().then(() => false), new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), 2000)))]);
              clearTimeout(timer);
              if (gaveUp && client.isOpen) client.destroy();
            } else if (client.isOpen) {
              client.destroy();
            }
          } catch (error) {
            log.debug({ redisError: safeError(error, options.url) }, 'Redis client did not close cleanly');
          }
        }),
      );
    },
  };
}

/**
 * Whether any socket, on any node, is in the room. This node first (no round
 * trip); then the other nodes; when they cannot answer (Redis away, a node too
 * slow), what this node knows.
 */
export async function anySocketIn(nsp: Namespace, room: string): Promise<boolean> {
  if (localRoomSize(nsp, room) > 0) return true;
  const answers = await askOtherNodes(nsp, ROOM_SIZE, room);
  return answers.some((n) => typeof n === 'number' && n > 0);
}

/** The names of the rooms starting with `prefix` that hold a socket on some node (this one, and those that answer). */
export async function roomsAcrossNodes(nsp: Namespace, prefix: string): Promise<string[]> {
  const names = new Set(localRoomsWithPrefix(nsp, prefix));
  for (const answer of await askOtherNodes(nsp, ROOMS_WITH_PREFIX, prefix)) {
    if (Array.isArray(answer)) for (const name of answer) if (typeof name === 'string' && name.startsWith(prefix)) names.add(name);
  }
  return [...names];
}

/** Tells the other nodes' copy of this namespace about something (no-op on one node, or while Redis is away). */
export function tellOtherNodes(nsp: Namespace, event: string, ...args: unknown[]): void {
  if (!clusters.get(nsp.server)?.ready()) return;
  (nsp.serverSideEmit as (ev: string, ...a: unknown[]) => boolean)(event, ...args);
}

function localRoomSize(nsp: Namespace, room: string): number {
  return nsp.adapter.rooms.get(room)?.size ?? 0;
}

function localRoomsWithPrefix(nsp: Namespace, prefix: string): string[] {
  return [...nsp.adapter.rooms].filter(([name, members]) => name.startsWith(prefix) && members.size > 0).map(([name]) => name);
}

function answerClusterQuestions(nsp: Namespace): void {
  const on = nsp.on.bind(nsp) as (event: string, listener: (...args: unknown[]) => void) => Namespace;
  on(ROOM_SIZE, (room, ack) => {
    if (typeof ack === 'function') ack(typeof room === 'string' ? localRoomSize(nsp, room) : 0);
  });
  on(ROOMS_WITH_PREFIX, (prefix, ack) => {
    if (typeof ack === 'function') ack(typeof prefix === 'string' && prefix.length > 0 ? localRoomsWithPrefix(nsp, prefix) : []);
  });
}

/** The other nodes' answers; none when there are no others or Redis is away; those that came in time after a timeout. */
async function askOtherNodes(nsp: Namespace, event: string, arg: string): Promise<unknown[]> {
  if (!clusters.get(nsp.server)?.ready()) return [];
  const emitWithAck = nsp.serverSideEmitWithAck as (ev: string, ...a: unknown[]) => Promise<unknown[]>;
  let timer: NodeJS.Timeout | undefined;
  // The adapter never answers when Redis drops between the check above and the request: the race bounds that.
  const timeout = new Promise<unknown[]>((resolve) => (timer = setTimeout(() => resolve([]), ANSWER_TIMEOUT_MS + 500)));
  try {
    return await Promise.race([
      emitWithAck.call(nsp, event, arg).catch((error: { responses?: unknown[] }) => (Array.isArray(error?.responses) ? error.responses : [])),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After an outage this node may have missed other nodes' pushes: its sockets are disconnected (not closed,
 * no `session:ended`), which the inbox and the widget answer by reconnecting and catching up by seq.
 * Spread over `spreadMs` so a large node does not bring every client back in the same instant.
 */
function resyncLocalSockets(namespaces: Iterable<Namespace>, spreadMs: number, timers: Set<NodeJS.Timeout>): void {
  for (const nsp of namespaces) {
    for (const socket of nsp.sockets.values()) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (socket.connected) socket.disconnect(false);
      }, Math.floor(Math.random() * spreadMs));
      timer.unref();
      timers.add(timer);
    }
  }
}

/** Wraps fire-and-forget client methods so their rejections are reported to `onError`, never left unhandled. */
function neverRejects(client: object, methods: string[], onError: (method: string, error: unknown) => void): void {
  const target = client as Record<string, unknown>;
  for (const method of methods) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = (...args: unknown[]) => {
      try {
        return Promise.resolve(original.apply(client, args)).catch((error: unknown) => onError(method, error));
      } catch (error) {
        onError(method, error);
        return Promise.resolve(undefined);
      }
    };
  }
}

/** An error as logged: its kind and message, with the Redis URL and its password taken out. */
function safeError(error: unknown, url: string): { kind: string; code?: string; message: string } {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  let message = typeof e?.message === 'string' ? e.message : String(error);
  const secrets = [url];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(decodeURIComponent(parsed.password), parsed.password);
  } catch {
    // config validated the scheme; an unparsable rest only means nothing more to take out
  }
  for (const secret of secrets.filter(Boolean).sort((a, b) => b.length - a.length)) message = message.split(secret).join('[redacted]');
  message = message.replace(/rediss?:\/\/[^\s]*/g, 'redis://[redacted]');
  return { kind: typeof e?.name === 'string' ? e.name : 'Error', ...(typeof e?.code === 'string' ? { code: e.code } : {}), message };
}
