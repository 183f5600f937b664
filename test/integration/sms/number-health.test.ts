/**
 * Sending numbers' reputation (server/delivery/number-health.ts): signed
 * status callbacks with 30007 push a number over its threshold; it is flagged
 * (audit, an event to admins), new patients get another number while its own
 * keep it, GET /api/numbers/health shows it with the 10DLC / toll-free hint,
 * and an admin restores it. A repeated callback counts once; STOP to a number
 * counts against it. Real SDK path, Twilio intercepted.
 */
import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { captureTwilioSends, sendOf, statusCallback } from '../../support/twilio-capture.ts';
import { connected, nextEvent, patientWrites, startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

const ACCOUNT = 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const [N1, N2] = ['+15555550111', '+15555550112'] as const;

describe('number reputation: flagged numbers leave the pool for new patients until an admin restores them', () => {
  let t: TestHub;
  let admin: Session;
  // Set up when this file's tests start: other files clean nock's interceptors after theirs.
  let twilio: ReturnType<typeof captureTwilioSends>;
  before(async () => {
    twilio = captureTwilioSends(ACCOUNT);
    t = await startTestHub({
      label: 'number-health',
      env: {
        TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBERS: `${N1},${N2}`, PUBLIC_BASE_URL: 'https://hub.example.com',
        NUMBER_HEALTH_MIN_SENT: '3', NUMBER_HEALTH_MAX_FILTERED_PER_1000: '100',
      },
    });
    admin = await t.admin();
  });
  after(async () => {
    twilio.stop();
    await t.close();
  });

  async function texts(from: string, to: string, body = 'hello') {
    const params = inboundSms({ From: from, To: to, Body: body });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    return t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail();
  }
  async function replyFrom(conversationId: string, body: string) {
    const res = await t.api.post(`/api/conversations/${conversationId}/messages`, { body }, admin.token);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return sendOf(t, twilio.sends, res.body.id);
  }
  const health = async (token = admin.token) => {
    const res = await t.api.get('/api/numbers/health', token);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return Object.fromEntries((res.body.items as { number: string }[]).map((i) => [i.number, i])) as Record<string, any>;
  };

  let existing = { conversationId: '' };

  it('flags a number whose texts carriers filter (30007), once, and tells the admins', async () => {
    const socket = t.socket(admin.token);
    await connected(socket);
    const inbound = await texts('+14155553001', N1);
    existing = { conversationId: inbound.conversationId };
    const sids: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      const sent = await replyFrom(inbound.conversationId, body);
      expect(sent.form.From).to.equal(N1);
      sids.push(sent.sid);
    }
    const before = await health();
    expect(before[N1]).to.include({ sent: 3, inPool: true, flagged: null, role: 'sender', patientsAssigned: 1 });

    await statusCallback(t, sids[0]!, 'delivered');
    await statusCallback(t, sids[0]!, 'delivered'); // Twilio posts a status twice: counted once
    const flaggedEvent = nextEvent<{ number: string; reason: string }>(socket, 'number:flagged');
    await statusCallback(t, sids[1]!, 'undelivered', { ErrorCode: '30007' });
    expect(await flaggedEvent).to.include({ number: N1 });
    await statusCallback(t, sids[1]!, 'undelivered', { ErrorCode: '30007' }); // a repeated callback
    await statusCallback(t, sids[2]!, 'sent'); // not a terminal status: counts nothing

    const after = await health();
    expect(after[N1]).to.deep.include({
      inPool: false, sent: 3, delivered: 1, undelivered: 1, failed: 0, filtered30007: 1, deliveryRate: 0.5,
      unreachable: { '30003': 0, '30005': 0, '30006': 0 }, optOuts: 0, optOutsPer1000: 0,
    });
    expect(after[N1].flagged.reason).to.match(/carrier filtering \(30007\): 333\.3 per 1,000 sent, over 100/);
    expect(after[N1].hint).to.match(/10DLC \(A2P\)/).and.to.match(/toll-free/);
    expect(after[N1].window.to).to.be.a('string');
    expect(after[N2]).to.include({ inPool: true, flagged: null, sent: 0, deliveryRate: null, hint: null });
    const audit = await t.hub.services.db.models.AuditEvent.find({ action: 'number.flag' }).lean();
    expect(audit.map((e) => e.details)).to.deep.equal([{ number: N1, reason: after[N1].flagged.reason, sent: 3 }]);
  });

  it('gives new patients another number while the flagged one keeps its own', async () => {
    const newcomer = await patientWrites(t, { channel: 'sms', from: '+14155553002', body: 'first time here' });
    expect((await replyFrom(newcomer.conversation.id, 'Welcome.')).form.From).to.equal(N2);
    expect((await replyFrom(existing.conversationId, 'Still here.')).form.From).to.equal(N1);
  });

  it('counts a STOP texted to a number against that number, once per message', async () => {
    const params = inboundSms({ From: '+14155553003', To: N2, Body: 'STOP' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200); // Twilio's retry
    const figures = await health();
    expect(figures[N2]).to.include({ optOuts: 1 });
    expect(figures[N1]).to.include({ optOuts: 0 });
  });

  it('lets supervisors read, only admins restore (audited); an unknown number is 404', async () => {
    const agent = await t.agent({ name: 'Nia Numbers' });
    const supervisor = await t.agent({ name: 'Sam Numbers', role: 'supervisor' });
    expect((await t.api.get('/api/numbers/health', agent.token)).status).to.equal(403);
    expect((await health(supervisor.token))[N1].flagged).to.not.equal(null);
    expect((await t.api.post(`/api/numbers/${encodeURIComponent(N1)}/restore`, undefined, supervisor.token)).status).to.equal(403);
    expect((await t.api.post(`/api/numbers/${encodeURIComponent(N1)}/restore`, undefined, agent.token)).status).to.equal(403);
    expect((await t.api.post('/api/numbers/%2B15555550177/restore', undefined, admin.token)).status).to.equal(404);
    const bad = await t.api.post('/api/numbers/not-a-number/restore', undefined, admin.token);
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('number');

    const restored = await t.api.post(`/api/numbers/${encodeURIComponent(N1)}/restore`, undefined, admin.token);
    expect(restored.status, JSON.stringify(restored.body)).to.equal(200);
    expect((await health())[N1]).to.include({ inPool: true, flagged: null });
    expect((await t.api.post(`/api/numbers/${encodeURIComponent(N1)}/restore`, undefined, admin.token)).status).to.equal(409);
    const audit = await t.hub.services.db.models.AuditEvent.find({ action: 'number.restore' }).lean();
    expect(audit.map((e) => [e.outcome, e.details])).to.deep.include(['success', { number: N1 }]);
    expect(audit.filter((e) => e.outcome === 'denied')).to.have.length.at.least(1);
  });

  it('never logs a patient’s number or a message body', () => {
    const lines = t.logs.join('\n');
    for (const phi of ['+14155553001', '+14155553002', '+14155553003', 'Still here.', 'first time here']) expect(lines).not.to.include(phi);
    expect(lines).to.include('sending number flagged');
  });
});
