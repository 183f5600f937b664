/**
 * A message stored just before the database went away, whose conversation
 * was never updated (the provider got a 503 and retries): the retry must
 * complete it, not be dropped as a duplicate, or the message would sit in the
 * database and never show in the inbox.
 */
import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { connected, nextEvent, startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('a provider retry after an append the database cut short', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'interrupted-append' });
  });
  after(() => t.close());

  it('records the stored message on its conversation once, and tells agents, then treats further retries as duplicates', async () => {
    const { Conversation, Message } = t.hub.services.db.models;
    const from = '+14155552601';
    const first = inboundSms({ From: from, Body: 'first' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', first)).status).to.equal(200);
    const second = inboundSms({ From: from, Body: 'the lab called me' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', second)).status).to.equal(200);
    await t.hub.settled();
    const stored = await Message.findOne({ providerMessageId: second.MessageSid }).lean().orFail();
    const complete = await Conversation.findById(stored.conversationId).lean().orFail();
    expect(complete.lastSeq).to.equal(stored.seq);

    // As if the database had gone between the insert and the conversation's update: the conversation as it was before.
    await Conversation.updateOne(
      { _id: complete._id },
      { $set: { lastSeq: stored.seq - 1, messageCount: complete.messageCount - 1, unreadCount: complete.unreadCount - 1 } },
    );

    const admin = await t.admin();
    const socket = t.socket(admin.token);
    await connected(socket);
    const created = nextEvent<{ message: { id: string } }>(socket, 'message:created', (p) => p.message.id === stored._id);
    expect((await postTwilio(t, '/webhooks/twilio/sms', second)).status).to.equal(200);
    await created;
    const repaired = await Conversation.findById(complete._id).lean().orFail();
    expect({ lastSeq: repaired.lastSeq, messageCount: repaired.messageCount, unreadCount: repaired.unreadCount }).to.deep.equal({
      lastSeq: complete.lastSeq, messageCount: complete.messageCount, unreadCount: complete.unreadCount,
    });

    // Another retry is a plain duplicate: nothing counted twice, still one message.
    expect((await postTwilio(t, '/webhooks/twilio/sms', second)).status).to.equal(200);
    await t.hub.settled();
    const after = await Conversation.findById(complete._id).lean().orFail();
    expect(after.messageCount).to.equal(complete.messageCount);
    expect(await Message.countDocuments({ providerMessageId: second.MessageSid })).to.equal(1);
  });
});
