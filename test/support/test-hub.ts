/** Builds a real hub (real database, real HTTP on a loopback port) for a test file. */
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ChannelAdapter } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { buildHub, type Hub } from '../../server/hub.ts';
import { createLogger } from '../../server/logger.ts';
import type { AgentClientToServerEvents, AgentServerToClientEvents } from '../../server/realtime/events.ts';
import { testDatabaseUri, uniqueDatabaseName } from './embedded-db.ts';
import { recordQueryShapes } from './query-recorder.ts';

export const ADMIN = { email: 'admin@test.local', password: 'admin-password-123' };

export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'test-jwt-secret-0123456789abcdefghijklmnop',
  PHI_ENCRYPTION_KEY: `t1:${Buffer.alloc(32, 7).toString('base64')}`,
  PHI_BLIND_INDEX_KEY: Buffer.alloc(32, 9).toString('base64'),
  AUDIT_CHAIN_KEY: `a1:${Buffer.alloc(32, 5).toString('base64')}`,
  TWILIO_AUTH_TOKEN: 'test-twilio-auth-token-0123',
  SENDGRID_INBOUND_SECRET: 'test-inbound-secret-0123',
  WIDGET_IDENTITY_SECRET: 'test-widget-identity-secret-0123456789abcd',
  BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
  BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
  LOG_LEVEL: 'info',
  // Automatic contact cards would add messages to every test's first text; test/integration/vcard turns them on.
  CONTACT_CARD_ON_FIRST_SMS: 'false',
  CONTACT_CARD_ON_CHANGE: 'false',
  // Satisfaction surveys would follow every resolve (and read the next text as a score); test/integration/csat turns them on.
  CSAT_SURVEYS: 'off',
  // Every test shares one loopback IP: the abuse ceilings are tested with their own low values (test/security).
  WIDGET_NEW_CHATS_PER_IP_PER_HOUR: '100000',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '100000',
  WIDGET_MESSAGES_PER_CHAT_PER_MINUTE: '1000',
  WIDGET_UPLOADS_PER_IP_PER_HOUR: '100000',
  VERIFICATION_CODES_PER_IP_PER_HOUR: '100000',
  VERIFICATION_CODES_PER_HOUR: '100000',
  LOGIN_FAILURES_PER_IP_PER_HOUR: '100000',
};

/** A clock tests can move forward; starts at real time. */
export class TestClock {
  private offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** Jumps to an instant (a test that needs a weekday, a night, a DST date). */
  setTo(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }
  /**
   * Moves to the start of the next fixed window of `windowMs` (an hour, a minute): a test that fills
   * a rate-limit window must not straddle two of them, whatever the wall clock says.
   */
  toNextWindow(windowMs: number): void {
    const now = this.now().getTime();
    this.offsetMs += windowMs - (now % windowMs) + 1;
  }
}

export interface TestHub {
  hub: Hub;
  url: string;
  config: Config;
  clock: TestClock;
  logs: string[];
  api: ApiClient;
  databaseName: string;
  login(email: string, password: string): Promise<Session>;
  admin(): Promise<Session>;
  /** Creates an agent through the API (as admin) and logs them in. */
  agent(spec: { name: string; role?: 'admin' | 'supervisor' | 'agent'; teamIds?: string[] }): Promise<Session>;
  socket(token: string): Socket<AgentServerToClientEvents, AgentClientToServerEvents>;
  close(): Promise<void>;
}

export interface Session {
  token: string;
  refreshToken: string;
  agent: { id: string; email: string; role: string; teamIds: string[] };
}

export async function startTestHub(options: {
  label: string;
  env?: Record<string, string>;
  databaseName?: string;
  mongoUri?: string;
  adapters?: Partial<Record<ChannelId, ChannelAdapter>>;
  clock?: TestClock;
  /** Provider media download retries (default: 3 tries, 20 ms apart, so a failing download is decided quickly). */
  mediaImport?: { attempts: number; firstRetryMs: number };
  /** Have the driver emit command events (counting commands per operation). */
  monitorCommands?: boolean;
  /** How often the outbox looks for due messages besides being kicked (default 200 ms). */
  deliveryPollMs?: number;
}): Promise<TestHub> {
  const clock = options.clock ?? new TestClock();
  const databaseName = options.databaseName ?? uniqueDatabaseName(options.label);
  const config = loadConfig({ ...TEST_ENV, MONGODB_DATABASE: databaseName, ...options.env });
  const logs: string[] = [];
  const logger = createLogger({ level: config.logLevel, destination: { write: (line: string) => void logs.push(line) } });
  const hub = await buildHub({
    config,
    mongoUri: options.mongoUri ?? testDatabaseUri(),
    logger,
    clock: clock.now,
    deliveryPollMs: options.deliveryPollMs ?? 200,
    mediaImport: options.mediaImport ?? { attempts: 3, firstRetryMs: 20 },
    monitorDatabaseCommands: options.monitorCommands ?? false,
    ...(options.adapters ? { adapters: options.adapters } : {}),
  });
  recordQueryShapes(hub.services.db.connection);
  const { url } = await hub.listen(0, '127.0.0.1');
  const api = new ApiClient(url);
  const sockets: Socket[] = [];
  let adminSession: Session | undefined;
  let adminSessionAt = 0;
  let counter = 0;
  const testHub: TestHub = {
    hub, url, config, clock, logs, api, databaseName,
    async login(email, password) {
      const res = await api.post('/api/auth/login', { email, password });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      const body = res.body as { accessToken: string; refreshToken: string; agent: Session['agent'] };
      return { token: body.accessToken, refreshToken: body.refreshToken, agent: body.agent };
    },
    async admin() {
      // Tests move the clock: log in again before the cached token can have expired.
      if (!adminSession || clock.now().getTime() - adminSessionAt > 10 * 60_000) {
        adminSession = await testHub.login(ADMIN.email, ADMIN.password);
        adminSessionAt = clock.now().getTime();
      }
      return adminSession;
    },
    async agent(spec) {
      const admin = await testHub.admin();
      const email = `agent${++counter}.${Date.now()}@test.local`;
      const password = 'agent-password-123';
      const res = await api.post('/api/agents', { email, password, name: spec.name, role: spec.role ?? 'agent', teamIds: spec.teamIds ?? ['front-desk'] }, admin.token);
      if (res.status !== 201) throw new Error(`agent creation failed: ${res.status} ${JSON.stringify(res.body)}`);
      return testHub.login(email, password);
    },
    socket(token) {
      const socket = connectSocket(`${url}/agents`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      return socket;
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await hub.close();
    },
  };
  return testHub;
}

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}
  get(path: string, token?: string) {
    return this.request('GET', path, undefined, token);
  }
  post(path: string, body?: unknown, token?: string) {
    return this.request('POST', path, body, token);
  }
  patch(path: string, body?: unknown, token?: string) {
    return this.request('PATCH', path, body, token);
  }
  put(path: string, body?: unknown, token?: string) {
    return this.request('PUT', path, body, token);
  }
  delete(path: string, token?: string) {
    return this.request('DELETE', path, undefined, token);
  }
  async request(method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

/** Posts a patient message through the sandbox loopback channel, as the admin. */
export async function patientWrites(t: TestHub, input: { channel: ChannelId; from: string; body: string; providerMessageId?: string; displayName?: string }) {
  const admin = await t.admin();
  const res = await t.api.post('/api/dev/inbound', input, admin.token);
  if (res.status !== 201 && res.status !== 200) throw new Error(`inbound failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { message: { id: string; seq: number; conversationId: string }; conversation: { id: string; teamId: string }; patientId: string; duplicate: boolean };
}

/** Resolves with the next event of that name (or rejects after a timeout). */
export function nextEvent<T>(socket: Socket<any, any>, event: string, predicate: (payload: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    function handler(payload: T) {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    }
    socket.on(event, handler);
  });
}

export function connected(socket: Socket<any, any>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: Error) => reject(error));
  });
}

/**
 * A round trip on an agent socket: every event the hub emitted to it before
 * this call has arrived when it resolves (one connection delivers in order).
 * Tests that prove an event is NOT sent wait for this, not for a fixed time.
 */
export async function roundTrip(socket: Socket<any, any>): Promise<void> {
  await socket.emitWithAck('presence:list');
}

/** Polls until `check` returns something truthy (and returns it), or fails after the timeout. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
