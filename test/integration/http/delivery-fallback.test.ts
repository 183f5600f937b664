import { expect } from 'chai';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { postTwilio } from '../../support/fake-twilio.ts';
import { patientWrites, startTestHub, waitFor, type TestHub } from '../../support/test-hub.ts';

type Outbox = { messageId: string; request: Record<string, any> }[];

describe('channel fallback (DELIVERY_FALLBACK): a message that failed for good goes out on the next channel', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'fallback', env: { DELIVERY_FALLBACK: 'sms,email' } });
  });
  after(() => t.close());

  /** A patient who texts from `phone` and also has an email address with `evidence`, consented. */
  async function patient(phone: string, email: string, evidence: 'agent_promotion' | 'thread_reply') {
    const inbound = await patientWrites(t, { channel: 'sms', from: phone, body: 'hello' });
    await attachIdentity(t.hub.services.timeline, inbound.patientId, { kind: 'email', value: email }, { evidence });
    await t.hub.services.db.models.Patient.updateOne({ _id: inbound.patientId }, { $set: { 'consent.email': { status: 'opted_in', at: new Date(), source: 'test' } } });
    return inbound.conversation.id as string;
  }
  const outbox = async (channel: string): Promise<Outbox> => (await t.api.get(`/api/dev/outbox?channel=${channel}&limit=500`, (await t.admin()).token)).body.items;
  const history = async (conversationId: string) =>
    (await t.api.get(`/api/conversations/${conversationId}/messages`, (await t.admin()).token)).body.items as { id: string; direction: string; channel: string; body: string; channelReason: string | null; fallback: { of: string | null; next: string | null } | null }[];

  it('sends an SMS that reached a landline (30006) by email instead, linked, with the chain in the timeline', async () => {
    const conversationId = await patient('+15555550173', 'lena.landline@example.org', 'agent_promotion');
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Your appointment moved to 3 pm.', channel: 'sms' }, (await t.admin()).token);
    expect(reply.status).to.equal(201);
    const instead = await waitFor(async () => (await history(conversationId)).find((m) => m.channelReason === 'fallback'));
    expect(instead).to.include({ channel: 'email', body: 'Your appointment moved to 3 pm.' });
    expect(instead.fallback).to.deep.equal({ of: reply.body.id, next: null });
    const items = await history(conversationId);
    expect(items.find((m) => m.id === reply.body.id)!.fallback).to.deep.equal({ of: null, next: instead.id });
    await waitFor(async () => (await history(conversationId)).some((m) => m.direction === 'system' && /^SMS undelivered \(.*landline.*\) → sent by Email$/.test(m.body)));
    const mail = await waitFor(async () => (await outbox('email')).find((e) => e.messageId === instead.id));
    expect(JSON.stringify(mail.request)).to.include('lena.landline@example.org');
    // Offered once, however often the failure is reported.
    await t.hub.settled();
    expect((await history(conversationId)).filter((m) => m.channelReason === 'fallback')).to.have.length(1);
  });

  it('never falls back to an address that is not verified (it only wrote into a thread)', async () => {
    const conversationId = await patient('+15555550172', 'thread.only@example.org', 'thread_reply');
    const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Your results are ready.', channel: 'sms' }, (await t.admin()).token);
    expect(reply.status).to.equal(201);
    await waitFor(async () => (await history(conversationId)).some((m) => /no other channel of the clinic's fallback policy reaches the patient$/.test(m.body)));
    expect((await history(conversationId)).filter((m) => m.channelReason === 'fallback')).to.deep.equal([]);
    expect((await outbox('email')).some((e) => JSON.stringify(e.request).includes('thread.only@example.org'))).to.equal(false);
  });

  describe('a message with no delivery report past DELIVERY_FALLBACK_AFTER_MINUTES (30 by default)', () => {
    const message = (id: string) => t.hub.services.db.models.Message.findById(id).lean();
    /** An agent's SMS reply to a new patient at `phone` (with a verified, consented email), once the provider took it. */
    async function replied(phone: string, email: string, body: string) {
      const conversationId = await patient(phone, email, 'agent_promotion');
      const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body, channel: 'sms' }, (await t.admin()).token);
      expect(reply.status).to.equal(201);
      const sent = await waitFor(async () => {
        const m = await message(reply.body.id);
        return m?.providerMessageId ? m : null;
      });
      return { conversationId, id: reply.body.id as string, sid: sent.providerMessageId! };
    }

    it('sends an SMS the carrier never reported by email once the deadline passes, and one that was delivered not at all', async () => {
      const delivered = await replied('+15555550188', 'dana.delivered@example.org', 'See you Tuesday.');
      await waitFor(async () => (await message(delivered.id))?.delivery.status === 'delivered');
      // Two texts to the number whose carrier sends no reports; a report does come for the first.
      const reported = await replied('+15555550178', 'sam.silent@example.org', 'Please call us back.');
      const silent = await replied('+15555550178', 'sam.silent@example.org', 'Your lab results are in.');
      expect(silent.conversationId).to.equal(reported.conversationId);
      expect((await postTwilio(t, '/webhooks/twilio/status', { MessageSid: reported.sid, SmsSid: reported.sid, MessageStatus: 'delivered', SmsStatus: 'delivered', To: '+15555550178', ApiVersion: '2010-04-01' })).status).to.equal(200);
      await t.hub.settled();
      expect((await message(silent.id))!.delivery.status, 'before the deadline it only waits').to.equal('sent');
      expect((await history(silent.conversationId)).filter((m) => m.channelReason === 'fallback')).to.deep.equal([]);

      t.clock.advance(31 * 60_000);
      const instead = await waitFor(async () => (await history(silent.conversationId)).find((m) => m.channelReason === 'fallback'));
      expect(instead).to.include({ channel: 'email', body: 'Your lab results are in.' });
      expect(instead.fallback).to.deep.equal({ of: silent.id, next: null });
      // The event that names the chain follows the email it names.
      await waitFor(async () => (await history(silent.conversationId)).some((m) => m.direction === 'system' && m.body === 'SMS not delivered after 30 min → sent by Email'));
      const mail = await waitFor(async () => (await outbox('email')).find((e) => e.messageId === instead.id));
      expect(JSON.stringify(mail.request)).to.include('sam.silent@example.org');

      await t.hub.settled();
      expect((await history(delivered.conversationId)).filter((m) => m.channelReason === 'fallback' || m.direction === 'system'), 'no fallback for a delivered message').to.deep.equal([]);
      expect((await history(reported.conversationId)).filter((m) => m.channelReason === 'fallback').map((m) => m.fallback?.of)).to.deep.equal([silent.id]);
      // The SMS waits no more; a late report still moves it forward, and nothing falls back twice.
      expect((await message(silent.id))!.fallbackDueAt).to.equal(null);
      expect((await postTwilio(t, '/webhooks/twilio/status', { MessageSid: silent.sid, SmsSid: silent.sid, MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003', To: '+15555550178', ApiVersion: '2010-04-01' })).status).to.equal(200);
      await t.hub.settled();
      expect((await history(silent.conversationId)).filter((m) => m.channelReason === 'fallback')).to.have.length(1);
    });

    it('never sends a guardian’s overdue text to the patient, and stops waiting for it', async () => {
      const own = await startTestHub({ label: 'fallback-guardian', env: { DELIVERY_FALLBACK: 'sms,email' } });
      try {
        const child = await patientWrites(own, { channel: 'sms', from: '+15555550189', body: 'hi, it is Tom' });
        await attachIdentity(own.hub.services.timeline, child.patientId, { kind: 'email', value: 'tom.child@example.org' }, { evidence: 'agent_promotion' });
        const admin = await own.admin();
        const guardian = await own.api.post(`/api/patients/${child.patientId}/related-contacts`, {
          kind: 'phone', value: '+15555550178', relation: 'guardian', name: 'Gina Guardian', consent: true, reason: 'Mother of the patient, who is 9',
        }, admin.token);
        expect(guardian.status, JSON.stringify(guardian.body)).to.equal(201);
        const reply = await own.api.post(`/api/conversations/${child.conversation.id}/messages`, { body: 'Tom’s results are in.', channel: 'sms', recipientId: guardian.body.id }, admin.token);
        expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
        await waitFor(async () => (await own.hub.services.db.models.Message.findById(reply.body.id).lean())?.providerMessageId);
        own.clock.advance(31 * 60_000);
        await waitFor(async () => (await own.hub.services.db.models.Message.findById(reply.body.id).lean())?.fallbackDueAt === null);
        await own.hub.settled();
        expect(await own.hub.services.db.models.Message.countDocuments({ conversationId: child.conversation.id, channelReason: 'fallback' })).to.equal(0);
      } finally {
        await own.close();
      }
    });

    it('never falls back on time with the deadline at 0, nor for the hub’s own texts', async () => {
      const off = await startTestHub({ label: 'fallback-no-deadline', env: { DELIVERY_FALLBACK: 'sms,email', DELIVERY_FALLBACK_AFTER_MINUTES: '0' } });
      try {
        const inbound = await patientWrites(off, { channel: 'sms', from: '+15555550178', body: 'hello' });
        const reply = await off.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'hello back', channel: 'sms' }, (await off.admin()).token);
        expect(reply.status).to.equal(201);
        await off.hub.settled();
        const sent = await off.hub.services.db.models.Message.findById(reply.body.id).lean();
        expect(sent!.delivery.status).to.equal('sent');
        expect(sent!.fallbackDueAt).to.equal(null);
      } finally {
        await off.close();
      }
      // With the deadline on, a text the hub wrote by itself (no agent, no schedule) has none.
      const inbound = await patientWrites(t, { channel: 'sms', from: '+15555550178', body: 'I have chest pain' });
      await t.hub.settled();
      const own = await t.hub.services.db.models.Message.find({ conversationId: inbound.conversation.id, direction: 'outbound', 'author.type': 'system' }).lean();
      expect(own.length, 'the hub sent its safety reply').to.be.above(0);
      for (const m of own) expect(m.fallbackDueAt ?? null).to.equal(null);
    });
  });

  it('is off by default', async () => {
    const off = await startTestHub({ label: 'fallback-off' });
    try {
      const inbound = await patientWrites(off, { channel: 'sms', from: '+15555550173', body: 'hi' });
      await off.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'hello', channel: 'sms' }, (await off.admin()).token);
      await waitFor(async () => (await off.hub.services.db.models.Message.countDocuments({ conversationId: inbound.conversation.id, 'delivery.status': 'undelivered' })) === 1);
      await off.hub.settled();
      expect(await off.hub.services.db.models.Message.countDocuments({ conversationId: inbound.conversation.id, channelReason: 'fallback' })).to.equal(0);
    } finally {
      await off.close();
    }
  });
});
