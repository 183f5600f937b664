import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import type { WidgetMessage } from '../../../server/realtime/widget-events.ts';
import { connected, nextEvent, startTestHub, TestClock, waitFor, type TestHub } from '../../support/test-hub.ts';
import { TINY_PNG } from '../../support/sample-files.ts';
import { connectVisitor, newClientId, startVisitor } from '../../support/widget-visitor.ts';

describe('web chat widget: chatting with the clinic', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'widget-chat' });
  });
  after(() => t.close());

  it('tells the widget the clinic name, file limits and the consent wording in three languages', async () => {
    const res = await t.api.get('/api/widget/config');
    expect(res.status).to.equal(200);
    expect(res.body.clinicName).to.equal(t.config.clinicName);
    expect(res.body.away).to.equal(false);
    expect(res.body.attachments.contentTypes).to.include('application/pdf');
    expect(Object.keys(res.body.consentWording)).to.have.members(['en', 'es', 'it']);
    expect(res.body.consentWording.es.sms).to.include('STOP');
  });

  it('refuses a pre-chat form without a name, with a bad phone, or with SMS consent but no phone, naming the field', async () => {
    const noName = await t.api.post('/api/widget/visitors', { name: ' ' });
    expect(noName.status).to.equal(400);
    expect(noName.body.error.field).to.equal('name');
    const badPhone = await t.api.post('/api/widget/visitors', { name: 'Ann', phone: '12' });
    expect(badPhone.status).to.equal(400);
    expect(badPhone.body.error.field).to.equal('phone');
    const consentNoPhone = await t.api.post('/api/widget/visitors', { name: 'Ann', consent: { sms: true } });
    expect(consentNoPhone.status).to.equal(400);
    expect(consentNoPhone.body.error.field).to.equal('phone');
  });

  it('delivers a patient’s widget message to agents and the agent’s reply back to the widget, read ticks included', async () => {
    const admin = await t.admin();
    const agentSocket = t.socket(admin.token);
    await connected(agentSocket);
    const visitor = await startVisitor(t, { name: 'Wanda Web' });
    const clientId = newClientId();
    const toAgents = nextEvent<{ message: { body: string; channel: string; conversationId: string } }>(agentSocket, 'message:created', (p) => p.message.body === 'Is the clinic open Saturday?');
    const ack = await visitor.call('message:send', { clientId, body: 'Is the clinic open Saturday?' });
    expect(ack.ok).to.equal(true);
    expect(ack.message.clientId).to.equal(clientId);
    const seen = await toAgents;
    expect(seen.message.channel).to.equal('webchat');

    const inWidget = nextEvent<WidgetMessage>(visitor.socket, 'message:created', (m) => m.direction === 'outbound');
    const reply = await t.api.post(`/api/conversations/${seen.message.conversationId}/messages`, { body: 'Yes, 9 to 12.', channel: 'auto' }, admin.token);
    expect(reply.status).to.equal(201);
    expect(reply.body.channel).to.equal('webchat');
    expect(reply.body.channelReason).to.equal('widget_connected');
    const shown = await inWidget;
    expect(shown.body).to.equal('Yes, 9 to 12.');
    expect(shown.author).to.equal('clinic');
    expect(shown).not.to.have.property('channelReason');

    visitor.socket.emit('messages:seen', { upToSeq: shown.seq });
    await waitFor(async () => (await t.hub.services.db.models.Message.findById(shown.id).lean())?.delivery.status === 'read');
    visitor.socket.disconnect();
    agentSocket.disconnect();
  });

  it('shows each side the other typing: the agent in the widget, the patient in the inbox', async () => {
    const admin = await t.admin();
    const visitor = await startVisitor(t);
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'typing test' });
    const agentSocket = t.socket(admin.token);
    await connected(agentSocket);
    await new Promise((resolve) => agentSocket.emit('conversation:join', sent.message.conversationId, resolve));
    const agentTyping = nextEvent<{ isTyping: boolean }>(visitor.socket, 'agent:typing');
    agentSocket.emit('typing', { conversationId: sent.message.conversationId, isTyping: true });
    expect((await agentTyping).isTyping).to.equal(true);
    const patientTyping = nextEvent<{ conversationId: string; isTyping: boolean }>(agentSocket, 'patient:typing');
    visitor.socket.emit('typing', { isTyping: true });
    expect(await patientTyping).to.deep.equal({ conversationId: sent.message.conversationId, isTyping: true });
    agentSocket.disconnect();
    visitor.socket.disconnect();
  });

  it('stores a message resent with the same client id once (offline resend after a dropped connection)', async () => {
    const visitor = await startVisitor(t);
    const clientId = newClientId();
    const first = await visitor.call('message:send', { clientId, body: 'sent twice' });
    visitor.socket.disconnect();
    const again = await connectVisitor(t, visitor.token);
    const second = await again.call('message:send', { clientId, body: 'sent twice' });
    expect(second.message.id).to.equal(first.message.id);
    const history = await again.call('messages:since', { afterSeq: 0 });
    expect(history.items.filter((m: WidgetMessage) => m.clientId === clientId)).to.have.length(1);
    again.socket.disconnect();
  });

  it('catches up after a reconnect with exactly the messages after the last seq it had', async () => {
    const admin = await t.admin();
    const visitor = await startVisitor(t);
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'before the tunnel' });
    visitor.socket.disconnect();
    await t.api.post(`/api/conversations/${sent.message.conversationId}/messages`, { body: 'while you were away', channel: 'webchat' }, admin.token);
    const back = await connectVisitor(t, visitor.token);
    expect(back.session.conversationId).to.equal(sent.message.conversationId);
    const missed = await back.call('messages:since', { afterSeq: sent.message.seq });
    expect(missed.items.map((m: WidgetMessage) => m.body)).to.deep.equal(['while you were away']);
    back.socket.disconnect();
  });

  it('never shows internal notes or system events to the patient', async () => {
    const admin = await t.admin();
    const visitor = await startVisitor(t);
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'hello' });
    const leaked: WidgetMessage[] = [];
    visitor.socket.on('message:created', (m) => leaked.push(m));
    await t.api.post(`/api/conversations/${sent.message.conversationId}/notes`, { body: 'internal: check chart' }, admin.token);
    // The note was stored (and any event emitted) before the POST answered; this call's answer comes after such an event.
    const history = await visitor.call('messages:since', { afterSeq: 0 });
    expect([...leaked, ...history.items].map((m) => m.body)).not.to.include('internal: check chart');
    visitor.socket.disconnect();
  });

  it('ends a chat on request: the token stops working on every device', async () => {
    const visitor = await startVisitor(t);
    const other = await connectVisitor(t, visitor.token);
    const ended = nextEvent<{ reason: string }>(other.socket, 'session:ended');
    expect((await visitor.call('session:end')).ok).to.equal(true);
    await ended;
    const refused = await connectVisitor(t, visitor.token).then(() => null, (e: Error & { data?: { code: string } }) => e);
    expect(refused?.data?.code).to.equal('SESSION_ENDED');
  });

  it('refuses a forged visitor token', async () => {
    const refused = await connectVisitor(t, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged').then(() => null, (e: Error & { data?: { code: string } }) => e);
    expect(refused?.data?.code).to.equal('UNAUTHENTICATED');
  });

  it('takes a photo upload with a message: agents and the patient can open it, another visitor cannot', async () => {
    const admin = await t.admin();
    const visitor = await startVisitor(t);
    const photo = TINY_PNG;
    const upload = (token: string | null, type: string, body: Buffer, name = 'rash photo.png') =>
      fetch(`${t.url}/api/widget/attachments`, {
        method: 'POST', body: new Uint8Array(body),
        headers: { 'content-type': type, 'x-file-name': encodeURIComponent(name), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
    expect((await upload(null, 'image/png', photo)).status).to.equal(401);
    const refusedType = await upload(visitor.token, 'application/x-msdownload', photo, 'setup.exe');
    expect(refusedType.status).to.equal(415);
    expect(((await refusedType.json()) as { error: { message: string } }).error.message).to.match(/PDF, a photo/);
    expect((await upload(visitor.token, 'application/pdf', Buffer.alloc(8 * 1024 * 1024 + 1))).status).to.equal(413);

    const uploaded = await upload(visitor.token, 'image/png', photo);
    expect(uploaded.status).to.equal(201);
    const { attachmentId } = (await uploaded.json()) as { attachmentId: string };
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: '', attachmentIds: [attachmentId] });
    expect(sent.ok).to.equal(true);
    expect(sent.message.attachments).to.deep.equal([{ name: 'rash photo.png', contentType: 'image/png', size: photo.length }]);

    const byAgent = await fetch(`${t.url}/api/conversations/${sent.message.conversationId}/messages/${sent.message.id}/attachments/0`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(Buffer.from(await byAgent.arrayBuffer()).equals(photo)).to.equal(true);
    const path = `/api/widget/messages/${sent.message.id}/attachments/0`;
    const byPatient = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${visitor.token}` } });
    expect(byPatient.status).to.equal(200);
    expect(byPatient.headers.get('content-disposition')).to.match(/^attachment/);
    expect(Buffer.from(await byPatient.arrayBuffer()).equals(photo)).to.equal(true);

    const stranger = await startVisitor(t);
    expect((await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${stranger.token}` } })).status).to.equal(404);
    // Nor can a stranger send someone else's upload as their own.
    const reused = await stranger.call('message:send', { clientId: newClientId(), body: 'look', attachmentIds: [attachmentId] });
    expect(reused.error.field).to.equal('attachmentIds');
    visitor.socket.disconnect();
    stranger.socket.disconnect();
  });

  it('links a visitor by a portal identity proof and refuses a wrong, an expired or an undated one', async () => {
    const proof = (patientId: string, issuedAt: number) => ({
      patientId, issuedAt, hash: createHmac('sha256', t.config.widget.identitySecret).update(`${patientId}.${issuedAt}`).digest('hex'),
    });
    const now = () => Math.floor(t.clock.now().getTime() / 1000);
    const wrong = await t.api.post('/api/widget/visitors', { name: '', portal: { patientId: 'MRN-20931', issuedAt: now(), hash: 'a'.repeat(64) } });
    expect(wrong.status).to.equal(403);
    expect(wrong.body.error.message).to.match(/^portal\.hash/);
    const expired = await t.api.post('/api/widget/visitors', { name: '', portal: proof('MRN-20931', now() - 2 * 3600) });
    expect(expired.status).to.equal(403);
    expect(expired.body.error.message).to.match(/^portal\.issuedAt: the proof expired/);
    // The old, undated form (a hash of the id alone) no longer works: copied once, it would work forever.
    const undated = await t.api.post('/api/widget/visitors', {
      name: '', portal: { patientId: 'MRN-20931', hash: createHmac('sha256', t.config.widget.identitySecret).update('MRN-20931').digest('hex') },
    });
    expect(undated.status).to.equal(400);
    expect(undated.body.error.field).to.equal('portal.issuedAt');
    const first = await startVisitor(t, { name: 'Paula Portal', portal: proof('MRN-20931', now()) });
    expect(first.session.linked).to.equal(true);
    expect(first.session.linkedBy).to.equal('portal');
    const sent = await first.call('message:send', { clientId: newClientId(), body: 'from my laptop' });
    const second = await startVisitor(t, { name: '', portal: proof('MRN-20931', now() - 60) });
    expect(second.session.conversationId).to.equal(sent.message.conversationId);
    const history = await second.call('messages:since', { afterSeq: 0 });
    expect(history.items.map((m: WidgetMessage) => m.body)).to.include('from my laptop');
    first.socket.disconnect();
    second.socket.disconnect();
  });
});

describe('web chat widget: origins', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'widget-origins', env: { WIDGET_ALLOWED_ORIGINS: 'https://www.clinic.example' } });
  });
  after(() => t.close());

  it('answers an allowed site and refuses another with a readable ORIGIN_NOT_ALLOWED', async () => {
    const ok = await fetch(`${t.url}/api/widget/config`, { headers: { origin: 'https://www.clinic.example' } });
    expect(ok.status).to.equal(200);
    expect(ok.headers.get('access-control-allow-origin')).to.equal('https://www.clinic.example');
    const refused = await fetch(`${t.url}/api/widget/config`, { headers: { origin: 'https://evil.example' } });
    expect(refused.status).to.equal(403);
    // Readable by the refused page, so the widget can say why in the console.
    expect(refused.headers.get('access-control-allow-origin')).to.equal('https://evil.example');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
    expect(body.error.message).to.include('WIDGET_ALLOWED_ORIGINS');
  });

  it('refuses a widget socket from a site that is not allowed', async () => {
    const res = await t.api.post('/api/widget/visitors', { name: 'Eve' });
    const error = await connectVisitor(t, res.body.token, { origin: 'https://evil.example' }).then(
      () => null,
      (e: Error & { data?: { code: string } }) => e,
    );
    expect(error?.data?.code).to.equal('ORIGIN_NOT_ALLOWED');
  });

  it('serves /widget.js to other sites: cross-origin resource policy, gzip, ETag', async () => {
    const res = await fetch(`${t.url}/widget.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/javascript/);
    expect(res.headers.get('cross-origin-resource-policy')).to.equal('cross-origin');
    expect(res.headers.get('content-encoding')).to.equal('gzip');
    const again = await fetch(`${t.url}/widget.js`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).to.equal(304);
  });
});

describe('web chat widget: business hours', () => {
  let t: TestHub;
  const clock = new TestClock();
  before(async () => {
    // A Monday, 07:00 in New York: an hour before opening.
    clock.advance(Date.parse('2030-01-07T12:00:00Z') - Date.now());
    t = await startTestHub({ label: 'widget-hours', clock, env: { WIDGET_BUSINESS_HOURS: 'mon-fri 08:00-18:00; sat 09:00-12:00', CLINIC_TIMEZONE: 'America/New_York' } });
  });
  after(() => t.close());

  it('says agents are away outside business hours and when they are back', async () => {
    const res = await t.api.get('/api/widget/config');
    expect(res.body.away).to.equal(true);
    expect(res.body.nextOpenAt).to.equal('2030-01-07T13:00:00.000Z');
    clock.advance(2 * 3600_000);
    expect((await t.api.get('/api/widget/config')).body).to.include({ away: false, nextOpenAt: null });
  });
});

