/**
 * What the inbound and two-node benches share: signed Twilio inbound webhooks
 * sent open-loop at a fixed rate, 20 agents' sockets on /agents, and the
 * latency from each webhook's scheduled send to the first agent socket's
 * `message:created` carrying it (matched by MessageSid = providerMessageId).
 *
 * Open loop: message i is due at start + i / rate whatever the hub answers;
 * every latency is counted from that due time, so a hub (or a generator) that
 * falls behind shows up in the figures instead of slowing the schedule down
 * (no coordinated omission). A run that clearly fails (the oldest message
 * still without its event is older than `cutMs`) stops sending early, so a
 * backlog stays bounded; the sent count says so.
 *
 * Bodies are "bench <n>" and the senders are made-up 555 numbers: no PHI.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { io as connectSocket, type Socket } from 'socket.io-client';
import twilio from 'twilio';
import type { AgentClientToServerEvents, AgentServerToClientEvents } from '../server/realtime/events.ts';
import { BENCH_ENV } from './bench-env.ts';
import { login, pause, percentiles, type Percentiles } from './harness.ts';

type AgentSocket = Socket<AgentServerToClientEvents, AgentClientToServerEvents>;

/** The URL Twilio would post to (the load balancer's): webhooks are signed against it. */
export const SIGNING_BASE_URL = 'https://hub.bench.example';
const SMS_PATH = '/webhooks/twilio/sms';

/**
 * The hub's settings for inbound load, over BENCH_ENV: sandbox SMS (no account SID: nothing leaves the
 * machine), no automatic contact cards or surveys (they would add outbound messages to every first text),
 * and abuse ceilings out of the way (every client shares one loopback IP).
 */
export const INBOUND_HUB_ENV: Record<string, string> = {
  PUBLIC_BASE_URL: SIGNING_BASE_URL,
  CONTACT_CARD_ON_FIRST_SMS: 'false',
  CONTACT_CARD_ON_CHANGE: 'false',
  CSAT_SURVEYS: 'off',
  WIDGET_NEW_CHATS_PER_IP_PER_HOUR: '100000',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '100000',
  WIDGET_MESSAGES_PER_CHAT_PER_MINUTE: '1000',
  WIDGET_UPLOADS_PER_IP_PER_HOUR: '100000',
  VERIFICATION_CODES_PER_IP_PER_HOUR: '100000',
  VERIFICATION_CODES_PER_HOUR: '100000',
  LOGIN_FAILURES_PER_IP_PER_HOUR: '100000',
};

/** The recorded Twilio inbound SMS (test/fixtures/twilio-inbound-sms.json) without its sids, sender and body. */
const FIXTURE: Record<string, string> = {
  ToCountry: 'US', ToState: 'OR', NumMedia: '0', ToCity: 'PORTLAND', FromZip: '97201', FromState: 'OR', SmsStatus: 'received',
  FromCity: 'PORTLAND', FromCountry: 'US', To: '+15555550100', ToZip: '97204', NumSegments: '1',
  AccountSid: 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b', ApiVersion: '2010-04-01',
};

/** `count` distinct made-up US numbers (+1 415 555 xxxx style) starting at `offset`, for disjoint pools. */
export function phonePool(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    return `+1${String(415 + Math.floor(n / 10_000)).padStart(3, '0')}555${String(n % 10_000).padStart(4, '0')}`;
  });
}

export interface Agents {
  sockets: AgentSocket[];
  close(): void;
}

/**
 * Creates `count` agents through the API as the admin (role agent, in every team, so each sees every
 * conversation the webhooks touch), logs each in and connects its socket to /agents.
 */
export async function connectAgents(url: string, count: number): Promise<Agents> {
  const adminToken = await login(url);
  const auth = { authorization: `Bearer ${adminToken}` };
  const teams = (await (await fetch(`${url}/api/teams`, { headers: auth })).json()) as { items?: { id: string }[] } | { id: string }[];
  const teamIds = (Array.isArray(teams) ? teams : (teams.items ?? [])).map((t) => t.id);
  const sockets: AgentSocket[] = [];
  const tag = randomBytes(3).toString('hex');
  const one = async (i: number) => {
    const email = `bench.agent${i}.${tag}@bench.local`;
    const password = 'agent-password-123';
    const res = await fetch(`${url}/api/agents`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, name: `Bench Agent ${i}`, role: 'agent', teamIds: teamIds.length ? teamIds : ['front-desk'] }),
    });
    if (res.status !== 201) throw new Error(`agent creation failed: ${res.status} ${await res.text()}`);
    const token = await login(url, email, password);
    const socket: AgentSocket = connectSocket(`${url}/agents`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  };
  try {
    // A few at a time: setup, not measured.
    for (let i = 0; i < count; i += 5) await Promise.all(Array.from({ length: Math.min(5, count - i) }, (_, k) => one(i + k)));
  } catch (error) {
    for (const s of sockets) s.disconnect();
    throw error;
  }
  return { sockets, close: () => sockets.forEach((s) => s.disconnect()) };
}

interface Sent {
  index: number;
  due: number;
  sentAt?: number;
  httpAt?: number;
  status?: number | 'network' | 'timeout';
  firstEventAt?: number;
  lastEventAt?: number;
  events: number;
}

/** Follows `message:created` on every agent socket and keeps the arrival times of the messages a run sent. */
export class EventTracker {
  private readonly bySid = new Map<string, Sent>();
  /**
   * Every webhook sent (by any run) the hub may still be storing: its event has not arrived and it was not
   * refused. An aborted request still runs to the end in the hub, so an overloaded run leaves these behind.
   */
  private readonly outstanding = new Set<string>();
  constructor(readonly sockets: AgentSocket[]) {
    for (const socket of sockets) {
      socket.on('message:created', (payload) => {
        const now = performance.now();
        const sid = payload.message.providerMessageId ?? '';
        this.outstanding.delete(sid);
        const sent = this.bySid.get(sid);
        if (!sent) return;
        sent.events++;
        sent.firstEventAt ??= now;
        if (sent.events === this.sockets.length) sent.lastEventAt = now;
      });
    }
  }
  track(sid: string, sent: Sent): void {
    this.bySid.set(sid, sent);
    this.outstanding.add(sid);
  }
  /** The hub refused it (non-200, connection refused): no event will come. */
  refused(sid: string): void {
    this.outstanding.delete(sid);
  }
  /** How many sent webhooks the hub may still be storing. */
  pending(): number {
    return this.outstanding.size;
  }
  forget(): void {
    this.bySid.clear();
  }
  /** Waits until the hub has stored everything sent so far (every event arrived), at most `capMs`; returns how many are still missing. */
  async settle(capMs = 60_000): Promise<number> {
    const deadline = performance.now() + capMs;
    while (this.outstanding.size > 0 && performance.now() < deadline) await pause(100);
    return this.outstanding.size;
  }
}

export interface RunOptions {
  /** Where the webhooks go (a hub's loopback URL). */
  url: string;
  tracker: EventTracker;
  rate: number;
  seconds: number;
  /** Senders, spread over (message i texts from phones[(i * 7919) % length]). */
  phones: readonly string[];
  /** Stop sending when the oldest message without its event is older than this (ms). */
  cutMs: number;
  /** After the last send, how long answers and events may still take before they count as errors (ms). */
  drainMs: number;
  /** Numbers the bodies ("bench <n>") from here, so runs never repeat a body. */
  firstIndex: number;
}

export interface RunResult {
  rate: number;
  seconds: number;
  sent: number;
  delivered: number;
  errors: number;
  errorKinds: string;
  /** Webhook due → first agent socket's `message:created` (ms). */
  event: Percentiles;
  /** Webhook due → the last of the agent sockets has it (ms). */
  eventAll: Percentiles;
  /** Webhook due → HTTP answer (ms), answered ones. */
  http: Percentiles;
  /** Event arrival minus HTTP answer, per message (ms): what the hub does after answering (or before, if negative). */
  eventAfterHttp: Percentiles;
  /** Delivered per second from the first due time to the last event. */
  achieved: number;
  /** Stopped sending early: the seconds sent, or null. */
  cutAt: number | null;
  /** Largest lag of an actual send behind its due time (ms): the generator's own delay. */
  generatorLagMax: number;
  /** The raw samples behind `event`, `eventAll` and `http` (to pool several runs). */
  samples: { event: number[]; eventAll: number[]; http: number[] };
}

/** One open-loop run at a fixed rate (see the header). */
export async function runOpenLoop(o: RunOptions): Promise<RunResult> {
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  const interval = 1000 / o.rate;
  const runs: Sent[] = [];
  const abort = new AbortController();
  const pending = new Set<Promise<void>>();
  const authToken = BENCH_ENV.TWILIO_AUTH_TOKEN!;
  const signedUrl = `${SIGNING_BASE_URL}${SMS_PATH}`;
  let oldest = 0;
  let cutAt: number | null = null;
  let lagMax = 0;

  const send = (i: number, due: number) => {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const n = o.firstIndex + i;
    const params = { ...FIXTURE, MessageSid: sid, SmsSid: sid, SmsMessageSid: sid, From: o.phones[(n * 7919) % o.phones.length]!, Body: `bench ${n}` };
    const sent: Sent = { index: i, due, events: 0 };
    runs.push(sent);
    o.tracker.track(sid, sent);
    const signature = twilio.getExpectedTwilioSignature(authToken, signedUrl, params);
    sent.sentAt = performance.now();
    lagMax = Math.max(lagMax, sent.sentAt - due);
    const p = fetch(`${o.url}${SMS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
      signal: abort.signal,
    }).then(
      async (res) => {
        await res.arrayBuffer();
        sent.httpAt = performance.now();
        sent.status = res.status;
        if (res.status !== 200) o.tracker.refused(sid);
      },
      (error: Error) => {
        sent.status = error.name === 'AbortError' ? 'timeout' : 'network';
        if (sent.status === 'network') o.tracker.refused(sid);
      },
    ).finally(() => pending.delete(p));
    pending.add(p);
  };

  const start = performance.now() + 20;
  let i = 0;
  while (i < total) {
    const now = performance.now();
    if (now < start) {
      await pause(start - now);
      continue;
    }
    const due = Math.min(total, Math.floor(((now - start) * o.rate) / 1000) + 1);
    while (i < due) {
      send(i, start + i * interval);
      i++;
    }
    while (oldest < runs.length && runs[oldest]!.firstEventAt !== undefined) oldest++;
    if (oldest < runs.length && now - runs[oldest]!.due > o.cutMs) {
      cutAt = (now - start) / 1000;
      break;
    }
    if (i < total) await pause(Math.max(1, start + i * interval - performance.now()));
  }
  const lastDue = runs.at(-1)!.due;

  // Answers and events of everything sent, up to drainMs after the last due time.
  const deadline = lastDue + o.drainMs;
  while (performance.now() < deadline && runs.some((s) => s.status === undefined || s.firstEventAt === undefined)) await pause(20);
  abort.abort();
  await Promise.allSettled([...pending]);
  // A few ms for the remaining sockets' copies of the last events (the "all sockets" column).
  await pause(50);

  const delivered = runs.filter((s) => s.firstEventAt !== undefined);
  const kinds = new Map<string, number>();
  const count = (k: string) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  for (const s of runs) {
    if (s.status === undefined || s.status === 'timeout') count('timeout');
    else if (s.status === 'network') count('network');
    else if (s.status !== 200) count(`HTTP ${s.status}`);
    else if (s.firstEventAt === undefined) count('no event');
  }
  const lastEvent = Math.max(...delivered.map((s) => s.firstEventAt!), start);
  const both = delivered.filter((s) => s.httpAt !== undefined);
  o.tracker.forget();
  const samples = {
    event: delivered.map((s) => s.firstEventAt! - s.due),
    eventAll: delivered.filter((s) => s.lastEventAt !== undefined).map((s) => s.lastEventAt! - s.due),
    http: runs.filter((s) => s.httpAt !== undefined).map((s) => s.httpAt! - s.due),
  };
  return {
    rate: o.rate,
    seconds: o.seconds,
    sent: runs.length,
    delivered: delivered.length,
    errors: [...kinds.values()].reduce((a, b) => a + b, 0),
    errorKinds: [...kinds].map(([k, n]) => `${n} ${k}`).join(', '),
    event: percentiles(samples.event),
    eventAll: percentiles(samples.eventAll),
    http: percentiles(samples.http),
    eventAfterHttp: percentiles(both.map((s) => s.firstEventAt! - s.httpAt!)),
    achieved: delivered.length / (Math.max(1, lastEvent - start) / 1000),
    cutAt,
    generatorLagMax: lagMax,
    samples,
  };
}

/** The run met the goal: every message delivered without error, p99 under `p99Ms`, the rate sustained. */
export function held(r: RunResult, p99Ms = 100): boolean {
  return r.cutAt === null && r.errors === 0 && r.delivered === r.sent && r.event.p99 < p99Ms && r.achieved >= 0.9 * r.rate;
}

/** Clearly past the limit: stopped early, errors, or p99 over a second. */
export function clearlyFails(r: RunResult): boolean {
  return r.cutAt !== null || r.errors > 0 || r.event.p99 > 1000;
}

/** The distinct error lines (pino level ≥ 50) of a hub's output, their `msg` and `err.message` only (no request data). */
export function hubErrors(output: string, max = 3): string[] {
  const seen = new Set<string>();
  for (const line of output.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) >= 50) seen.add(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.slice(0, 160)}` : ''}`);
    } catch {
      // not a log line
    }
    if (seen.size >= max) break;
  }
  return [...seen];
}

/** CPU time (user + system, ms) a process has used so far, from /proc (10 ms resolution); NaN if gone. */
export async function cpuMs(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The embedded FerretDB's process id (the one listening on the store URI's port), if it runs on this machine. */
export async function storePid(uri: string): Promise<number | undefined> {
  const port = /:(\d+)(\/|$|\?)/.exec(uri.replace(/^mongodb:\/\//, ''))?.[1];
  if (!port) return undefined;
  const { readdir, readFile } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('ferretdb') && cmdline.includes(`--listen-addr=127.0.0.1:${port}`)) return Number(entry);
  }
  return undefined;
}
