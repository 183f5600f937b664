/**
 * Database commands per operation, counted with the driver's command
 * monitoring on an in-process hub: one inbound SMS, one agent reply handed to
 * Twilio, one status callback, one inbox page. Each command is a round trip
 * on MongoDB and a scan of a collection on the embedded FerretDB.
 *
 * Shared by `npm run bench:commands` (prints the table) and
 * test/integration/store/command-budget.test.ts (fails over budget). The hub
 * must run with Twilio credentials, `monitorDatabaseCommands` and a delivery
 * poll slower than the run (replies kick the outbox themselves); Twilio's
 * API is intercepted with nock, webhooks are signed as Twilio signs them.
 */
import { randomBytes } from 'node:crypto';
import nock from 'nock';
import mongoose from 'mongoose';
import twilio from 'twilio';
import type { Hub } from '../server/hub.ts';
import { IN_LOCK_CHECK_COMMENT } from '../server/db/serialized-models.ts';

const { BSON } = mongoose.mongo;

const IN_LOCK_SUFFIX = ' (in-lock check)';

/**
 * The commands a budget counts: the hub's own, not the embedded store's in-lock reads of a conditional write's
 * document (on MongoDB there are none; the condition is in the write's filter).
 */
export function budgeted(commands: readonly string[]): number {
  return commands.filter((c) => !c.endsWith(IN_LOCK_SUFFIX)).length;
}

/** What one operation may cost, from its request until the hub is settled. Raise only on purpose, with the reason in the commit. */
export const COMMAND_BUDGET = {
  // +1 (12 → 13) and +3 (15 → 18) for the contact-center figures (server/reports/kpi-recorder.ts): the conversation's
  // facts document is written once per message (read from the recorder's cache), and a reply's response time adds one
  // bulk $inc to the hour buckets and one to the day buckets.
  // Then cut (issue #23): 13 → 9 (routing takes the message and conversation ingest just wrote instead of reading them
  // three times; appending a message trusts the conversation its caller read, re-reading only when the conditional
  // update says it changed), 18 → 17 (the same) → 15 (the outbox claims the reply it was told of by _id instead of
  // looking for every due message twice), 5 → 4 (a status callback's event id is remembered in the same write that
  // moves the status).
  'inbound SMS (known patient, open conversation)': 9,
  'agent reply, handed to Twilio': 15,
  // +1 (4 → 5) for the sending number's reputation (server/delivery/number-health.ts): the callback that moves a text
  // to delivered adds one $inc to that number's hour bucket. (The reply's count of the text sent fits in its budget.)
  'status callback (delivered)': 4,
  'inbox first page (25)': 4,
} as const;

export type Operation = keyof typeof COMMAND_BUDGET;

export interface CommandCount {
  operation: Operation;
  budget: number;
  commands: string[];
  /**
   * With `keepDocuments`: each command as the driver sent it (BSON, in order, same length as `commands`;
   * deserialize for a fresh copy), for bench/share.bench.ts to replay.
   */
  documents?: Buffer[];
  /** How many of `commands` started before the hub answered the operation's request (the rest ran after: off the caller's critical path). */
  beforeAnswer: number;
}

export interface CountOptions {
  /** Also keep every command document (bench/share.bench.ts replays them). */
  keepDocuments?: boolean;
}

export interface CountTarget {
  hub: Hub;
  /** Where the hub listens (http://127.0.0.1:port). */
  url: string;
  adminToken: string;
}

const sid = () => `SM${randomBytes(16).toString('hex')}`;

export async function countCommandsPerOperation({ hub, url, adminToken }: CountTarget, options: CountOptions = {}): Promise<CommandCount[]> {
  const { config } = hub.services;
  const account = config.twilio.accountSid;
  if (!account) throw new Error('countCommandsPerOperation needs a hub with TWILIO_ACCOUNT_SID (Twilio is intercepted)');
  // Every send Twilio receives (replies, and a contact card the hub may send a new patient) is accepted.
  nock('https://api.twilio.com').persist().post(`/2010-04-01/Accounts/${account}/Messages.json`).reply(201, () => ({ sid: sid(), status: 'queued' }));
  let answered = -1;
  const signedPost = async (path: string, params: Record<string, string>) => {
    const signature = twilio.getExpectedTwilioSignature(config.twilio.authToken, `${config.publicBaseUrl}${path}`, params);
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    answered = counting?.length ?? -1;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}`);
    answered = counting?.length ?? -1;
    return (await res.json()) as Record<string, any>;
  };
  const inbound = (from: string, messageSid: string, body: string) => ({
    AccountSid: account, MessageSid: messageSid, SmsSid: messageSid, SmsMessageSid: messageSid, From: from, To: config.twilio.fromNumber ?? '+15555550100',
    Body: body, NumMedia: '0', NumSegments: '1', ApiVersion: '2010-04-01', SmsStatus: 'received',
  });

  let counting: string[] | null = null;
  let documents: Buffer[] = [];
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    if (!counting) return;
    // The embedded store checks a conditional write's condition by reading the document under its lock
    // (server/db/serialized-models.ts): a pushed-down read by _id, not a command of the hub's own design.
    const inLock = event.command.comment === IN_LOCK_CHECK_COMMENT;
    counting.push(`${event.commandName} ${String(event.command[event.commandName])}${inLock ? IN_LOCK_SUFFIX : ''}`);
    if (options.keepDocuments) documents.push(Buffer.from(BSON.serialize(event.command)));
  };
  const client = hub.services.db.connection.getClient();
  client.on('commandStarted', listener);
  const results: CommandCount[] = [];
  // Waiting for the hub to settle asks the outbox whether anything is due: that look is ours, not the operation's.
  await hub.settled();
  counting = [];
  await hub.settled();
  const settleCost = counting.length;
  const count = async (operation: Operation, work: () => Promise<void>) => {
    await hub.settled();
    counting = [];
    documents = [];
    answered = -1;
    await work();
    await hub.settled();
    const kept = counting.length - settleCost;
    results.push({ operation, budget: COMMAND_BUDGET[operation], commands: counting.slice(0, kept), beforeAnswer: Math.min(kept, answered), ...(options.keepDocuments ? { documents: documents.slice(0, kept) } : {}) });
    counting = null;
  };

  try {
    // A patient writes and an agent answers once first, so what is counted is the everyday case.
    const from = `+1415555${String(1000 + Math.floor(Math.random() * 8999))}`;
    const first = sid();
    await signedPost('/webhooks/twilio/sms', inbound(from, first, 'first message opens the conversation'));
    await hub.settled();
    const conversationId = (await hub.services.db.models.Message.findOne({ providerMessageId: first }).lean().orFail()).conversationId;
    await api('POST', `/api/conversations/${conversationId}/messages`, { body: 'hello' });

    await count('inbound SMS (known patient, open conversation)', () => signedPost('/webhooks/twilio/sms', inbound(from, sid(), 'a second message')));

    let replyId = '';
    await count('agent reply, handed to Twilio', async () => {
      replyId = (await api('POST', `/api/conversations/${conversationId}/messages`, { body: 'see you at 3' })).id;
    });
    const replySid = (await hub.services.db.models.Message.findById(replyId).lean().orFail()).providerMessageId;
    if (!replySid) throw new Error('the reply was not handed to Twilio');

    await count('status callback (delivered)', () =>
      // To the StatusCallback URL the hub gave Twilio (our id in it).
      signedPost(`/webhooks/twilio/status?m=${replyId}`, { MessageSid: replySid, SmsSid: replySid, MessageStatus: 'delivered', SmsStatus: 'delivered', AccountSid: account, ApiVersion: '2010-04-01' }));

    await count('inbox first page (25)', async () => {
      await api('GET', '/api/conversations?limit=25');
    });
  } finally {
    client.off('commandStarted', listener);
    nock.removeInterceptor({ hostname: 'api.twilio.com', proto: 'https', method: 'POST', path: `/2010-04-01/Accounts/${account}/Messages.json` });
  }
  return results;
}

/** `find messages ×3, update conversations ×2, …` */
export function summarizeCommands(commands: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const c of commands) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, n]) => `${c} ×${n}`).join(', ');
}
