/**
 * Who "is" a patient is decided by proof: each attack on a patient's thread,
 * end to end against a real hub (signed webhooks, the widget's socket, the
 * sandbox outbox), fails; agents decide, with reasons, in the audit trail.
 */
import { expect } from 'chai';
import { connected, nextEvent, patientWrites, roundTrip, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';
import { postInboundEmail } from '../../support/inbound-email.ts';
import { codeSentTo, newClientId, startVisitor, type TestVisitor } from '../../support/widget-visitor.ts';
import type { WidgetMessage } from '../../../server/realtime/widget-events.ts';
import { identityKey } from '../../../server/timeline/ingest/resolve-identity.ts';
import { linkVisitor } from '../../../server/timeline/link/link-visitor.ts';

describe('identity you can trust', () => {
  let t: TestHub;
  let admin: Session;
  let supervisor: Session;
  let agent: Session;
  before(async () => {
    t = await startTestHub({ label: 'identity-trust', env: { INBOUND_EMAIL_DOMAIN: 'inbound.hub.example.com', BREAK_GLASS_MINUTES: '5' } });
    admin = await t.admin();
    supervisor = await t.agent({ name: 'Sam Review', role: 'supervisor', teamIds: ['front-desk'] });
    agent = await t.agent({ name: 'Ada Agent', teamIds: ['front-desk'] });
  });
  after(() => t.close());

  const models = () => t.hub.services.db.models;
  const outbox = async (channel: 'email' | 'sms') =>
    (await t.api.get(`/api/dev/outbox?channel=${channel}&limit=200`, admin.token)).body.items as { messageId: string; request: any }[];
  const sentFor = (channel: 'email' | 'sms', messageId: string) => waitFor(async () => (await outbox(channel)).find((e) => e.messageId === messageId));
  const messagesOf = async (conversationId: string) =>
    (await t.api.get(`/api/conversations/${conversationId}/messages?limit=200`, admin.token)).body.items as { id: string; body: string; seq: number; direction: string; sender: any }[];
  const identityIn = async (patientId: string, value: string) =>
    ((await t.api.get(`/api/patients/${patientId}`, admin.token)).body.identities as { id: string; value: string; trust: string; verified: boolean }[]).find((i) => i.value === value);

  /** A patient who wrote by email, and the clinic's answer with its signed reply address. */
  async function emailPatient(address: string) {
    const inbound = await patientWrites(t, { channel: 'email', from: address, body: 'My lab results, please' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Your results are ready', channel: 'email' }, admin.token);
    const sent = await sentFor('email', reply.body.id);
    return { inbound, replyTo: sent.request.reply_to.email as string, messageIdHeader: sent.request.headers['Message-ID'] as string };
  }

  async function continueByEmail(visitor: TestVisitor, address: string) {
    const startedAt = new Date();
    const started = await visitor.call('verify:start', { channel: 'email', address, consent: true });
    expect(started.ok, JSON.stringify(started)).to.equal(true);
    const code = await codeSentTo(t, 'email', address, startedAt);
    return visitor.call('verify:confirm', { code });
  }

  it('keeps a relative CC’d on an email a threaded contact: their own new email verifies nothing and `auto` replies go to the patient', async () => {
    const { inbound, replyTo } = await emailPatient('lab.patient@example.org');
    expect((await postInboundEmail(t, { from: 'Aunt May <aunt.may@example.net>', to: replyTo, text: 'I am her aunt, what did the lab say?' })).status).to.equal(200);
    expect((await identityIn(inbound.patientId, 'aunt.may@example.net'))?.trust).to.equal('threaded');

    // Later the same address writes an ordinary new email: still threaded, and shown as such.
    expect((await postInboundEmail(t, { from: 'aunt.may@example.net', text: 'Any news on the results?' })).status).to.equal(200);
    const relative = await identityIn(inbound.patientId, 'aunt.may@example.net');
    expect(relative).to.include({ trust: 'threaded', verified: false });
    const fromRelative = (await messagesOf(inbound.conversation.id)).find((m) => m.body === 'Any news on the results?')!;
    expect(fromRelative.sender).to.include({ trust: 'threaded', verified: false });
    expect(fromRelative.sender.note).to.equal('Sender replied in this thread; not verified');

    // The next `auto` reply (lab results) goes to the patient's own verified address.
    const next = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'HbA1c 6.1%', channel: 'auto' }, admin.token);
    expect(next.body.channel).to.equal('email');
    expect((await sentFor('email', next.body.id)).request.personalizations[0].to[0].email).to.equal('lab.patient@example.org');
    // The relative writing did not consent for the patient: email consent still comes from the patient's own first mail.
    const patient = (await t.api.get(`/api/patients/${inbound.patientId}`, admin.token)).body;
    expect(patient.consent.email.source).to.equal('patient_initiated');
  });

  it('does not open the patient’s thread to the relative in the web chat, even with a code to their own address; agents get a suggestion', async () => {
    const { inbound, replyTo } = await emailPatient('biopsy.patient@example.org');
    await postInboundEmail(t, { from: 'cousin@example.net', to: replyTo, text: 'Forwarding for my cousin' });
    const visitor = await startVisitor(t, { name: 'Cousin' });
    const leaked: WidgetMessage[] = [];
    visitor.socket.on('message:created', (m) => leaked.push(m));
    await visitor.call('message:send', { clientId: newClientId(), body: 'hello from the web' });
    const confirmed = await continueByEmail(visitor, 'cousin@example.net');
    expect(confirmed.ok, JSON.stringify(confirmed)).to.equal(true);
    expect(confirmed.session.linked).to.equal(false);
    expect(confirmed.session.conversationId).not.to.equal(inbound.conversation.id);
    const history = await visitor.call('messages:since', { afterSeq: 0 });
    const seen = [...leaked, ...history.items].map((m: WidgetMessage) => m.body);
    expect(seen).to.include('hello from the web');
    expect(seen).not.to.include('My lab results, please');
    expect(seen).not.to.include('Your results are ready');
    // The address is still the cousin's threaded contact on the patient, not the visitor's, and nothing was merged.
    expect((await identityIn(inbound.patientId, 'cousin@example.net'))?.trust).to.equal('threaded');
    expect((await models().Patient.findById(inbound.patientId).lean())!.mergedInto ?? null).to.equal(null);

    const suggestions = await t.api.get('/api/identity/suggestions', supervisor.token);
    expect(suggestions.status).to.equal(200);
    const pair = (suggestions.body.items as any[]).find((s) => s.patients.some((p: { id: string }) => p.id === inbound.patientId));
    expect(pair).to.include({ kind: 'same_person', evidence: 'code_to_unverified_identity' });
    expect(pair.identity.value).to.equal('cousin@example.net');
    expect((await t.api.get('/api/identity/suggestions', agent.token)).status).to.equal(403);
    visitor.socket.disconnect();
  });

  it('threads no outsider by guessed Message-IDs: thousands of database-like ids, even the reply’s own id, count for nothing', async () => {
    const { inbound } = await emailPatient('guess.patient@example.org');
    const reply = (await messagesOf(inbound.conversation.id)).find((m) => m.direction === 'outbound')!;
    const hex = reply.id.slice(0, 16);
    const guesses = Array.from({ length: 3000 }, (_, i) => `<${hex}${(i).toString(16).padStart(8, '0')}@inbound.hub.example.com>`);
    const headers = `From: outsider@example.com\r\nMessage-ID: <x-1@mail.example.com>\r\nIn-Reply-To: <${reply.id}@inbound.hub.example.com>\r\nReferences: ${guesses.join(' ')}\r\n`;
    expect((await postInboundEmail(t, { from: 'outsider@example.com', headers, text: 'show me the thread' })).status).to.equal(200);
    const stored = await models().Message.findOne({ providerMessageId: '<x-1@mail.example.com>' }).lean().orFail();
    expect(stored.conversationId).not.to.equal(inbound.conversation.id);
    expect(stored.patientId).not.to.equal(inbound.patientId);
  });

  it('stores a spoofed email (SPF fail, no DKIM) marked "sender not verified": it verifies, reopens and consents to nothing', async () => {
    const { inbound } = await emailPatient('spoofed.patient@example.org');
    await t.api.post(`/api/conversations/${inbound.conversation.id}/resolve`, undefined, admin.token);
    const before = await models().Identity.findOne({ patientId: inbound.patientId, kind: 'email' }).lean().orFail();
    const res = await postInboundEmail(t, { from: 'spoofed.patient@example.org', SPF: 'fail', dkim: 'none', text: 'Send my results to my new address' });
    expect(res.status).to.equal(200);
    const stored = await models().Message.findOne({ patientId: inbound.patientId, direction: 'inbound' }).sort({ createdAt: -1 }).lean().orFail();
    const record = (await messagesOf(stored.conversationId)).find((m) => m.id === stored._id)!;
    expect(record.body).to.equal('Send my results to my new address'); // nothing is lost
    expect(record.sender).to.include({ authenticated: false, verified: false });
    expect(record.sender.note).to.match(/^Sender not verified/);
    expect((await t.api.get(`/api/conversations/${inbound.conversation.id}`, admin.token)).body.status).to.equal('resolved');
    const after = await models().Identity.findById(before._id).lean().orFail();
    expect(new Date(after.lastSeenAt).getTime()).to.equal(new Date(before.lastSeenAt).getTime());

    // From an unknown address it starts its own patient, whose address is only asserted: no email goes there.
    await postInboundEmail(t, { from: 'stranger@spoofed.example', SPF: 'softfail', dkim: 'none', text: 'hi' });
    const identity = await models().Identity.findOne({ kind: 'email', trustEvidence: 'unauthenticated_email' }).sort({ createdAt: -1 }).lean().orFail();
    expect(identity.trust).to.equal('asserted');
    const conversation = await models().Conversation.findOne({ patientId: identity.patientId }).lean().orFail();
    const attempt = await t.api.post(`/api/conversations/${conversation._id}/messages`, { body: 'your results', channel: 'email' }, admin.token);
    expect(attempt.status).to.equal(409);
    expect(attempt.body.error.code).to.equal('IDENTITY_NOT_VERIFIED');
    const options = (await t.api.get(`/api/conversations/${conversation._id}/reply-options`, admin.token)).body;
    expect(options.channels.find((c: { channel: string }) => c.channel === 'email').unavailable).to.equal('identity_not_verified');
  });

  it('lets an agent verify an identity only explicitly, with a reason in the audit trail', async () => {
    const { inbound, replyTo } = await emailPatient('promote.patient@example.org');
    await postInboundEmail(t, { from: 'second.address@example.org', to: replyTo, text: 'from my other address' });
    const identity = (await identityIn(inbound.patientId, 'second.address@example.org'))!;
    expect(identity.trust).to.equal('threaded');
    const base = `/api/patients/${inbound.patientId}/identities/${encodeURIComponent(identity.id)}`;
    const short = await t.api.post(`${base}/verify`, { reason: 'ok' }, agent.token);
    expect(short.status).to.equal(400);
    expect(short.body.error.field).to.equal('reason');
    const verified = await t.api.post(`${base}/verify`, { reason: 'Patient confirmed this address on a phone call' }, agent.token);
    expect(verified.status).to.equal(200);
    expect(verified.body).to.include({ trust: 'verified', evidence: 'agent_promotion', verified: true });
    const entries = (await t.api.get(`/api/audit?action=identity.verify&limit=10`, admin.token)).body.items as { reason: string; actorId: string; patientId: string }[];
    expect(entries.find((e) => e.patientId === inbound.patientId)).to.include({ reason: 'Patient confirmed this address on a phone call', actorId: agent.agent.id });
    expect((await t.api.post(`/api/patients/${inbound.patientId}/identities/email:unknown/verify`, { reason: 'Patient confirmed on a call' }, agent.token)).status).to.equal(404);
    expect((await t.api.get('/api/audit/verify', admin.token)).body.ok).to.equal(true);
  });

  it('merges two patients after review and undoes it by detaching: both threads get their messages back, all audited', async () => {
    const a = await patientWrites(t, { channel: 'sms', from: '+13035550101', body: 'A: first' });
    await patientWrites(t, { channel: 'sms', from: '+13035550101', body: 'A: second' });
    const b = await patientWrites(t, { channel: 'sms', from: '+13035550102', body: 'B: first' });
    const reason = 'Same person: confirmed date of birth on a call';
    expect((await t.api.post(`/api/patients/${a.patientId}/merge`, { intoPatientId: b.patientId, reason }, agent.token)).status).to.equal(403);
    expect((await t.api.post(`/api/patients/${a.patientId}/merge`, { intoPatientId: a.patientId, reason }, supervisor.token)).status).to.equal(400);
    const merged = await t.api.post(`/api/patients/${a.patientId}/merge`, { intoPatientId: b.patientId, reason }, supervisor.token);
    expect(merged.status, JSON.stringify(merged.body)).to.equal(200);
    const together = (await messagesOf(b.conversation.id)).filter((m) => m.direction === 'inbound').map((m) => m.body);
    expect(together).to.have.members(['A: first', 'A: second', 'B: first']);

    const phoneOfA = (await identityIn(b.patientId, '+13035550101'))!;
    const detached = await t.api.post(`/api/patients/${b.patientId}/identities/${encodeURIComponent(phoneOfA.id)}/detach`, { reason: 'Not the same person after all' }, supervisor.token);
    expect(detached.status, JSON.stringify(detached.body)).to.equal(200);
    expect(detached.body).to.include({ patientId: a.patientId, restored: true, movedMessages: 2 });
    const backInA = (await messagesOf(detached.body.conversationId)).filter((m) => m.direction === 'inbound').map((m) => m.body);
    expect(backInA).to.deep.equal(['A: first', 'A: second']);
    expect((await messagesOf(b.conversation.id)).filter((m) => m.direction === 'inbound').map((m) => m.body)).to.deep.equal(['B: first']);
    expect((await models().Patient.findById(a.patientId).lean())!.mergedInto ?? null).to.equal(null);
    // A's next text lands in A's thread again.
    expect((await patientWrites(t, { channel: 'sms', from: '+13035550101', body: 'A: third' })).patientId).to.equal(a.patientId);

    const audit = async (action: string) => (await t.api.get(`/api/audit?action=${action}&limit=20`, admin.token)).body.items as { reason: string; actorId: string }[];
    expect((await audit('patient.merge')).some((e) => e.reason === reason && e.actorId === supervisor.agent.id)).to.equal(true);
    expect((await audit('identity.detach')).some((e) => e.reason === 'Not the same person after all')).to.equal(true);
    expect((await t.api.get('/api/audit/verify', admin.token)).body.ok).to.equal(true);
  });

  it('keeps one consistent patient through 20 concurrent hand-offs from the web chat while the patient keeps texting', async () => {
    const phone = '+13035550150';
    const owner = await patientWrites(t, { channel: 'sms', from: phone, body: 'owner: start' });
    const visitors = await Promise.all(Array.from({ length: 20 }, (_, i) => startVisitor(t, { name: `Visitor ${i}` })));
    await Promise.all(visitors.map((v, i) => v.call('message:send', { clientId: newClientId(), body: `web ${i}` })));
    const ctx = t.hub.services.timeline;
    const webIdentities = visitors.map((v) => identityKey(ctx, { kind: 'web', value: v.session.visitorId }).id);
    const visitorPatients = await Promise.all(webIdentities.map(async (id) => (await models().Identity.findById(id).lean())!.patientId));
    const outcomes = await Promise.all([
      ...webIdentities.map((id) => linkVisitor(ctx, id, { kind: 'phone', value: phone }, 'phone')),
      ...Array.from({ length: 5 }, (_, i) => patientWrites(t, { channel: 'sms', from: phone, body: `owner: during ${i}` })),
    ]);
    expect(outcomes.slice(0, 20).every((o) => 'merged' in o && o.patientId === owner.patientId)).to.equal(true);
    const identities = await models().Identity.find({ patientId: owner.patientId }).lean();
    expect(identities.filter((i) => i.kind === 'web')).to.have.length(20);
    const conversations = await models().Conversation.find({ patientId: owner.patientId, status: { $ne: 'resolved' } }).lean();
    expect(conversations).to.have.length(1);
    const all = await messagesOf(conversations[0]!._id);
    expect(all.map((m) => m.seq)).to.deep.equal(all.map((_, i) => i + 1));
    const bodies = all.map((m) => m.body);
    for (let i = 0; i < 20; i++) expect(bodies).to.include(`web ${i}`);
    for (let i = 0; i < 5; i++) expect(bodies).to.include(`owner: during ${i}`);
    // Every visitor's own patient now points at the owner; none kept a message.
    for (const id of visitorPatients) {
      expect((await models().Patient.findById(id).lean())!.mergedInto).to.equal(owner.patientId);
      expect(await models().Message.countDocuments({ patientId: id })).to.equal(0);
    }
    for (const v of visitors) v.socket.disconnect();
  });

  it('tells an agent of another team only that a merged conversation is gone, and takes a transferred conversation out of their socket', async () => {
    expect((await t.api.post('/api/teams', { id: 'cardiology', name: 'Cardiology' }, admin.token)).status).to.be.oneOf([200, 201]);
    const cardiology = await t.agent({ name: 'Cara Cardio', teamIds: ['cardiology'] });
    const phone = '+13035550160';
    const owner = await patientWrites(t, { channel: 'sms', from: phone, body: 'cardiology patient' });
    await t.api.post(`/api/conversations/${owner.conversation.id}/assign`, { teamId: 'cardiology' }, admin.token);

    // A front-desk agent has the visitor's chat open when the visitor proves to be the cardiology patient.
    const visitor = await startVisitor(t, { name: 'Heart Patient' });
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'chest tightness since yesterday' });
    const frontSocket = t.socket(agent.token);
    const cardioSocket = t.socket(cardiology.token);
    await Promise.all([connected(frontSocket), connected(cardioSocket)]);
    expect((await frontSocket.emitWithAck('conversation:join', sent.message.conversationId)).ok).to.equal(true);
    const leaked: unknown[] = [];
    frontSocket.on('conversation:merged', (p) => leaked.push(p));
    const closed = nextEvent<{ conversationId: string; reason: string }>(frontSocket, 'conversation:closed');
    const toCardiology = nextEvent<{ conversation: { id: string } }>(cardioSocket, 'conversation:merged');
    const startedAt = new Date();
    await visitor.call('verify:start', { channel: 'sms', address: phone, consent: true });
    await visitor.call('verify:confirm', { code: await codeSentTo(t, 'sms', phone, startedAt) });
    expect(await closed).to.deep.equal({ conversationId: sent.message.conversationId, reason: 'merged_elsewhere' });
    expect((await toCardiology).conversation.id).to.equal(owner.conversation.id);
    await roundTrip(frontSocket);
    expect(leaked).to.deep.equal([]);

    // A transfer: the front-desk agent had a conversation open; it goes to cardiology; its typing no longer reaches them.
    const other = await patientWrites(t, { channel: 'sms', from: '+13035550161', body: 'front desk question' });
    expect((await frontSocket.emitWithAck('conversation:join', other.conversation.id)).ok).to.equal(true);
    const gone = nextEvent<{ conversationId: string; reason: string }>(frontSocket, 'conversation:closed', (p) => p.conversationId === other.conversation.id);
    await t.api.post(`/api/conversations/${other.conversation.id}/assign`, { teamId: 'cardiology' }, admin.token);
    expect((await gone).reason).to.equal('access_lost');
    let typed = false;
    frontSocket.on('typing', () => (typed = true));
    expect((await cardioSocket.emitWithAck('conversation:join', other.conversation.id)).ok).to.equal(true);
    cardioSocket.emit('typing', { conversationId: other.conversation.id, isTyping: true });
    await roundTrip(cardioSocket);
    await roundTrip(frontSocket);
    expect(typed).to.equal(false);
    frontSocket.disconnect();
    cardioSocket.disconnect();
    visitor.socket.disconnect();
  });

  // Last in this file: it moves the hub's clock.
  it('takes a supervisor’s socket out of a conversation when their emergency grant ends', async () => {
    const other = await patientWrites(t, { channel: 'sms', from: '+13035550170', body: 'cardiology only' });
    await t.api.post(`/api/conversations/${other.conversation.id}/assign`, { teamId: 'cardiology' }, admin.token);
    const socket = t.socket(supervisor.token);
    await connected(socket);
    expect((await socket.emitWithAck('conversation:join', other.conversation.id)).ok).to.equal(false);
    const grant = await t.api.post(`/api/conversations/${other.conversation.id}/break-glass`, { reason: 'Patient collapsed in the lobby, need history' }, supervisor.token);
    expect(grant.status).to.equal(201);
    expect((await socket.emitWithAck('conversation:join', other.conversation.id)).ok).to.equal(true);
    const closed = nextEvent<{ conversationId: string; reason: string }>(socket, 'conversation:closed');
    t.clock.advance(6 * 60_000);
    expect(await closed).to.deep.equal({ conversationId: other.conversation.id, reason: 'grant_expired' });
    socket.disconnect();
  });
});
