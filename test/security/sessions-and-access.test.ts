/**
 * Hostile tests: access that must not outlive its reason (an emergency
 * grant), a second factor that must not be switched off with a stolen access
 * token, codes and refresh secrets that must not be replayed, sessions that
 * strangers must not end.
 */
import { expect } from 'chai';
import * as OTPAuth from 'otpauth';
import { patientWrites, startTestHub, type Session, type TestHub } from '../support/test-hub.ts';

const PASSWORD = 'agent-password-123';

describe('security: emergency access, second factor, sessions', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sec-sessions', env: { BREAK_GLASS_MINUTES: '5' } });
    admin = await t.admin();
    expect((await t.api.post('/api/teams', { id: 'oncology', name: 'Oncology' }, admin.token)).status).to.be.oneOf([200, 201]);
  });
  after(() => t.close());

  it('lets a break-glass grant read and reply (flagged) but never assign, transfer, prioritize or resolve; access ends with the grant', async () => {
    const supervisor = await t.agent({ name: 'Sid Super', role: 'supervisor', teamIds: ['front-desk'] });
    const patient = await patientWrites(t, { channel: 'sms', from: '+12125550101', body: 'chemo side effects' });
    await t.api.post(`/api/conversations/${patient.conversation.id}/assign`, { teamId: 'oncology' }, admin.token);
    const path = `/api/conversations/${patient.conversation.id}`;
    expect((await t.api.get(path, supervisor.token)).status).to.equal(404);
    expect((await t.api.post(`${path}/break-glass`, { reason: 'Patient in the ER, need their history now' }, supervisor.token)).status).to.equal(201);

    expect((await t.api.get(`${path}/messages`, supervisor.token)).status).to.equal(200);
    const reply = await t.api.post(`${path}/messages`, { body: 'The ER team has your history' }, supervisor.token);
    expect(reply.status).to.equal(201);
    for (const [method, sub, body] of [
      ['post', '/assign', { teamId: 'front-desk' }],
      ['post', '/assign', { assigneeId: 'me' }],
      ['patch', '', { priority: 'urgent' }],
      ['post', '/resolve', undefined],
    ] as const) {
      const res = method === 'patch' ? await t.api.patch(`${path}${sub}`, body, supervisor.token) : await t.api.post(`${path}${sub}`, body, supervisor.token);
      expect(res.status, `${method} ${sub}`).to.equal(403);
      expect(res.body.error.message).to.include('read and reply only');
    }
    const conversation = (await t.api.get(path, admin.token)).body;
    expect(conversation).to.include({ teamId: 'oncology', assigneeId: null, priority: 'normal', status: 'open' });
    const flagged = (await t.api.get('/api/audit?action=message.create&limit=20', admin.token)).body.items as { actorId: string; flagged: boolean; conversationId: string }[];
    expect(flagged.find((e) => e.actorId === supervisor.agent.id && e.conversationId === patient.conversation.id)?.flagged).to.equal(true);

    t.clock.advance(6 * 60_000);
    const fresh = await t.login(supervisor.agent.email, PASSWORD);
    expect((await t.api.get(`${path}/messages`, fresh.token)).status).to.equal(404);
  });

  it('does not let an access token alone change or remove the second factor; a change needs the password and a current code, is audited and ends other sessions', async () => {
    const agent = await t.agent({ name: 'Tori Totp' });
    const other = await t.login(agent.agent.email, PASSWORD);
    expect((await t.api.post('/api/auth/totp/setup', {}, agent.token)).status).to.equal(400);
    expect((await t.api.post('/api/auth/totp/setup', { password: 'wrong-password' }, agent.token)).status).to.equal(401);
    const setup = await t.api.post('/api/auth/totp/setup', { password: PASSWORD }, agent.token);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(setup.body.secret) });
    const code = () => totp.generate({ timestamp: t.clock.now().getTime() });
    expect((await t.api.post('/api/auth/totp/enable', { code: code() }, agent.token)).status).to.equal(204);
    // Turning it on ended the other session.
    expect((await t.api.get('/api/auth/me', other.token)).status).to.equal(401);

    // An attacker with only the access token cannot start over (that used to switch the factor off).
    t.clock.advance(30_000);
    const stolen = await t.api.post('/api/auth/totp/setup', { password: PASSWORD }, agent.token);
    expect(stolen.status).to.equal(401);
    expect(stolen.body.error).to.include({ code: 'TOTP_REQUIRED', field: 'code' });
    const noCode = await t.api.post('/api/auth/login', { email: agent.agent.email, password: PASSWORD });
    expect(noCode.body.error.code).to.equal('TOTP_REQUIRED');

    // A code is accepted once: replaying the one just used for login is refused.
    const used = code();
    expect((await t.api.post('/api/auth/login', { email: agent.agent.email, password: PASSWORD, totp: used })).status).to.equal(200);
    expect((await t.api.post('/api/auth/login', { email: agent.agent.email, password: PASSWORD, totp: used })).status).to.equal(401);

    t.clock.advance(30_000);
    const second = await t.login(agent.agent.email, PASSWORD).catch(() => null);
    expect(second).to.equal(null); // needs a code now
    expect((await t.api.post('/api/auth/totp/disable', { password: PASSWORD, code: '000000' }, agent.token)).status).to.equal(401);
    expect((await t.api.post('/api/auth/totp/disable', { password: PASSWORD, code: code() }, agent.token)).status).to.equal(204);
    const actions = ((await t.api.get('/api/audit?limit=200', admin.token)).body.items as { action: string; actorId: string; outcome: string }[])
      .filter((e) => e.actorId === agent.agent.id && e.action.startsWith('totp.'))
      .map((e) => `${e.action}:${e.outcome}`);
    expect(actions).to.include.members(['totp.setup:success', 'totp.enable:success', 'totp.setup:denied', 'totp.disable:denied', 'totp.disable:success']);
    expect((await t.api.get('/api/audit/verify', admin.token)).body.ok).to.equal(true);
  });

  it('does not let someone who knows a session id end it with a made-up refresh secret; a replayed real one does end it', async () => {
    const agent = await t.agent({ name: 'Rita Refresh' });
    const [sessionId] = agent.refreshToken.split('.');
    const forged = await t.api.post('/api/auth/refresh', { refreshToken: `${sessionId}.${'A'.repeat(43)}` });
    expect(forged.status).to.equal(401);
    expect((await t.api.get('/api/auth/me', agent.token)).status).to.equal(200);
    const rotated = await t.api.post('/api/auth/refresh', { refreshToken: agent.refreshToken });
    expect(rotated.status).to.equal(200);
    // The old, real secret again: theft; the session ends.
    expect((await t.api.post('/api/auth/refresh', { refreshToken: agent.refreshToken })).status).to.equal(401);
    expect((await t.api.post('/api/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).to.equal(401);
  });
});
