import { expect } from 'chai';
import { ADMIN, startTestHub, TestClock, type TestHub } from '../../support/test-hub.ts';

describe('agents: login, tokens, logout', () => {
  let t: TestHub;
  const clock = new TestClock();
  before(async () => {
    t = await startTestHub({ label: 'auth', clock, env: { IDLE_TIMEOUT_MINUTES: '30' } });
  });
  after(() => t.close());

  it('creates the bootstrap admin on first start and logs them in', async () => {
    const res = await t.api.post('/api/auth/login', { email: 'ADMIN@test.local', password: ADMIN.password });
    expect(res.status).to.equal(200);
    expect(res.body).to.include.keys('accessToken', 'refreshToken');
    expect(res.body.agent).to.include({ email: ADMIN.email, role: 'admin' });
    expect(res.body.expiresIn).to.equal(15 * 60);
    const me = await t.api.get('/api/auth/me', res.body.accessToken);
    expect(me.status).to.equal(200);
    expect(me.body.email).to.equal(ADMIN.email);
  });

  it('answers a wrong password and an unknown email alike: 401, no hint', async () => {
    const wrongPassword = await t.api.post('/api/auth/login', { email: ADMIN.email, password: 'not-the-password' });
    const unknownEmail = await t.api.post('/api/auth/login', { email: 'nobody@test.local', password: 'whatever-password' });
    expect(wrongPassword.status).to.equal(401);
    expect(unknownEmail.status).to.equal(401);
    expect(wrongPassword.body).to.deep.equal(unknownEmail.body);
    expect(wrongPassword.body.error.code).to.equal('INVALID_CREDENTIALS');
  });

  it('locks an account after repeated failures (429 with Retry-After), even for the right password', async () => {
    const agent = await t.agent({ name: 'Locked Out' });
    for (let i = 0; i < 5; i++) {
      const res = await t.api.post('/api/auth/login', { email: agent.agent.email, password: `wrong-${i}` });
      expect(res.status).to.equal(401);
    }
    const locked = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' });
    expect(locked.status).to.equal(429);
    expect(locked.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
    expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0);
    clock.advance(60_000);
    const later = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' });
    expect(later.status).to.equal(200);
  });

  it('refuses an access token after 15 minutes (TOKEN_EXPIRED), and refresh gives a new one', async () => {
    const session = await t.login(ADMIN.email, ADMIN.password);
    clock.advance(15 * 60_000 + 1000);
    const expired = await t.api.get('/api/auth/me', session.token);
    expect(expired.status).to.equal(401);
    expect(expired.body.error.code).to.equal('TOKEN_EXPIRED');
    const refreshed = await t.api.post('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(refreshed.status).to.equal(200);
    expect((await t.api.get('/api/auth/me', refreshed.body.accessToken)).status).to.equal(200);
  });

  it('rotates refresh tokens; replaying an old one ends the session', async () => {
    const session = await t.login(ADMIN.email, ADMIN.password);
    const first = await t.api.post('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(first.status).to.equal(200);
    expect(first.body.refreshToken).not.to.equal(session.refreshToken);
    const replay = await t.api.post('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(replay.status).to.equal(401);
    expect(replay.body.error.code).to.equal('SESSION_REVOKED');
    // The replay revoked the session: the newest tokens stop working too.
    expect((await t.api.get('/api/auth/me', first.body.accessToken)).status).to.equal(401);
    expect((await t.api.post('/api/auth/refresh', { refreshToken: first.body.refreshToken })).status).to.equal(401);
  });

  it('logout revokes the access token and the refresh token at once', async () => {
    const session = await t.login(ADMIN.email, ADMIN.password);
    expect((await t.api.post('/api/auth/logout', undefined, session.token)).status).to.equal(204);
    const after = await t.api.get('/api/auth/me', session.token);
    expect(after.status).to.equal(401);
    expect(after.body.error.code).to.equal('SESSION_REVOKED');
    expect((await t.api.post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).to.equal(401);
  });

  it('refuses forged and missing tokens', async () => {
    const session = await t.login(ADMIN.email, ADMIN.password);
    const [header, payload] = session.token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    expect((await t.api.get('/api/auth/me', forged)).body.error.code).to.equal('UNAUTHENTICATED');
    expect((await t.api.get('/api/conversations')).status).to.equal(401);
  });

  it('refuses a disabled agent’s live session', async () => {
    const agent = await t.agent({ name: 'Leaver' });
    await t.hub.services.db.models.Agent.updateOne({ _id: agent.agent.id }, { $set: { disabledAt: new Date() } });
    expect((await t.api.get('/api/auth/me', agent.token)).status).to.equal(401);
    expect((await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' })).status).to.equal(401);
  });
});
