import { expect } from 'chai';
import { testDatabaseUri } from '../../support/embedded-db.ts';
import { runScript } from '../../support/run-script.ts';
import { connected, patientWrites, startTestHub, TEST_ENV, type Session, type TestHub } from '../../support/test-hub.ts';

describe('HIPAA audit controls: a tamper-evident trail of every PHI access', () => {
  let t: TestHub;
  let admin: Session;
  let agent: Session;
  let supervisor: Session;
  let conversationId: string;
  let patientId: string;
  before(async () => {
    t = await startTestHub({ label: 'audit' });
    admin = await t.admin();
    await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token);
    agent = await t.agent({ name: 'Audited Agent' });
    supervisor = await t.agent({ name: 'Billing Supervisor', role: 'supervisor', teamIds: ['billing'] });
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550901', body: 'audit me' });
    conversationId = inbound.conversation.id;
    patientId = inbound.patientId;
  });
  after(() => t.close());

  const entries = async (query: string) => (await t.api.get(`/api/audit?${query}`, admin.token)).body.items as Record<string, unknown>[];

  it('records who read which patient’s messages, when, from where, via REST', async () => {
    await t.api.get(`/api/conversations/${conversationId}/messages`, agent.token);
    const [entry] = await entries(`actor=${agent.agent.id}&action=messages.read`);
    expect(entry).to.include({ action: 'messages.read', actorId: agent.agent.id, actorRole: 'agent', via: 'rest', patientId, conversationId, outcome: 'success' });
    expect(entry!.ip).to.match(/127\.0\.0\.1/);
    expect(Date.parse(entry!.at as string)).to.be.closeTo(Date.now(), 60_000);
  });

  it('records writes, the inbound message itself, and socket reads', async () => {
    await t.api.post(`/api/conversations/${conversationId}/notes`, { body: 'n' }, agent.token);
    expect(await entries(`conversation=${conversationId}&action=note.create`)).to.have.length(1);
    expect(await entries(`conversation=${conversationId}&action=inbound.ingest`)).to.have.length(1);
    const socket = t.socket(agent.token);
    await connected(socket);
    await socket.emitWithAck('conversation:join', conversationId);
    const [join] = await entries(`actor=${agent.agent.id}&action=conversation.read`);
    expect(join).to.include({ via: 'socket', conversationId, patientId });
    const outsider = t.socket(supervisor.token);
    await connected(outsider);
    expect((await outsider.emitWithAck('conversation:join', conversationId)).ok).to.equal(false);
    const [refused] = await entries(`actor=${supervisor.agent.id}&action=conversation.read`);
    expect(refused).to.include({ via: 'socket', outcome: 'denied', conversationId });
  });

  it('records refused access and security events: failed login, login, refresh, logout', async () => {
    const res = await t.api.get(`/api/conversations/${conversationId}`, supervisor.token);
    expect(res.status).to.equal(404); // answered like an unknown id, recorded as denied
    const [denied] = await entries(`actor=${supervisor.agent.id}&action=conversation.read`);
    expect(denied).to.include({ outcome: 'denied', conversationId });
    await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'wrong-password!' });
    const session = await t.login(agent.agent.email, 'agent-password-123');
    await t.api.post('/api/auth/refresh', { refreshToken: session.refreshToken });
    const actions = (await entries(`actor=${agent.agent.id}&limit=20`)).map((e) => e.action);
    expect(actions).to.include.members(['login.failed', 'login', 'token.refresh']);
  });

  it('keeps the audit trail for admins, and exports it as NDJSON (the export is audited)', async () => {
    expect((await t.api.get('/api/audit', agent.token)).status).to.equal(403);
    const res = await fetch(`${t.url}/api/audit/export?patient=${patientId}`, { headers: { authorization: `Bearer ${(await t.admin()).token}` } });
    expect(res.headers.get('content-type')).to.match(/ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).to.be.greaterThan(3);
    expect(lines.every((l) => l.patientId === patientId)).to.equal(true);
    expect(lines.map((l) => l.id)).to.deep.equal([...lines.map((l) => l.id)].sort((a, b) => a - b));
    expect((await entries('action=audit.export')).length).to.equal(1);
  });

  it('detects tampering: the API and `npm run audit:verify` report the altered entry', async () => {
    const env = { ...TEST_ENV, MONGODB_URI: testDatabaseUri(), MONGODB_DATABASE: t.databaseName };
    const intact = await runScript('scripts/audit-verify.ts', env);
    expect(intact.code, intact.stderr).to.equal(0);
    expect(intact.stdout).to.match(/audit trail intact: \d+ entries checked/);
    expect((await t.api.get('/api/audit/verify', admin.token)).body.ok).to.equal(true);

    // Someone with database access rewrites who read the record.
    const models = t.hub.services.db.models;
    const victim = await models.AuditEvent.findOne({ action: 'messages.read' }).sort({ _id: 1 }).lean().orFail();
    await models.AuditEvent.updateOne({ _id: victim._id }, { $set: { actorId: 'someone-else' } });
    const report = (await t.api.get('/api/audit/verify', admin.token)).body;
    expect(report).to.include({ ok: false, firstBrokenAt: victim._id });
    const broken = await runScript('scripts/audit-verify.ts', env);
    expect(broken.code).to.equal(1);
    expect(broken.stderr).to.include(`BROKEN at entry ${victim._id}`);

    // Deleting an entry is caught too.
    await models.AuditEvent.updateOne({ _id: victim._id }, { $set: { actorId: victim.actorId } });
    await models.AuditEvent.deleteOne({ _id: victim._id + 1 });
    expect((await t.api.get('/api/audit/verify', admin.token)).body).to.include({ ok: false, problem: `entry ${victim._id + 1} is missing` });
  });
  it('lets a supervisor break the glass with a reason: granted, audited and flagged', async () => {
    const refused = await t.api.post(`/api/conversations/${conversationId}/break-glass`, { reason: 'x' }, supervisor.token);
    expect(refused.status).to.equal(400);
    expect((await t.api.post(`/api/conversations/${conversationId}/break-glass`, { reason: 'Patient collapsed at reception, need history' }, agent.token)).status).to.equal(403);
    const granted = await t.api.post(`/api/conversations/${conversationId}/break-glass`, { reason: 'Patient collapsed at reception, need history' }, supervisor.token);
    expect(granted.status).to.equal(201);
    const read = await t.api.get(`/api/conversations/${conversationId}/messages`, supervisor.token);
    expect(read.status).to.equal(200);
    const flagged = await entries(`actor=${supervisor.agent.id}&flagged=true`);
    expect(flagged.map((e) => e.action)).to.include.members(['break_glass', 'messages.read']);
    expect(flagged[0]).to.include({ reason: 'Patient collapsed at reception, need history', conversationId });
    // The grant belongs to that session only, and runs out.
    const otherSession = await t.login(supervisor.agent.email, 'agent-password-123');
    expect((await t.api.get(`/api/conversations/${conversationId}/messages`, otherSession.token)).status).to.equal(404);
    t.clock.advance(t.config.breakGlassMs + 1000);
    const fresh = await t.login(supervisor.agent.email, 'agent-password-123');
    expect((await t.api.post(`/api/conversations/${conversationId}/break-glass`, { reason: 'checking expiry works now' }, fresh.token)).status).to.equal(201);
  });

});
