/**
 * The outbox against the real provider SDKs (twilio, @sendgrid/mail), their
 * HTTP intercepted with nock: transient failures are retried after a jittered
 * exponential backoff (the test clock is moved to each retry's due time, no
 * sleeping), permanent ones fail at once with the reason, and a provider that
 * never answers is given up on after the send timeout, within the lease.
 */
import { expect } from 'chai';
import nock from 'nock';
import type { ChannelAdapter, SendOutcome } from '../../../channels/contract.ts';
import { OUTBOX_DEFAULTS, retryDelayMs } from '../../../server/delivery/delivery-worker.ts';
import type { MessageDoc } from '../../../server/db/documents.ts';
import { postTwilio } from '../../support/fake-twilio.ts';
import { connected, patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

const ACCOUNT = 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const TWILIO_MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const MAX_ATTEMPTS = 4;

type Update = { message: { id: string; delivery: { status: string; error: { code: string; message: string; retryable: boolean; suggestion?: string } | null } } };

/** Counts what a nock scope answered: every request, and the ones the provider accepted. */
function counter() {
  return { requests: 0, accepted: 0 };
}

async function liveHub(label: string, env: Record<string, string>) {
  const t = await startTestHub({ label, env: { OUTBOX_MAX_ATTEMPTS: String(MAX_ATTEMPTS), ...env } });
  const admin = await t.admin();
  const socket = t.socket(admin.token);
  await connected(socket);
  const updates: Update[] = [];
  socket.on('message:updated', (p: Update) => updates.push(p));
  return { t, admin, updates };
}

const stored = (t: TestHub, id: string) => t.hub.services.db.models.Message.findById(id).lean().orFail();

/**
 * Moves the test clock through every scheduled retry of a message until
 * `done`: each wait seen is checked against the jittered backoff's ceiling
 * for its attempt (`notBeforeLeaseEnd`: the wait may be the lease instead). A
 * short wait may pass by real time before it is seen: the worker then simply
 * retries without help.
 */
async function retryUntil(t: TestHub, id: string, done: (m: MessageDoc) => boolean, options: { notBeforeLeaseEnd?: boolean } = {}): Promise<{ message: MessageDoc; waits: Map<number, number> }> {
  const waits = new Map<number, number>();
  const message = await waitFor(async () => {
    const m = await stored(t, id);
    if (done(m)) return m;
    // Waiting for a retry, not claimed by the worker right now (a claim also sets a due time: its lease's end).
    const waitingForRetry = m.outboxDueAt && m.delivery.error?.retryable && m.delivery.error.message.includes(`(attempt ${m.attempts} of`);
    const waitMs = waitingForRetry ? m.outboxDueAt!.getTime() - t.clock.now().getTime() : 0;
    if (waitMs > 0 && !waits.has(m.attempts)) {
      waits.set(m.attempts, waitMs);
      const ceiling = Math.min(OUTBOX_DEFAULTS.backoffMaxMs, OUTBOX_DEFAULTS.backoffBaseMs * 2 ** m.attempts);
      if (!options.notBeforeLeaseEnd) expect(waitMs, `attempt ${m.attempts}'s backoff`).to.be.at.most(ceiling);
      t.clock.advance(waitMs + 1);
    }
    return null;
  }, 30_000);
  return { message, waits };
}

describe('outbox backoff: exponential with full jitter, capped', () => {
  it('waits a uniform share of base·2^attempt, never more than the cap', () => {
    expect(retryDelayMs(1, 1000, 300_000, () => 0)).to.equal(0);
    expect(retryDelayMs(1, 1000, 300_000, () => 0.999_999)).to.equal(1999);
    expect(retryDelayMs(3, 1000, 300_000, () => 0.5)).to.equal(4000);
    expect(retryDelayMs(20, 1000, 300_000, () => 0.999_999)).to.equal(299_999);
    expect(retryDelayMs(20, 1000, 300_000, () => 0.5)).to.equal(150_000);
  });

  it('spreads a burst’s retries over the whole window instead of one wave', () => {
    const waits = Array.from({ length: 400 }, () => retryDelayMs(4, 1000, 300_000, Math.random));
    expect(Math.min(...waits)).to.be.below(16_000 * 0.1);
    expect(Math.max(...waits)).to.be.above(16_000 * 0.9);
    expect(new Set(waits).size).to.be.above(300);
  });
});

describe('outbox over the Twilio SDK (HTTP intercepted)', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  let updates: Update[];
  before(async () => {
    ({ t, admin, updates } = await liveHub('outbox-twilio', {
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_FROM_NUMBER: '+15555550100',
      PUBLIC_BASE_URL: 'https://hub.example.com',
      // Short, so the hung-provider case below takes a second; the lease leaves room for a slow machine (the test
      // clock, not the wall clock, is moved past it).
      OUTBOX_SEND_TIMEOUT_SECONDS: '1',
      OUTBOX_LEASE_SECONDS: '10',
    }));
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });
  afterEach(() => nock.cleanAll());

  async function reply(from: string, body: string) {
    const inbound = await patientWrites(t, { channel: 'sms', from, body: 'hello' });
    const res = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body, channel: 'sms' }, admin.token);
    expect(res.status).to.equal(201);
    return res.body.id as string;
  }

  it('retries Twilio’s 500 three times, then sends once: sent after 4 attempts, the retry state shown to agents', async () => {
    const seen = counter();
    nock('https://api.twilio.com')
      .post(TWILIO_MESSAGES)
      .times(3)
      .reply(() => (seen.requests++, [500, { code: 20500, message: 'Internal Server Error', status: 500 }]))
      .post(TWILIO_MESSAGES)
      .reply(() => (seen.requests++, seen.accepted++, [201, { sid: 'SM50050050050050050050050050050050', status: 'queued' }]));
    const id = await reply('+14155552001', 'Your lab results are in.');
    // Handed over: Twilio queued it (outbox done, retry state gone); its status callback then says it left.
    const { message: handed } = await retryUntil(t, id, (m) => Boolean(m.providerMessageId));
    expect(handed).to.deep.include({ outboxDueAt: null, attempts: 4 });
    expect(handed.delivery).to.deep.include({ status: 'queued', error: null });
    const sid = handed.providerMessageId!;
    expect((await postTwilio(t, '/webhooks/twilio/status', { MessageSid: sid, SmsSid: sid, MessageStatus: 'sent', SmsStatus: 'sent', AccountSid: ACCOUNT, ApiVersion: '2010-04-01' })).status).to.equal(200);
    const sent = await stored(t, id);
    await t.hub.settled();
    expect(seen).to.deep.equal({ requests: 4, accepted: 1 });
    expect(nock.pendingMocks()).to.deep.equal([]);
    const final = await stored(t, id);
    expect(final).to.deep.include({ attempts: 4, outboxDueAt: null, providerMessageId: 'SM50050050050050050050050050050050' });
    expect(final.delivery.error).to.equal(null);
    expect(sent.delivery.history.map((h) => h.status)).to.deep.equal(['queued', 'sent']);

    // What the agent's inbox was told, live: three retry states, then sent.
    const mine = await waitFor(async () => {
      const list = updates.filter((u) => u.message.id === id);
      return list.at(-1)?.message.delivery.status === 'sent' ? list : null;
    });
    expect(mine.map((u) => [u.message.delivery.status, u.message.delivery.error?.code ?? null])).to.deep.equal([
      ['queued', 'PROVIDER_UNAVAILABLE'],
      ['queued', 'PROVIDER_UNAVAILABLE'],
      ['queued', 'PROVIDER_UNAVAILABLE'],
      ['queued', null],
      ['sent', null],
    ]);
    const retries = mine.filter((u) => u.message.delivery.status === 'queued' && u.message.delivery.error?.code === 'PROVIDER_UNAVAILABLE');
    expect(retries.map((u) => u.message.delivery.error!.message)).to.deep.equal([1, 2, 3].map((n) => `Twilio had an internal error; trying again (attempt ${n} of ${MAX_ATTEMPTS} failed)`));
    expect(retries.every((u) => u.message.delivery.error!.retryable && /again shortly/.test(u.message.delivery.error!.suggestion ?? ''))).to.equal(true);
    expect(mine.at(-1)!.message.delivery.error).to.equal(null);
  });

  it('fails a permanent error (21211) at once with the reason, and never calls Twilio again', async () => {
    const seen = counter();
    nock('https://api.twilio.com')
      .post(TWILIO_MESSAGES)
      .reply(() => (seen.requests++, [400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 }]));
    const id = await reply('+14155552002', 'See you Tuesday.');
    const failed = await waitFor(async () => {
      const m = await stored(t, id);
      return m.delivery.status === 'failed' ? m : null;
    });
    expect(failed).to.deep.include({ attempts: 1, outboxDueAt: null });
    expect(failed.delivery.error).to.deep.include({ code: 'INVALID_NUMBER', message: 'Not a valid phone number for SMS', retryable: false });
    expect(failed.delivery.history.at(-1)).to.deep.include({ status: 'failed', errorCode: '21211' });
    t.clock.advance(10 * 60_000);
    await t.hub.settled();
    expect(seen.requests).to.equal(1);
    expect((await stored(t, id)).attempts).to.equal(1);
  });

  it(`gives up after OUTBOX_MAX_ATTEMPTS (${MAX_ATTEMPTS}) transient failures, saying so`, async () => {
    const seen = counter();
    nock('https://api.twilio.com')
      .post(TWILIO_MESSAGES)
      .times(MAX_ATTEMPTS)
      .reply(() => (seen.requests++, [503, { code: 20503, message: 'Service Unavailable', status: 503 }]));
    const id = await reply('+14155552003', 'Please call us back.');
    const { message: failed } = await retryUntil(t, id, (m) => m.delivery.status === 'failed');
    expect(failed).to.deep.include({ attempts: MAX_ATTEMPTS, outboxDueAt: null });
    expect(failed.delivery.error).to.deep.include({
      code: 'PROVIDER_UNAVAILABLE', retryable: false, message: `Twilio is temporarily unavailable; not sent after ${MAX_ATTEMPTS} attempts`,
    });
    expect(seen.requests).to.equal(MAX_ATTEMPTS);
  });

  it('abandons a Twilio call that hangs past OUTBOX_SEND_TIMEOUT_SECONDS (the SDK aborts it) and retries it', async () => {
    const seen = counter();
    nock('https://api.twilio.com')
      .post(TWILIO_MESSAGES)
      .delay(20_000) // far past the 1 s timeout
      .reply(() => (seen.requests++, [201, { sid: 'SM99999999999999999999999999999999', status: 'queued' }]))
      .post(TWILIO_MESSAGES)
      .reply(() => (seen.requests++, seen.accepted++, [201, { sid: 'SM20120120120120120120120120120120', status: 'queued' }]));
    const id = await reply('+14155552004', 'Reminder: bring your card.');
    const timedOut = await waitFor(async () => updates.find((u) => u.message.id === id && u.message.delivery.error));
    expect(timedOut.message.delivery.error!.code).to.be.oneOf(['PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT']);
    expect(timedOut.message.delivery.error!.message).to.match(/^(Twilio did not answer in time|SMS: the provider did not answer within \d s);/);
    const { message: sent } = await retryUntil(t, id, (m) => Boolean(m.providerMessageId), { notBeforeLeaseEnd: true });
    expect(sent).to.deep.include({ attempts: 2, outboxDueAt: null, providerMessageId: 'SM20120120120120120120120120120120' });
    expect(seen.accepted).to.equal(1);
  });
});

describe('outbox: a provider call that outlives the worker’s wait', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  let calls = 0;
  let answerLate: ((outcome: SendOutcome) => void) | undefined;
  // An SMS adapter whose call never ends by itself, as a provider that keeps the connection alive without answering.
  const hanging: ChannelAdapter = {
    id: 'sms',
    label: 'SMS',
    send: () => {
      calls++;
      return new Promise<SendOutcome>((resolve) => (answerLate = resolve));
    },
  };
  before(async () => {
    t = await startTestHub({ label: 'outbox-hang', adapters: { sms: hanging }, env: { OUTBOX_SEND_TIMEOUT_SECONDS: '1', OUTBOX_LEASE_SECONDS: '10' } });
    admin = await t.admin();
  });
  after(() => {
    answerLate?.({ ok: false, error: { code: 'TEST_OVER', message: 'test over', retryable: false } });
    return t.close();
  });

  it('stops waiting, keeps the message for the rest of its lease, and records the late answer instead of sending again', async () => {
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155552005', body: 'hello' });
    const res = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Your prescription is ready.', channel: 'sms' }, admin.token);
    const id = res.body.id as string;
    const waiting = await waitFor(async () => {
      const m = await stored(t, id);
      return m.delivery.error?.code === 'PROVIDER_TIMEOUT' ? m : null;
    });
    expect(waiting.delivery.error!.message).to.match(/^SMS: the provider did not answer within 1 s; trying again \(attempt 1 of 6 failed\)$/);
    // Not retried before the claim's lease (10 s) ends, whatever the jitter drew (at most 2 s): the call is still open.
    expect(waiting.outboxDueAt!.getTime() - t.clock.now().getTime()).to.be.above(5000);
    // The provider answers after all: the message is recorded as sent, the retry called off.
    answerLate!({ ok: true, providerMessageId: 'SMLATE0000000000000000000000000000', status: 'sent' });
    const sent = await waitFor(async () => {
      const m = await stored(t, id);
      return m.providerMessageId ? m : null;
    });
    expect(sent).to.deep.include({ attempts: 1, outboxDueAt: null, providerMessageId: 'SMLATE0000000000000000000000000000' });
    expect(sent.delivery).to.deep.include({ status: 'sent', error: null });
    t.clock.advance(60_000);
    await t.hub.settled();
    expect(calls).to.equal(1);
  });
});

describe('outbox over @sendgrid/mail (HTTP intercepted)', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  let updates: Update[];
  before(async () => {
    ({ t, admin, updates } = await liveHub('outbox-sendgrid', { SENDGRID_API_KEY: 'SG.test-key', SENDGRID_FROM_EMAIL: 'care@clinic.example' }));
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });
  afterEach(() => nock.cleanAll());

  async function reply(from: string, body: string) {
    const inbound = await patientWrites(t, { channel: 'email', from, body: 'hello' });
    const res = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body, channel: 'email' }, admin.token);
    expect(res.status).to.equal(201);
    return res.body.id as string;
  }

  it('retries SendGrid’s 503 and 429, then sends once: sent after 3 attempts with the X-Message-Id', async () => {
    const seen = counter();
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send')
      .reply(() => (seen.requests++, [503, { errors: [{ message: 'Service Unavailable' }] }]))
      .post('/v3/mail/send')
      .reply(() => (seen.requests++, [429, { errors: [{ message: 'too many requests' }] }]))
      .post('/v3/mail/send')
      .reply(() => (seen.requests++, seen.accepted++, [202, '', { 'X-Message-Id': 'SgRetried0000000000000' }]));
    const id = await reply('retry.me@example.org', 'Your invoice is attached.');
    await retryUntil(t, id, (m) => m.delivery.status === 'sent');
    await t.hub.settled();
    expect(seen).to.deep.equal({ requests: 3, accepted: 1 });
    expect(await stored(t, id)).to.deep.include({ attempts: 3, outboxDueAt: null, providerMessageId: 'SgRetried0000000000000' });
    const mine = await waitFor(async () => {
      const list = updates.filter((u) => u.message.id === id);
      return list.at(-1)?.message.delivery.status === 'sent' ? list : null;
    });
    expect(mine.map((u) => [u.message.delivery.status, u.message.delivery.error?.message ?? null])).to.deep.equal([
      ['queued', `SendGrid is busy or unavailable; trying again (attempt 1 of ${MAX_ATTEMPTS} failed)`],
      ['queued', `SendGrid is limiting how fast the clinic sends; trying again (attempt 2 of ${MAX_ATTEMPTS} failed)`],
      ['sent', null],
    ]);
  });

  it('retries a connection SendGrid reset (no answer at all), which used to be taken for a refusal', async () => {
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send')
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .post('/v3/mail/send')
      .reply(202, '', { 'X-Message-Id': 'SgAfterReset0000000000' });
    const id = await reply('reset@example.org', 'Hello again.');
    const { message } = await retryUntil(t, id, (m) => Boolean(m.providerMessageId));
    expect(message).to.deep.include({ attempts: 2, providerMessageId: 'SgAfterReset0000000000' });
    const retryState = await waitFor(async () => updates.find((u) => u.message.id === id && u.message.delivery.error));
    expect(retryState.message.delivery.error).to.deep.include({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(retryState.message.delivery.error!.message).to.match(/^SendGrid could not be reached;/);
  });

  it('fails a 400 at once with SendGrid’s reason and no retry', async () => {
    const seen = counter();
    nock('https://api.sendgrid.com')
      .post('/v3/mail/send')
      .reply(() => (seen.requests++, [400, { errors: [{ message: 'Invalid reply_to email address', field: 'reply_to' }] }]));
    const id = await reply('refused@example.org', 'x');
    const failed = await waitFor(async () => {
      const m = await stored(t, id);
      return m.delivery.status === 'failed' ? m : null;
    });
    expect(failed).to.deep.include({ attempts: 1, outboxDueAt: null });
    expect(failed.delivery.error).to.deep.include({ code: 'PROVIDER_REFUSED', retryable: false, message: 'SendGrid refused the email: Invalid reply_to email address (reply_to)' });
    t.clock.advance(10 * 60_000);
    await t.hub.settled();
    expect(seen.requests).to.equal(1);
  });
});

describe('outbox: a retry goes out when due, not at the next poll', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  before(async () => {
    // The embedded store's outbox polls rarely (every look scans every message); this hub effectively never does.
    t = await startTestHub({
      label: 'outbox-wake',
      deliveryPollMs: 600_000,
      env: { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBER: '+15555550100', PUBLIC_BASE_URL: 'https://hub.example.com' },
    });
    admin = await t.admin();
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });

  it('wakes itself for the retry it scheduled (Twilio 500, then 201)', async () => {
    const seen = counter();
    nock('https://api.twilio.com')
      .post(TWILIO_MESSAGES)
      .reply(() => (seen.requests++, [500, { code: 20500, message: 'Internal Server Error', status: 500 }]))
      .post(TWILIO_MESSAGES)
      .reply(() => (seen.requests++, seen.accepted++, [201, { sid: 'SM60060060060060060060060060060060', status: 'queued' }]));
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155552091', body: 'hello' });
    const res = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'See you at 3.', channel: 'sms' }, admin.token);
    expect(res.status).to.equal(201);
    // The first retry waits at most 2 s (full jitter over base·2); the poll would come in 10 minutes.
    const sent = await waitFor(async () => {
      const m = await stored(t, res.body.id);
      return m.providerMessageId ? m : null;
    }, 20_000);
    expect(sent).to.deep.include({ attempts: 2, outboxDueAt: null, providerMessageId: 'SM60060060060060060060060060060060' });
    expect(seen).to.deep.equal({ requests: 2, accepted: 1 });
  });
});
