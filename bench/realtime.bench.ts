/**
 * `npm run bench -- realtime`: the hub's fan-out of `message:created` to the
 * agents' sockets, against a bare Socket.IO server emitting the same payload
 * to the same number of sockets (issue #23, item 3).
 *
 * - Hub side: a hub in its own process; 20 agents (role agent, the default
 *   team) created through the API and logged in; N sockets on /agents
 *   (short: 20 and 200; full: 20, 200 and 1,000) share those 20 logins (the
 *   hub allows several sockets per session, as several tabs), so all of them
 *   are in the conversation's team room. One SMS conversation is opened by
 *   the sandbox inbound (POST /api/dev/inbound) before any socket connects.
 *   Each event is one agent note (POST /api/conversations/:id/notes, as the
 *   admin): the hub stores it, then emits `message:created` to the team, the
 *   admins and the assignee.
 * - Bare side: bench/bare-socketio-server.ts in its own process, the hub's
 *   Socket.IO options, the same N sockets in the team room; each event is a
 *   POST /emit that emits the payload captured from the hub (same size, a
 *   fresh marker) to the same two rooms.
 * - Clients: all sockets in this process (socket.io-client, websocket
 *   transport); every arrival is stamped with performance.now(), the clock the
 *   call was started with. Events go one at a time: the next starts when all
 *   N sockets have the previous one (or after 10 s, counted as missed).
 * - Figures per side and N over all socket × event pairs: call → socket
 *   (p50/p95/p99/max), call → first socket (the hub's includes storing the
 *   note: store time), first → last socket (the spread: fan-out alone), and
 *   call → last (time to reach all). Ratios hub ÷ bare for the spread and p99.
 *   The client's own decoding of N frames in one event loop is in both sides'
 *   spread alike (it is the bare side's floor).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { fmt, freePort, login, pause, percentiles, startHubProcess, type Bench, type BenchContext, type BenchReport, type HubProcess } from './harness.ts';

const AGENTS = 20;
const CONNECTS_IN_FLIGHT = 20;
const EVENT_TIMEOUT_MS = 10_000;
const WARMUP_EVENTS = 3;

interface Round {
  marker: string;
  arrivals: number[];
}

interface SideResult {
  side: 'hub' | 'bare';
  sockets: number;
  events: number;
  missed: number;
  callMs: number[];
  firstMs: number[];
  spreadMs: number[];
  lastMs: number[];
  pairMs: number[];
  /** Each arrival minus the event's first arrival (fan-out alone, per socket). */
  behindFirstMs: number[];
}

/** Opens `count` sockets on `url`/agents with the tokens round robin (a few at a time); resolves once all are connected. */
async function openSockets(url: string, count: number, tokens: readonly string[]): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const socket = io(`${url}/agents`, { auth: { token: tokens[i % tokens.length] }, transports: ['websocket'], forceNew: true, reconnection: false });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (error) => reject(new Error(`socket ${i} could not connect: ${error.message}`)));
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: CONNECTS_IN_FLIGHT }, lane));
  } catch (error) {
    for (const s of sockets) s.close();
    throw error;
  }
  return sockets;
}

/**
 * Fires `events` (+ warm-up) events one at a time with `fire(marker)` and times
 * each socket's `message:created` carrying that marker as the message body.
 */
async function measure(side: 'hub' | 'bare', sockets: Socket[], events: number, fire: (marker: string) => Promise<void>, onPayload?: (payload: unknown) => void): Promise<SideResult> {
  let round: Round | null = null;
  let allArrived: (() => void) | null = null;
  for (const socket of sockets) {
    socket.on('message:created', (payload: { message?: { body?: string } }) => {
      const at = performance.now();
      if (!round || payload?.message?.body !== round.marker) return;
      round.arrivals.push(at);
      if (onPayload) {
        onPayload(payload);
        onPayload = undefined;
      }
      if (round.arrivals.length === sockets.length) allArrived?.();
    });
  }
  const result: SideResult = { side, sockets: sockets.length, events, missed: 0, callMs: [], firstMs: [], spreadMs: [], lastMs: [], pairMs: [], behindFirstMs: [] };
  for (let k = 0; k < WARMUP_EVENTS + events; k++) {
    const current: Round = { marker: `bench-${side}-${sockets.length}-${k}-${Math.random().toString(36).slice(2, 8)}`, arrivals: [] };
    round = current;
    const done = new Promise<void>((resolve) => {
      allArrived = resolve;
      setTimeout(resolve, EVENT_TIMEOUT_MS);
    });
    const started = performance.now();
    await fire(current.marker);
    const answered = performance.now();
    await done;
    allArrived = null;
    if (k < WARMUP_EVENTS) continue;
    result.callMs.push(answered - started);
    result.missed += sockets.length - current.arrivals.length;
    if (current.arrivals.length === 0) continue;
    const first = Math.min(...current.arrivals);
    const last = Math.max(...current.arrivals);
    result.firstMs.push(first - started);
    result.lastMs.push(last - started);
    result.spreadMs.push(last - first);
    for (const at of current.arrivals) {
      result.pairMs.push(at - started);
      result.behindFirstMs.push(at - first);
    }
    await pause(20);
  }
  round = null;
  return result;
}

/** bench/bare-socketio-server.ts in its own process (`nodeArgs` before its script, e.g. the memory probe). */
export async function startBareServer(nodeArgs: string[] = ['--import', 'tsx']): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, join(import.meta.dirname, 'bare-socketio-server.ts')], {
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bare Socket.IO server did not start within 30 s\n${output}`)), 30_000);
    const onData = (c: Buffer) => {
      output += c.toString();
      if (output.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the bare Socket.IO server exited (${code})\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** 20 agents of the default team, logged in: their access tokens. */
async function agentTokens(url: string, adminToken: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const email = `realtime-agent-${i}@bench.local`;
    const password = 'agent-password-123';
    const created = await api(url, adminToken, 'POST', '/api/agents', { email, name: `Bench Agent ${i}`, password, role: 'agent' });
    if (created.status !== 201) throw new Error(`agent not created: ${created.status} ${JSON.stringify(created.body)}`);
    tokens.push(await login(url, email, password));
  }
  return tokens;
}

const row = (r: SideResult) => {
  const pair = percentiles(r.pairMs);
  const first = percentiles(r.firstMs);
  const spread = percentiles(r.spreadMs);
  const last = percentiles(r.lastMs);
  return [r.side, fmt(r.sockets), fmt(r.events), fmt(r.missed), fmt(percentiles(r.callMs).p50), fmt(first.p50), fmt(first.p99), fmt(spread.p50), fmt(spread.p99), fmt(pair.p50), fmt(pair.p95), fmt(pair.p99), fmt(pair.max), fmt(last.p50), fmt(last.max)];
};

export const bench: Bench = {
  name: 'realtime',
  summary: "the hub's message:created fan-out to N agent sockets vs a bare Socket.IO server (same payload, same sockets)",
  async run(ctx: BenchContext): Promise<BenchReport> {
    const levels = ctx.short ? [20, 200] : [20, 200, 1000];
    const events = ctx.short ? 15 : 40;
    const results: { hub: SideResult; bare?: SideResult }[] = [];
    let payload: { message: { body: string } } | undefined;
    let noteBytes = 0;
    let hub: HubProcess | undefined;
    let sockets: Socket[] = [];
    try {
      hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName: ctx.databaseName('realtime') });
      const adminToken = await login(hub.url);
      const tokens = await agentTokens(hub.url, adminToken);
      // The conversation (front desk, opened before any agent is online: nobody is assigned by then).
      const inbound = await api(hub.url, adminToken, 'POST', '/api/dev/inbound', { channel: 'sms', from: '+15555550142', body: 'Hello, is the clinic open on Saturday?' });
      if (inbound.status !== 201) throw new Error(`the sandbox inbound failed: ${inbound.status} ${JSON.stringify(inbound.body)}`);
      const conversationId = inbound.body.conversation.id as string;
      ctx.log(`hub: ${AGENTS} agents, conversation in team ${inbound.body.conversation.teamId}`);

      for (const n of levels) {
        sockets = await openSockets(hub.url, n, tokens);
        await pause(1000); // presence and live-queue pushes of the new sockets settle
        const h = hub;
        const result = await measure('hub', sockets, events, async (marker) => {
          const res = await api(h.url, adminToken, 'POST', `/api/conversations/${conversationId}/notes`, { body: marker });
          if (res.status !== 201) throw new Error(`note refused: ${res.status} ${JSON.stringify(res.body)}`);
        }, (p) => {
          payload ??= p as typeof payload;
        });
        results.push({ hub: result });
        ctx.log(`hub, ${n} sockets: spread p50 ${fmt(percentiles(result.spreadMs).p50)} ms, call→socket p99 ${fmt(percentiles(result.pairMs).p99)} ms, ${result.missed} missed`);
        for (const s of sockets) s.close();
        sockets = [];
        await pause(500);
      }
    } finally {
      for (const s of sockets) s.close();
      sockets = [];
      await hub?.stop();
    }
    if (!payload) throw new Error('no message:created payload was captured from the hub');
    noteBytes = Buffer.byteLength(JSON.stringify(payload));

    const bare = await startBareServer();
    try {
      for (const [i, n] of levels.entries()) {
        sockets = await openSockets(bare.url, n, ['bare']);
        await pause(1000);
        const result = await measure('bare', sockets, events, async (marker) => {
          const body = JSON.stringify({ event: 'message:created', payload: { ...payload!, message: { ...payload!.message, body: marker } } });
          const res = await fetch(`${bare.url}/emit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (res.status !== 204) throw new Error(`bare emit refused: ${res.status}`);
        });
        results[i]!.bare = result;
        ctx.log(`bare, ${n} sockets: spread p50 ${fmt(percentiles(result.spreadMs).p50)} ms, call→socket p99 ${fmt(percentiles(result.pairMs).p99)} ms, ${result.missed} missed`);
        for (const s of sockets) s.close();
        sockets = [];
        await pause(500);
      }
    } finally {
      for (const s of sockets) s.close();
      await bare.stop();
    }

    const ratio = (a: number, b: number) => (b > 0 ? `${fmt(a / b)}×` : '–');
    const ratioRows = results.map(({ hub: h, bare: b }) => {
      const hs = percentiles(h.spreadMs);
      const bs = percentiles(b!.spreadMs);
      const hp = percentiles(h.pairMs);
      const bp = percentiles(b!.pairMs);
      return [
        fmt(h.sockets),
        ratio(hs.p50, bs.p50),
        ratio(hs.p99, bs.p99),
        ratio(percentiles(h.behindFirstMs).p99, percentiles(b!.behindFirstMs).p99),
        ratio(hp.p99, bp.p99),
      ];
    });
    const biggest = results.at(-1)!;
    const bigLast = percentiles(biggest.hub.lastMs);
    const bigFirst = percentiles(biggest.hub.firstMs);
    const bigCall = percentiles(biggest.hub.callMs);
    return {
      tables: [
        {
          caption: `message:created to N agent sockets, ms from the call (one note or one bare emit at a time, ${events} each after ${WARMUP_EVENTS} warm-up)`,
          columns: ['side', 'sockets', 'events', 'missed', 'call answered p50', 'call→first p50', 'call→first p99', 'spread p50', 'spread p99', 'call→socket p50', 'p95', 'p99', 'max', 'call→last p50', 'call→last max'],
          rows: results.flatMap(({ hub: h, bare: b }) => [row(h), row(b!)]),
        },
        {
          caption: 'Hub ÷ bare Socket.IO (goal ≤ 2×)',
          columns: ['sockets', 'spread p50', 'spread p99', 'behind first socket p99', 'call→socket p99 (hub: with the store)'],
          rows: ratioRows,
        },
      ],
      notes: [
        `The hub's call is POST /api/conversations/:id/notes (authenticate, load and check the conversation, store the note: ${fmt(percentiles(results[0]!.hub.callMs).p50)} ms p50 to its answer at ${fmt(results[0]!.hub.sockets)} sockets); the bare call is POST /emit (parse, emit). So call→first and call→socket include the store on the hub side only: the spread (first → last socket of one event) and "behind first socket" (each arrival minus the event's first) are the fan-out alone and the fair comparison.`,
        `Payload: the hub's message:created as captured (${fmt(noteBytes)} bytes of JSON: the message and its conversation), re-sent by the bare server with a fresh marker as its body. ${AGENTS} agent logins shared by all sockets (round robin); the hub emits to the team, the admins and the assignee rooms, the bare server to two rooms.`,
        `At ${fmt(biggest.hub.sockets)} agent sockets the hub reaches the first socket in ${fmt(bigFirst.p50)} ms p50 (its call answers in ${fmt(bigCall.p50)} ms p50) and all of them in ${fmt(bigLast.p50)} ms p50, ${fmt(bigLast.max)} ms at worst; the bare server reaches all of them in ${fmt(percentiles(biggest.bare!.lastMs).p50)} ms p50.`,
        `All sockets live in this one client process: the spread includes its decoding of N frames one after another, the same on both sides (that is most of the bare side's spread). Missed = socket × event pairs not received within ${EVENT_TIMEOUT_MS / 1000} s.`,
      ],
    };
  },
};
