import { expect } from 'chai';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
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
    expect(items.some((m) => m.direction === 'system' && /^SMS undelivered \(.*landline.*\) → sent by Email$/.test(m.body))).to.equal(true);
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
