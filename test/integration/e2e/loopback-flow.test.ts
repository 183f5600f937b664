/** End to end on the sandbox transports: patient writes -> agent's socket -> reply -> provider request -> status pushed. */
import { expect } from 'chai';
import type { ChannelAdapter } from '../../../channels/contract.ts';
import { connected, nextEvent, patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('end to end: inbound, live push, reply by the continuity rules, outbound', () => {
  let t: TestHub;
  let agent: Session;
  before(async () => {
    t = await startTestHub({ label: 'e2e' });
    agent = await t.agent({ name: 'Dana Desk' });
  });
  after(() => t.close());

  it('answers an SMS by SMS: queued, recorded as Twilio would receive it, sent, then delivered, live', async () => {
    const socket = t.socket(agent.token);
    await connected(socket);
    const pushed = nextEvent<{ message: { id: string; conversationId: string } }>(socket, 'message:created');
    const inbound = await patientWrites(t, { channel: 'sms', from: '(415) 555-0601', body: 'Can I move my appointment?' });
    expect((await pushed).message.id).to.equal(inbound.message.id);

    const sent = nextEvent<{ message: { id: string; delivery: { status: string } } }>(socket, 'message:updated', (p) => p.message.delivery.status === 'sent');
    const delivered = nextEvent<{ message: { id: string; delivery: { status: string } } }>(socket, 'message:updated', (p) => p.message.delivery.status === 'delivered');
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Yes — which day suits you?' }, agent.token);
    expect(reply.status).to.equal(201);
    expect(reply.body).to.include({ direction: 'outbound', channel: 'sms', channelReason: 'last_inbound_channel' });
    expect(reply.body.delivery.status).to.equal('queued');
    const update = await sent;
    expect(update.message.id).to.equal(reply.body.id);
    // Sandbox mode then simulates Twilio's "delivered" callback through the real handler.
    expect((await delivered).message.id).to.equal(reply.body.id);

    const outbox = await t.api.get('/api/dev/outbox?channel=sms', (await t.admin()).token);
    const entry = outbox.body.items.find((e: { messageId: string }) => e.messageId === reply.body.id);
    expect(entry.id).to.match(/^SM[0-9a-f]{32}$/);
    expect(entry.request).to.deep.include({ To: '+14155550601', Body: 'Yes — which day suits you?', StatusCallback: `${t.config.publicBaseUrl}/webhooks/twilio/status?m=${reply.body.id}` });

    const history = await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, agent.token);
    const stored = history.body.items.find((m: { id: string }) => m.id === reply.body.id);
    expect(stored.providerMessageId).to.equal(entry.id);
    expect(stored.delivery.history.map((h: { status: string }) => h.status)).to.deep.equal(['queued', 'sent', 'delivered']);
    const conversation = (await t.api.get(`/api/conversations/${inbound.conversation.id}`, agent.token)).body;
    expect(conversation.firstResponseAt).to.be.a('string');
    expect(conversation.preview).to.deep.equal({ body: 'Yes — which day suits you?', direction: 'outbound' });
  });

  it('logs ids and outcomes, never the patient’s words or number', () => {
    const logs = t.logs.join('\n');
    expect(logs).to.include('inbound message stored');
    for (const phi of ['Can I move my appointment', 'which day suits you', '4155550601', '555-0601']) expect(logs).not.to.include(phi);
  });

  it('keeps a note inside the hub: stored, pushed, never sent', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'note.test@example.org', body: 'hello' });
    const before = (await t.api.get('/api/dev/outbox', (await t.admin()).token)).body.items.length;
    const note = await t.api.post(`/api/conversations/${inbound.conversation.id}/notes`, { body: 'Called the lab' }, agent.token);
    expect(note.status).to.equal(201);
    expect(note.body).to.include({ direction: 'note', channel: 'internal' });
    await t.hub.settled();
    const stored = await t.hub.services.db.models.Message.findById(note.body.id).lean();
    expect(stored).to.include({ direction: 'note', outboxDueAt: null });
    expect((await t.api.get('/api/dev/outbox', (await t.admin()).token)).body.items.length).to.equal(before);
  });

  it('answers an email by email with a SendGrid-shaped request carrying our message id', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'Jo@Example.org', body: 'question' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'answer', channel: 'auto' }, agent.token);
    expect(reply.body.channel).to.equal('email');
    await waitFor(async () => (await t.api.get('/api/dev/outbox?channel=email', (await t.admin()).token)).body.items.some((e: { messageId: string }) => e.messageId === reply.body.id));
    const entry = (await t.api.get('/api/dev/outbox?channel=email', (await t.admin()).token)).body.items.find((e: { messageId: string }) => e.messageId === reply.body.id);
    expect(entry.request.personalizations[0].to[0].email).to.equal('jo@example.org');
    expect(entry.request.custom_args).to.deep.equal({ carethread_message_id: reply.body.id });
  });

  it('refuses an SMS reply to a patient who only wrote by email (409, nothing queued)', async () => {
    const inbound = await patientWrites(t, { channel: 'email', from: 'only.email@example.org', body: 'hi' });
    const res = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'x', channel: 'sms' }, agent.token);
    expect(res.status).to.equal(409);
    expect(res.body.error).to.include({ code: 'NO_IDENTITY_FOR_CHANNEL', field: 'channel' });
    const options = await t.api.get(`/api/conversations/${inbound.conversation.id}/reply-options`, agent.token);
    expect(options.body.auto).to.deep.equal({ channel: 'email', reason: 'last_inbound_channel' });
    expect(options.body.channels).to.deep.include({ channel: 'sms', unavailable: 'no_verified_identity' });
  });

  it('follows the patient’s preferred channel when the last one has no consent', async () => {
    const first = await patientWrites(t, { channel: 'sms', from: '+14155550604', body: 'text first' });
    const models = t.hub.services.db.models;
    const { attachIdentity } = await import('../../../server/timeline/ingest/resolve-identity.ts');
    await attachIdentity(t.hub.services.timeline, first.patientId, { kind: 'email', value: 'pref@example.org' }, { evidence: 'agent_promotion' });
    await models.Patient.updateOne({ _id: first.patientId }, { $set: { 'consent.sms.status': 'opted_out', 'consent.email.status': 'opted_in' } });
    const bad = await t.api.request('PATCH', `/api/patients/${first.patientId}/preferences`, { timezone: 'Mars/Olympus' }, agent.token);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('timezone');
    const prefs = await t.api.request('PATCH', `/api/patients/${first.patientId}/preferences`, { channel: 'email', language: 'es' }, agent.token);
    expect(prefs.status).to.equal(200);
    expect(prefs.body).to.deep.equal({ channel: 'email', language: 'es', timezone: null });
    const reply = await t.api.post(`/api/conversations/${first.conversation.id}/messages`, { body: 'por correo' }, agent.token);
    expect(reply.body).to.include({ channel: 'email', channelReason: 'preferred_channel' });
  });

  it('stores a resent reply once when the client repeats its clientId', async () => {
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550602', body: 'hi' });
    const send = () => t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'once', clientId: 'c-123' }, agent.token);
    const [a, b] = await Promise.all([send(), send()]);
    expect(a.body.id).to.equal(b.body.id);
    const history = await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, agent.token);
    expect(history.body.items.filter((m: { body: string }) => m.body === 'once')).to.have.length(1);
  });

  it('stores a patient message once when the provider retries it', async () => {
    const a = await patientWrites(t, { channel: 'sms', from: '+14155550603', body: 'retry me', providerMessageId: 'SMretry1' });
    const b = await patientWrites(t, { channel: 'sms', from: '+14155550603', body: 'retry me', providerMessageId: 'SMretry1' });
    expect(b.duplicate).to.equal(true);
    expect(b.message.id).to.equal(a.message.id);
  });
});

describe('end to end: delivery failures become outcomes on the message', () => {
  let t: TestHub;
  let attempts = 0;
  const flaky: ChannelAdapter = {
    id: 'sms',
    label: 'SMS',
    async send(envelope) {
      attempts++;
      if (envelope.body.startsWith('invalid')) return { ok: false, error: { code: 'INVALID_NUMBER', message: 'The number cannot receive SMS', retryable: false } };
      if (attempts === 1) return { ok: false, error: { code: 'RATE_LIMITED', message: 'Try later', retryable: true } };
      return { ok: true, providerMessageId: `SM${'0'.repeat(31)}${attempts}`, status: 'sent' };
    },
  };
  before(async () => {
    t = await startTestHub({ label: 'e2e-fail', adapters: { sms: flaky } });
  });
  after(() => t.close());

  it('marks a permanent failure failed, with its reason, pushed to agents', async () => {
    const admin = await t.admin();
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550701', body: 'hi' });
    const socket = t.socket(admin.token);
    await connected(socket);
    attempts = 1;
    const failed = nextEvent<{ message: { delivery: { status: string; error: { code: string } } } }>(socket, 'message:updated', (p) => p.message.delivery.status === 'failed');
    await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'invalid number reply' }, admin.token);
    const { message } = await failed;
    expect(message.delivery.error).to.deep.include({ code: 'INVALID_NUMBER', retryable: false });
  });

  it('retries a retryable failure and then sends', async () => {
    const admin = await t.admin();
    attempts = 0;
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550702', body: 'hi' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'retry please' }, admin.token);
    t.clock.advance(5_000);
    await waitFor(async () => {
      const items = (await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, admin.token)).body.items;
      return items.find((m: { id: string }) => m.id === reply.body.id).delivery.status === 'sent';
    });
    expect(attempts).to.equal(2);
  });
});
