import { expect } from 'chai';
import { attachIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { ingestInbound } from '../../../server/timeline/ingest/ingest-inbound.ts';
import { resolveConversation } from '../../../server/timeline/conversation-actions.ts';
import type { NormalizedInbound } from '../../../channels/contract.ts';
import { startTestHub, TestClock, type TestHub } from '../../support/test-hub.ts';

let n = 0;
const sms = (from: string, body = 'hello'): NormalizedInbound => ({
  channel: 'sms', from: { kind: 'phone', value: from }, providerKey: `test:${++n}:${Date.now()}`, body,
});

describe('timeline: identities, patients and the one open conversation', () => {
  let t: TestHub;
  const clock = new TestClock();
  before(async () => {
    t = await startTestHub({ label: 'continuity', clock });
  });
  after(() => t.close());
  const ctx = () => t.hub.services.timeline;
  const admin = { agentId: 'system-test', role: 'admin' as const, teamIds: [], sessionId: 'test' };

  it('makes one patient of "(415) 555-0100", "+14155550100" and "415.555.0100"', async () => {
    const a = await ingestInbound(ctx(), sms('(415) 555-0100'));
    const b = await ingestInbound(ctx(), sms('+14155550100'));
    const c = await ingestInbound(ctx(), sms('415.555.0100'));
    expect(a.newPatient).to.equal(true);
    expect([b.patientId, c.patientId]).to.deep.equal([a.patientId, a.patientId]);
    expect([b.conversation.id, c.conversation.id]).to.deep.equal([a.conversation.id, a.conversation.id]);
    expect(await ctx().models.Identity.countDocuments({ patientId: a.patientId })).to.equal(1);
  });

  it('stores no phone number in clear text: the identity is keyed by a blind index', async () => {
    await ingestInbound(ctx(), sms('+14155550177'));
    const raw = JSON.stringify(await ctx().models.Identity.find().lean());
    expect(raw).not.to.include('4155550177');
  });

  it('makes one patient when two first messages race from a new number', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ingestInbound(ctx(), sms('+1 (212) 555-0142'))));
    expect(new Set(results.map((r) => r.patientId)).size).to.equal(1);
    expect(new Set(results.map((r) => r.conversation.id)).size).to.equal(1);
    expect(results.filter((r) => r.newPatient)).to.have.length(1);
    const patientId = results[0]!.patientId;
    expect(await ctx().models.Patient.countDocuments({ _id: patientId })).to.equal(1);
    expect(await ctx().models.Conversation.countDocuments({ patientId })).to.equal(1);
    expect(await ctx().models.Message.countDocuments({ patientId })).to.equal(8);
  });

  it('keeps a patient who writes by SMS and then by email in one open conversation', async () => {
    const first = await ingestInbound(ctx(), sms('+13125550111'));
    await attachIdentity(ctx(), first.patientId, { kind: 'email', value: 'Pat@Example.org' }, { evidence: 'agent_promotion' });
    const second = await ingestInbound(ctx(), {
      channel: 'email', from: { kind: 'email', value: 'pat@example.org' }, providerKey: `test:email:${Date.now()}`, body: 'by email now',
    });
    expect(second.patientId).to.equal(first.patientId);
    expect(second.conversation.id).to.equal(first.conversation.id);
    expect(second.conversation.channels).to.have.members(['sms', 'email']);
    expect(second.conversation.lastInboundChannel).to.equal('email');
  });

  it('refuses to attach an identity that belongs to another patient', async () => {
    const a = await ingestInbound(ctx(), sms('+13125550122'));
    const b = await ingestInbound(ctx(), sms('+13125550133'));
    try {
      await attachIdentity(ctx(), b.patientId, { kind: 'phone', value: '+13125550122' }, { evidence: 'agent_promotion' });
      expect.fail('attached');
    } catch (error) {
      expect((error as { code: string }).code).to.equal('CONFLICT');
    }
    const identities = await ctx().models.Identity.find({ patientId: a.patientId }).lean();
    expect(identities).to.have.length(1);
  });

  it('reopens a conversation resolved within the window, with a system event', async () => {
    const first = await ingestInbound(ctx(), sms('+16175550100'));
    const conversation = await ctx().models.Conversation.findById(first.conversation.id).lean().orFail();
    await resolveConversation(ctx(), admin, conversation);
    clock.advance(2 * 3600_000);
    const thanks = await ingestInbound(ctx(), sms('+16175550100', 'thanks!'));
    expect(thanks.conversation.id).to.equal(first.conversation.id);
    expect(thanks.conversation.status).to.equal('open');
    expect(thanks.conversation.reopenCount).to.equal(1);
    const events = await ctx().models.Message.find({ conversationId: first.conversation.id, direction: 'system' }).sort({ seq: 1 }).lean();
    expect(events.map((e) => ctx().cipher.decrypt(e.bodyEnc))).to.deep.equal(['Conversation resolved', 'Conversation reopened by a new sms message']);
  });

  it('opens a new conversation when the resolved one is older than the window', async () => {
    const first = await ingestInbound(ctx(), sms('+16175550199'));
    const conversation = await ctx().models.Conversation.findById(first.conversation.id).lean().orFail();
    await resolveConversation(ctx(), admin, conversation);
    clock.advance(t.config.reopenWindowMs + 60_000);
    const later = await ingestInbound(ctx(), sms('+16175550199', 'new question'));
    expect(later.patientId).to.equal(first.patientId);
    expect(later.conversation.id).not.to.equal(first.conversation.id);
    expect(later.conversation.status).to.equal('open');
    expect(await ctx().models.Conversation.countDocuments({ patientId: first.patientId, status: { $ne: 'resolved' } })).to.equal(1);
  });

  it('does not let an automated message reopen a resolved conversation', async () => {
    const first = await ingestInbound(ctx(), sms('+16175550155'));
    await resolveConversation(ctx(), admin, await ctx().models.Conversation.findById(first.conversation.id).lean().orFail());
    const auto = await ingestInbound(ctx(), { ...sms('+16175550155', 'Out of office'), isAutomated: true });
    expect(auto.conversation.id).to.equal(first.conversation.id);
    expect(auto.conversation.status).to.equal('resolved');
  });
});
