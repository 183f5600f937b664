/**
 * The database goes away under traffic and comes back on the same address: webhooks are refused with 503 (so
 * the providers retry) instead of hanging or failing with 500, /readyz and the agents' inboxes say so, and once
 * it is back every retried webhook is stored exactly once and nothing sent before is sent again.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import twilio from 'twilio';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../../../server/db/embedded/ferretdb-process.ts';
import type { HubStatus } from '../../../server/realtime/events.ts';
import { inboundSms } from '../../support/fake-twilio.ts';
import { connected, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

/** A P-256 key pair standing in for SendGrid's event signing key. */
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const EVENT_PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
/** Twilio gives up on a webhook after 15 s; a request still open after twice that is hanging. */
const HANG_MS = 30_000;

/** One webhook as its provider would post it, again and again, until it gets a 2xx. */
interface Webhook {
  label: string;
  /** The text's MessageSid, for an inbound SMS. */
  sid?: string;
  post(): Promise<{ status: number; retryAfter: string | null; body: string }>;
}

describe('a database outage', function () {
  this.timeout(240_000);
  let dataDir: string;
  let db: EmbeddedDatabase;
  let t: TestHub;
  let admin: Session;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-outage-'));
    db = await startEmbeddedFerretDb({ dataDir });
    t = await startTestHub({ label: 'db-outage', mongoUri: db.uri, env: { SENDGRID_EVENT_PUBLIC_KEY: EVENT_PUBLIC_KEY } });
    admin = await t.admin();
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    await db?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const send = async (path: string, init: RequestInit) => {
    const res = await fetch(`${t.url}${path}`, { ...init, signal: AbortSignal.timeout(HANG_MS) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  };

  const twilioWebhook = (label: string, path: string, params: Record<string, string>): Webhook => ({
    label,
    ...(path === '/webhooks/twilio/sms' ? { sid: params.MessageSid! } : {}),
    post: () => {
      const signature = twilio.getExpectedTwilioSignature(t.config.twilio.authToken, `${t.config.publicBaseUrl}${path}`, params);
      return send(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      });
    },
  });

  const inboundEmail = (label: string, from: string, messageId: string, text: string): Webhook => ({
    label,
    post: () => {
      const form = new FormData();
      const fields = {
        headers: `From: ${from}\r\nSubject: Outage\r\nMessage-ID: ${messageId}\r\n`,
        from,
        to: 'clinic@inbound.hub.example.com',
        subject: 'Outage',
        text,
        SPF: 'pass',
        dkim: `{@${from.split('@')[1]} : pass}`,
      };
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const auth = `Basic ${Buffer.from(`parse:${t.config.sendgrid.inboundSecret}`).toString('base64')}`;
      return send('/webhooks/sendgrid/inbound', { method: 'POST', headers: { authorization: auth }, body: form });
    },
  });

  const sendGridEvents = (label: string, events: Record<string, unknown>[]): Webhook => ({
    label,
    post: () => {
      // SendGrid signs each attempt anew: a retry carries a fresh timestamp.
      const body = JSON.stringify(events);
      const timestamp = String(Math.floor(t.clock.now().getTime() / 1000));
      const signature = sign('sha256', Buffer.from(timestamp + body), keys.privateKey).toString('base64');
      return send('/webhooks/sendgrid/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
        body,
      });
    },
  });

  const readiness = async () => (await send('/readyz', { method: 'GET' })).status;
  const messagesWith = (providerMessageId: string) => t.hub.services.db.models.Message.countDocuments({ providerMessageId });

  it('answers webhooks 503 while it is down, tells /readyz and the inboxes, and stores every retried message once when it is back', async () => {
    // Before: patients wrote (SMS and email) and were answered; the answers went out (the sandbox outbox).
    const agent = await t.agent({ name: 'Outage Olive' });
    const socket = t.socket(agent.token);
    const statuses: HubStatus[] = [];
    socket.on('hub:status', (status) => statuses.push(status));
    await connected(socket);

    const firstSms = inboundSms({ From: '+14155552201', Body: 'Is the clinic open on Saturday?' });
    const firstTexts = twilioWebhook('first SMS', '/webhooks/twilio/sms', firstSms);
    expect((await firstTexts.post()).status).to.equal(200);
    const firstEmailId = `<before-${randomUUID()}@mail.example.org>`;
    expect((await inboundEmail('first email', 'outage.patient@example.org', firstEmailId, 'Can you send my forms?').post()).status).to.equal(200);
    const smsMessage = await t.hub.services.db.models.Message.findOne({ providerMessageId: firstSms.MessageSid }).lean().orFail();
    const emailMessage = await t.hub.services.db.models.Message.findOne({ providerMessageId: firstEmailId }).lean().orFail();
    const smsReply = await t.api.post(`/api/conversations/${smsMessage.conversationId}/messages`, { body: 'Yes, 9 to 12.', channel: 'sms' }, admin.token);
    const emailReply = await t.api.post(`/api/conversations/${emailMessage.conversationId}/messages`, { body: 'Attached.', channel: 'email' }, admin.token);
    expect([smsReply.status, emailReply.status]).to.deep.equal([201, 201]);
    await t.hub.settled();
    const sentBefore = await outboxCounts();
    expect(sentBefore.get(smsReply.body.id)).to.equal(1);
    expect(sentBefore.get(emailReply.body.id)).to.equal(1);
    const smsSid = (await t.hub.services.db.models.Message.findById(smsReply.body.id).lean().orFail()).providerMessageId!;
    expect(smsSid).to.match(/^SM[0-9a-f]{32}$/);

    // The database stops while Twilio posts a burst of texts: each is stored (200) or refused (503), never a 500.
    const answers: { webhook: Webhook; status: number }[] = [];
    let sms = 0;
    const burst = () => {
      const wave = Array.from({ length: 4 }, () => {
        const n = ++sms;
        return twilioWebhook(`burst SMS ${n}`, '/webhooks/twilio/sms', inboundSms({ From: `+1415555${String(2300 + n)}`, Body: `Burst message ${n}` }));
      });
      return Promise.all(wave.map(async (webhook) => answers.push({ webhook, status: (await webhook.post()).status })));
    };
    // A wave of texts is on its way when the database stops; more waves until the hub has noticed, then one more.
    const firstWave = burst();
    let stopped = false;
    const stopping = db.stop().then(() => (stopped = true));
    await firstWave;
    for (let wave = 0; wave < 50 && !stopped && !statuses.some((s) => s.state === 'degraded'); wave++) await burst();
    await stopping;
    await burst();
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 503)).to.deep.equal([]);

    // Down: /readyz says so, and so does every agent's inbox.
    await waitFor(async () => (await readiness()) === 503, 30_000);
    await waitFor(async () => statuses.some((s) => s.state === 'degraded'), 30_000);
    expect(statuses.find((s) => s.state === 'degraded')).to.include({ reason: 'database_unreachable' });

    // Every kind of webhook is refused at once with 503 and Retry-After, so the provider retries.
    const duringOutage: Webhook[] = [
      twilioWebhook('SMS during the outage', '/webhooks/twilio/sms', inboundSms({ From: '+14155552202', Body: 'Are you there?' })),
      twilioWebhook('SMS from a known patient during the outage', '/webhooks/twilio/sms', inboundSms({ From: '+14155552201', Body: 'Also, do I need to fast?' })),
      twilioWebhook('status callback', '/webhooks/twilio/status', { ...inboundSms({}), MessageSid: smsSid, SmsSid: smsSid, MessageStatus: 'delivered', SmsStatus: 'delivered' }),
      inboundEmail('email during the outage', 'outage.patient@example.org', `<during-${randomUUID()}@mail.example.org>`, 'Any news?'),
      sendGridEvents('email delivered event', [{ event: 'delivered', email: 'outage.patient@example.org', sg_event_id: randomUUID(), carethread_message_id: emailReply.body.id, timestamp: Math.floor(Date.now() / 1000) }]),
    ];
    for (const webhook of duringOutage) {
      const res = await webhook.post();
      expect(res.status, webhook.label).to.equal(503);
      expect(Number(res.retryAfter), webhook.label).to.be.greaterThan(0);
      expect(JSON.parse(res.body).error.code, webhook.label).to.equal('DATABASE_UNAVAILABLE');
      answers.push({ webhook, status: res.status });
    }
    // The agents' API too: 503, not 500 and not a hung request.
    const inbox = await send('/api/conversations', { headers: { authorization: `Bearer ${agent.token}` } });
    expect(inbox.status).to.equal(503);
    expect(JSON.parse(inbox.body).error.code).to.equal('DATABASE_UNAVAILABLE');
    // An inbox connecting now is told the database is away, not that its session ended (which would log the agent out).
    const late = t.socket(agent.token);
    const refusal = await new Promise<{ code?: string }>((resolve) => late.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data ?? {})));
    expect(refusal.code).to.equal('DATABASE_UNAVAILABLE');

    // Back, on the same address with the same data.
    db = await startEmbeddedFerretDb({ dataDir, port: db.port });
    await waitFor(async () => (await readiness()) === 200, 60_000);
    await waitFor(async () => statuses.at(-1)?.state === 'ok', 30_000);

    // The providers retry what was refused; Twilio may also post again what was already stored (before and during the stop).
    const retried = [...answers.filter((a) => a.status === 503).map((a) => a.webhook), ...answers.filter((a) => a.status === 200).map((a) => a.webhook), firstTexts];
    for (const webhook of retried) {
      await waitFor(async () => (await webhook.post()).status === 200, 30_000).catch(() => {
        throw new Error(`${webhook.label} was not accepted once the database was back`);
      });
    }

    // Every text and email is stored exactly once; the callbacks took effect.
    const smsSids = [firstSms.MessageSid!, ...answers.flatMap((a) => (a.webhook.sid ? [a.webhook.sid] : []))];
    expect(smsSids.length).to.be.greaterThan(8);
    for (const sid of smsSids) expect(await messagesWith(sid), sid).to.equal(1);
    expect(await messagesWith(firstEmailId)).to.equal(1);
    const duringEmail = await t.hub.services.db.models.Message.countDocuments({ direction: 'inbound', channel: 'email', conversationId: emailMessage.conversationId });
    expect(duringEmail).to.equal(2);
    await waitFor(async () => (await t.hub.services.db.models.Message.findById(smsReply.body.id).lean())?.delivery.status === 'delivered');
    await waitFor(async () => (await t.hub.services.db.models.Message.findById(emailReply.body.id).lean())?.delivery.status === 'delivered');

    // Nothing sent before the outage was sent again, and nothing was sent twice.
    await t.hub.settled();
    const sentAfter = await outboxCounts();
    expect(sentAfter.get(smsReply.body.id)).to.equal(1);
    expect(sentAfter.get(emailReply.body.id)).to.equal(1);
    expect([...sentAfter].filter(([, n]) => n > 1)).to.deep.equal([]);
    // And no request of the whole outage was answered as the hub's own failure.
    expect(t.logs.filter((line) => line.includes('"msg":"request failed"'))).to.deep.equal([]);
  });

  /** How many times each message went to a provider (the sandbox outbox). */
  async function outboxCounts(): Promise<Map<string, number>> {
    const res = await t.api.get('/api/dev/outbox?limit=500', admin.token);
    expect(res.status).to.equal(200);
    const counts = new Map<string, number>();
    for (const entry of res.body.items as { messageId: string }[]) counts.set(entry.messageId, (counts.get(entry.messageId) ?? 0) + 1);
    return counts;
  }
});
