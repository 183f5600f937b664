/**
 * One client process of bench/widgets.bench.ts (child_process.fork): holds a
 * few thousand widget sockets on the hub's /widget namespace, answering its
 * heartbeats (engine.io-client does), and reports over IPC.
 *
 * Messages in: `connect` (tokens to open, from which loopback address, how
 * many in flight), `count` (what is connected, what dropped since the last
 * `reset`), `reset`, `drop` (close every socket, stay), `close` (and exit). Messages out: `ready`, `connected` (ok, failed,
 * errors by message, time to each socket's `session` in ms), `counts`.
 * Visitor tokens are not logged; nothing else here is PHI.
 */
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

export type ToWorker =
  | { type: 'connect'; url: string; tokens: string[]; localAddress: string; inFlight: number; deadline: number }
  | { type: 'count' }
  | { type: 'reset' }
  | { type: 'drop' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'dropped' }
  | { type: 'connected'; ok: number; failed: number; errors: Record<string, number>; connectMs: number[]; seconds: number }
  | { type: 'counts'; open: number; disconnects: number; pings: number; reasons: Record<string, number>; rss: number; heapUsed: number };

const sockets: Socket[] = [];
let disconnects = 0;
/** Heartbeats the hub sent (engine.io pings, answered by the client), since the last `reset`. */
let pings = 0;
let reasons: Record<string, number> = {};

const send = (message: FromWorker) => process.send!(message);

function openOne(url: string, token: string, localAddress: string, deadline: number): Promise<{ ok: true; ms: number } | { ok: false; error: string }> {
  const started = performance.now();
  const socket = io(`${url}/widget`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    // Past the deadline no new socket starts; one in flight then gets 5 s more.
    timeout: Math.max(0, deadline - Date.now()) + 5000,
    localAddress,
  } as Parameters<typeof io>[1]);
  return new Promise((resolve) => {
    socket.once('session' as never, () => {
      sockets.push(socket);
      socket.io.on('ping', () => void pings++);
      socket.on('disconnect', (reason) => {
        disconnects++;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      });
      resolve({ ok: true, ms: performance.now() - started });
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve({ ok: false, error: error.message.slice(0, 120) });
    });
    socket.once('disconnect', (reason) => {
      // Before its session arrived: the hub dropped it while setting it up.
      if (!sockets.includes(socket)) resolve({ ok: false, error: `disconnected before session: ${reason}` });
    });
  });
}

async function connectAll(message: Extract<ToWorker, { type: 'connect' }>): Promise<void> {
  const started = performance.now();
  const connectMs: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < message.tokens.length && Date.now() < message.deadline) {
      const token = message.tokens[next++]!;
      const result = await openOne(message.url, token, message.localAddress, message.deadline);
      if (result.ok) connectMs.push(result.ms);
      else {
        failed++;
        errors[result.error] = (errors[result.error] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: message.inFlight }, lane));
  send({ type: 'connected', ok: connectMs.length, failed, errors, connectMs, seconds: (performance.now() - started) / 1000 });
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message);
      break;
    case 'count': {
      const m = process.memoryUsage();
      send({ type: 'counts', open: sockets.filter((s) => s.connected).length, disconnects, pings, reasons, rss: m.rss, heapUsed: m.heapUsed });
      break;
    }
    case 'reset':
      disconnects = 0;
      pings = 0;
      reasons = {};
      break;
    case 'drop':
      for (const socket of sockets.splice(0)) socket.close();
      send({ type: 'dropped' });
      break;
    case 'close':
      for (const socket of sockets) socket.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
// The bench went away: so does this process (its sockets close with it).
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
