/**
 * `npm run bench:fanout`: which Socket.IO Redis adapter fits the hub's
 * cross-node pushes (server/realtime/redis-fanout.ts): the classic pub/sub
 * adapter or the sharded one (SPUBLISH, Redis 7+) in its static and dynamic
 * subscription modes.
 *
 *   BENCH_FANOUT_ROUNDS   sequential cross-node pushes timed one by one (default 2000)
 *   BENCH_FANOUT_BURST    pushes sent at once, timed until the last arrives (default 20000)
 *   BENCH_FANOUT_SOCKETS  connect + disconnect cycles whose Redis commands are counted (default 200)
 *
 * Starts Debian's redis-server (`npm run setup:redis`) on a free loopback
 * port with no persistence, two Socket.IO servers per adapter in this process
 * with their own Redis connections, and a client on the second. Each socket
 * joins the rooms an agent's socket joins (its own agent room, team, role); each push is
 * one `to(room).emit` on the first server. Prints figures only; stops what it
 * started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';

const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 2000);
const BURST = Number(process.env.BENCH_FANOUT_BURST ?? 20000);
const SOCKETS = Number(process.env.BENCH_FANOUT_SOCKETS ?? 200);

type Variant = 'pubsub' | 'sharded-static' | 'sharded-dynamic';
type RedisClient = ReturnType<typeof createClient>;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}); run npm run setup:redis`)));
  });
  child.stdout!.resume();
  return child;
}

interface Node {
  io: Server;
  http: HttpServer;
  port: number;
  clients: RedisClient[];
}

async function startNode(url: string, variant: Variant): Promise<Node> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter = variant === 'pubsub' ? createAdapter(pub, sub) : createShardedAdapter(pub, sub, { subscriptionMode: variant === 'sharded-static' ? 'static' : 'dynamic' });
  const http = createServer();
  const io = new Server(http, { adapter });
  // Like an agent's socket: a room of its own agent, and rooms shared with others.
  io.of('/agents').on('connection', (socket) => void socket.join([`agent:${String(socket.handshake.auth.agentId)}`, 'team:front-desk', 'role:admin']));
  // What the hub asks before a reply goes to the web chat: how many sockets a room has on the other nodes.
  io.of('/agents').on('room-size' as never, ((room: string, ack: (n: number) => void) => ack(io.of('/agents').adapter.rooms.get(room)?.size ?? 0)) as never);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return { io, http, port: (http.address() as AddressInfo).port, clients: [pub, sub] };
}

async function stopNode(node: Node): Promise<void> {
  await new Promise<void>((resolve) => node.io.close(() => resolve()));
  for (const client of node.clients) await client.close();
}

let agents = 0;
function connect(port: number): Promise<ClientSocket> {
  const socket = connectClient(`http://127.0.0.1:${port}/agents`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { agentId: `a${++agents}` } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Emits `probe` from `from` until `client` hears it: the adapter's subscriptions are in place. */
async function untilFanoutWorks(from: Node, client: ClientSocket): Promise<void> {
  let heard = false;
  client.once('probe', () => (heard = true));
  while (!heard) {
    from.io.of('/agents').to('team:front-desk').emit('probe' as never);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function commandCounts(admin: RedisClient): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const counts = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) counts.set(m[1]!, Number(m[2]));
  return counts;
}

async function measure(url: string, admin: RedisClient, variant: Variant) {
  const a = await startNode(url, variant);
  const b = await startNode(url, variant);
  const client = await connect(b.port);
  await untilFanoutWorks(a, client);
  const room = a.io.of('/agents').to('team:front-desk');

  const latencies: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    const arrived = new Promise<void>((resolve) => client.once('tick', () => resolve()));
    room.emit('tick' as never, i as never);
    await arrived;
    latencies.push(performance.now() - started);
  }
  latencies.sort((x, y) => x - y);

  let received = 0;
  const allArrived = new Promise<void>((resolve) => client.on('burst', () => ++received === BURST && resolve()));
  const burstStarted = performance.now();
  for (let i = 0; i < BURST; i++) room.emit('burst' as never, i as never);
  await allArrived;
  const burstMs = performance.now() - burstStarted;

  const queries: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 500); i++) {
    const started = performance.now();
    const sizes = (await a.io.of('/agents').serverSideEmitWithAck('room-size' as never, 'team:front-desk' as never)) as number[];
    if (sizes.reduce((x, y) => x + y, 0) !== 1) throw new Error(`room-size answered ${JSON.stringify(sizes)}`);
    queries.push(performance.now() - started);
  }
  queries.sort((x, y) => x - y);

  // Redis commands caused by sockets arriving and leaving (rooms created and deleted on b).
  const before = await commandCounts(admin);
  for (let i = 0; i < SOCKETS; i++) (await connect(b.port)).disconnect();
  await new Promise((r) => setTimeout(r, 200)); // let the last room deletions reach Redis before counting
  const after = await commandCounts(admin);
  const churn = [...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const).filter(([name, n]) => n > 0 && name !== 'info');

  client.disconnect();
  await stopNode(a);
  await stopNode(b);
  return { latencies, burstMs, churn, queries };
}

const port = await freePort();
const redis = await startRedis(port);
const url = `redis://127.0.0.1:${port}`;
const admin = createClient({ url });
await admin.connect();
try {
  console.log(`redis: ${(await admin.info('server')).match(/redis_version:(\S+)/)?.[1]}; ${ROUNDS} sequential pushes, a burst of ${BURST}, ${SOCKETS} connect+disconnect cycles`);
  for (const variant of ['pubsub', 'sharded-static', 'sharded-dynamic'] as const) {
    const { latencies, burstMs, churn, queries } = await measure(url, admin, variant);
    const churnText = churn.length ? churn.map(([name, n]) => `${name} ${(n / SOCKETS).toFixed(1)}`).join(', ') : 'none';
    console.log(
      `${variant.padEnd(16)} push p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms; ` +
        `burst ${Math.round(BURST / (burstMs / 1000))} pushes/s; room-size query p50 ${percentile(queries, 50).toFixed(3)} ms, p99 ${percentile(queries, 99).toFixed(3)} ms; Redis commands per socket connect+disconnect: ${churnText}`,
    );
  }
} finally {
  await admin.close();
  redis.kill('SIGTERM');
}
