import { expect } from 'chai';
import * as OTPAuth from 'otpauth';
import { connected, nextEvent, patientWrites, startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('HIPAA person authentication: optional TOTP second factor', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'totp' });
  });
  after(() => t.close());

  it('asks for a code once enrolled, refuses a wrong one, accepts the right one', async () => {
    const agent = await t.agent({ name: 'Two Factor Tess' });
    const setup = await t.api.post('/api/auth/totp/setup', { password: 'agent-password-123' }, agent.token);
    expect(setup.status).to.equal(200);
    expect(setup.body.otpauthUri).to.match(/^otpauth:\/\/totp\//);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(setup.body.secret) });
    const now = () => t.clock.now().getTime();
    // Not active until confirmed.
    expect((await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' })).status).to.equal(200);
    const wrongConfirm = await t.api.post('/api/auth/totp/enable', { code: '000000' }, agent.token);
    expect(wrongConfirm.status).to.equal(400);
    expect((await t.api.post('/api/auth/totp/enable', { code: totp.generate({ timestamp: now() }) }, agent.token)).status).to.equal(204);
    t.clock.advance(30_000); // each code is accepted once: the next login uses the next one

    const withoutCode = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123' });
    expect(withoutCode.status).to.equal(401);
    expect(withoutCode.body.error).to.include({ code: 'TOTP_REQUIRED', field: 'totp' });
    const wrongCode = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123', totp: '123456' === totp.generate({ timestamp: now() }) ? '654321' : '123456' });
    expect(wrongCode.status).to.equal(401);
    expect(wrongCode.body.error.code).to.equal('INVALID_CREDENTIALS');
    const ok = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'agent-password-123', totp: totp.generate({ timestamp: now() }) });
    expect(ok.status).to.equal(200);
    // A wrong password with the right code still fails, with no hint.
    const badPassword = await t.api.post('/api/auth/login', { email: agent.agent.email, password: 'not-my-password', totp: totp.generate({ timestamp: now() }) });
    expect(badPassword.body.error.code).to.equal('INVALID_CREDENTIALS');
  });
});

describe('PHI never reaches the logs', () => {
  it('runs a whole flow with distinctive PHI and finds none of it in the log lines', async () => {
    const t = await startTestHub({ label: 'logs', env: { LOG_LEVEL: 'debug' } });
    try {
      const PHI = {
        body: 'Oxblood-Marzipan-9921 chest pain since Tuesday',
        reply: 'Kumquat-Lantern-5510 please call 911',
        note: 'Velvet-Harbor-3382 allergic to penicillin',
        phone: '+14155550966',
        email: 'ottoline.phi@example.org',
        name: 'Ottoline Brackenbury',
      };
      const agent = await t.agent({ name: 'Log Checker' });
      const socket = t.socket(agent.token);
      await connected(socket);
      const pushed = nextEvent(socket, 'message:created');
      const sms = await patientWrites(t, { channel: 'sms', from: PHI.phone, body: PHI.body, displayName: PHI.name });
      await pushed;
      await patientWrites(t, { channel: 'email', from: PHI.email, body: PHI.body });
      await socket.emitWithAck('messages:since', { conversationId: sms.conversation.id, afterSeq: 0 });
      await t.api.post(`/api/conversations/${sms.conversation.id}/messages`, { body: PHI.reply }, agent.token);
      await t.api.post(`/api/conversations/${sms.conversation.id}/notes`, { body: PHI.note }, agent.token);
      await t.api.post('/api/dev/inbound', { channel: 'sms', from: 'not-a-phone', body: PHI.body }, (await t.admin()).token);
      await t.api.post('/api/auth/login', { email: PHI.email, password: 'wrong-password' });
      await t.hub.settled();
      const logs = t.logs.join('\n');
      expect(t.logs.length).to.be.greaterThan(5);
      for (const value of [...Object.values(PHI), '4155550966', '555-0966', 'Oxblood', 'Kumquat', 'Velvet-Harbor', 'Ottoline']) {
        expect(logs, value).not.to.include(value);
      }
    } finally {
      await t.close();
    }
  });
});
