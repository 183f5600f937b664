/**
 * Hostile input the hub already withstands, kept proven: operator injection
 * and prototype pollution, absurdly deep or large JSON, stored XSS, forged
 * provider webhooks, password and one-time-code guessing, tampered or expired
 * signed links, foreign origins, and the security headers. The last test reads
 * the log lines of every hub this file started and finds none of the PHI the
 * attacks carried.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import twilio from 'twilio';
import type { Socket } from 'socket.io-client';
import { fakeSid, inboundSms, postTwilio } from '../support/fake-twilio.ts';
import { postInboundEmail } from '../support/inbound-email.ts';
import {
  ADMIN, connected, patientWrites, roundTrip, startTestHub, TestClock, waitFor, type ApiResponse, type Session, type TestHub,
} from '../support/test-hub.ts';
import { codeSentTo, connectVisitor, newClientId, startVisitor } from '../support/widget-visitor.ts';

/** Distinctive PHI this file sends; none of it may reach a log line. */
const PHI = {
  bodyA: 'Amaranth-Dirigible-1187 my chlamydia results',
  phoneA: '+13035550182',
  nameA: 'Bartholomew Quincey-Ashdown',
  bodyB: 'Sepia-Carousel-3374 team B biopsy question',
  phoneB: '+13035550183',
  twilioBody: 'Cerulean-Windmill-4471 I missed my methadone dose',
  twilioFrom: '+13035550191',
  mailFrom: 'forged.sender.phi@example.org',
  mailBody: 'Gamboge-Lighthouse-2268 my therapist notes',
  deep: 'Obsidian-Pelican-9930 depression screening',
  xss: `<script>alert('ct-xss-1')</script><img src=x onerror="alert('ct-xss-2')"> Vermilion-Harpoon-6620 rash photo`,
  xssWidget: `<svg onload=alert('ct-xss-3')></svg><script src=//evil.example/x.js></script> Chartreuse-Mitten-5512`,
  xssName: '<img src=x onerror=alert(4)>Ignatius Quell',
  xssPhone: '+13035550184',
  statusPhone: '+13035550185',
  statusReply: 'Russet-Tambourine-8841 your potassium is low',
  eventsEmail: 'held.events.phi@example.org',
  eventsReply: 'Mauve-Catapult-6650 your mammogram is clear',
  codePhone: '+13035550186',
  mediaPhone: '+13035550187',
  mediaReply: 'Taupe-Zeppelin-7743 your discharge papers',
  linkPhone: '+13035550188',
  linkPhone2: '+13035550189',
  linkReply: 'Fuchsia-Gondola-1129 your HbA1c is 9.1%',
};

/** A P-256 pair standing in for SendGrid's Event Webhook key, and an attacker's. */
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const attackerKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SENDGRID_PUBLIC_KEY = sendgridKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const SENDGRID_EVENT = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'sendgrid-events.json'), 'utf8')) as Record<string, unknown>[])[0]!;

/** A clock that stands still unless a test moves it: lockouts and link lifetimes do not run out on a slow machine. */
class PausedClock extends TestClock {
  private at = Date.now();
  override readonly now = () => new Date(this.at);
  override advance(ms: number): void {
    this.at += ms;
  }
}

/** Every hub this file starts: the last test reads all their logs. */
const hubs: TestHub[] = [];
async function hub(options: Parameters<typeof startTestHub>[0]): Promise<TestHub> {
  const started = await startTestHub({ ...options, env: { LOG_LEVEL: 'debug', ...options.env } });
  hubs.push(started);
  return started;
}

/**
 * Emits an event whose payload is raw JSON text, with an ack, on the socket's
 * own connection. The client library cannot send a 10,000-level payload itself
 * (its binary check recurses), but a hostile client writes the packet directly:
 * `2<namespace>,<ack id>["event",payload]`; the answer is `3<namespace>,<ack id>[answer]`.
 */
let rawAckIds = 900_000;
function emitRaw(socket: Socket<any, any>, event: string, payloadJson: string): Promise<any> {
  const nsp = (socket as unknown as { nsp: string }).nsp;
  const id = ++rawAckIds;
  const prefix = `3${nsp === '/' ? '' : `${nsp},`}${id}`;
  const engine = socket.io.engine;
  return new Promise((resolve) => {
    const onPacket = (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message' || typeof packet.data !== 'string' || !packet.data.startsWith(`${prefix}[`)) return;
      engine.off('packet', onPacket);
      resolve((JSON.parse(packet.data.slice(prefix.length)) as unknown[])[0]);
    };
    engine.on('packet', onPacket);
    engine.write(`2${nsp === '/' ? '' : `${nsp},`}${id}[${JSON.stringify(event)},${payloadJson}]`);
  });
}

const flip = (c: string) => (c === 'A' ? 'B' : 'A');
/** The token with one character changed at index i. */
const changedAt = (token: string, i: number) => token.slice(0, i) + flip(token[i]!) + token.slice(i + 1);

describe('security: held attacks on inputs, webhooks, limits, links and headers', () => {
  let t: TestHub;
  let admin: Session;
  let agentA: Session;
  const a = { conversationId: '', patientId: '' };
  const b = { conversationId: '', patientId: '' };
  const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

  before(async () => {
    t = await hub({
      label: 'held-input',
      env: { CORS_ALLOWED_ORIGINS: 'https://portal.clinic.example', WIDGET_ALLOWED_ORIGINS: 'https://clinic.example', SENDGRID_EVENT_PUBLIC_KEY: SENDGRID_PUBLIC_KEY },
    });
    admin = await t.admin();
    for (const id of ['team-a', 'team-b']) expect((await t.api.post('/api/teams', { id, name: id }, admin.token)).status).to.equal(201);
    agentA = await t.agent({ name: 'Ari Alpha', teamIds: ['team-a'] });
    const inA = await patientWrites(t, { channel: 'sms', from: PHI.phoneA, body: PHI.bodyA, displayName: PHI.nameA });
    Object.assign(a, { conversationId: inA.conversation.id, patientId: inA.patientId });
    const inB = await patientWrites(t, { channel: 'sms', from: PHI.phoneB, body: PHI.bodyB });
    Object.assign(b, { conversationId: inB.conversation.id, patientId: inB.patientId });
    expect((await t.api.post(`/api/conversations/${a.conversationId}/assign`, { teamId: 'team-a' }, admin.token)).status).to.equal(200);
    expect((await t.api.post(`/api/conversations/${b.conversationId}/assign`, { teamId: 'team-b' }, admin.token)).status).to.equal(200);
  });
  after(async () => {
    for (const h of hubs) await h.close().catch(() => undefined);
  });

  const conversationOf = async (id: string) => (await t.api.get(`/api/conversations/${id}`, (await t.admin()).token)).body;

  describe('operator injection and prototype pollution', () => {
    it('refuses operator objects and arrays in the login and refresh bodies with 400, logging no one in', async () => {
      for (const body of [
        { email: { $gt: '' }, password: { $gt: '' } },
        { email: ADMIN.email, password: { $ne: null } },
        { email: { $regex: '^admin' }, password: ADMIN.password },
        { email: [ADMIN.email], password: ADMIN.password },
        { email: ADMIN.email, password: [ADMIN.password] },
        { email: ADMIN.email, password: ADMIN.password, totp: { $ne: null } },
      ]) {
        const res = await t.api.post('/api/auth/login', body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.code).to.equal('INVALID_INPUT');
        expect(res.body).not.to.have.property('accessToken');
      }
      const refresh = await t.api.post('/api/auth/refresh', { refreshToken: { $ne: null } });
      expect(refresh.status).to.equal(400);
      // Control: the same account with plain strings logs in.
      expect((await t.api.post('/api/auth/login', { email: ADMIN.email, password: ADMIN.password })).status).to.equal(200);
    });

    it('refuses or ignores operators in query strings: a team-A agent never lists more than its own conversations', async () => {
      const list = async (query: string) => t.api.get(`/api/conversations${query}`, agentA.token);
      const allowed = new Set(((await list('?status=open,pending,resolved&limit=100')).body.items as { id: string }[]).map((c) => c.id));
      expect([...allowed]).to.include(a.conversationId).and.not.include(b.conversationId);
      for (const query of [
        '?status[$ne]=open', '?status[$in][]=resolved', '?assignee[$gt]=', '?assignee[$ne]=me', '?team[$ne]=team-a', '?team[$in][]=team-b',
        '?team[$exists]=false', '?patient[$ne]=x', '?patient[$gt]=', '?channel[$ne]=email', '?cursor[$gt]=', '?limit[$gt]=0', '?$where=1',
        '?$or[0][teamId]=team-b', `?patient=${b.patientId}`, '?team=team-b', '?__proto__[teamIds][]=team-b', '?status=open&status[$ne]=x',
      ]) {
        const res = await list(query);
        expect(res.status, `${query}: ${JSON.stringify(res.body).slice(0, 200)}`).to.be.oneOf([200, 400]);
        if (res.status === 400) continue;
        const ids = (res.body.items as { id: string }[]).map((c) => c.id);
        for (const id of ids) expect(allowed.has(id), `${query} listed ${id}`).to.equal(true);
        expect(JSON.stringify(res.body), query).not.to.include(PHI.bodyB).and.not.include(PHI.phoneB);
      }
      const messages = await t.api.get(`/api/conversations/${a.conversationId}/messages?after[$gt]=0&conversationId=${b.conversationId}`, agentA.token);
      expect(messages.status).to.be.oneOf([200, 400]);
      expect(JSON.stringify(messages.body)).not.to.include(PHI.bodyB);
    });

    it('refuses operator objects used as ids, on REST paths and in socket events', async () => {
      for (const path of [
        `/api/conversations/${encodeURIComponent('{"$ne":null}')}`,
        `/api/conversations/${encodeURIComponent('{"$gt":""}')}/messages`,
        `/api/patients/${encodeURIComponent('{"$ne":null}')}`,
      ]) {
        const res = await t.api.get(path, agentA.token);
        expect(res.status, path).to.be.oneOf([400, 404]);
        expect(JSON.stringify(res.body)).not.to.include(PHI.bodyB);
      }
      const socket: Socket<any, any> = t.socket(agentA.token);
      await connected(socket);
      for (const id of [{ $ne: null }, { $gt: '' }, [b.conversationId], { _id: b.conversationId }]) {
        const join = await socket.emitWithAck('conversation:join', id);
        expect(join.ok, JSON.stringify(id)).to.equal(false);
        const since = await socket.emitWithAck('messages:since', { conversationId: id, afterSeq: 0 });
        expect(since.ok, JSON.stringify(id)).to.equal(false);
        expect(JSON.stringify([join, since])).not.to.include(PHI.bodyB);
      }
      expect((await socket.emitWithAck('messages:since', { conversationId: b.conversationId, afterSeq: { $gt: -1 } })).ok).to.equal(false);
      // Control: the socket is alive and joins its own team's conversation.
      expect((await socket.emitWithAck('conversation:join', a.conversationId)).ok).to.equal(true);
      socket.disconnect();
    });

    it('ignores __proto__ and constructor.prototype keys in JSON bodies: no role, team, status or link is gained, and Object.prototype stays clean', async () => {
      const raw = (method: string, path: string, json: string, token?: string) => t.api.request(method, path, json, token);
      const pollution = '"__proto__":{"isAdmin":true,"role":"admin","teamIds":["team-b"],"status":"resolved","teamId":"team-b","linked":true},"constructor":{"prototype":{"isAdmin":true,"role":"admin"}}';

      const login = await raw('POST', '/api/auth/login', `{"email":"${agentA.agent.email}","password":"not-my-password",${pollution}}`);
      expect(login.status).to.equal(401);

      for (const [i, extra] of ['"__proto__":{"role":"admin","isAdmin":true}', '"constructor":{"prototype":{"role":"admin"}}', pollution].entries()) {
        const email = `proto${i}.${Date.now()}@test.local`;
        const created = await raw('POST', '/api/agents', `{"email":"${email}","name":"Proto Pete","password":"agent-password-123","teamIds":["team-a"],${extra}}`, (await t.admin()).token);
        expect(created.status, JSON.stringify(created.body)).to.be.oneOf([201, 400]);
        if (created.status !== 201) continue;
        expect(created.body).to.include({ role: 'agent' });
        expect(created.body.teamIds).to.deep.equal(['team-a']);
        const session = await t.login(email, 'agent-password-123');
        expect(session.agent.role).to.equal('agent');
        expect((await t.api.get('/api/audit', session.token)).status).to.equal(403);
        expect((await t.api.get(`/api/conversations/${b.conversationId}`, session.token)).status).to.be.oneOf([403, 404]);
      }

      const patched = await raw('PATCH', `/api/conversations/${a.conversationId}`, `{"priority":"high",${pollution}}`, agentA.token);
      expect(patched.status).to.be.oneOf([200, 400]);
      const assign = await raw('POST', `/api/conversations/${a.conversationId}/assign`, `{${pollution}}`, agentA.token);
      expect(assign.status).to.equal(400);
      expect(await conversationOf(a.conversationId)).to.include({ teamId: 'team-a', status: 'open', assigneeId: null });

      const preferences = await raw('PATCH', `/api/patients/${a.patientId}/preferences`, `{"language":"es",${pollution}}`, agentA.token);
      expect(preferences.status).to.be.oneOf([200, 400]);

      const visitor = await raw('POST', '/api/widget/visitors', `{"name":"Proto Visitor",${pollution.replace('"linked":true', `"linked":true,"patientId":"${b.patientId}"`)}}`);
      expect(visitor.status).to.be.oneOf([201, 400]);
      if (visitor.status === 201) {
        expect(visitor.body.session.linked).to.equal(false);
        const chat = await connectVisitor(t, visitor.body.token);
        const history = await chat.call('messages:since', { afterSeq: 0 });
        expect(history.items).to.deep.equal([]);
        chat.socket.disconnect();
      }

      const query = await t.api.get('/api/conversations?__proto__[isAdmin]=true&constructor[prototype][isAdmin]=true&__proto__.isAdmin=true', agentA.token);
      expect(query.status).to.be.oneOf([200, 400]);

      expect(Object.getOwnPropertyNames(Object.prototype).sort()).to.deep.equal(PROTOTYPE_NAMES);
      for (const key of ['isAdmin', 'role', 'teamIds', 'status', 'teamId', 'linked', 'patientId']) {
        expect(({} as Record<string, unknown>)[key], key).to.equal(undefined);
      }
    });
  });

  describe('deep and huge JSON', () => {
    const deepObject = (depth: number, key = 'a') => `{"${key}":`.repeat(depth) + `"${PHI.deep}"` + '}'.repeat(depth);
    const deepArray = (depth: number) => '['.repeat(depth) + `"${PHI.deep}"` + ']'.repeat(depth);

    it('answers bodies nested 10,000 (and 100,000) levels deep with 400, never 5xx, and keeps serving', async () => {
      const notes = `/api/conversations/${a.conversationId}/notes`;
      const cases: [string, string, string, string | undefined][] = [
        ['POST', '/api/auth/login', deepObject(10_000), undefined],
        ['POST', '/api/auth/login', deepArray(10_000), undefined],
        ['POST', '/api/auth/login', deepArray(100_000), undefined],
        ['POST', '/api/auth/login', `{"email":${deepObject(10_000)},"password":"x"}`, undefined],
        ['POST', notes, `{"body":${deepObject(10_000)}}`, agentA.token],
        ['POST', notes, deepArray(10_000), agentA.token],
        ['PATCH', `/api/conversations/${a.conversationId}`, `{"priority":${deepArray(10_000)}}`, agentA.token],
        ['POST', '/api/sms/segments', `{"body":${deepObject(10_000)}}`, agentA.token],
        ['POST', '/api/widget/visitors', `{"name":"Deep","consent":${deepObject(10_000, 'sms')}}`, undefined],
        ['POST', '/api/widget/visitors', `{"name":"Deep","portal":${deepObject(10_000)}}`, undefined],
      ];
      for (const [method, path, body, token] of cases) {
        const res: ApiResponse = await t.api.request(method, path, body, token);
        const what = `${method} ${path} ${body.slice(0, 12)}… (${body.length} bytes)`;
        expect(res.status, `${what}: ${JSON.stringify(res.body).slice(0, 200)}`).to.be.oneOf([400, 413]);
        expect(res.body.error.code, what).to.be.oneOf(['INVALID_INPUT', 'PAYLOAD_TOO_LARGE']);
        expect((await t.api.get('/healthz')).status, `healthz after ${what}`).to.equal(200);
      }
      // Deep data under a key no route reads is dropped with the key: never stored, never 5xx.
      const ignored = await t.api.request('POST', notes, `{"body":"plain note","extra":${deepObject(10_000)}}`, agentA.token);
      expect(ignored.status).to.be.oneOf([201, 400]);
      if (ignored.status === 201) expect(ignored.body).to.include({ body: 'plain note' }).and.not.have.property('extra');
      expect((await t.api.get('/api/conversations', agentA.token)).status).to.equal(200);
    });

    it('refuses deeply nested socket payloads on /agents and /widget without dropping the connection', async () => {
      const deep = deepObject(10_000);
      const socket: Socket<any, any> = t.socket(agentA.token);
      await connected(socket);
      const since = await emitRaw(socket, 'messages:since', `{"conversationId":${deep},"afterSeq":0}`);
      expect(since.ok).to.equal(false);
      const join = await emitRaw(socket, 'conversation:join', deep);
      expect(join.ok).to.equal(false);
      await roundTrip(socket);
      expect(socket.connected).to.equal(true);
      socket.disconnect();

      const visitor = await startVisitor(t, { name: 'Deep Visitor' });
      const sent = await emitRaw(visitor.socket, 'message:send', `{"clientId":"${newClientId()}","body":${deep}}`);
      expect(sent.ok).to.equal(false);
      expect(sent.error.code).to.equal('INVALID_INPUT');
      const history = await emitRaw(visitor.socket, 'messages:since', `{"afterSeq":${deep}}`);
      expect(history.ok).to.equal(false);
      const alive = await visitor.call('messages:since', { afterSeq: 0 });
      expect(alive.ok).to.equal(true);
      expect(alive.items).to.deep.equal([]);
      visitor.socket.disconnect();
    });

    it('answers a 2 MB JSON body with 413, on public and authenticated routes, and keeps serving', async () => {
      const huge = JSON.stringify({ email: 'someone@test.local', password: 'x', padding: PHI.deep.repeat(Math.ceil((2 * 1024 * 1024) / PHI.deep.length)) });
      expect(huge.length).to.be.greaterThan(2 * 1024 * 1024);
      for (const [path, token] of [['/api/auth/login', undefined], [`/api/conversations/${a.conversationId}/notes`, agentA.token], ['/api/widget/visitors', undefined]] as const) {
        const res = await t.api.request('POST', path, huge, token);
        expect(res.status, path).to.equal(413);
        expect(res.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
      }
      expect((await t.api.get('/healthz')).status).to.equal(200);
      expect((await t.api.get(`/api/conversations/${a.conversationId}/messages`, agentA.token)).status).to.equal(200);
    });
  });

  describe('stored XSS', () => {
    const expectJson = (res: ApiResponse) => {
      expect(res.headers.get('content-type') ?? '').to.match(/^application\/json/);
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    };

    it('returns a patient message with <script> and <img onerror> as the same plain text in JSON, to agents and in the widget', async () => {
      const written = await patientWrites(t, { channel: 'sms', from: PHI.xssPhone, body: PHI.xss, displayName: PHI.xssName });
      const token = (await t.admin()).token;
      const history = await t.api.get(`/api/conversations/${written.conversation.id}/messages`, token);
      expectJson(history);
      expect(history.body.items.at(-1).body).to.equal(PHI.xss);
      const conversation = await t.api.get(`/api/conversations/${written.conversation.id}`, token);
      expectJson(conversation);
      expect(conversation.body.patientName).to.equal(PHI.xssName);
      expect(conversation.body.preview.body).to.equal(PHI.xss);

      const visitor = await startVisitor(t, { name: PHI.xssName });
      const sent = await visitor.call('message:send', { clientId: newClientId(), body: PHI.xssWidget });
      expect(sent.ok).to.equal(true);
      expect(sent.message.body).to.equal(PHI.xssWidget);
      const own = await visitor.call('messages:since', { afterSeq: 0 });
      expect(own.items.map((m: { body: string }) => m.body)).to.deep.equal([PHI.xssWidget]);
      const agentsView = await t.api.get(`/api/conversations/${sent.message.conversationId}/messages`, (await t.admin()).token);
      expectJson(agentsView);
      expect(agentsView.body.items.map((m: { body: string }) => m.body)).to.include(PHI.xssWidget);
      visitor.socket.disconnect();
    });

    it('does not reflect markup from the URL into the hub’s HTML pages, and answers unknown API paths as JSON', async () => {
      const script = '<script>alert(5)</script>';
      for (const path of [`/m/${encodeURIComponent(script + 'xxxxxxxxxx')}`, `/widget/verify?link=${encodeURIComponent(script + 'xxxxxxxxxx')}`]) {
        const res = await fetch(`${t.url}${path}`);
        expect(res.status, path).to.equal(404);
        const html = await res.text();
        expect(html, path).not.to.include('<script>alert').and.not.include('alert(5)');
      }
      const api = await fetch(`${t.url}/api/${encodeURIComponent(script)}`);
      expect(api.status).to.equal(404);
      expect(api.headers.get('content-type') ?? '').to.match(/^application\/json/);
      expect(api.headers.get('x-content-type-options')).to.equal('nosniff');
    });

    it("serves /inbox/ and /chat (and the secure-link pages) under a CSP whose scripts are 'self' only, with no inline script", async () => {
      for (const path of ['/inbox/', '/chat', '/widget/verify?link=xxxxxxxxxxxx', '/m/xxxxxxxxxxxx']) {
        const res = await fetch(`${t.url}${path}`);
        const csp = res.headers.get('content-security-policy') ?? '';
        const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name!, values]));
        const scripts = directives.get('script-src') ?? directives.get('default-src');
        expect(scripts, `${path}: ${csp}`).to.be.an('array').that.includes("'self'");
        for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'http:', 'https:', "'unsafe-hashes'"]) {
          expect(scripts, `${path} script-src`).not.to.include(unsafe);
        }
        expect(directives.get('object-src'), path).to.deep.equal(["'none'"]);
        expect(directives.get('frame-ancestors'), path).to.deep.equal(["'none'"]);
        expect(directives.get('base-uri'), path).to.deep.equal(["'self'"]);
        const html = await res.text();
        for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag, `${path}: inline script`).to.match(/\ssrc=/);
        expect(html, path).not.to.match(/\son[a-z]+\s*=/i);
      }
    });
  });

  describe('forged webhooks', () => {
    const inboxHas = async (predicate: (c: { patientContact: string | null; preview: { body: string } | null }) => boolean) =>
      ((await t.api.get('/api/conversations?status=open,pending,resolved&limit=100', (await t.admin()).token)).body.items as any[]).some(predicate);

    it('refuses a Twilio inbound SMS with a missing or wrong X-Twilio-Signature with 403 and stores nothing', async () => {
      const params = inboundSms({ From: PHI.twilioFrom, Body: PHI.twilioBody });
      const url = `${t.config.publicBaseUrl}/webhooks/twilio/sms`;
      const signatures: [string | null, string][] = [
        [null, 'missing'],
        ['bm90IGEgc2lnbmF0dXJl', 'garbage'],
        [twilio.getExpectedTwilioSignature('not-the-auth-token-0123', url, params), 'another auth token'],
        [twilio.getExpectedTwilioSignature(t.config.twilio.authToken, 'https://evil.example/webhooks/twilio/sms', params), 'another URL'],
        [twilio.getExpectedTwilioSignature(t.config.twilio.authToken, url, { ...params, Body: 'hello' }), 'other content'],
      ];
      for (const [signature, what] of signatures) {
        const res = await postTwilio(t, '/webhooks/twilio/sms', params, { signature });
        expect(res.status, what).to.equal(403);
        expect(res.text, what).not.to.include(PHI.twilioBody);
      }
      const models = t.hub.services.db.models;
      expect(await models.Message.countDocuments({ providerMessageId: params.MessageSid })).to.equal(0);
      expect(await inboxHas((c) => c.patientContact === PHI.twilioFrom)).to.equal(false);
      // Control: the same post, signed right, is stored.
      expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
      expect(await models.Message.countDocuments({ providerMessageId: params.MessageSid })).to.equal(1);
    });

    it('refuses a forged Twilio status callback with 403, leaving the delivery status as it was', async () => {
      const written = await patientWrites(t, { channel: 'sms', from: PHI.statusPhone, body: 'status please' });
      const reply = await t.api.post(`/api/conversations/${written.conversation.id}/messages`, { body: PHI.statusReply, channel: 'sms' }, (await t.admin()).token);
      expect(reply.status).to.equal(201);
      const models = t.hub.services.db.models;
      const delivered = await waitFor(async () => {
        const m = await models.Message.findById(reply.body.id).lean();
        return m?.delivery.status === 'delivered' && m.providerMessageId ? m : null;
      });
      const sid = delivered.providerMessageId!;
      const read = { MessageSid: sid, SmsSid: sid, MessageStatus: 'read', SmsStatus: 'read', ApiVersion: '2010-04-01' };
      const url = `${t.config.publicBaseUrl}/webhooks/twilio/status`;
      for (const signature of [null, 'bm90IGEgc2lnbmF0dXJl', twilio.getExpectedTwilioSignature('not-the-auth-token-0123', url, read)]) {
        expect((await postTwilio(t, '/webhooks/twilio/status', read, { signature })).status).to.equal(403);
      }
      const after = await models.Message.findById(reply.body.id).lean().orFail();
      expect(after.delivery.status).to.equal('delivered');
      expect(after.delivery.history.map((h) => h.status)).to.deep.equal(delivered.delivery.history.map((h) => h.status));
      // Control: signed right, the same callback moves it forward.
      expect((await postTwilio(t, '/webhooks/twilio/status', read)).status).to.equal(200);
      expect((await models.Message.findById(reply.body.id).lean().orFail()).delivery.status).to.equal('read');
      // A signed callback for an unknown sid changes nothing either.
      expect((await postTwilio(t, '/webhooks/twilio/status', { ...read, MessageSid: fakeSid(), SmsSid: fakeSid() })).status).to.equal(200);
    });

    it('refuses SendGrid events signed with another key, tampered, unsigned, or an hour old or ahead, with 403', async () => {
      const written = await patientWrites(t, { channel: 'email', from: PHI.eventsEmail, body: 'events please' });
      const reply = await t.api.post(`/api/conversations/${written.conversation.id}/messages`, { body: PHI.eventsReply }, (await t.admin()).token);
      expect(reply.status).to.equal(201);
      const models = t.hub.services.db.models;
      await waitFor(async () => (await models.Message.findById(reply.body.id).lean())?.delivery.status === 'sent');
      const events = JSON.stringify([{ ...SENDGRID_EVENT, event: 'delivered', carethread_message_id: reply.body.id }]);
      const post = async (options: { key?: typeof sendgridKeys.privateKey; offset?: number; body?: string; unsigned?: boolean } = {}) => {
        const timestamp = String(Math.floor(t.clock.now().getTime() / 1000) + (options.offset ?? 0));
        const signature = sign('sha256', Buffer.from(timestamp + events), options.key ?? sendgridKeys.privateKey).toString('base64');
        const res = await fetch(`${t.url}/webhooks/sendgrid/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.unsigned ? {} : { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }),
          },
          body: options.body ?? events,
        });
        return res.status;
      };
      expect(await post({ key: attackerKeys.privateKey }), 'another key').to.equal(403);
      expect(await post({ body: events.replace('delivered', 'bounce') }), 'tampered').to.equal(403);
      expect(await post({ unsigned: true }), 'unsigned').to.equal(403);
      expect(await post({ offset: -3600 }), 'an hour old').to.equal(403);
      expect(await post({ offset: 3600 }), 'an hour ahead').to.equal(403);
      expect((await models.Message.findById(reply.body.id).lean().orFail()).delivery.status).to.equal('sent');
      expect(await post(), 'control').to.equal(200);
      expect((await models.Message.findById(reply.body.id).lean().orFail()).delivery.status).to.equal('delivered');
    });

    it('refuses Inbound Parse with a wrong or missing basic-auth secret with 403 and stores nothing', async () => {
      const secret = t.config.sendgrid.inboundSecret;
      const mail = { from: `Forged Sender <${PHI.mailFrom}>`, text: PHI.mailBody, subject: 'Therapy' };
      for (const wrong of [null, 'not-the-secret', secret.toUpperCase(), `${secret}x`, secret.slice(0, -1), '']) {
        const res = await postInboundEmail(t, mail, [], wrong);
        expect(res.status, JSON.stringify(wrong)).to.equal(403);
        expect(JSON.stringify(res.body)).not.to.include(PHI.mailBody);
      }
      expect(await inboxHas((c) => c.patientContact === PHI.mailFrom || (c.preview?.body ?? '').includes('Gamboge'))).to.equal(false);
      // Control: the right secret stores it, and the check above would see it.
      expect((await postInboundEmail(t, mail)).status).to.equal(200);
      expect(await inboxHas((c) => c.patientContact === PHI.mailFrom || (c.preview?.body ?? '').includes('Gamboge'))).to.equal(true);
    });
  });

  describe('guessing passwords and one-time codes', () => {
    let limits: TestHub;
    before(async () => {
      limits = await hub({ label: 'held-limits', clock: new PausedClock() });
    });

    it('locks an account after five failed logins: 429 TOO_MANY_ATTEMPTS with Retry-After, whatever the case or spacing of the email, even for the right password', async () => {
      const victim = await limits.agent({ name: 'Lock Smith' });
      const email = victim.agent.email;
      const variants = [email, email.toUpperCase(), `  ${email} `, email.replace(/^./, (c) => c.toUpperCase()), `\t${email.toUpperCase()}`];
      for (const [i, variant] of variants.entries()) {
        const res = await limits.api.post('/api/auth/login', { email: variant, password: `wrong-password-${i}` });
        expect(res.status, variant).to.equal(401);
        expect(res.body.error.code).to.equal('INVALID_CREDENTIALS');
      }
      for (const variant of [email, email.toUpperCase(), ` ${email}`]) {
        const locked = await limits.api.post('/api/auth/login', { email: variant, password: 'agent-password-123' });
        expect(locked.status, variant).to.equal(429);
        expect(locked.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
        expect(locked.body).not.to.have.property('accessToken');
        expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0);
      }
      // An unknown account locks the same way: the lockout does not tell which emails exist.
      const nobody = `nobody.${Date.now()}@test.local`;
      for (let i = 0; i < 5; i++) expect((await limits.api.post('/api/auth/login', { email: nobody, password: `guess-${i}-password` })).status).to.equal(401);
      const lockedNobody = await limits.api.post('/api/auth/login', { email: nobody, password: 'guess-password' });
      expect(lockedNobody.status).to.equal(429);
      expect(lockedNobody.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
    });

    it('ends a one-time code after five wrong tries (TOO_MANY_ATTEMPTS); the right code is refused afterwards', async () => {
      const visitor = await startVisitor(limits, { name: 'Code Guesser' });
      const started = await visitor.call('verify:start', { channel: 'sms', address: PHI.codePhone, consent: true });
      expect(started.ok, JSON.stringify(started)).to.equal(true);
      const code = await codeSentTo(limits, 'sms', PHI.codePhone);
      const guesses = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((g) => g !== code).slice(0, 5);
      const answers = [];
      for (const guess of guesses) answers.push(await visitor.call('verify:confirm', { code: guess }));
      expect(answers.slice(0, 4).map((x) => x.error?.code)).to.deep.equal(Array(4).fill('CODE_INCORRECT'));
      expect(answers[4].ok).to.equal(false);
      expect(answers[4].error).to.include({ code: 'TOO_MANY_ATTEMPTS', field: 'code' });
      const late = await visitor.call('verify:confirm', { code });
      expect(late.ok).to.equal(false);
      expect(late.error.code).to.equal('CODE_EXPIRED');
      expect(visitor.session.linked).to.equal(false);
      visitor.socket.disconnect();
    });
  });

  describe('tampered and expired signed links', () => {
    /** One character changed in the payload, in the signature, at the end; cut short; extended; an extra part. */
    const tamperings = (token: string) => {
      const dot = token.indexOf('.');
      return [
        changedAt(token, Math.floor(dot / 2)), changedAt(token, dot + Math.floor((token.length - dot) / 2)), changedAt(token, token.length - 1),
        token.slice(0, -1), `${token}A`, `${token}.x`, token.replace('.', '.A'), token.toUpperCase(),
      ].filter((x) => x !== token);
    };

    it('answers 404 for a media link (/media/<token>) with one character changed, a swapped signature, another purpose, or once it expired', async () => {
      const media = await hub({ label: 'held-media', clock: new PausedClock() });
      const token = (await media.admin()).token;
      const written = await patientWrites(media, { channel: 'sms', from: PHI.mediaPhone, body: 'papers please' });
      const ids: string[] = [];
      for (const n of [1, 2]) {
        const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(300 * n, 67)]);
        const res = await fetch(`${media.url}/api/attachments`, {
          method: 'POST', body: new Uint8Array(pdf), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf', 'x-file-name': `discharge-${n}.pdf` },
        });
        ids.push(((await res.json()) as { attachmentId: string }).attachmentId);
      }
      const reply = await media.api.post(`/api/conversations/${written.conversation.id}/messages`, { body: PHI.mediaReply, channel: 'sms', attachmentIds: ids }, token);
      expect(reply.status).to.equal(201);
      const entry = await waitFor(async () => ((await media.api.get('/api/dev/outbox?channel=sms', token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === reply.body.id));
      const [first, second] = (entry.request.MediaUrl as string[]).map((u) => new URL(u).pathname.slice('/media/'.length));
      expect((await fetch(`${media.url}/media/${first}`)).status, 'control').to.equal(200);
      const swapped = `${first!.split('.')[0]}.${second!.split('.')[1]}`;
      for (const bad of [...tamperings(first!), swapped]) {
        const res = await fetch(`${media.url}/media/${bad}`);
        expect(res.status, bad).to.be.oneOf([400, 404]);
        expect(res.headers.get('content-type') ?? '').not.to.match(/pdf/);
      }
      // A media token is not a secure-message link.
      expect((await fetch(`${media.url}/m/${first}`)).status).to.equal(404);
      media.clock.advance(4 * 3600_000 + 60_000);
      expect((await fetch(`${media.url}/media/${first}`)).status, 'expired').to.equal(404);
      expect((await fetch(`${media.url}/media/${second}`)).status, 'expired').to.equal(404);
    });

    it('answers 404 for a secure message link (/m/<token>, /widget/verify) with one character changed, another purpose, or once it expired, showing no PHI', async () => {
      const safe = await hub({ label: 'held-links', clock: new PausedClock(), env: { PHI_SAFE_NOTIFICATIONS: 'true', CLINIC_NAME: 'Lakeside Clinic', SECURE_LINK_TTL_HOURS: '24' } });
      const token = (await safe.admin()).token;
      const links: string[] = [];
      for (const phone of [PHI.linkPhone, PHI.linkPhone2]) {
        const written = await patientWrites(safe, { channel: 'sms', from: phone, body: 'any news?' });
        const reply = await safe.api.post(`/api/conversations/${written.conversation.id}/messages`, { body: PHI.linkReply }, token);
        expect(reply.status).to.equal(201);
        const entry = await waitFor(async () => ((await safe.api.get('/api/dev/outbox?channel=sms', token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === reply.body.id));
        expect(entry.request.Body).not.to.include('HbA1c');
        links.push(new URL(entry.request.Body.split('Read it here: ')[1]).pathname.slice('/m/'.length));
      }
      const [link, other] = links as [string, string];
      const landing = await fetch(`${safe.url}/m/${link}`);
      expect(landing.status, 'control').to.equal(200);
      expect(await landing.text()).not.to.include('HbA1c').and.not.include(PHI.linkPhone.slice(2));
      expect((await fetch(`${safe.url}/widget/verify?link=${encodeURIComponent(link)}`)).status, 'control').to.equal(200);
      const swapped = `${link.split('.')[0]}.${other.split('.')[1]}`;
      for (const bad of [...tamperings(link), swapped]) {
        for (const path of [`/m/${encodeURIComponent(bad)}`, `/widget/verify?link=${encodeURIComponent(bad)}`]) {
          const res = await fetch(`${safe.url}${path}`);
          expect(res.status, path).to.be.oneOf([400, 404]);
          expect(await res.text()).not.to.include('HbA1c').and.not.include('/widget/verify?link=');
        }
      }
      // A secure-message token is not a media link.
      expect((await fetch(`${safe.url}/media/${link}`)).status).to.equal(404);
      safe.clock.advance(24 * 3600_000 + 60_000);
      for (const path of [`/m/${link}`, `/widget/verify?link=${encodeURIComponent(link)}`]) {
        const res = await fetch(`${safe.url}${path}`);
        expect(res.status, `expired ${path}`).to.equal(404);
        expect(await res.text()).not.to.include('HbA1c');
      }
    });
  });

  describe('foreign origins and security headers', () => {
    it('gives /api no Access-Control-Allow-Origin for an origin not listed, for preflights and plain requests alike', async () => {
      const origins = [
        'https://evil.example', 'null', 'https://portal.clinic.example.evil.example', 'https://evilportal.clinic.example',
        'http://portal.clinic.example', 'https://portal.clinic.example:8443', 'https://PORTAL.clinic.example.',
      ];
      const token = (await t.admin()).token;
      for (const origin of origins) {
        const answers = [
          await fetch(`${t.url}/api/conversations`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } }),
          await fetch(`${t.url}/api/auth/login`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }),
          await fetch(`${t.url}/api/conversations`, { headers: { origin, authorization: `Bearer ${token}` } }),
          await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'cors.probe@test.local', password: 'wrong-password' }) }),
          await fetch(`${t.url}/api/openapi.json`, { headers: { origin } }),
        ];
        for (const res of answers) {
          expect(res.headers.get('access-control-allow-origin'), `${origin} ${res.url}`).to.equal(null);
          expect(res.headers.get('access-control-allow-credentials'), origin).to.equal(null);
        }
      }
      // Control: the listed origin gets its CORS answer.
      const allowed = await fetch(`${t.url}/api/conversations`, { method: 'OPTIONS', headers: { origin: 'https://portal.clinic.example', 'access-control-request-method': 'GET' } });
      expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://portal.clinic.example');
    });

    it('refuses the widget API and the /widget socket to an origin not listed (ORIGIN_NOT_ALLOWED), starting no chat', async () => {
      const models = t.hub.services.db.models;
      const before = await models.Identity.countDocuments({ kind: 'web' });
      for (const origin of ['https://evil.example', 'https://clinic.example.evil.example', 'null']) {
        const res = await fetch(`${t.url}/api/widget/visitors`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Phish' }) });
        expect(res.status, origin).to.equal(403);
        const body = (await res.json()) as { error: { code: string }; token?: string };
        expect(body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
        expect(body).not.to.have.property('token');
      }
      expect(await models.Identity.countDocuments({ kind: 'web' })).to.equal(before);
      const listed = await fetch(`${t.url}/api/widget/visitors`, { method: 'POST', headers: { origin: 'https://clinic.example', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Real Patient' }) });
      expect(listed.status, 'control').to.equal(201);
      const { token } = (await listed.json()) as { token: string };
      const refused = await connectVisitor(t, token, { origin: 'https://evil.example' }).then(
        (v) => (v.socket.disconnect(), null),
        (error: Error & { data?: { code?: string } }) => error,
      );
      expect(refused, 'the widget socket connected from a foreign origin').to.be.instanceOf(Error);
      expect(refused!.data?.code).to.equal('ORIGIN_NOT_ALLOWED');
      const fromClinic = await connectVisitor(t, token, { origin: 'https://clinic.example' });
      fromClinic.socket.disconnect();
    });

    it('sends HSTS, nosniff, frame-ancestors and X-Frame-Options, and Referrer-Policy on every kind of answer', async () => {
      const token = (await t.admin()).token;
      const answers: [string, Response][] = [
        ['healthz', await fetch(`${t.url}/healthz`)],
        ['API 200', await fetch(`${t.url}/api/conversations`, { headers: { authorization: `Bearer ${token}` } })],
        ['API 401', await fetch(`${t.url}/api/auth/me`)],
        ['API 404', await fetch(`${t.url}/api/no-such-route`)],
        ['API 400', await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' })],
        ['OpenAPI', await fetch(`${t.url}/api/openapi.json`)],
        ['inbox app', await fetch(`${t.url}/inbox/`)],
        ['chat page', await fetch(`${t.url}/chat`)],
        ['secure link 404', await fetch(`${t.url}/m/xxxxxxxxxxxx`)],
        ['media 404', await fetch(`${t.url}/media/xxxxxxxxxxxx`)],
        ['webhook 403', await fetch(`${t.url}/webhooks/twilio/sms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Body=x' })],
        ['widget config', await fetch(`${t.url}/api/widget/config`)],
      ];
      for (const [what, res] of answers) {
        expect(res.headers.get('strict-transport-security'), what).to.equal('max-age=31536000; includeSubDomains');
        expect(res.headers.get('x-content-type-options'), what).to.equal('nosniff');
        expect(res.headers.get('x-frame-options'), what).to.equal('DENY');
        expect(res.headers.get('content-security-policy') ?? '', what).to.match(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
        expect(res.headers.get('referrer-policy'), what).to.equal('no-referrer');
        expect(res.headers.get('x-powered-by'), what).to.equal(null);
      }
      expect(answers.find(([w]) => w === 'webhook 403')![1].status).to.equal(403);
    });
  });

  // Last: after every attack above has run.
  describe('the logs', () => {
    it('logs none of the PHI the attacks above carried, on any hub of this file', async () => {
      // One more round of refused attacks carrying fresh PHI.
      const marker = { body: 'Lavender-Trebuchet-4417 suicidal thoughts', phone: '+13035550176', email: 'marker.phi.person@example.org' };
      await postTwilio(t, '/webhooks/twilio/sms', inboundSms({ From: marker.phone, Body: marker.body }), { signature: 'bm90IGEgc2lnbmF0dXJl' });
      await postInboundEmail(t, { from: marker.email, text: marker.body }, [], 'not-the-secret');
      await t.api.post('/api/auth/login', { email: marker.email, password: marker.body });
      await t.api.post('/api/auth/login', { email: { $gt: marker.email }, password: marker.body });
      await t.api.request('POST', '/api/auth/login', '{"a":'.repeat(10_000) + JSON.stringify(marker.body) + '}'.repeat(10_000));
      await t.api.post(`/api/conversations/${b.conversationId}/notes`, { body: marker.body }, agentA.token);
      await t.hub.settled();

      const logs = hubs.flatMap((h) => h.logs).join('\n');
      expect(logs, 'the refused Twilio post was logged').to.include('Twilio webhook refused');
      expect(logs, 'the refused Inbound Parse post was logged').to.include('Inbound Parse refused');
      for (const value of [...Object.values(PHI), ...Object.values(marker), '3035550176', '3035550182', 'Cerulean', 'Gamboge', 'Vermilion', 'Lavender-Trebuchet', 'Quincey', 'ct-xss']) {
        expect(logs, value).not.to.include(value);
      }
    });
  });
});
