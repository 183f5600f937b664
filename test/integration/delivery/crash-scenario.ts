/**
 * kill -9 in the middle of a burst: real hub processes (`node --import tsx
 * server/main.ts`) in sandbox mode on one database, so every message that
 * reaches the "provider" is a document in the sandbox outbox (DevOutbox).
 *
 * 1. Seed: patients text in (one conversation each) and agents reply, through
 *    the timeline's own functions (ingestInbound, sendReply: what
 *    POST /api/dev/inbound and POST /api/conversations/:id/messages run), in
 *    this process with no delivery worker, so the whole burst is queued in the
 *    outbox before any hub runs: the kill then always lands mid-burst.
 * 2. Start a hub; when the sandbox outbox holds `killAt` entries, SIGKILL it;
 *    start another (`kills` times); the last one runs until every message has
 *    left the outbox.
 * 3. Count: every message must be in the sandbox outbox; a message there
 *    twice was sent again after a crash in the window between the provider
 *    accepting it and the hub recording that (the at-least-once window).
 *
 * Used by test/integration/delivery/outbox-crash.test.ts and
 * bench/outbox-crash.bench.ts (`npm run bench:crash`). Logs ids and counts only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bootstrapAdmin, DEFAULT_TEAM } from '../../../server/auth/agent-directory.ts';
import { AuditLog } from '../../../server/audit/audit-log.ts';
import { loadConfig } from '../../../server/config.ts';
import { PhiCipher } from '../../../server/crypto/phi-cipher.ts';
import { connectDatabase, type Database } from '../../../server/db/connect.ts';
import type { ConversationDoc } from '../../../server/db/documents.ts';
import { createLogger } from '../../../server/logger.ts';
import { ingestInbound } from '../../../server/timeline/ingest/ingest-inbound.ts';
import { sendReply } from '../../../server/timeline/reply/send-reply.ts';
import type { TimelineContext } from '../../../server/timeline/timeline-context.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

/** The hub processes' settings and the seeder's: the same keys, so both read each other's sealed data. */
const CRASH_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'crash-jwt-secret-0123456789abcdefghijklmnop',
  PHI_ENCRYPTION_KEY: `c1:${Buffer.alloc(32, 11).toString('base64')}`,
  PHI_BLIND_INDEX_KEY: Buffer.alloc(32, 12).toString('base64'),
  AUDIT_CHAIN_KEY: `a1:${Buffer.alloc(32, 13).toString('base64')}`,
  TWILIO_AUTH_TOKEN: 'crash-twilio-auth-token-0123',
  SENDGRID_INBOUND_SECRET: 'crash-inbound-secret-0123',
  WIDGET_IDENTITY_SECRET: 'crash-widget-identity-secret-0123456789abcd',
  BOOTSTRAP_ADMIN_EMAIL: 'admin@crash.local',
  BOOTSTRAP_ADMIN_PASSWORD: 'admin-password-123',
  CONTACT_CARD_ON_FIRST_SMS: 'false',
  CONTACT_CARD_ON_CHANGE: 'false',
  // info: one line per message handed to the provider (ids only), which is how the scenario follows the burst.
  LOG_LEVEL: 'info',
  // A killed hub's leased message is found by the next hub's poll: every second, not the embedded store's 30 s.
  OUTBOX_POLL_SECONDS: '1',
};

export interface CrashRunOptions {
  mongoUri: string;
  databaseName: string;
  /** Outbound messages in the burst (agent replies). */
  messages: number;
  /** Conversations they are spread over (one patient each). */
  conversations: number;
  /**
   * Default email: its sandbox records the mail/send request and stops, as a real provider call does. The SMS
   * sandbox also posts the delivery callback inline in the worker's loop, which a real Twilio does later, apart.
   */
  channel?: 'sms' | 'email';
  /** SIGKILL a hub when the sandbox outbox holds this many entries (one per kill, increasing, each below `messages`). */
  killAt: number[];
  /** The kill comes at a random moment up to this long after the outbox count was seen reaching `killAt` (default 400 ms). */
  killJitterMs?: number;
  /** OUTBOX_LEASE_SECONDS / OUTBOX_SEND_TIMEOUT_SECONDS of the hubs (default 8 / 2): short, so a killed hub's lease is taken over fast. */
  leaseSeconds?: number;
  sendTimeoutSeconds?: number;
  /** Give up (throw) when the burst has not left the outbox by then. */
  timeoutMs?: number;
  progress?: (line: string) => void;
}

export interface CrashRunResult {
  messages: number;
  /** Sandbox outbox entries (one per provider acceptance). */
  recorded: number;
  /** Messages never recorded (must be none). */
  missing: string[];
  /** Messages recorded more than once, with how often and how many claims they took. */
  duplicates: { messageId: string; copies: number; attempts: number }[];
  /** The outbox count once each killed hub was dead. */
  killedAt: number[];
  /** Messages a killed hub had claimed and left leased (each was mid-send: claimed, maybe with the provider, not recorded). */
  leasedAtKill: number[];
  /** Messages claimed more than once (a killed hub held them, or a release): the ones that could be duplicated. */
  reclaimed: number;
  /** Hub warnings "the last attempt ended without an outcome" (a message taken over after a crash). */
  takenOverWarnings: number;
  /** Messages still queued or failed at the end (must be none), with their status and whether they left the outbox. */
  notSent: { messageId: string; status: string; inOutbox: boolean }[];
  seedMs: number;
  /** Outbox entries per second while the first hub ran (from its first entry to its kill). */
  burstPerSecond: number;
  /** From the first hub's start to the burst's end, kills and restarts included. */
  totalSendMs: number;
}

export async function runOutboxCrash(options: CrashRunOptions): Promise<CrashRunResult> {
  const leaseSeconds = options.leaseSeconds ?? 8;
  const sendTimeoutSeconds = options.sendTimeoutSeconds ?? 2;
  const progress = options.progress ?? (() => {});
  const env = {
    ...CRASH_ENV,
    MONGODB_URI: options.mongoUri,
    MONGODB_DATABASE: options.databaseName,
    OUTBOX_LEASE_SECONDS: String(leaseSeconds),
    OUTBOX_SEND_TIMEOUT_SECONDS: String(sendTimeoutSeconds),
  };
  const config = loadConfig(env);
  const db = await connectDatabase(options.mongoUri, options.databaseName);
  const hubs: RunningHub[] = [];
  try {
    const seedStarted = performance.now();
    const messageIds = await seedBurst(db, config, options.channel ?? 'email', options.messages, options.conversations);
    const seedMs = performance.now() - seedStarted;
    progress(`seeded ${messageIds.length} queued replies over ${options.conversations} conversations in ${(seedMs / 1000).toFixed(1)} s`);

    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    // Progress is read from the hubs' own logs ("message handed to provider", ids only), not by polling the
    // store: on the embedded FerretDB every count scans a collection, and polling would slow the hub it watches.
    const handedTotal = () => hubs.reduce((sum, h) => sum + h.handed(), 0);
    const sendStarted = performance.now();
    const killedAt: number[] = [];
    const leasedAtKill: number[] = [];
    let burstPerSecond = 0;
    for (const [index, threshold] of options.killAt.entries()) {
      const hub = await startHub(env);
      hubs.push(hub);
      await hub.until(() => handedTotal() >= threshold, deadline);
      // The count rises just after a message was recorded: the hub is then past that message's window. A random
      // moment after it lands the kill anywhere in the cycle of the next one (claim, provider call, record).
      await pause(randomInt(0, options.killJitterMs ?? 400));
      hub.child.kill('SIGKILL');
      await hub.exited;
      // What the store holds once the dead hub's last writes have landed (or not).
      const after = await db.models.DevOutbox.countDocuments({});
      killedAt.push(after);
      const leased = await db.models.Message.countDocuments({ _id: { $in: messageIds }, outboxDueAt: { $gt: new Date() } });
      leasedAtKill.push(leased);
      progress(`kill -9 #${index + 1} after ${handedTotal()} recorded sends (${after} in the sandbox outbox; ${leased} message(s) left claimed by the dead hub)`);
      if (index === 0) burstPerSecond = await entriesPerSecond(db, after);
    }
    const last = await startHub(env);
    hubs.push(last);
    // Nearly every message must have been recorded before the store is worth asking (a killed hub may have
    // recorded its last one without living to log it).
    await last.until(() => handedTotal() >= messageIds.length - options.killAt.length, deadline);
    for (;;) {
      const pending = await db.models.Message.countDocuments({ _id: { $in: messageIds }, outboxDueAt: { $ne: null } });
      if (pending === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending} messages still in the outbox\n${last.output().slice(-3000)}`);
      await pause(1000); // a message taken over after the kill waits for the dead hub's lease to run out
    }
    const totalSendMs = performance.now() - sendStarted;
    await last.stop();

    const entries = await db.models.DevOutbox.find({}, { messageId: 1 }).lean();
    const copies = new Map<string, number>();
    for (const e of entries) copies.set(e.messageId, (copies.get(e.messageId) ?? 0) + 1);
    const messages = await db.models.Message.find({ _id: { $in: messageIds } }, { attempts: 1, delivery: 1, outboxDueAt: 1 }).lean();
    const attemptsOf = new Map(messages.map((m) => [m._id, m.attempts]));
    const result: CrashRunResult = {
      messages: messageIds.length,
      recorded: entries.length,
      missing: messageIds.filter((id) => !copies.has(id)),
      duplicates: [...copies].filter(([, n]) => n > 1).map(([messageId, n]) => ({ messageId, copies: n, attempts: attemptsOf.get(messageId) ?? 0 })),
      killedAt,
      leasedAtKill,
      reclaimed: messages.filter((m) => m.attempts > 1).length,
      takenOverWarnings: hubs.reduce((sum, h) => sum + (h.output().match(/the last attempt ended without an outcome/g)?.length ?? 0), 0),
      notSent: messages
        .filter((m) => !['sent', 'delivered'].includes(m.delivery.status))
        .map((m) => ({ messageId: m._id, status: m.delivery.status, inOutbox: m.outboxDueAt != null })),
      seedMs,
      burstPerSecond,
      totalSendMs,
    };
    progress(
      `done in ${(totalSendMs / 1000).toFixed(1)} s: ${result.recorded} outbox entries for ${result.messages} messages, ` +
        `${result.duplicates.length} duplicated, ${result.missing.length} missing, ${result.reclaimed} taken over after a kill; ` +
        `${burstPerSecond.toFixed(0)} messages/s before the first kill`,
    );
    return result;
  } finally {
    for (const hub of hubs) if (hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill('SIGKILL');
    await Promise.all(hubs.map((h) => h.exited));
    await db.close();
  }
}

export interface RecordWindow {
  messages: number;
  /** From the provider's acceptance (the sandbox's record acknowledged) to the hub's record of it leaving for the store, per message. */
  windowMs: { p50: number; p99: number; max: number };
  /** Time per message in the burst (claim, provider call, record, status). */
  cycleMs: number;
}

/**
 * The width of the at-least-once window, measured in this process with the
 * driver's command events: for each message, from the moment the sandbox
 * outbox's insert is acknowledged (the provider has it) to the moment the
 * worker's `outboxDueAt: null` write is sent (once sent, a kill of the hub no
 * longer loses it: the store applies it). A kill -9 at a random moment
 * duplicates a message with a probability of about window / cycle.
 */
export async function measureRecordWindow(options: { mongoUri: string; databaseName: string; messages: number; conversations: number }): Promise<RecordWindow> {
  const { buildHub } = await import('../../../server/hub.ts');
  const config = loadConfig({ ...CRASH_ENV, MONGODB_DATABASE: options.databaseName, LOG_LEVEL: 'warn' });
  const hub = await buildHub({ config, mongoUri: options.mongoUri, logger: createLogger({ level: 'warn' }), monitorDatabaseCommands: true });
  try {
    const messageIds = await seedBurst(hub.services.db, config, 'email', options.messages, options.conversations);
    const inserts = new Map<number, string>();
    const accepted = new Map<string, number>();
    const windows: number[] = [];
    const client = hub.services.db.connection.getClient();
    client.on('commandStarted', (event) => {
      const command = event.command as Record<string, any>;
      if (event.commandName === 'insert' && command.insert === 'dev_outbox') inserts.set(event.requestId, String(command.documents?.[0]?.messageId));
      if (event.commandName === 'findAndModify' && command.findAndModify === 'messages' && command.update?.$set?.outboxDueAt === null) {
        const at = accepted.get(String(command.query?._id));
        if (at !== undefined) windows.push(performance.now() - at);
      }
    });
    client.on('commandSucceeded', (event) => {
      const messageId = inserts.get(event.requestId);
      if (messageId) accepted.set(messageId, performance.now());
    });
    const started = performance.now();
    await hub.listen(0, '127.0.0.1');
    await hub.settled();
    const cycleMs = (performance.now() - started) / messageIds.length;
    windows.sort((a, b) => a - b);
    const at = (q: number) => windows[Math.min(windows.length - 1, Math.floor(q * windows.length))] ?? NaN;
    return { messages: windows.length, windowMs: { p50: at(0.5), p99: at(0.99), max: windows.at(-1) ?? NaN }, cycleMs };
  } finally {
    await hub.close();
  }
}

/** Queues `messages` agent replies over `conversations` SMS conversations, with no worker running. */
async function seedBurst(db: Database, config: ReturnType<typeof loadConfig>, channel: 'sms' | 'email', messages: number, conversations: number): Promise<string[]> {
  const now = () => new Date();
  const logger = createLogger({ level: 'warn' });
  const ctx: TimelineContext = {
    models: db.models,
    locks: db.locks,
    cipher: new PhiCipher(config.phiKeys, config.blindIndexKey),
    audit: new AuditLog(db.models, now, logger, config.auditKeys),
    clock: now,
    events: { messageCreated() {}, messageUpdated() {}, conversationUpdated() {}, conversationMerged() {} },
    logger,
    settings: { defaultPhoneRegion: config.defaultPhoneRegion, reopenWindowMs: config.reopenWindowMs, defaultTeamId: DEFAULT_TEAM.id },
    isWidgetConnected: () => false,
    // No worker here: the hub processes send.
    kickDelivery: () => {},
  };
  const admin = (await bootstrapAdmin(db.models, config.bootstrapAdmin, now())) ?? (await db.models.Agent.findOne({ role: 'admin' }).lean().orFail());
  const actor = { agentId: admin._id, role: 'admin' as const, teamIds: [DEFAULT_TEAM.id], sessionId: 'crash-seed' };
  const threads: ConversationDoc[] = [];
  for (let i = 0; i < conversations; i++) {
    const inbound = await ingestInbound(ctx, channel === 'sms'
      ? { channel, from: { kind: 'phone', value: `+1415555${String(3000 + i).padStart(4, '0')}` }, providerKey: `crash:${i}`, providerMessageId: `crash${i}`, body: 'Is my appointment still on?' }
      : { channel, from: { kind: 'email', value: `patient${i}@example.org` }, providerKey: `crash:${i}`, providerMessageId: `crash${i}`, body: 'Is my appointment still on?' });
    threads.push(await db.models.Conversation.findById(inbound.conversation.id).lean().orFail());
  }
  const ids: string[] = [];
  // Round robin over the conversations, a few in flight, as a busy inbox replies.
  const IN_FLIGHT = 4;
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < messages) {
        const n = next++;
        const thread = threads[n % threads.length]!;
        const conversation = await db.models.Conversation.findById(thread._id).lean().orFail();
        const reply = await sendReply(ctx, actor, conversation, { body: `Reply ${n}: yes, see you at ${8 + (n % 9)}:00.`, channel });
        ids.push(reply.id);
      }
    }),
  );
  return ids;
}

interface RunningHub {
  child: ChildProcess;
  output(): string;
  /** Messages this hub recorded as handed to the provider (its info log line). */
  handed(): number;
  /** Resolves when `condition` holds (checked as the hub logs, and every 250 ms); rejects at `deadline` or if the hub exits. */
  until(condition: () => boolean, deadline: number): Promise<void>;
  exited: Promise<void>;
  stop(): Promise<void>;
}

async function startHub(env: Record<string, string>): Promise<RunningHub> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let handed = 0;
  let partial = '';
  const notable: string[] = [];
  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.includes('"msg":"message handed to provider"')) handed++;
      else notable.push(line);
    }
  });
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    // Everything but the per-message lines (warnings, errors, start-up).
    output: () => `${notable.join('\n')}\n${output}`,
    handed: () => handed,
    until: (condition, deadline) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (condition()) return resolve();
          if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`the hub exited (${child.exitCode ?? child.signalCode})\n${notable.slice(-20).join('\n')}\n${output.slice(-2000)}`));
          if (Date.now() > deadline) return reject(new Error(`not in time (${handed} sends recorded by this hub)\n${notable.slice(-20).join('\n')}`));
          setTimeout(check, 250);
        };
        check();
      }),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Entries per second from the first entry to the last, by the hub's own timestamps. */
async function entriesPerSecond(db: Database, count: number): Promise<number> {
  if (count < 2) return 0;
  const times = (await db.models.DevOutbox.find({}, { createdAt: 1 }).lean()).map((e) => new Date(e.createdAt).getTime()).sort((a, b) => a - b);
  const spanMs = times.at(-1)! - times[0]!;
  return spanMs > 0 ? ((times.length - 1) * 1000) / spanMs : 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
