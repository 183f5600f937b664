import { expect } from 'chai';
import { ingestInbound } from '../../../server/timeline/ingest/ingest-inbound.ts';
import { listMessages } from '../../../server/timeline/message-history.ts';
import { addNote } from '../../../server/timeline/reply/send-reply.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('timeline under concurrency', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'concurrency' });
  });
  after(() => t.close());
  const ctx = () => t.hub.services.timeline;

  it('stores a provider message once when 20 copies arrive at the same time', async () => {
    const copy = { channel: 'sms' as const, from: { kind: 'phone' as const, value: '+14155550123' }, providerKey: 'twilio:SMdup0001', body: 'same' };
    const results = await Promise.all(Array.from({ length: 20 }, () => ingestInbound(ctx(), copy)));
    expect(new Set(results.map((r) => r.message.id)).size).to.equal(1);
    expect(await ctx().models.Message.countDocuments({ providerKey: 'twilio:SMdup0001' })).to.equal(1);
    const conversation = await ctx().models.Conversation.findById(results[0]!.conversation.id).lean().orFail();
    expect(conversation.messageCount).to.equal(1);
    expect(conversation.unreadCount).to.equal(1);
    expect(results.filter((r) => !r.duplicate).length).to.be.at.least(1);
  });

  it('gives 40 concurrent appends to one conversation the seqs 1..40, each once', async () => {
    const first = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+14155550124' }, providerKey: 'seq:0', body: '0' });
    const conversation = await ctx().models.Conversation.findById(first.conversation.id).lean().orFail();
    const actor = { agentId: 'a-test', role: 'admin' as const, teamIds: [], sessionId: 's' };
    await Promise.all(
      Array.from({ length: 39 }, (_, i) =>
        i % 2
          ? ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+14155550124' }, providerKey: `seq:${i + 1}`, body: String(i + 1) })
          : addNote(ctx(), actor, conversation, `note ${i}`),
      ),
    );
    const all = await listMessages(ctx(), conversation._id, { after: 0, limit: 200 });
    expect(all.items.map((m) => m.seq)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    const after = await ctx().models.Conversation.findById(conversation._id).lean().orFail();
    expect(after.lastSeq).to.equal(40);
    expect(after.messageCount).to.equal(40);
  });
});
