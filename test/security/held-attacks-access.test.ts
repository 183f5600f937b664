/**
 * Attacks the hub already withstands, kept proven: who may act (forged,
 * expired, unsigned and revoked agent tokens on REST and on the /agents
 * handshake), what another team may see (every conversation and patient route
 * of the OpenAPI document, and the socket), and what one web visitor may see
 * of another. The last test reads the hub's log lines after the whole run and
 * finds none of the PHI the attacks carried.
 */
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { ReplyAddresses } from '../../server/delivery/email-thread.ts';
import { postInboundEmail } from '../support/inbound-email.ts';
import { TINY_PNG } from '../support/sample-files.ts';
import {
  connected, nextEvent, patientWrites, roundTrip, startTestHub, TEST_ENV, type ApiResponse, type Session, type TestHub,
} from '../support/test-hub.ts';
import { newClientId, startVisitor, type TestVisitor } from '../support/widget-visitor.ts';

/** Distinctive PHI this file sends; none of it may show in a refusal or in the logs. */
const PHI = {
  bodyB: 'Heliotrope-Gazebo-7713 my HIV test result please',
  replyB: 'Tamarind-Obelisk-2290 your viral load is undetectable',
  noteB: 'Cobalt-Quince-5521 patient disclosed a relapse',
  nameB: 'Philippa Warburton-Crane',
  phoneB: '+13035550171',
  phoneDigitsB: '3035550171',
  phoneA: '+13035550172',
  emailB: 'philippa.wc@example.org',
  bodyA: 'Saffron-Turbine-4408 team A question',
  nameX: 'Xavier Ormsby-Lisle',
  bodyX: 'Juniper-Cascade-6634 visitor X asks about a rash',
  nameY: 'Yolanda Pemberton-Vask',
  bodyY: 'Marigold-Sextant-8817 visitor Y pregnancy test positive',
  late: 'Periwinkle-Anvil-3350 another message for team B',
};
const PHI_VALUES = () => Object.values(PHI);
/** What a team-A agent or visitor X must never be shown: everything but team A's own patient. */
const NOT_THEIRS = () => Object.entries(PHI).filter(([key]) => !key.endsWith('A')).map(([, value]) => value);

const expectNoPhi = (res: { body: unknown }, what: string) => {
  const text = JSON.stringify(res.body ?? '');
  for (const value of NOT_THEIRS()) expect(text, `${what} leaks "${value}"`).not.to.include(value);
};

const handshakeError = (socket: Socket<any, any>) =>
  connected(socket).then(
    () => null,
    (error: Error & { data?: { code?: string } }) => error,
  );

describe('security: held attacks on tokens, team boundaries and web visitors', () => {
  let t: TestHub;
  let admin: Session;
  let agentA: Session;
  let supervisorA: Session;
  let agentB: Session;
  const b = { conversationId: '', patientId: '', identityId: '', messageId: '', attachmentMessageId: '', emailMessageId: '' };
  const a = { conversationId: '', patientId: '' };
  let visitorY: TestVisitor;
  let visitorX: TestVisitor;
  let yMessage: { id: string; conversationId: string };

  before(async () => {
    t = await startTestHub({ label: 'held-access', env: { LOG_LEVEL: 'debug' } });
    admin = await t.admin();
    for (const id of ['team-a', 'team-b']) {
      expect((await t.api.post('/api/teams', { id, name: id.toUpperCase() }, admin.token)).status).to.equal(201);
    }
    agentA = await t.agent({ name: 'Ava Alpha', teamIds: ['team-a'] });
    supervisorA = await t.agent({ name: 'Sol Alpha', role: 'supervisor', teamIds: ['team-a'] });
    agentB = await t.agent({ name: 'Bea Bravo', teamIds: ['team-b'] });

    const inB = await patientWrites(t, { channel: 'sms', from: PHI.phoneB, body: PHI.bodyB, displayName: PHI.nameB });
    Object.assign(b, { conversationId: inB.conversation.id, patientId: inB.patientId, messageId: inB.message.id });
    expect((await t.api.post(`/api/conversations/${b.conversationId}/assign`, { teamId: 'team-b' }, admin.token)).status).to.equal(200);
    // The patient also answers by email into the thread (its original is kept: another route to guard).
    const replyAddress = new ReplyAddresses(`${t.config.sendgrid.inboundSecret}:reply`, t.config.sendgrid.inboundDomain).for(b.conversationId);
    expect((await postInboundEmail(t, { from: PHI.emailB, to: replyAddress, text: PHI.bodyB })).status).to.equal(200);
    b.emailMessageId = (await t.hub.services.db.models.Message.findOne({ conversationId: b.conversationId, channel: 'email', direction: 'inbound' }).lean().orFail())._id;
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(400, 66)]);
    const uploaded = await fetch(`${t.url}/api/attachments`, {
      method: 'POST', body: new Uint8Array(pdf),
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/pdf', 'x-file-name': 'lab-results.pdf' },
    });
    expect(uploaded.status).to.equal(201);
    const { attachmentId } = (await uploaded.json()) as { attachmentId: string };
    const reply = await t.api.post(`/api/conversations/${b.conversationId}/messages`, { body: PHI.replyB, channel: 'sms', attachmentIds: [attachmentId] }, admin.token);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    b.attachmentMessageId = reply.body.id;
    expect((await t.api.post(`/api/conversations/${b.conversationId}/notes`, { body: PHI.noteB }, admin.token)).status).to.equal(201);
    const profile = await t.api.get(`/api/patients/${b.patientId}`, admin.token);
    b.identityId = profile.body.identities[0].id;

    const inA = await patientWrites(t, { channel: 'sms', from: PHI.phoneA, body: PHI.bodyA });
    Object.assign(a, { conversationId: inA.conversation.id, patientId: inA.patientId });
    expect((await t.api.post(`/api/conversations/${a.conversationId}/assign`, { teamId: 'team-a' }, admin.token)).status).to.equal(200);
    await t.hub.settled(); // the reply is sent and its (sandbox) status is in: nothing changes B behind the tests' back
  });
  after(async () => {
    visitorX?.socket.disconnect();
    visitorY?.socket.disconnect();
    await t.close();
  });

  /** Team B's conversation and patient as an administrator sees them: must not change under another team's attempts. */
  const snapshotB = async () => {
    const token = (await t.admin()).token;
    const conversation = (await t.api.get(`/api/conversations/${b.conversationId}`, token)).body;
    const messages = (await t.api.get(`/api/conversations/${b.conversationId}/messages?after=0`, token)).body.items
      .map((m: { id: string; seq: number; body: string; direction: string }) => [m.id, m.seq, m.body, m.direction]);
    const patient = (await t.api.get(`/api/patients/${b.patientId}`, token)).body;
    const patientA = (await t.api.get(`/api/patients/${a.patientId}`, token)).body;
    return { conversation, messages, patient, patientA };
  };

  describe('agent tokens (REST and the /agents handshake)', () => {
    const now = () => Math.floor(t.clock.now().getTime() / 1000);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const sidOf = (token: string) => (jwt.decode(token) as { sid: string }).sid;

    /** REST refuses with 401 and that code, and the /agents handshake with connect_error and the same code. */
    async function expectRefused(token: string, code: string, what: string) {
      const me = await t.api.get('/api/auth/me', token);
      expect(me.status, what).to.equal(401);
      expect(me.body.error.code, what).to.equal(code);
      const inbox = await t.api.get('/api/conversations', token);
      expect(inbox.status, what).to.equal(401);
      expect(inbox.body).not.to.have.property('items');
      const error = await handshakeError(t.socket(token));
      expect(error, `${what}: the socket connected`).to.be.instanceOf(Error);
      expect(error!.data?.code, what).to.equal(code);
    }

    it('refuses every route that is not public without a token, or with a forged one, before reading anything (401)', async () => {
      const forged = jwt.sign({ sub: agentB.agent.id, sid: sidOf(agentB.token), role: 'admin', teamIds: ['team-a', 'team-b'] }, 'not-the-hub-secret', { expiresIn: 600 });
      // What may be reached without a token is a short, known list: a route made public by mistake fails here.
      const PUBLIC = /^(\/api\/auth\/(login|refresh)|\/api\/openapi\.json|\/api\/widget\/.*|\/webhooks\/(twilio|sendgrid)\/.*|\/(healthz|readyz|chat|widget\.js|widget\/verify)|\/inbox\/.*|\/(m|media|csat)\/:token)$/;
      expect(t.hub.routes.filter((r) => r.auth === 'public' && !PUBLIC.test(r.path)).map((r) => r.path)).to.deep.equal([]);
      const guarded = t.hub.routes.filter((r) => r.auth !== 'public');
      expect(guarded.length, 'guarded routes found').to.be.at.least(60);
      for (const route of guarded) {
        const url = route.path.replace(/:[A-Za-z]+/g, (param) => (param === ':id' ? b.conversationId : 'x'));
        const body = route.method === 'get' ? undefined : {};
        for (const [token, why] of [[undefined, 'no token'], [forged, 'forged token']] as const) {
          const res = await t.api.request(route.method.toUpperCase(), url, body, token);
          const what = `${route.method.toUpperCase()} ${route.path} (${why})`;
          expect(res.status, what).to.equal(401);
          expectNoPhi(res, what);
        }
      }
    });

    it('refuses tokens signed with another secret, unsigned (alg none), with another algorithm or issuer, or made up for a session', async () => {
      const victim = await t.agent({ name: 'Vic Token', teamIds: ['team-a'] });
      const sid = sidOf(victim.token);
      // Control: the genuine token works on both.
      expect((await t.api.get('/api/auth/me', victim.token)).status).to.equal(200);
      const genuine = t.socket(victim.token);
      await connected(genuine);
      genuine.disconnect();

      const claims = { sid, role: 'admin', iat: now(), exp: now() + 600, iss: 'carethread', sub: victim.agent.id };
      const [, , realSignature] = victim.token.split('.');
      const forged: [string, string, string][] = [
        [jwt.sign(claims, 'not-the-secret-not-the-secret-not-the-secret', { algorithm: 'HS256' }), 'UNAUTHENTICATED', 'another secret'],
        [`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'UNAUTHENTICATED', 'alg none, unsigned'],
        [`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${realSignature}`, 'UNAUTHENTICATED', 'alg none with a real signature'],
        [`${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, sub: admin.agent.id })}.${realSignature}`, 'UNAUTHENTICATED', 'claims swapped under a real signature'],
        [jwt.sign(claims, TEST_ENV.JWT_SECRET!, { algorithm: 'HS512' }), 'UNAUTHENTICATED', 'HS512 (only HS256 is accepted)'],
        [jwt.sign({ ...claims, iss: 'someone-else' }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256' }), 'UNAUTHENTICATED', 'another issuer'],
        // Even with the real secret, a token is only as good as its server-side session.
        [jwt.sign({ ...claims, sub: admin.agent.id }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256' }), 'SESSION_REVOKED', "the admin's id on the victim's session"],
        [jwt.sign({ ...claims, sid: 'AAAAAAAAAAAAAAAAAAAAAA' }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256' }), 'SESSION_REVOKED', 'a made-up session'],
      ];
      for (const [token, code, what] of forged) await expectRefused(token, code, what);
    });

    it('refuses an expired token (signed with the real secret, exp in the past) with TOKEN_EXPIRED', async () => {
      const victim = await t.agent({ name: 'Exa Pired', teamIds: ['team-a'] });
      const expired = jwt.sign({ sid: sidOf(victim.token), role: 'agent', iat: now() - 3600 }, TEST_ENV.JWT_SECRET!, {
        algorithm: 'HS256', subject: victim.agent.id, issuer: 'carethread', expiresIn: 60,
      });
      const fresh = jwt.sign({ sid: sidOf(victim.token), role: 'agent', iat: now() }, TEST_ENV.JWT_SECRET!, {
        algorithm: 'HS256', subject: victim.agent.id, issuer: 'carethread', expiresIn: 60,
      });
      expect((await t.api.get('/api/auth/me', fresh)).status, 'the same claims, not expired').to.equal(200);
      await expectRefused(expired, 'TOKEN_EXPIRED', 'expired');
    });

    it('takes the role from the account, not from the token: an agent token claiming admin gets 403 on admin routes', async () => {
      const victim = await t.agent({ name: 'Rolf Claim', teamIds: ['team-a'] });
      const claimsAdmin = jwt.sign({ sid: sidOf(victim.token), role: 'admin', iat: now() }, TEST_ENV.JWT_SECRET!, {
        algorithm: 'HS256', subject: victim.agent.id, issuer: 'carethread', expiresIn: 600,
      });
      expect((await t.api.get('/api/auth/me', claimsAdmin)).body.role).to.equal('agent');
      for (const path of ['/api/audit', '/api/dev/outbox', '/api/audit/verify', '/api/numbers/health']) {
        const res = await t.api.get(path, claimsAdmin);
        expect(res.status, path).to.equal(403);
      }
      // Only admins put a flagged sending number back in the pool.
      expect((await t.api.post('/api/numbers/%2B15555550100/restore', undefined, claimsAdmin)).status).to.equal(403);
      expect((await t.api.get(`/api/conversations/${b.conversationId}`, claimsAdmin)).status).to.be.oneOf([403, 404]);
    });

    it('refuses a token after logout: 401 SESSION_REVOKED on REST, connect_error on the socket', async () => {
      const leaving = await t.agent({ name: 'Lou Gout', teamIds: ['team-a'] });
      expect((await t.api.post('/api/auth/logout', undefined, leaving.token)).status).to.equal(204);
      await expectRefused(leaving.token, 'SESSION_REVOKED', 'after logout');
    });

    it('refuses the token of a disabled agent: 401 on REST, connect_error on the socket', async () => {
      const former = await t.agent({ name: 'Dee Sabled', teamIds: ['team-a'] });
      expect((await t.api.get('/api/auth/me', former.token)).status).to.equal(200);
      expect((await t.api.post(`/api/agents/${former.agent.id}/disable`, undefined, (await t.admin()).token)).status).to.equal(204);
      await expectRefused(former.token, 'SESSION_REVOKED', 'disabled agent');
    });
  });

  describe("another team's conversation and patient", () => {
    type Target = { method: string; path: string; url: string; body?: unknown };

    /** A minimal valid value for a JSON schema of the OpenAPI document (for routes this file has no example body for). */
    function minimal(schema: any): unknown {
      if (!schema) return undefined;
      if (schema.anyOf) return minimal(schema.anyOf[0]);
      if (schema.enum) return schema.enum[0];
      switch (schema.type) {
        case 'object': {
          const out: Record<string, unknown> = {};
          for (const key of schema.required ?? []) out[key] = minimal(schema.properties?.[key]);
          return out;
        }
        case 'string': return 'x'.repeat(Math.min(Math.max(schema.minLength ?? 1, 12), schema.maxLength ?? 12));
        case 'boolean': return true;
        case 'integer': case 'number': return schema.minimum ?? 1;
        case 'array': return [];
        default: return 'x';
      }
    }

    /** Every documented route under /api/conversations/{id} and /api/patients/{id}, aimed at team B's records. */
    async function targetsFromOpenApi(): Promise<Target[]> {
      const doc = (await t.api.get('/api/openapi.json')).body;
      const bodies: Record<string, unknown> = {
        'PATCH /api/conversations/{id}': { priority: 'urgent' },
        'POST /api/conversations/{id}/messages': { body: 'Please send me the whole history', channel: 'auto' },
        'POST /api/conversations/{id}/notes': { body: 'a note from the wrong team' },
        'POST /api/conversations/{id}/assign': { teamId: 'team-a' },
        'POST /api/conversations/{id}/contact-card': {},
        'POST /api/conversations/{id}/break-glass': { reason: 'I would like to read this conversation' },
        'PATCH /api/patients/{id}/preferences': { language: 'es', channel: 'email' },
        'POST /api/patients/{id}/scheduled-messages': { body: 'Come in tomorrow at 9', kind: 'follow_up', sendAt: '2030-01-02T15:00:00Z' },
        'POST /api/patients/{id}/merge': { intoPatientId: a.patientId, reason: 'same person as my team patient' },
        'POST /api/patients/{id}/identities/{identityId}/detach': { reason: 'not this patient, detach it' },
        'POST /api/patients/{id}/identities/{identityId}/verify': { reason: 'patient confirmed on the phone' },
        'POST /api/patients/{id}/identities/{identityId}/shared': { shared: true, reason: 'a family phone, mark it shared' },
        'POST /api/patients/{id}/related-contacts': {
          kind: 'phone', value: '+13035550179', relation: 'guardian', name: 'Mallory Guardian', consent: true, reason: 'mother asked to be added',
        },
      };
      const targets: Target[] = [];
      for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
        const isConversation = path.includes('/api/conversations/{id}');
        const isPatient = path.includes('/api/patients/{id}');
        if (!isConversation && !isPatient) continue;
        for (const [method, operation] of Object.entries(operations)) {
          const key = `${method.toUpperCase()} ${path}`;
          const url = path
            .replace('{id}', isConversation ? b.conversationId : b.patientId)
            .replace('{messageId}', path.endsWith('/original') ? b.emailMessageId : b.attachmentMessageId)
            .replace('{index}', '0')
            .replace('{identityId}', b.identityId)
            .replace(/\{[^}]+\}/g, 'unknown-1');
          const schema = operation.requestBody?.content?.['application/json']?.schema;
          const body = key in bodies ? bodies[key] : schema ? minimal(schema) : method === 'get' ? undefined : {};
          targets.push({ method: method.toUpperCase(), path, url, body });
        }
      }
      return targets;
    }

    async function sweep(as: Session, skip: (target: Target) => boolean = () => false) {
      const targets = await targetsFromOpenApi();
      expect(targets.filter((x) => x.path.startsWith('/api/conversations/')).length, 'conversation routes found').to.be.at.least(12);
      expect(targets.filter((x) => x.path.startsWith('/api/patients/')).length, 'patient routes found').to.be.at.least(7);
      const before = await snapshotB();
      const answers: string[] = [];
      for (const target of targets.filter((x) => !skip(x))) {
        const res: ApiResponse = await t.api.request(target.method, target.url, target.body, as.token);
        const what = `${target.method} ${target.path}`;
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.be.oneOf([403, 404]);
        expect(res.body?.error?.code, what).to.be.oneOf(['FORBIDDEN', 'NOT_FOUND']);
        expectNoPhi(res, what);
        answers.push(`${what} ${res.status}`);
      }
      expect(await snapshotB(), 'team B’s records changed').to.deep.equal(before);
      return answers;
    }

    it('lets team B read each of those routes (the ids used below are real)', async () => {
      for (const target of (await targetsFromOpenApi()).filter((x) => x.method === 'GET')) {
        const res = await fetch(`${t.url}${target.url}`, { headers: { authorization: `Bearer ${agentB.token}` } });
        expect(res.status, target.path).to.equal(200);
      }
    });

    it('refuses a team-A agent on every /api/conversations/{id} and /api/patients/{id} route of the OpenAPI document with 403/404 and no PHI, changing nothing', async () => {
      const answers = await sweep(agentA);
      expect(answers.length).to.be.at.least(19);
    });

    it('refuses a team-A supervisor on the same routes (identity review included), except break-glass, the audited emergency access', async () => {
      await sweep(supervisorA, (x) => x.path.endsWith('/break-glass'));
      // Merging one's own patient into team B's (the other direction) is refused too.
      const before = await snapshotB();
      const merge = await t.api.post(`/api/patients/${a.patientId}/merge`, { intoPatientId: b.patientId, reason: 'same person as the other one' }, supervisorA.token);
      expect(merge.status).to.be.oneOf([403, 404]);
      expectNoPhi(merge, 'merge into team B');
      expect(await snapshotB()).to.deep.equal(before);
    });

    it("keeps team B's conversation out of a team-A agent's inbox, whatever the filters", async () => {
      for (const query of ['', '?team=team-b', `?patient=${b.patientId}`, '?status=open,pending,resolved', `?assignee=${agentB.agent.id}`, '?assignee=unassigned', '?channel=sms']) {
        const res = await t.api.get(`/api/conversations${query}`, agentA.token);
        expect(res.status, query).to.equal(200);
        const ids = (res.body.items as { id: string }[]).map((c) => c.id);
        expect(ids, query).not.to.include(b.conversationId);
        expectNoPhi(res, `inbox ${query}`);
      }
      // Control: the same list shows team A's own conversation.
      expect(((await t.api.get('/api/conversations', agentA.token)).body.items as { id: string }[]).map((c) => c.id)).to.include(a.conversationId);
    });

    it("refuses conversation:join and messages:since for team B's conversation on the socket, relays no typing into it and pushes none of its messages", async () => {
      const mine: Socket<any, any> = t.socket(agentA.token);
      const theirs: Socket<any, any> = t.socket(agentB.token);
      await Promise.all([connected(mine), connected(theirs)]);
      const leaked: unknown[] = [];
      for (const event of ['message:created', 'message:updated', 'conversation:updated', 'typing', 'patient:typing']) {
        mine.on(event, (payload: any) => {
          if (JSON.stringify(payload).includes(b.conversationId)) leaked.push([event, payload]);
        });
      }
      const join = await mine.emitWithAck('conversation:join', b.conversationId);
      expect(join.ok).to.equal(false);
      // 403, or 404 where the hub hides that the conversation exists.
      expect((join as { error: { code: string } }).error.code).to.be.oneOf(['FORBIDDEN', 'NOT_FOUND']);
      const since = await mine.emitWithAck('messages:since', { conversationId: b.conversationId, afterSeq: 0 });
      expect(since.ok).to.equal(false);
      expect(since).not.to.have.property('items');
      expectNoPhi({ body: [join, since] }, 'socket refusals');

      // Control: team B joins; typing from team A does not reach it.
      expect((await theirs.emitWithAck('conversation:join', b.conversationId)).ok).to.equal(true);
      let typed = false;
      theirs.on('typing', () => (typed = true));
      mine.emit('typing', { conversationId: b.conversationId, isTyping: true });
      await roundTrip(mine);
      await roundTrip(theirs);
      expect(typed).to.equal(false);

      // A new message in B reaches team B, and not team A.
      const arrived = nextEvent<{ message: { body: string } }>(theirs, 'message:created', (p) => p.message.body === PHI.late);
      await patientWrites(t, { channel: 'sms', from: PHI.phoneB, body: PHI.late });
      await arrived;
      await roundTrip(mine);
      expect(leaked).to.deep.equal([]);
    });
  });

  describe('web visitors', () => {
    const widgetUpload = (token: string) =>
      fetch(`${t.url}/api/widget/attachments`, {
        method: 'POST', body: new Uint8Array(TINY_PNG),
        headers: { 'content-type': 'image/png', 'x-file-name': 'rash.png', authorization: `Bearer ${token}` },
      });
    const widgetDownload = (messageId: string, token: string) =>
      fetch(`${t.url}/api/widget/messages/${messageId}/attachments/0`, { headers: { authorization: `Bearer ${token}` } });

    before(async () => {
      visitorY = await startVisitor(t, { name: PHI.nameY });
      visitorX = await startVisitor(t, { name: PHI.nameX });
      const uploaded = await widgetUpload(visitorY.token);
      expect(uploaded.status).to.equal(201);
      const { attachmentId } = (await uploaded.json()) as { attachmentId: string };
      const sent = await visitorY.call('message:send', { clientId: newClientId(), body: PHI.bodyY, attachmentIds: [attachmentId] });
      expect(sent.ok, JSON.stringify(sent)).to.equal(true);
      yMessage = sent.message;
      expect((await visitorX.call('message:send', { clientId: newClientId(), body: PHI.bodyX })).ok).to.equal(true);
    });

    it("shows visitor X only X's own messages, even when X names Y's conversation", async () => {
      for (const query of [{ afterSeq: 0 }, { afterSeq: 0, conversationId: yMessage.conversationId }, { afterSeq: 0, patientId: yMessage.conversationId.split('-')[0], visitorId: visitorY.session.visitorId }]) {
        const answer = await visitorX.call('messages:since', query);
        expect(answer.ok, JSON.stringify(answer)).to.equal(true);
        expect(answer.conversationId).not.to.equal(yMessage.conversationId);
        expect(answer.items.map((m: { body: string }) => m.body)).to.deep.equal([PHI.bodyX]);
        expect(JSON.stringify(answer)).not.to.include(PHI.bodyY).and.not.include(PHI.nameY);
      }
      // Control: Y sees Y's message.
      const own = await visitorY.call('messages:since', { afterSeq: 0 });
      expect(own.items.map((m: { body: string }) => m.body)).to.deep.equal([PHI.bodyY]);
    });

    it("answers 404 when visitor X asks for Y's attachment, or for a file of an agent-side conversation", async () => {
      const yours = await widgetDownload(yMessage.id, visitorY.token);
      expect(yours.status).to.equal(200);
      expect(Buffer.from(await yours.arrayBuffer()).equals(TINY_PNG)).to.equal(true);
      for (const messageId of [yMessage.id, b.attachmentMessageId]) {
        const res = await widgetDownload(messageId, visitorX.token);
        expect(res.status, messageId).to.equal(404);
        const text = await res.text();
        expect(text).not.to.include('PNG');
        expect(JSON.parse(text).error.code).to.equal('NOT_FOUND');
      }
    });

    it('refuses a visitor token as an agent token (REST and /agents socket)', async () => {
      for (const path of ['/api/auth/me', '/api/conversations', `/api/conversations/${yMessage.conversationId}/messages`, `/api/conversations/${b.conversationId}`]) {
        const res = await t.api.get(path, visitorY.token);
        expect(res.status, path).to.equal(401);
        expectNoPhi(res, path);
      }
      const error = await handshakeError(t.socket(visitorY.token));
      expect(error).to.be.instanceOf(Error);
      expect(error!.data?.code).to.equal('UNAUTHENTICATED');
    });

    it("refuses an agent's token (even an admin's) as a visitor token, and a visitor token signed with the agents' secret", async () => {
      const adminToken = (await t.admin()).token;
      const asAgentSigned = jwt.sign({ sub: visitorY.session.visitorId, aud: 'carethread-widget', iat: Math.floor(t.clock.now().getTime() / 1000) }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256', expiresIn: 600 });
      for (const [token, what] of [[adminToken, 'admin token'], [agentB.token, 'agent token'], [asAgentSigned, 'visitor claims signed with JWT_SECRET']] as const) {
        const download = await widgetDownload(yMessage.id, token);
        expect(download.status, what).to.equal(401);
        expect((await widgetUpload(token)).status, what).to.equal(401);
        const socket = connectSocket(`${t.url}/widget`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        const error = await handshakeError(socket);
        socket.disconnect();
        expect(error, `${what}: the widget socket connected`).to.be.instanceOf(Error);
        expect(error!.data?.code, what).to.equal('UNAUTHENTICATED');
      }
    });
  });

  // Last: after every attack above has run.
  describe('the logs', () => {
    it('logs none of the PHI the attacks above carried, nor that of a last run of refused requests', async () => {
      const marker = { body: 'Ultramarine-Ferret-9043 psychiatric admission', phone: '+13035550178', name: 'Cressida Fairweather-Holt' };
      const inB = await patientWrites(t, { channel: 'sms', from: marker.phone, body: marker.body, displayName: marker.name });
      await t.api.post(`/api/conversations/${inB.conversation.id}/assign`, { teamId: 'team-b' }, (await t.admin()).token);
      const agent = await t.login(agentA.agent.email, 'agent-password-123');
      expect((await t.api.get(`/api/conversations/${inB.conversation.id}/messages`, agent.token)).status).to.be.oneOf([403, 404]);
      expect((await t.api.post(`/api/conversations/${inB.conversation.id}/messages`, { body: marker.body }, agent.token)).status).to.be.oneOf([403, 404]);
      expect((await t.api.get(`/api/patients/${inB.patientId}`, agent.token)).status).to.be.oneOf([403, 404]);
      expect((await t.api.post('/api/auth/login', { email: marker.name, password: marker.body })).status).to.equal(401);
      expect((await t.api.get('/api/auth/me', `${marker.body}.x.y`)).status).to.equal(401);
      const socket = t.socket(agent.token);
      await connected(socket);
      expect((await socket.emitWithAck('messages:since', { conversationId: inB.conversation.id, afterSeq: 0 })).ok).to.equal(false);
      await t.hub.settled();

      const logs = t.logs.join('\n');
      expect(t.logs.length).to.be.greaterThan(20);
      for (const value of [...PHI_VALUES(), ...Object.values(marker), '3035550178', 'Heliotrope', 'Tamarind', 'Cobalt-Quince', 'Warburton', 'Pemberton', 'Ormsby']) {
        expect(logs, value).not.to.include(value);
      }
    });
  });
});
