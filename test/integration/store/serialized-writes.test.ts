/**
 * The embedded store (FerretDB) does not isolate an update from another on
 * the same document; every write through a model is serialized per document
 * (server/db/serialized-models.ts). These fail without it.
 */
import { expect } from 'chai';
import { advanceDeliveryStatus } from '../../../server/delivery/delivery-status.ts';
import { UnserializedWriteError } from '../../../server/db/serialized-models.ts';
import { patientWrites, startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('writes to one document, serialized', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'serialized-writes' });
  });
  after(() => t.close());
  const models = () => t.hub.services.db.models;

  it('keeps all of 50 concurrent updates to one document', async () => {
    await Promise.all(
      Array.from({ length: 50 }, () => models().HubSetting.updateOne({ _id: 'test-counter' }, { $inc: { 'value.n': 1 } }, { upsert: true })),
    );
    expect((await models().HubSetting.findById('test-counter').lean())?.value).to.deep.equal({ n: 50 });
  });

  it('never loses a patient’s read tick to the delivery worker’s bookkeeping on the same message', async () => {
    const ctx = t.hub.services.timeline;
    const admin = await t.admin();
    const inbound = await patientWrites(t, { channel: 'sms', from: '+14155550777', body: 'hello' });
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      ids.push((await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: `reply ${i}` }, admin.token)).body.id);
    }
    await t.hub.settled();
    // The race of a web chat reply: the worker records the send while the patient's "seen" marks it read.
    await Promise.all(
      ids.flatMap((id) => [
        models().Message.updateOne({ _id: id }, { $set: { outboxDueAt: null, providerMessageId: `webchat:${id}` } }),
        advanceDeliveryStatus(ctx, id, 'read'),
      ]),
    );
    const stored = await models().Message.find({ _id: { $in: ids } }).lean();
    expect(stored.map((m) => m.delivery.status)).to.deep.equal(ids.map(() => 'read'));
    expect(stored.map((m) => m.providerMessageId)).to.have.members(ids.map((id) => `webchat:${id}`));
  });

  it('refuses, before touching anything, a write that does not name one document', async () => {
    const before = await models().Message.countDocuments({ patientId: 'nobody', direction: 'inbound' });
    expect(() => models().Message.updateMany({ direction: 'inbound' }, { $set: { patientId: 'nobody' } })).to.throw(UnserializedWriteError);
    let error: unknown;
    await models().Conversation.updateOne({ status: 'open' }, { $set: { status: 'resolved' } }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(UnserializedWriteError);
    expect(await models().Message.countDocuments({ patientId: 'nobody', direction: 'inbound' })).to.equal(before);
    expect(await models().Conversation.countDocuments({ status: 'open' })).to.be.greaterThan(0);
  });
});
