import { expect } from 'chai';
import type { WidgetMessage } from '../../../server/realtime/widget-events.ts';
import { patientWrites, startTestHub, waitFor, type TestHub } from '../../support/test-hub.ts';
import { codeSentTo, connectVisitor, newClientId, startVisitor } from '../../support/widget-visitor.ts';

describe('channel-switch continuity: a web visitor proves a phone or email and joins that patient’s thread', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'widget-continuity' });
  });
  after(() => t.close());
  const models = () => t.hub.services.db.models;

  it('shows an unverified visitor who types a known phone nothing of that patient’s history', async () => {
    const owner = await patientWrites(t, { channel: 'sms', from: '+16175550101', body: 'my biopsy results?' });
    const visitor = await startVisitor(t, { name: 'Someone Else', phone: '(617) 555-0101' });
    expect(visitor.session.linked).to.equal(false);
    expect(visitor.session.conversationId).to.equal(null);
    expect(visitor.session.prefill.phone).to.equal('+16175550101');
    const leaked: WidgetMessage[] = [];
    visitor.socket.on('message:created', (m) => leaked.push(m));
    const own = await visitor.call('message:send', { clientId: newClientId(), body: 'hi, it is me' });
    await patientWrites(t, { channel: 'sms', from: '+16175550101', body: 'and the follow-up?' });
    // Events for that message went out before the webhook answered; this call's answer comes after any of them.
    const history = await visitor.call('messages:since', { afterSeq: 0 });
    const seen = [...leaked, ...history.items].map((m: WidgetMessage) => m.body);
    expect(seen).to.include('hi, it is me');
    expect(seen).not.to.include('my biopsy results?');
    expect(seen).not.to.include('and the follow-up?');
    // The typed phone is a claim, not an identity: the phone still has one patient, not the visitor's.
    const visitorPatientId = (await models().Message.findById(own.message.id).lean())!.patientId;
    expect(visitorPatientId).not.to.equal(owner.patientId);
    expect((await models().Identity.find({ patientId: visitorPatientId }).lean()).map((i) => i.kind)).to.deep.equal(['web']);
    // Agents see the typed number as an unverified contact of the visitor, not as the phone patient's.
    const admin = await t.admin();
    const profile = await t.api.get(`/api/patients/${visitorPatientId}`, admin.token);
    expect(profile.body.unverifiedContacts).to.deep.include({ kind: 'phone', value: '+16175550101', at: profile.body.unverifiedContacts[0].at });
    visitor.socket.disconnect();
  });

  it('merges the web chat into the patient’s open SMS conversation after a code sent by SMS: nothing lost, nothing doubled', async () => {
    const admin = await t.admin();
    const sms = await patientWrites(t, { channel: 'sms', from: '+16175550102', body: 'need a refill' });
    const visitor = await startVisitor(t, { name: 'Rita Refill' });
    const webFirst = await visitor.call('message:send', { clientId: newClientId(), body: 'it is Rita, from the website' });
    const webSecond = await visitor.call('message:send', { clientId: newClientId(), body: 'about the refill' });
    const visitorConversation = webFirst.message.conversationId as string;
    expect(visitorConversation).not.to.equal(sms.conversation.id);

    const agentSocket = t.socket(admin.token);
    const merged = new Promise<{ fromConversationId: string; conversation: { id: string } }>((resolve) => agentSocket.on('conversation:merged', resolve));
    const startedAt = new Date(Date.now() - 1000);
    const started = await visitor.call('verify:start', { channel: 'sms', address: '617-555-0102', consent: true });
    expect(started.ok).to.equal(true);
    expect(started.sentTo).to.equal('•••• 0102');
    const code = await codeSentTo(t, 'sms', '+16175550102', startedAt);

    const wrong = await visitor.call('verify:confirm', { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.error.code).to.equal('CODE_INCORRECT');
    expect(wrong.error.message).to.match(/4 attempts left/);

    const confirmed = await visitor.call('verify:confirm', { code });
    expect(confirmed.ok).to.equal(true);
    expect(confirmed.session.linked).to.equal(true);
    expect(confirmed.session.linkedBy).to.equal('phone');
    expect(confirmed.session.conversationId).to.equal(sms.conversation.id);
    expect((await merged).fromConversationId).to.equal(visitorConversation);

    const history = await visitor.call('messages:since', { afterSeq: 0 });
    const bodies = history.items.map((m: WidgetMessage) => m.body);
    expect(bodies).to.deep.equal(['need a refill', 'it is Rita, from the website', 'about the refill']);
    expect(history.items.map((m: WidgetMessage) => m.channel)).to.deep.equal(['sms', 'webchat', 'webchat']);
    // Same messages (ids kept), gap-free seqs, the visitor's empty conversation gone.
    expect(history.items.slice(1).map((m: WidgetMessage) => m.id)).to.deep.equal([webFirst.message.id, webSecond.message.id]);
    const stored = await models().Message.find({ conversationId: sms.conversation.id }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => m.seq)).to.deep.equal(stored.map((_, i) => i + 1));
    expect(await models().Message.countDocuments({ conversationId: visitorConversation })).to.equal(0);
    expect(await models().Conversation.countDocuments({ _id: visitorConversation })).to.equal(0);
    expect(stored.some((m) => m.direction === 'system' && t.hub.services.timeline.cipher.decrypt(m.bodyEnc).includes('verified by a code sent by text message'))).to.equal(true);

    // Consent for texting recorded with the wording the widget showed.
    const patient = await models().Patient.findById(sms.patientId).lean();
    expect(patient?.consent.sms.status).to.equal('opted_in');
    expect(patient?.preferences.channel).to.equal('sms');
    expect(patient?.consentHistory.some((h) => h.source === 'widget_verification' && /Reply STOP/.test(h.wording ?? ''))).to.equal(true);
    agentSocket.disconnect();

    // The patient closes the page; the agent's auto reply goes by SMS, and their SMS answer lands in the same thread.
    visitor.socket.disconnect();
    await waitFor(async () => !(await t.hub.services.timeline.isWidgetConnected(sms.patientId)));
    const reply = await t.api.post(`/api/conversations/${sms.conversation.id}/messages`, { body: 'Refill sent to your pharmacy.', channel: 'auto' }, admin.token);
    expect(reply.status).to.equal(201);
    expect(reply.body.channel).to.equal('sms');
    expect(reply.body.channelReason).to.equal('preferred_channel');
    await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items as { messageId: string; request: { To: string } }[])
      .some((e) => e.messageId === reply.body.id && e.request.To === '+16175550102'));
    const answer = await patientWrites(t, { channel: 'sms', from: '+16175550102', body: 'thank you!' });
    expect(answer.conversation.id).to.equal(sms.conversation.id);

    // Back in the widget later: the whole verified thread, every channel.
    const back = await connectVisitor(t, confirmed.session.token);
    const all = await back.call('messages:since', { afterSeq: 0 });
    expect(all.items.map((m: WidgetMessage) => m.body)).to.include.members(['need a refill', 'Refill sent to your pharmacy.', 'thank you!']);
    back.socket.disconnect();
  });

  it('makes the proven phone the visitor’s own when no patient has it yet, and continues by email the same way', async () => {
    const visitor = await startVisitor(t, { name: 'New Person' });
    const sent = await visitor.call('message:send', { clientId: newClientId(), body: 'first time here' });
    const startedAt = new Date(Date.now() - 1000);
    await visitor.call('verify:start', { channel: 'email', address: 'New.Person@Example.org', consent: true, language: 'es' });
    const code = await codeSentTo(t, 'email', 'new.person@example.org', startedAt);
    const confirmed = await visitor.call('verify:confirm', { code });
    expect(confirmed.session.linkedBy).to.equal('email');
    expect(confirmed.session.conversationId).to.equal(sent.message.conversationId);
    const identities = await models().Identity.find({ patientId: sent.message.conversationId.split('-')[0] }).lean();
    expect(identities.map((i) => i.kind).sort()).to.deep.equal(['email', 'web']);
    expect(identities.every((i) => i.verifiedAt)).to.equal(true);
    visitor.socket.disconnect();
  });

  it('limits codes: five wrong tries end the code, and a sixth request within the hour waits', async () => {
    const visitor = await startVisitor(t);
    await visitor.call('verify:start', { channel: 'sms', address: '+16175550103', consent: true });
    let last: any;
    for (let i = 0; i < 5; i++) last = await visitor.call('verify:confirm', { code: String(100000 + i) });
    expect(last.error.code).to.equal('TOO_MANY_ATTEMPTS');
    const afterwards = await visitor.call('verify:confirm', { code: '123456' });
    expect(afterwards.error.code).to.equal('CODE_EXPIRED');
    for (let i = 0; i < 4; i++) expect((await visitor.call('verify:start', { channel: 'sms', address: '+16175550103', consent: true })).ok).to.equal(true);
    const limited = await visitor.call('verify:start', { channel: 'sms', address: '+16175550103', consent: true });
    expect(limited.error.code).to.equal('RATE_LIMITED');
    expect(limited.error.message).to.match(/try again in \d+ minutes?/);
    visitor.socket.disconnect();
  });

  it('expires a code after 10 minutes and needs consent to continue by text', async () => {
    const visitor = await startVisitor(t);
    const noConsent = await visitor.call('verify:start', { channel: 'sms', address: '+16175550104', consent: false });
    expect(noConsent.error).to.include({ code: 'CONSENT_REQUIRED', field: 'consent' });
    const badAddress = await visitor.call('verify:start', { channel: 'sms', address: 'not a phone', consent: true });
    expect(badAddress.error.field).to.equal('address');
    const startedAt = new Date(Date.now() - 1000);
    await visitor.call('verify:start', { channel: 'sms', address: '+16175550104', consent: true });
    const code = await codeSentTo(t, 'sms', '+16175550104', startedAt);
    t.clock.advance(11 * 60_000);
    const late = await visitor.call('verify:confirm', { code });
    expect(late.error.code).to.equal('CODE_EXPIRED');
    visitor.socket.disconnect();
  });

  it('finishes an interrupted merge the next time the visitor connects', async () => {
    const sms = await patientWrites(t, { channel: 'sms', from: '+16175550105', body: 'sms side' });
    const visitor = await startVisitor(t);
    const web = await visitor.call('message:send', { clientId: newClientId(), body: 'web side' });
    visitor.socket.disconnect();
    const webPatientId = (await models().Message.findById(web.message.id).lean())!.patientId;
    // The hub stopped right after marking the merge: nothing moved yet.
    await models().Patient.updateOne({ _id: webPatientId }, { $set: { mergedInto: sms.patientId } });
    const back = await connectVisitor(t, visitor.token);
    expect(back.session.conversationId).to.equal(sms.conversation.id);
    const all = await back.call('messages:since', { afterSeq: 0 });
    expect(all.items.map((m: WidgetMessage) => m.body)).to.deep.equal(['sms side', 'web side']);
    back.socket.disconnect();
  });
});
