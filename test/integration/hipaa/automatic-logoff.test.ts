import { expect } from 'chai';
import { connected, nextEvent, startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('HIPAA automatic logoff and revocation', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'logoff', env: { IDLE_TIMEOUT_MINUTES: '15' } });
  });
  after(() => t.close());

  it('ends a session after the idle timeout, saying why', async () => {
    const agent = await t.agent({ name: 'Idle Ida' });
    t.clock.advance(10 * 60_000);
    expect((await t.api.get('/api/conversations', agent.token)).status).to.equal(200); // activity
    t.clock.advance(10 * 60_000); // 20 min since login, 10 since activity: still in
    const refreshed = await t.api.post('/api/auth/refresh', { refreshToken: agent.refreshToken });
    expect(refreshed.status).to.equal(200);
    t.clock.advance(16 * 60_000);
    const res = await t.api.post('/api/auth/refresh', { refreshToken: refreshed.body.refreshToken });
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('SESSION_REVOKED');
    expect(res.body.error.message).to.match(/inactivity/);
  });

  it('closes the sockets of a session at logout', async () => {
    const agent = await t.agent({ name: 'Leaving Lou' });
    const socket = t.socket(agent.token);
    await connected(socket);
    const ended = nextEvent<{ reason: string }>(socket, 'session:ended');
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    expect((await t.api.post('/api/auth/logout', undefined, agent.token)).status).to.equal(204);
    expect((await ended).reason).to.equal('logout');
    await closed;
  });

  it('disconnects a disabled agent at once, and they cannot log back in', async () => {
    const agent = await t.agent({ name: 'Former Fran' });
    const socket = t.socket(agent.token);
    await connected(socket);
    const ended = nextEvent<{ reason: string }>(socket, 'session:ended');
    const admin = await t.admin();
    expect((await t.api.post(`/api/agents/${agent.agent.id}/disable`, undefined, admin.token)).status).to.equal(204);
    expect((await ended).reason).to.equal('agent_disabled');
    expect((await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' })).status).to.equal(401);
    expect((await t.api.post('/api/auth/refresh', { refreshToken: agent.refreshToken })).status).to.equal(401);
  });

  it('drops an idle socket within seconds, even with no request to notice it', async () => {
    const agent = await t.agent({ name: 'Sleepy Sam' });
    const socket = t.socket(agent.token);
    await connected(socket);
    const ended = nextEvent<{ reason: string }>(socket, 'session:ended', () => true, 8000);
    t.clock.advance(16 * 60_000);
    const started = Date.now();
    expect((await ended).reason).to.equal('idle_timeout');
    expect(Date.now() - started).to.be.below(7000);
  });
});
