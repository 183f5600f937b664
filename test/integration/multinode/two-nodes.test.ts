/**
 * Two hub processes behind one (imaginary) load balancer: one database, one
 * Redis (Debian's redis-server, started here on a free loopback port), the same
 * secrets and PUBLIC_BASE_URL. What one node stores reaches the sockets on the
 * other; when Redis goes away each node keeps serving its own sockets; when it
 * comes back, cross-node pushes resume.
 *
 * The store here is the test run's FerretDB, which does not isolate updates
 * across processes (the hub's per-document locks hold within one process), so
 * the nodes never write one document at the same time: each step writes
 * through one node and waits for it, and each case uses its own patients.
 * Production runs several nodes only on MongoDB (config refuses REDIS_URL
 * without MONGODB_URI).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { AgentClientToServerEvents, AgentServerToClientEvents, QueueStats } from '../../../server/realtime/events.ts';
import type { MessageRecord } from '../../../server/timeline/records.ts';
import type { WidgetMessage } from '../../../server/realtime/widget-events.ts';
import { testDatabaseUri, uniqueDatabaseName } from '../../support/embedded-db.ts';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { freeLoopbackPort, startTestRedis, type TestRedis } from '../../support/redis-server.ts';
import { ADMIN, ApiClient, connected, nextEvent, TEST_ENV, waitFor, type TestHub } from '../../support/test-hub.ts';
import { newClientId, startVisitor, type TestVisitor } from '../../support/widget-visitor.ts';

type AgentSocket = Socket<AgentServerToClientEvents, AgentClientToServerEvents>;
type Created = { message: MessageRecord; conversation: { id: string; teamId: string } };

const PUBLIC_BASE_URL = 'http://hub.two-nodes.test';

interface HubNode {
  name: string;
  child: ChildProcess;
  url: string;
  api: ApiClient;
  output(): string;
  /** What the test support's helpers (signed webhooks, widget visitors) need of a hub. */
  view: TestHub;
}

function startNode(name: string, env: Record<string, string>): Promise<HubNode> {
  return freeLoopbackPort().then((port) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, ...TEST_ENV, NODE_ENV: 'development', PORT: String(port), PUBLIC_BASE_URL, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    const api = new ApiClient(url);
    const view = { url, api, config: { publicBaseUrl: PUBLIC_BASE_URL, twilio: { authToken: TEST_ENV.TWILIO_AUTH_TOKEN } } } as unknown as TestHub;
    return { name, child, url, api, output: () => output, view };
  });
}

async function untilReady(node: HubNode): Promise<void> {
  await waitFor(async () => {
    if (node.child.exitCode !== null) throw new Error(`${node.name} exited (${node.child.exitCode}):\n${node.output().slice(-3000)}`);
    return (await fetch(`${node.url}/readyz`).then((r) => r.ok, () => false)) || null;
  }, 90_000);
}

async function stopNode(node: HubNode): Promise<number | null> {
  if (node.child.exitCode !== null) return node.child.exitCode;
  const exited = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)));
  node.child.kill('SIGTERM');
  return exited;
}

describe('several hub nodes: Socket.IO over Redis', function () {
  this.timeout(120_000);
  let redis: TestRedis;
  let dataDir: string;
  let a: HubNode;
  let b: HubNode;
  let agentToken: string;
  let adminToken: string;
  let adminId: string;
  const sockets: Socket[] = [];
  let numbers = 0;
  // Each case texts from its own numbers: its own patients (see the header).
  const newNumber = () => `+1415555${String(7100 + ++numbers).padStart(4, '0')}`;

  const agentSocket = (node: HubNode, token = agentToken): AgentSocket => {
    const socket: AgentSocket = connectSocket(`${node.url}/agents`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return socket;
  };

  /** A patient's text, as Twilio posts it (signed), arriving through `node`. */
  const texts = async (node: HubNode, from: string, body: string) => {
    const res = await postTwilio(node.view, '/webhooks/twilio/sms', inboundSms({ From: from, Body: body }));
    expect(res.status, res.text).to.equal(200);
  };

  const createdWith = (socket: AgentSocket, body: string, timeoutMs?: number) =>
    nextEvent<Created>(socket, 'message:created', (p) => p.message.body === body, timeoutMs);

  before(async () => {
    redis = await startTestRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-nodes-'));
    const shared = { MONGODB_URI: testDatabaseUri(), MONGODB_DATABASE: uniqueDatabaseName('two-nodes'), REDIS_URL: redis.url, DATA_DIR: dataDir };
    [a, b] = await Promise.all([startNode('node A', shared), startNode('node B', shared)]);
    await Promise.all([untilReady(a), untilReady(b)]);

    const login = async (node: HubNode, email: string, password: string) => {
      const res = await node.api.post('/api/auth/login', { email, password });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body as { accessToken: string; agent: { id: string } };
    };
    ({ accessToken: adminToken, agent: { id: adminId } } = await login(a, ADMIN.email, ADMIN.password));
    const email = `two-nodes.${Date.now()}@test.local`;
    const created = await a.api.post('/api/agents', { email, password: 'agent-password-123', name: 'Nadia Nodes', role: 'agent', teamIds: ['front-desk'] }, adminToken);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    // Logged in through B: the session is in the database, the token is signed with the shared secret.
    agentToken = (await login(b, email, 'agent-password-123')).accessToken;
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const node of [a, b]) if (node) console.log(`--- ${node.name} (last lines) ---\n${node.output().split('\n').slice(-40).join('\n')}`);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    const codes = await Promise.all([a, b].filter(Boolean).map(stopNode));
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    // hub.close() closed the Redis clients too: both nodes stopped cleanly.
    expect(codes).to.deep.equal([0, 0]);
  });

  it('sees the other node: an agent connected to B is online for A', async () => {
    const onB = agentSocket(b, adminToken);
    await connected(onB);
    const onA = agentSocket(a);
    await connected(onA);
    // presence:list on A asks B over Redis; it answers once both nodes' subscriptions are in place.
    await waitFor(async () => {
      const answer = (await onA.emitWithAck('presence:list')) as { ok: boolean; agentIds: string[] };
      return answer.ok && answer.agentIds.includes(adminId);
    }, 60_000);
    onA.disconnect();
    onB.disconnect();
  });

  it('(a) pushes an SMS that arrived through node B to an agent connected to node A', async () => {
    const onA = agentSocket(a);
    await connected(onA);
    const pushed = createdWith(onA, 'Texted to node B, read on node A');
    await texts(b, newNumber(), 'Texted to node B, read on node A');
    const { message } = await pushed;
    expect(message.channel).to.equal('sms');
    expect(message.direction).to.equal('inbound');
    onA.disconnect();
  });

  it('(b) a reply sent through node A reaches the widget connected to node B, chosen because that widget is open', async () => {
    const visitor: TestVisitor = await startVisitor(b.view, { name: 'Wendy Twonode' });
    sockets.push(visitor.socket as unknown as Socket);
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'Hello from the widget on B' });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);

    const inWidget = nextEvent<WidgetMessage>(visitor.socket, 'message:created', (m) => m.direction === 'outbound' && m.body === 'Answered through node A');
    // `auto`: node A has no widget of this patient; it asks B, which has.
    const reply = await a.api.post(`/api/conversations/${sent.message.conversationId}/messages`, { body: 'Answered through node A', channel: 'auto' }, agentToken);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    expect(reply.body.channel).to.equal('webchat');
    expect(reply.body.channelReason).to.equal('widget_connected');
    const shown = await inWidget;
    expect(shown.author).to.equal('clinic');
    expect(shown.id).to.equal(reply.body.id);
    visitor.socket.disconnect();
  });

  it('takes a conversation away from sockets on the other node when it moves to another team', async () => {
    await b.api.post('/api/teams', { id: 'billing-two-nodes', name: 'Billing' }, adminToken);
    const onB = agentSocket(b);
    await connected(onB);
    const arrived = createdWith(onB, 'Please move me to billing');
    await texts(b, newNumber(), 'Please move me to billing');
    const { conversation } = await arrived;
    expect((await onB.emitWithAck('conversation:join', conversation.id)).ok).to.equal(true);

    const closed = nextEvent<{ conversationId: string; reason: string }>(onB, 'conversation:closed', (p) => p.conversationId === conversation.id);
    const moved = await a.api.post(`/api/conversations/${conversation.id}/assign`, { teamId: 'billing-two-nodes' }, adminToken);
    expect(moved.status, JSON.stringify(moved.body)).to.be.oneOf([200, 201]);
    expect((await closed).reason).to.equal('access_lost');
    onB.disconnect();
  });

  it('tells the live queue on node A that it moved through node B (queue:stats to a watcher on A)', async () => {
    // Nobody waiting first: A then has no tick of its own that would notice the new conversation.
    const waiting = await a.api.get('/api/conversations?assignee=unassigned&status=open&limit=100', adminToken);
    for (const c of waiting.body.items as { id: string }[]) expect((await a.api.post(`/api/conversations/${c.id}/resolve`, undefined, adminToken)).status).to.equal(200);
    const onA = agentSocket(a, adminToken);
    const initial = nextEvent<QueueStats>(onA, 'queue:stats', (s) => s.teamId === 'front-desk');
    await connected(onA);
    expect((await initial).waiting).to.equal(0);
    const moved = nextEvent<QueueStats>(onA, 'queue:stats', (s) => s.teamId === 'front-desk' && s.waiting === 1);
    await texts(b, newNumber(), 'Is anyone at the front desk?');
    await moved;
    onA.disconnect();
  });

  it('(c) without Redis each node serves its own sockets; when Redis is back, cross-node pushes resume', async () => {
    const onA = agentSocket(a);
    const onB = agentSocket(b);
    await Promise.all([connected(onA), connected(onB)]);
    const reconnectAsked = (socket: AgentSocket) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const askedA = reconnectAsked(onA);
    const askedB = reconnectAsked(onB);

    await redis.stop();
    for (const node of [a, b]) {
      expect((await fetch(`${node.url}/readyz`)).status, `${node.name} /readyz without Redis`).to.equal(200);
    }
    const onBOwn = createdWith(onB, 'Texted to node B while Redis is down');
    await texts(b, newNumber(), 'Texted to node B while Redis is down');
    expect((await onBOwn).message.channel).to.equal('sms');
    const onAOwn = createdWith(onA, 'Texted to node A while Redis is down');
    await texts(a, newNumber(), 'Texted to node A while Redis is down');
    expect((await onAOwn).message.channel).to.equal('sms');
    // A socket arriving meanwhile is served too.
    const late = agentSocket(a);
    await connected(late);
    expect((await late.emitWithAck('presence:list')).ok).to.equal(true);
    late.disconnect();
    for (const node of [a, b]) {
      expect(node.child.exitCode, `${node.name} still running`).to.equal(null);
      await waitFor(async () => node.output().includes('Redis unreachable'));
      expect(node.output(), 'the Redis URL stays out of the log').not.to.include(redis.url);
    }

    await redis.start();
    // Back on Redis, each node asks its own sockets to reconnect (and so catch up on what they missed).
    expect(await askedA).to.equal('io server disconnect');
    expect(await askedB).to.equal('io server disconnect');

    const fresh = agentSocket(a);
    await connected(fresh);
    const from = newNumber();
    let attempt = 0;
    await waitFor(async () => {
      const body = `Texted to node B after Redis came back (${++attempt})`;
      const pushed = createdWith(fresh, body, 5000).then(() => true, () => false);
      await texts(b, from, body);
      return pushed;
    }, 90_000);
    for (const node of [a, b]) await waitFor(async () => node.output().includes('Redis is back'));
    fresh.disconnect();
  });
});
