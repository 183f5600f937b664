/**
 * `npm run bench -- outbound` (issue #23, item 6): replies per second through
 * the outbox to an intercepted Twilio, with and without retries.
 *
 * The hub runs in its own process with Twilio credentials; its SDK reaches a
 * fake Twilio API in this process through HTTP_PROXY (bench/fake-twilio-api.ts:
 * the SDK has no base-URL setting). A burst of N replies is POSTed (10 in
 * flight) to patients who wrote in by SMS; an admin's /agents socket sees each
 * message become `sent` (the fake answers 201 with Twilio status "sent", so the
 * worker's one record write moves it there). Printed: time until all are sent,
 * replies/s, POST→provider-request latency (p50/p95/p99/max), errors, and the
 * data commands the store served per sent message while the outbox drained
 * (the store's own counters). Run twice: the provider answering 201 always,
 * and answering every first attempt 500 (retried by the outbox, with
 * OUTBOX_BACKOFF_MAX_SECONDS=1 so the backoff does not sleep long).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { inboundSmsForm, postTwilioWebhook, startFakeTwilioApi, type Answer, type FakeTwilioApi } from './fake-twilio-api.ts';
import { fmt, login, pause, percentiles, startHubProcess, type Bench, type BenchContext, type BenchReport, type HubProcess } from './harness.ts';
import { openStoreCounter } from './store-counters.ts';

const PATIENTS = 10;
const POST_IN_FLIGHT = 10;

export const bench: Bench = {
  name: 'outbound',
  summary: 'replies/s through the outbox to an intercepted Twilio, with and without retries',
  run,
};

interface Scenario {
  label: string;
  answer: Answer;
}

const SCENARIOS: Scenario[] = [
  { label: 'provider answers 201', answer: () => ({ status: 201, twilioStatus: 'sent' }) },
  { label: 'every first attempt 500, then 201', answer: (_form, attempt) => (attempt === 1 ? { status: 500 } : { status: 201, twilioStatus: 'sent' }) },
];

async function run(ctx: BenchContext): Promise<BenchReport> {
  const burst = ctx.short ? 100 : 1000;
  const capMs = ctx.short ? 40_000 : 150_000;
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const scenario of SCENARIOS) {
    ctx.log(`${scenario.label}: a burst of ${burst} replies`);
    const r = await runScenario(ctx, scenario, burst, capMs);
    const lat = percentiles(r.providerLatencies);
    const post = percentiles(r.postLatencies);
    rows.push([
      scenario.label, burst, r.sent, r.postErrors, fmt(r.queueSeconds), fmt(r.allSentSeconds), fmt(r.sent / r.allSentSeconds),
      fmt(post.p50), fmt(post.p95), fmt(lat.p50), fmt(lat.p95), fmt(lat.p99), fmt(lat.max), r.providerRequests, fmt(r.commandsPerSent, 3),
    ]);
    if (r.sent < burst) notes.push(`${scenario.label}: ${burst - r.sent} of ${burst} replies were not sent within the ${capMs / 1000} s cap.`);
  }
  notes.push(
    'One burst per row on a fresh database: replies POSTed 10 in flight to 10 patients who wrote in by SMS; "queued" = all POSTs answered, "all sent" = the last message:updated with status sent on an admin socket, both from the first POST. ' +
      'POST→provider = from sending the POST to the fake Twilio API receiving the message (its last attempt when retried).',
  );
  notes.push('The hub sends through the real twilio SDK (no keep-alive: a CONNECT tunnel and a TLS handshake per message) to a fake API in the bench process; it answers 201 with status "sent". Retries: OUTBOX_BACKOFF_MAX_SECONDS=1 (each retry waits a random 0–1 s), set for both rows.');
  notes.push('Commands per sent message: data commands the store served (its serverStatus counters) from the moment all POSTs were answered until the last message was sent, divided by the messages sent meanwhile: the delivery worker\'s cost, plus the tail of the replies\' own bookkeeping and the hub\'s background polls.');
  if (ctx.store.embedded) notes.push('One delivery worker per hub sends one message at a time; on the embedded FerretDB each claim and each poll of due messages scans the messages collection, so the rate falls as the burst (and the collection) grows.');
  return {
    tables: [{
      caption: `Outbound burst through the outbox (one hub process, fake Twilio API over loopback)`,
      columns: ['scenario', 'burst', 'sent', 'POST errors', 'queued s', 'all sent s', 'replies/s', 'POST p50 ms', 'POST p95 ms', 'POST→provider p50 ms', 'p95', 'p99', 'max', 'provider requests', 'store cmds/sent'],
      rows,
    }],
    notes,
  };
}

async function runScenario(ctx: BenchContext, scenario: Scenario, burst: number, capMs: number) {
  const fake = await startFakeTwilioApi(() => ({ status: 201, twilioStatus: 'sent' }));
  const counter = await openStoreCounter(ctx.store.uri);
  let hub: HubProcess | undefined;
  let socket: Socket | undefined;
  try {
    hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName: ctx.databaseName(scenario.label.slice(0, 12)), env: { ...fake.env, OUTBOX_BACKOFF_MAX_SECONDS: '1' } });
    const token = await login(hub.url);
    const conversationIds = await openConversations(hub.url, token, fake);
    // Only now the scenario's answers: the setup's contact cards went through at once.
    fake.answer = scenario.answer;
    socket = connectSocket(`${hub.url}/agents`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
    const tag = randomBytes(3).toString('hex');
    const bodyOf = (i: number) => `bench outbound ${tag} ${i}`;
    const ids = new Map<string, number>();
    const sentAt = new Map<string, number>();
    let allSent: () => void = () => {};
    const allSentPromise = new Promise<void>((resolve) => (allSent = resolve));
    socket.on('message:updated', ({ message }: { message: { id: string; delivery: { status: string } } }) => {
      if (message.delivery.status === 'sent' && !sentAt.has(message.id)) {
        sentAt.set(message.id, performance.now());
        if (sentAt.size >= burst) allSent();
      }
    });

    const postLatencies: number[] = [];
    const postStarted = new Map<string, number>();
    let postErrors = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: POST_IN_FLIGHT }, async () => {
      for (let i = next++; i < burst; i = next++) {
        const t0 = performance.now();
        postStarted.set(bodyOf(i), t0);
        const res = await fetch(`${hub!.url}/api/conversations/${conversationIds[i % conversationIds.length]}/messages`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ body: bodyOf(i) }),
        }).catch(() => null);
        postLatencies.push(performance.now() - t0);
        if (res?.status !== 201) {
          postErrors++;
          continue;
        }
        ids.set(((await res.json()) as { id: string }).id, i);
      }
    }));
    const queued = performance.now();
    const commandsAtQueued = await counter.read();
    const sentAtQueued = sentAt.size;
    await Promise.race([allSentPromise, pause(Math.max(0, capMs - (queued - started)))]);
    const finished = performance.now();
    const commandsAtEnd = await counter.read();
    // Our own two serverStatus calls are not data commands; nothing else of ours ran meanwhile.
    const sentInDrain = sentAt.size - sentAtQueued;

    const lastRequest = new Map<string, number>();
    let providerRequests = 0;
    for (const r of fake.requests) {
      if (!r.form.Body?.startsWith(`bench outbound ${tag} `)) continue;
      providerRequests++;
      lastRequest.set(r.form.Body, r.at);
    }
    const providerLatencies = [...lastRequest].map(([body, at]) => at - postStarted.get(body)!);
    const sentOurs = [...sentAt.keys()].filter((id) => ids.has(id)).length;
    const lastSent = Math.max(...[...sentAt.values()], queued);
    return {
      sent: sentOurs,
      postErrors,
      queueSeconds: (queued - started) / 1000,
      allSentSeconds: ((sentOurs >= burst ? lastSent : finished) - started) / 1000,
      postLatencies,
      providerLatencies,
      providerRequests,
      commandsPerSent: sentInDrain > 0 ? (commandsAtEnd - commandsAtQueued) / sentInDrain : NaN,
    };
  } finally {
    socket?.close();
    await hub?.stop();
    await counter.close();
    await fake.close();
  }
}

/** Patients who wrote in by SMS (so SMS replies may go to them); their conversations' ids. */
async function openConversations(url: string, token: string, fake: FakeTwilioApi): Promise<string[]> {
  const tag = randomBytes(2).readUInt16BE() % 9000;
  for (let i = 0; i < PATIENTS; i++) {
    const status = await postTwilioWebhook(url, '/webhooks/twilio/sms', inboundSmsForm(`+1628${String(1000 + tag).padStart(4, '0')}${String(100 + i).padStart(3, '0')}`, 'hello, a question'));
    if (status !== 200) throw new Error(`the setup webhook answered ${status}`);
  }
  const res = await fetch(`${url}/api/conversations?limit=${PATIENTS}`, { headers: { authorization: `Bearer ${token}` } });
  const ids = ((await res.json()) as { items: { id: string }[] }).items.map((c) => c.id);
  // Whatever the hub sends a new patient (a contact card) is out of the way before the burst.
  const deadline = Date.now() + 30_000;
  let seen = -1;
  while (Date.now() < deadline && fake.requests.length !== seen) {
    seen = fake.requests.length;
    await pause(1000);
  }
  return ids;
}
