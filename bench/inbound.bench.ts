/**
 * `npm run bench -- inbound`: inbound SMS end to end, as a contact center sees
 * it. A hub in its own process (sandbox Twilio: nothing leaves the machine),
 * 20 agents' sockets on /agents, and signed Twilio inbound webhooks
 * (`POST /webhooks/twilio/sms`) sent open-loop at fixed rates (10, 50, 200,
 * 1,000/s) at 0, 2,000 and 20,000 stored conversations (short: 0 and 2,000;
 * bench/seed.ts writes them before the hub starts, one fresh database and hub
 * per size).
 *
 * Per message: from the webhook's due time to the first agent socket's
 * `message:created` carrying it (its providerMessageId is the MessageSid), and
 * the webhook's own HTTP latency; errors are non-200 answers, answers or
 * events still missing `drain` seconds after the last send, and messages never
 * sent because the run was cut (bench/inbound-load.ts says how: open loop, no
 * coordinated omission). Higher rates are skipped once one clearly fails.
 *
 * Each size starts with one message a second on the quiet hub (the latency
 * floor; when even that fails, the fixed rates are not run at that size).
 * Then the highest rate held with p99 under 100 ms: full mode bisects between
 * the passing and the failing rate (10 s runs) and confirms the best with a
 * 60 s run; short mode reads it off the short runs.
 *
 * Where the time goes, cheaply: the CPU the hub and the embedded store used
 * per delivered message during each run (/proc), and the gap between the
 * webhook's answer and the agent's event.
 *
 *   BENCH_INBOUND_CONVERSATIONS   stored-conversation sizes to run, comma-separated (default 0,2000 short; 0,2000,20000 full)
 *
 * Senders: at 0 conversations a pool of 500 made-up numbers (the first text
 * from each creates its patient and conversation); with seeded conversations
 * the seeded patients' numbers (each text lands in the patient's latest
 * conversation). Bodies are "bench <n>".
 */
import { cpus } from 'node:os';
import { fmt, pause, startHubProcess, type Bench, type BenchContext, type BenchTable, type HubProcess } from './harness.ts';
import { clearlyFails, connectAgents, cpuMs, EventTracker, held, hubErrors, INBOUND_HUB_ENV, phonePool, runOpenLoop, storePid, type Agents, type RunResult } from './inbound-load.ts';
import { seedStore } from './seed.ts';

const RATES = [10, 50, 200, 1000];
const AGENT_SOCKETS = 20;
const GOAL_P99_MS = 100;

interface Measured extends RunResult {
  conversations: number;
  hubCpuPerMsg: number;
  storeCpuPerMsg: number;
}

export const bench: Bench = {
  name: 'inbound',
  summary: 'signed Twilio webhooks at fixed rates → agent sockets: latency, errors, the rate held with p99 < 100 ms',
  async run(ctx: BenchContext) {
    const levels = process.env.BENCH_INBOUND_CONVERSATIONS?.split(',').map(Number) ?? (ctx.short ? [0, 2000] : [0, 2000, 20_000]);
    const seconds = ctx.short ? 5 : 20;
    const drainMs = ctx.short ? 8000 : 30_000;
    const cutMs = 2000;
    const results: Measured[] = [];
    const limits: string[] = [];
    const seeding: string[] = [];
    const idleNotes: string[] = [];
    const store = ctx.store.embedded ? await storePid(ctx.store.uri) : undefined;
    let index = 0;

    for (const conversations of levels) {
      const databaseName = ctx.databaseName(`c${conversations}`);
      let phones = phonePool(500);
      if (conversations > 0) {
        ctx.log(`seeding ${conversations.toLocaleString('en-US')} conversations`);
        const seeded = await seedStore({ mongoUri: ctx.store.uri, databaseName, conversations, log: ctx.log });
        seeding.push(`${conversations.toLocaleString('en-US')} conversations seeded in ${(seeded.ms / 1000).toFixed(1)} s (${Object.entries(seeded.counts).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ')})`);
        phones = seeded.patients.map((p) => p.phone);
      }
      let hub: HubProcess | undefined;
      let agents: Agents | undefined;
      let tracker: EventTracker | undefined;
      try {
        const setupStarted = Date.now();
        hub = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env: INBOUND_HUB_ENV });
        const hubReady = Date.now();
        agents = await connectAgents(hub.url, AGENT_SOCKETS).catch((error: Error) => {
          throw new Error(`${error.message}\nhub errors: ${hubErrors(hub!.output()).join(' | ')}`);
        });
        ctx.log(`hub ready in ${((hubReady - setupStarted) / 1000).toFixed(1)} s, ${AGENT_SOCKETS} agents created, logged in and connected in ${((Date.now() - hubReady) / 1000).toFixed(1)} s`);
        tracker = new EventTracker(agents.sockets);
        const events = tracker;
        // What the idle hub costs (its pollers' queries), before any load.
        const idle = await idleCpu(hub, store, 3000);
        idleNotes.push(`${conversations.toLocaleString('en-US')} conversations: hub ${fmt(idle.hub)} ms/s, store ${ctx.store.embedded ? `${fmt(idle.store)} ms/s` : '–'}`);
        const measure = async (rate: number, runSeconds: number, over: { cutMs?: number; drainMs?: number } = {}): Promise<Measured> => {
          // A run past the limit leaves a backlog in the hub (aborted requests still run there): let it drain first.
          const left = await events.settle(ctx.short ? 30_000 : 120_000);
          if (left) ctx.log(`${left} webhooks still not stored after the drain wait: this run starts on a busy hub`);
          const hubBefore = await cpuMs(hub!.child.pid);
          const storeBefore = await cpuMs(store);
          const r = await runOpenLoop({ url: hub!.url, tracker: events, rate, seconds: runSeconds, phones, cutMs: over.cutMs ?? cutMs, drainMs: over.drainMs ?? drainMs, firstIndex: index });
          index += r.sent;
          const m: Measured = {
            ...r, conversations,
            hubCpuPerMsg: ((await cpuMs(hub!.child.pid)) - hubBefore) / Math.max(1, r.delivered),
            storeCpuPerMsg: ((await cpuMs(store)) - storeBefore) / Math.max(1, r.delivered),
          };
          ctx.log(
            `${conversations} conv, ${rate}/s × ${runSeconds} s: sent ${r.sent}, delivered ${r.delivered}, errors ${r.errors}${r.errorKinds ? ` (${r.errorKinds})` : ''}, ` +
              `p50 ${fmt(r.event.p50)} p99 ${fmt(r.event.p99)} ms, achieved ${fmt(r.achieved)}/s${r.cutAt !== null ? `, cut at ${r.cutAt.toFixed(1)} s` : ''}`,
          );
          return m;
        };

        // First a lone message a second on the quiet hub: the latency floor at this size.
        const floor = await measure(1, ctx.short ? 3 : 10, { cutMs: 60_000, drainMs: ctx.short ? 20_000 : 60_000 });
        results.push(floor);
        // The sweep: the fixed rates, until one clearly fails (the hub is stopped after the last one: no drain wait).
        const sweep: Measured[] = [];
        if (floor.errors || floor.cutAt !== null) {
          limits.push(`At ${conversations.toLocaleString('en-US')} conversations even 1/s failed (${floor.errors} errors${floor.cutAt !== null ? ', cut' : ''}; p50 ${fmt(floor.event.p50)} ms): the fixed rates were not run.`);
          continue;
        }
        for (const rate of RATES) {
          const m = await measure(rate, seconds);
          sweep.push(m);
          results.push(m);
          if (clearlyFails(m)) break;
        }
        for (const line of hubErrors(hub.output())) ctx.log(`hub error: ${line}`);
        limits.push(
          ctx.short ? readLimitShort(conversations, floor, sweep, seconds)
          : !clearlyFails(floor) ? await searchLimit(conversations, floor, sweep, measure, results)
          : `At ${conversations.toLocaleString('en-US')} conversations: a lone message a second already takes p50 ${fmt(floor.event.p50)}, p99 ${fmt(floor.event.p99)} ms, so no search for a rate with p99 < ${GOAL_P99_MS} ms.`,
        );
      } finally {
        agents?.close();
        const stopping = Date.now();
        // A backlog left by the last (failing) run is of no interest: the database is thrown away.
        if (tracker?.pending()) hub?.child.kill('SIGKILL');
        await hub?.stop();
        ctx.log(`hub stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
      }
    }

    const tables: BenchTable[] = [
      {
        caption: `Inbound SMS webhook → first of ${AGENT_SOCKETS} agent sockets' message:created (ms from the webhook's due time; open loop)`,
        columns: ['stored conv', 'rate/s', 'sent', 'delivered', 'errors', 'p50', 'p95', 'p99', 'max', 'achieved/s', 'webhook HTTP p50', 'HTTP p99', 'all 20 sockets p99', 'hub CPU ms/msg', 'store CPU ms/msg'],
        rows: results.map((r) => [
          r.conversations.toLocaleString('en-US'),
          `${r.rate} × ${r.cutAt !== null ? `${r.cutAt.toFixed(1)} s (cut)` : `${r.seconds} s`}`,
          r.sent, r.delivered, r.errors ? `${r.errors} (${r.errorKinds})` : 0,
          fmt(r.event.p50), fmt(r.event.p95), fmt(r.event.p99), fmt(r.event.max), fmt(r.achieved),
          fmt(r.http.p50), fmt(r.http.p99), fmt(r.eventAll.p99), fmt(r.hubCpuPerMsg), ctx.store.embedded ? fmt(r.storeCpuPerMsg) : '–',
        ]),
      },
    ];
    const gaps = results.filter((r) => r.eventAfterHttp.n > 0);
    const notes = [
      ...limits,
      ...seeding,
      `CPU of the idle hub (3 s before the first run, 20 sockets connected; its pollers' queries) — ${idleNotes.join('; ')}: on the embedded store every poll is a full scan.`,
      `Open loop: each webhook is due at a fixed time and its latency counts from then (late answers count); a run is cut once the oldest message without its event is ${cutMs} ms old, and higher rates are then skipped. Errors: non-200, no answer or no event ${drainMs / 1000} s after the last send.`,
      `Where the time of one ingest goes: ${eventVsAnswer(gaps)}; ` +
        (ctx.store.embedded
          ? `the store's process used ${fmtRange(results.map((r) => r.storeCpuPerMsg))} ms CPU per delivered message (idle polling included) against the hub's ${fmtRange(results.map((r) => r.hubCpuPerMsg))} ms, on ${cpus().length} cores shared by the hub, the store and this load generator.`
          : 'the store runs elsewhere (MONGODB_URI): only the hub\'s CPU per message is shown.'),
      `Generator: one process sends every webhook and holds the ${AGENT_SOCKETS} sockets; its largest send lag behind schedule was ${fmt(Math.max(...results.map((r) => r.generatorLagMax)))} ms (counted in the latencies).`,
    ];
    return { tables, notes };
  },
};

async function idleCpu(hub: HubProcess, store: number | undefined, windowMs: number): Promise<{ hub: number; store: number }> {
  const h0 = await cpuMs(hub.child.pid);
  const s0 = await cpuMs(store);
  await pause(windowMs);
  return { hub: ((await cpuMs(hub.child.pid)) - h0) / (windowMs / 1000), store: ((await cpuMs(store)) - s0) / (windowMs / 1000) };
}

/** The agent's event versus the webhook's answer (p50 of event time minus answer time, per run). */
function eventVsAnswer(runs: Measured[]): string {
  if (!runs.length) return 'no message was both answered and delivered';
  const gaps = runs.map((r) => r.eventAfterHttp.p50);
  const lo = Math.min(...gaps);
  const hi = Math.max(...gaps);
  if (hi < 0) return `the agents' event arrives ${fmt(-hi)}–${fmt(-lo)} ms (p50 per run) before the webhook's answer: the event goes out once the message is stored, and the webhook still works that long before it answers Twilio (its answer, not the event, carries that work)`;
  if (lo > 0) return `the agents' event arrives ${fmt(lo)}–${fmt(hi)} ms (p50 per run) after the webhook's answer`;
  return `the agents' event arrives between ${fmt(-lo)} ms before and ${fmt(hi)} ms after the webhook's answer (p50 per run)`;
}

function fmtRange(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return '–';
  return `${fmt(Math.min(...finite))}–${fmt(Math.max(...finite))}`;
}

function readLimitShort(conversations: number, floor: Measured, sweep: Measured[], seconds: number): string {
  const best = [floor, ...sweep].filter((r) => held(r, GOAL_P99_MS)).at(-1);
  const failed = sweep.find((r) => !held(r, GOAL_P99_MS));
  return (
    `At ${conversations.toLocaleString('en-US')} conversations (short runs of ${seconds} s, not 60 s): ` +
    (best ? `${best.rate}/s held p99 < ${GOAL_P99_MS} ms (p99 ${fmt(best.event.p99)} ms)` : `no rate held p99 < ${GOAL_P99_MS} ms`) +
    (failed ? `; ${failed.rate}/s did not (p99 ${fmt(failed.event.p99)} ms, ${failed.delivered}/${failed.sent} delivered, achieved ${fmt(failed.achieved)}/s)` : '') +
    '. `npm run bench -- inbound` searches between them and confirms with a 60 s run.'
  );
}

/** Full mode: bisects between the best passing and the first failing rate (10 s runs), then holds the best for 60 s. */
async function searchLimit(conversations: number, floor: Measured, sweep: Measured[], measure: (rate: number, seconds: number) => Promise<Measured>, results: Measured[]): Promise<string> {
  let lo = [floor, ...sweep].filter((r) => held(r, GOAL_P99_MS)).at(-1)?.rate ?? 0;
  let hi = sweep.find((r) => !held(r, GOAL_P99_MS))?.rate ?? RATES.at(-1)! * 2;
  for (let step = 0; step < 3; step++) {
    const mid = Math.round((lo + hi) / 2);
    if (mid <= lo || mid >= hi || mid < 1) break;
    const m = await measure(mid, 10);
    results.push(m);
    if (held(m, GOAL_P99_MS)) lo = mid;
    else hi = mid;
  }
  const size = `${conversations.toLocaleString('en-US')} conversations`;
  if (lo === 0) return `At ${size}: no rate ≥ 1/s held p99 < ${GOAL_P99_MS} ms (search down to ${hi}/s), so no 60 s confirmation.`;
  const confirm = await measure(lo, 60);
  results.push(confirm);
  return held(confirm, GOAL_P99_MS)
    ? `At ${size}: the highest rate held for 60 s with p99 < ${GOAL_P99_MS} ms is ${lo}/s (p99 ${fmt(confirm.event.p99)} ms; ${hi}/s did not hold).`
    : `At ${size}: ${lo}/s passed 10–20 s runs but not the 60 s run (p99 ${fmt(confirm.event.p99)} ms, ${confirm.errors} errors): the 60 s limit is below ${lo}/s.`;
}
