import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { connected, nextEvent, patientWrites, roundTrip, startTestHub, TEST_ENV, type Session, type TestHub } from '../../support/test-hub.ts';

describe('realtime: the /agents namespace', () => {
  let t: TestHub;
  let admin: Session;
  let frontDesk: Session;
  let billing: Session;
  before(async () => {
    t = await startTestHub({ label: 'socket' });
    admin = await t.admin();
    await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token);
    frontDesk = await t.agent({ name: 'Front', teamIds: ['front-desk'] });
    billing = await t.agent({ name: 'Bill', teamIds: ['billing'] });
  });
  after(() => t.close());

  it('refuses a forged or expired token in the handshake', async () => {
    const forged = jwt.sign({ sid: 'x' }, 'not-the-secret-at-all-not-the-secret', { subject: frontDesk.agent.id, issuer: 'carethread' });
    const expired = jwt.sign({ sid: 'x', iat: Math.floor(Date.now() / 1000) - 3600 }, TEST_ENV.JWT_SECRET!, { subject: frontDesk.agent.id, issuer: 'carethread', expiresIn: 60 });
    for (const [token, code] of [[forged, 'UNAUTHENTICATED'], [expired, 'TOKEN_EXPIRED']] as const) {
      const socket = t.socket(token);
      const error = await connected(socket).then(() => null, (e: Error & { data?: { code: string } }) => e);
      expect(error, code).to.be.instanceOf(Error);
      expect(error!.data!.code).to.equal(code);
    }
  });

  it('pushes a stored message with its seq to the team, and not to other teams', async () => {
    const mine = t.socket(frontDesk.token);
    const theirs = t.socket(billing.token);
    await Promise.all([connected(mine), connected(theirs)]);
    let leaked = false;
    theirs.on('message:created', () => (leaked = true));
    const event = nextEvent<{ message: { seq: number; body: string; id: string }; conversation: { id: string } }>(mine, 'message:created');
    const stored = await patientWrites(t, { channel: 'sms', from: '+14155550501', body: 'Is my lab result in?' });
    const { message, conversation } = await event;
    expect(message.id).to.equal(stored.message.id);
    expect(message.seq).to.equal(stored.message.seq);
    expect(message.body).to.equal('Is my lab result in?');
    expect(conversation.id).to.equal(stored.conversation.id);
    await roundTrip(theirs);
    expect(leaked).to.equal(false);
  });

  it('refuses to join another team’s conversation room', async () => {
    const other = await patientWrites(t, { channel: 'sms', from: '+14155550502', body: 'x' });
    await t.api.post(`/api/conversations/${other.conversation.id}/assign`, { teamId: 'billing' }, admin.token);
    const socket = t.socket(frontDesk.token);
    await connected(socket);
    const answer = await socket.emitWithAck('conversation:join', other.conversation.id);
    expect(answer).to.deep.include({ ok: false });
    expect((answer as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
    const catchUp = await socket.emitWithAck('messages:since', { conversationId: other.conversation.id, afterSeq: 0 });
    expect(catchUp.ok).to.equal(false);
  });

  it('catches a reconnecting client up after seq N without gaps or duplicates', async () => {
    const first = await patientWrites(t, { channel: 'sms', from: '+14155550503', body: 'm1' });
    const conversationId = first.conversation.id;
    const socket = t.socket(frontDesk.token);
    await connected(socket);
    const seen = new Map<number, string>();
    socket.on('message:created', ({ message }) => {
      if (message.conversationId === conversationId) seen.set(message.seq, message.id);
    });
    await patientWrites(t, { channel: 'sms', from: '+14155550503', body: 'm2' });
    await roundTrip(socket);
    socket.disconnect();
    const lastSeen = Math.max(first.message.seq, ...seen.keys());
    // While offline: a reply, a note and two patient messages.
    await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'reply' }, frontDesk.token);
    await t.api.post(`/api/conversations/${conversationId}/notes`, { body: 'note' }, frontDesk.token);
    await patientWrites(t, { channel: 'sms', from: '+14155550503', body: 'm3' });
    await patientWrites(t, { channel: 'sms', from: '+14155550503', body: 'm4' });
    const again = t.socket(frontDesk.token);
    await connected(again);
    const answer = await again.emitWithAck('messages:since', { conversationId, afterSeq: lastSeen });
    if (!answer.ok) throw new Error(answer.error.message);
    const seqs = answer.items.map((m) => m.seq);
    expect(seqs).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => lastSeen + 1 + i));
    expect(answer.items.map((m) => m.body)).to.include.members(['reply', 'note', 'm3', 'm4']);
    const all = await t.api.get(`/api/conversations/${conversationId}/messages?after=0`, frontDesk.token);
    expect(all.body.items.map((m: { seq: number }) => m.seq)).to.deep.equal([...Array(lastSeen).keys()].map((i) => i + 1).concat(seqs));
  });

  it('relays typing to agents in the conversation room, and presence to everyone', async () => {
    const c = await patientWrites(t, { channel: 'sms', from: '+14155550504', body: 'x' });
    const a = t.socket(frontDesk.token);
    await connected(a);
    const presence = nextEvent<{ agentId: string; online: boolean }>(a, 'presence', (p) => p.agentId === admin.agent.id && p.online);
    const b = t.socket(admin.token);
    await connected(b);
    await presence;
    expect((await a.emitWithAck('conversation:join', c.conversation.id)).ok).to.equal(true);
    expect((await b.emitWithAck('conversation:join', c.conversation.id)).ok).to.equal(true);
    const typing = nextEvent<{ agentId: string; isTyping: boolean }>(a, 'typing');
    b.emit('typing', { conversationId: c.conversation.id, isTyping: true });
    expect(await typing).to.deep.include({ agentId: admin.agent.id, isTyping: true });
    const list = await a.emitWithAck('presence:list');
    expect(list.ok && list.agentIds).to.include.members([frontDesk.agent.id, admin.agent.id]);
  });
});
