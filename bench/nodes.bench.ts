/**
 * `npm run bench -- nodes`: two hub nodes with Redis (README "Running several
 * nodes"): what crossing nodes adds to the latency from an inbound webhook to
 * the agents' `message:created`.
 *
 * Starts Debian's redis-server on a free loopback port and two hub processes
 * (node A, node B) with REDIS_URL on one shared database, the same secrets and
 * PUBLIC_BASE_URL; 20 agents' sockets connect to node A. Then, at each rate,
 * the same open-loop load of signed Twilio webhooks (bench/inbound-load.ts)
 * goes once into node A (one node: webhooks and sockets on A) and once into
 * node B (cross-node: B stores, Redis carries the event to A's sockets).
 * Full mode runs each rate A, B, B, A so the growing store favours neither.
 * Both nodes run throughout (their background workers load the store in
 * both cases).
 *
 * The embedded store does not isolate updates across processes, so the two
 * modes text from disjoint made-up numbers (their own patients and
 * conversations), and only one node takes webhooks at a time. Rates are
 * modest: 5 and 10/s on the embedded store (50/s already saturates one node
 * there: see the inbound bench), 10 and 50/s on MONGODB_URI.
 */
import { fmt, percentiles, startHubProcess, type Bench, type BenchContext, type HubProcess } from './harness.ts';
import { connectAgents, EventTracker, hubErrors, INBOUND_HUB_ENV, phonePool, runOpenLoop, type Agents, type RunResult } from './inbound-load.ts';
import { startBenchRedis, type BenchRedis } from './redis-server.ts';

const AGENT_SOCKETS = 20;

type Mode = 'one node' | 'cross-node';

export const bench: Bench = {
  name: 'nodes',
  summary: 'two hub nodes with Redis: webhook on node B → agent sockets on node A, p99 versus one node',
  async run(ctx: BenchContext) {
    const rates = ctx.store.embedded ? [5, 10] : [10, 50];
    const seconds = ctx.short ? 5 : 20;
    const order: Mode[] = ctx.short ? ['one node', 'cross-node'] : ['one node', 'cross-node', 'cross-node', 'one node'];
    const databaseName = ctx.databaseName('shared');
    const phones: Record<Mode, string[]> = { 'one node': phonePool(200, 0), 'cross-node': phonePool(200, 20_000) };
    const runs: { mode: Mode; result: RunResult }[] = [];
    let redis: BenchRedis | undefined;
    let a: HubProcess | undefined;
    let b: HubProcess | undefined;
    let agents: Agents | undefined;
    let tracker: EventTracker | undefined;
    let index = 0;
    try {
      redis = await startBenchRedis();
      const env = { ...INBOUND_HUB_ENV, REDIS_URL: redis.url };
      // One after the other: the first creates the bootstrap admin and the indexes.
      a = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env });
      b = await startHubProcess({ mongoUri: ctx.store.uri, databaseName, env });
      agents = await connectAgents(a.url, AGENT_SOCKETS).catch((error: Error) => {
          throw new Error(`${error.message}\nhub errors: ${hubErrors(a!.output()).join(' | ')}`);
        });
      tracker = new EventTracker(agents.sockets);
      const events = tracker;
      const target: Record<Mode, HubProcess> = { 'one node': a, 'cross-node': b };
      for (const rate of rates) {
        for (const mode of order) {
          // A run past the limit leaves a backlog (aborted requests still run in the hub): it drains first.
          const left = await events.settle(ctx.short ? 20_000 : 60_000);
          if (left) ctx.log(`${left} webhooks still not stored after the drain wait: this run starts on a busy hub`);
          const result = await runOpenLoop({ url: target[mode].url, tracker: events, rate, seconds, phones: phones[mode], cutMs: 3000, drainMs: ctx.short ? 8000 : 20_000, firstIndex: index });
          index += result.sent;
          runs.push({ mode, result });
          ctx.log(`${mode}, ${rate}/s: delivered ${result.delivered}/${result.sent}, errors ${result.errors}, p50 ${fmt(result.event.p50)} p99 ${fmt(result.event.p99)} ms${result.cutAt !== null ? `, cut at ${result.cutAt.toFixed(1)} s` : ''}`);
        }
      }
      for (const [name, node] of [['A', a], ['B', b]] as const) for (const line of hubErrors(node.output())) ctx.log(`node ${name} error: ${line}`);
    } finally {
      agents?.close();
      // A backlog left by the last run is of no interest: the database is thrown away.
      if (tracker?.pending()) for (const node of [a, b]) node?.child.kill('SIGKILL');
      await b?.stop();
      await a?.stop();
      await redis?.stop();
    }

    // Each (rate, mode): every sample of its runs together (raw percentiles, not averages of percentiles).
    const rows: (string | number)[][] = [];
    const ratios: string[] = [];
    const p99Of: Record<string, number> = {};
    for (const rate of rates) {
      for (const mode of ['one node', 'cross-node'] as const) {
        const mine = runs.filter((r) => r.mode === mode && r.result.rate === rate).map((r) => r.result);
        const samples = mine.flatMap((r) => r.samples.event);
        const all = mine.flatMap((r) => r.samples.eventAll);
        const http = mine.flatMap((r) => r.samples.http);
        const ev = percentiles(samples);
        const errors = mine.reduce((s, r) => s + r.errors, 0);
        p99Of[`${rate}:${mode}`] = ev.p99;
        const cut = mine.filter((r) => r.cutAt !== null).length;
        rows.push([
          `${rate}/s${cut ? ` (${cut} of ${mine.length} cut)` : ''}`, mode === 'one node' ? 'one node (webhooks → A, sockets on A)' : 'cross-node (webhooks → B, sockets on A)',
          mine.reduce((s, r) => s + r.sent, 0), ev.n, errors,
          fmt(ev.p50), fmt(ev.p95), fmt(ev.p99), fmt(ev.max), fmt(percentiles(http).p50), fmt(percentiles(all).p99),
        ]);
      }
      const one = p99Of[`${rate}:one node`]!;
      const cross = p99Of[`${rate}:cross-node`]!;
      ratios.push(`${rate}/s: ${fmt(cross / one)} (${fmt(cross)} ÷ ${fmt(one)} ms)`);
    }
    return {
      tables: [
        {
          caption: `Webhook → first of ${AGENT_SOCKETS} agent sockets' message:created, two hub nodes with Redis (ms from the webhook's due time; open loop, ${seconds} s per run)`,
          columns: ['rate', 'where', 'sent', 'delivered', 'errors', 'p50', 'p95', 'p99', 'max', 'webhook HTTP p50', 'all 20 sockets p99'],
          rows,
        },
      ],
      notes: [
        `p99 cross-node ÷ p99 one node: ${ratios.join('; ')}.`,
        `${redis?.version.split(' ').slice(0, 3).join(' ') ?? 'redis'} on loopback; the classic pub/sub adapter. Both nodes run throughout; one shared database (${ctx.store.label}).`,
        ctx.store.embedded
          ? 'On the embedded store the two nodes share one FerretDB that does not isolate updates across processes: each mode texts from its own made-up numbers (disjoint patients) and only one node takes webhooks at a time. Production runs several nodes on MongoDB only (config refuses REDIS_URL without MONGODB_URI; the bench passes it the store URI).'
          : 'MongoDB: the same harness, both nodes on MONGODB_URI.',
        `The difference between the modes is Redis's hop (publish on B, deliver on A) plus B's own work; storing the message is the same work on the same store. Once a run queues on the store (cut runs, p50 in seconds: see the inbound bench) the ratio measures that queue, not the hop: read it at the rate that is not cut.`,
      ],
    };
  },
};
