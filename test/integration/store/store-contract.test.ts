/**
 * The store contract (server/db/STORE-CONTRACT.md): every read-modify-write
 * puts what it read into its write's filter, so a write another node makes in
 * between is never overwritten. Two MongoDB nodes are not available here: each
 * test makes "the other node" write straight through the collection (no
 * locks) right after the section read and before it writes, and checks that
 * the section notices instead of writing over it.
 */
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { consumeRateLimit } from '../../../server/db/rate-limits.ts';
import { AppError } from '../../../server/errors.ts';
import { appendMessage, relocateMessage } from '../../../server/timeline/append-message.ts';
import { recordConsent } from '../../../server/timeline/consent.ts';
import { assignConversation } from '../../../server/timeline/conversation-actions.ts';
import { ingestInbound } from '../../../server/timeline/ingest/ingest-inbound.ts';
import { identityKey, resolveIdentity } from '../../../server/timeline/ingest/resolve-identity.ts';
import { mergePatientInto } from '../../../server/timeline/link/merge-patients.ts';
import { IN_FLIGHT_MS, mrnClaimId } from '../../../server/timeline/patients/patient-claims.ts';
import { patientKeys } from '../../../server/timeline/patients/patient-keys.ts';
import { cleanPatientFields, registerPatient } from '../../../server/timeline/patients/patient-registry.ts';
import { recordStaffConsent } from '../../../server/timeline/patients/staff-consent.ts';
import { MAX_CODE_ATTEMPTS } from '../../../server/widget/verification-codes.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';
import { codeSentTo, startVisitor } from '../../support/widget-visitor.ts';

type ReadMethod = 'findById' | 'find' | 'findOneAndUpdate';

/**
 * The next call of `model[method]` whose arguments `when` accepts runs `meanwhile` after it has
 * read the store and before its caller gets the result: another node's write between a read and
 * the write it feeds. Returns whether it fired.
 */
function meanwhileAfterNext(model: Model<any>, method: ReadMethod, meanwhile: (...args: any[]) => Promise<unknown>, when: (...args: any[]) => boolean = () => true): () => boolean {
  const target = model as unknown as Record<ReadMethod, (...args: unknown[]) => { exec(...a: unknown[]): Promise<unknown> }>;
  const original = target[method];
  let fired = false;
  target[method] = function interposed(this: unknown, ...args: unknown[]) {
    const query = original.apply(this, args);
    if (fired || !when(...args)) return query;
    fired = true;
    target[method] = original;
    const exec = query.exec.bind(query);
    query.exec = async (...a: unknown[]) => {
      const result = await exec(...a);
      await meanwhile(...args);
      return result;
    };
    return query;
  };
  return () => fired;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}

describe('store contract: conditions in the filter, not in this process', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'store-contract' });
  });
  after(() => t.close());
  const ctx = () => t.hub.services.timeline;
  const models = () => ctx().models;
  const later = (ms: number) => new Date(ctx().clock().getTime() + ms);
  const phonePatient = async (phone: string) => (await resolveIdentity(ctx(), { kind: 'phone', value: phone }, { evidence: 'inbound_sms' })).patient;

  it('rate limits: a hit another node counted meanwhile is not written over, and fills the window', async () => {
    const rule = { limit: 2, windowMs: 3600_000, what: 'test hits' };
    const key = 'contract:sliding';
    const now = ctx().clock();
    await consumeRateLimit(models(), ctx().locks, key, rule, now);
    const fired = meanwhileAfterNext(models().RateLimit, 'findById', () =>
      models().RateLimit.collection.updateOne({ _id: key } as never, { $push: { hits: now }, $inc: { rev: 1 } } as never),
    );
    expect((await rejection(consumeRateLimit(models(), ctx().locks, key, rule, now))).code).to.equal('RATE_LIMITED');
    expect(fired()).to.equal(true);
    expect((await models().RateLimit.findById(key).lean())!.hits).to.have.length(2);
  });

  it('one-time codes: attempts are taken before a code is compared, so guesses made elsewhere use them up', async () => {
    const visitor = await startVisitor(t, { name: 'Guess Count' });
    const startedAt = new Date(Date.now() - 1000);
    expect((await visitor.call('verify:start', { channel: 'sms', address: '+16175550177', consent: true })).ok).to.equal(true);
    const code = await codeSentTo(t, 'sms', '+16175550177', startedAt);
    const { id } = identityKey(ctx(), { kind: 'web', value: visitor.session.visitorId });
    // Five wrong guesses sent to other nodes at the same moment, all counted there.
    await models().VerificationChallenge.collection.updateOne({ _id: id } as never, { $set: { attempts: MAX_CODE_ATTEMPTS } });
    const late = await visitor.call('verify:confirm', { code });
    expect(late.error.code).to.equal('CODE_EXPIRED');
    visitor.socket.disconnect();
  });

  it('consent: the same change recorded meanwhile elsewhere is not recorded twice', async () => {
    const patient = await phonePatient('+16175550178');
    const at = ctx().clock();
    meanwhileAfterNext(models().Patient, 'findById', () =>
      models().Patient.collection.updateOne({ _id: patient._id } as never, {
        $set: { 'consent.sms': { status: 'opted_out', at, source: 'sms_keyword:STOP' } },
        $push: { consentHistory: { channel: 'sms', status: 'opted_out', at, source: 'sms_keyword:STOP' } },
      } as never),
      (id) => id === patient._id,
    );
    expect(await recordConsent(ctx(), patient._id, 'sms', 'opted_out', 'sms_keyword:STOP')).to.equal(false);
    const stored = await models().Patient.findById(patient._id).lean().orFail();
    expect(stored.consentHistory.map((h) => h.status)).to.deep.equal(['opted_out']);
  });

  it('staff consent: a STOP that lands while a staff opt-in is being recorded wins', async () => {
    const patient = await phonePatient('+16175550179');
    const at = ctx().clock();
    const actor = { agentId: 'contract-agent', role: 'admin' as const, teamIds: [], sessionId: 's' };
    meanwhileAfterNext(models().Patient, 'findById', () =>
      models().Patient.collection.updateOne({ _id: patient._id } as never, {
        $set: { 'consent.sms': { status: 'opted_out', at, source: 'sms_keyword:STOP' } },
        $push: { consentHistory: { channel: 'sms', status: 'opted_out', at, source: 'sms_keyword:STOP' } },
      } as never),
      (id) => id === patient._id,
    );
    const refused = await rejection(recordStaffConsent(ctx(), actor, patient._id, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: 'You may text me' }));
    expect(refused.code).to.equal('OPTED_OUT_BY_PATIENT');
    expect((await models().Patient.findById(patient._id).lean().orFail()).consent.sms.status).to.equal('opted_out');
  });

  it('patient-initiated consent never overwrites an opt-out recorded after the patient was read', async () => {
    const fired = meanwhileAfterNext(models().Patient, 'findOneAndUpdate', (filter: { _id: string }) =>
      models().Patient.collection.updateOne({ _id: filter._id } as never, { $set: { 'consent.sms': { status: 'opted_out', at: ctx().clock(), source: 'sms_keyword:STOP' } } } as never),
    );
    const result = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+16175550180' }, providerKey: 'contract:initiated', body: 'hello' });
    expect(fired()).to.equal(true);
    expect((await models().Patient.findById(result.patientId).lean().orFail()).consent.sms.status).to.equal('opted_out');
  });

  it('the conversation preview stays the newest message’s when a newer one was recorded meanwhile', async () => {
    const first = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+16175550181' }, providerKey: 'contract:preview:1', body: 'first' });
    // The caller read the conversation (appendMessage decides from that copy first), then another node recorded newer messages.
    const conversation = await models().Conversation.findById(first.conversation.id).lean().orFail();
    await models().Conversation.collection.updateOne({ _id: conversation._id } as never, { $set: { lastSeq: conversation.lastSeq + 5, previewEnc: ctx().cipher.encrypt('newer') } });
    await appendMessage(ctx(), conversation, {
      direction: 'inbound', channel: 'sms', body: 'older', author: { type: 'patient', agentId: null }, deliveryStatus: 'received',
    });
    const stored = await models().Conversation.findById(conversation._id).lean().orFail();
    expect(ctx().cipher.decrypt(stored.previewEnc!)).to.equal('newer');
    expect(stored.lastSeq).to.equal(conversation.lastSeq + 5);
    expect(stored.messageCount).to.equal(conversation.messageCount + 1);
  });

  it('assignment: an agent checked against the team is not assigned once the conversation moved to another team', async () => {
    const first = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+16175550182' }, providerKey: 'contract:assign', body: 'hi' });
    const stale = await models().Conversation.findById(first.conversation.id).lean().orFail();
    const agent = await t.agent({ name: 'Front Desk Only', teamIds: [stale.teamId] });
    await models().Conversation.collection.updateOne({ _id: stale._id } as never, { $set: { teamId: 'another-team' } });
    const actor = { agentId: 'contract-admin', role: 'admin' as const, teamIds: [], sessionId: 's' };
    expect((await rejection(assignConversation(ctx(), actor, stale, { assigneeId: agent.agent.id }))).code).to.equal('CONFLICT');
    expect((await models().Conversation.findById(stale._id).lean().orFail()).assigneeId ?? null).to.equal(null);
  });

  it('a message moved by a merge is moved (and counted) once, whoever else moves it from the same read', async () => {
    const source = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+16175550183' }, providerKey: 'contract:move:src', body: 'to move' });
    const target = await ingestInbound(ctx(), { channel: 'sms', from: { kind: 'phone', value: '+16175550184' }, providerKey: 'contract:move:dst', body: 'stays' });
    const message = await models().Message.findById(source.message.id).lean().orFail();
    const into = await models().Conversation.findById(target.conversation.id).lean().orFail();
    const once = await relocateMessage(ctx(), message, into);
    const again = await relocateMessage(ctx(), message, into);
    expect([once.duplicate, again.duplicate]).to.deep.equal([false, true]);
    const stored = await models().Conversation.findById(into._id).lean().orFail();
    expect(stored.messageCount).to.equal(into.messageCount + 1);
    expect((await models().Message.findById(message._id).lean().orFail()).seq).to.equal(once.message.seq);
  });

  it('merge: a STOP recorded on the proven patient while the profiles merge is kept', async () => {
    const into = await phonePatient('+16175550185');
    const from = (await resolveIdentity(ctx(), { kind: 'web', value: 'contract-visitor-1' }, { evidence: 'visitor_token' })).patient;
    await recordConsent(ctx(), from._id, 'sms', 'opted_in', 'widget_prechat', 'You may text me');
    const stopAt = later(60_000);
    meanwhileAfterNext(models().Patient, 'findById', () =>
      models().Patient.collection.updateOne({ _id: into._id } as never, {
        $set: { 'consent.sms': { status: 'opted_out', at: stopAt, source: 'sms_keyword:STOP' } },
        $push: { consentHistory: { channel: 'sms', status: 'opted_out', at: stopAt, source: 'sms_keyword:STOP' } },
      } as never),
      (id) => id === into._id,
    );
    await mergePatientInto(ctx(), from._id, into._id, 'a test');
    const stored = await models().Patient.findById(into._id).lean().orFail();
    expect(stored.consent.sms.status).to.equal('opted_out');
    expect(stored.consentHistory.map((h) => `${h.status}:${h.source}`)).to.include.members(['opted_out:sms_keyword:STOP', 'opted_in:widget_prechat']);
  });

  describe('an MRN belongs to one patient across nodes (patient claims)', () => {
    const actor = { agentId: 'contract-registrar', role: 'admin' as const, teamIds: ['front-desk'], sessionId: 's' };
    const mrnKeyOf = (mrn: string) => patientKeys(ctx().cipher, { name: 'x', dateOfBirth: null, mrn: cleanPatientFields(ctx(), { mrn }).mrn! }).mrnKey!;

    it('refuses a registration when another node registered the same MRN after the duplicate check', async () => {
      const mrnKey = mrnKeyOf('CT-4401');
      const fired = meanwhileAfterNext(models().Patient, 'find', async () => {
        await models().Patient.collection.insertOne({ _id: 'other-node-patient', mrnKey, mergedInto: null, createdAt: ctx().clock() } as never);
        await models().PatientClaim.collection.insertOne({ _id: mrnClaimId(mrnKey), patientId: 'other-node-patient', at: ctx().clock() } as never);
      });
      const refused = await rejection(registerPatient(ctx(), actor, { name: 'Second Registration', mrn: 'CT-4401', teamId: 'front-desk', allowDuplicate: false }));
      expect(fired()).to.equal(true);
      expect([refused.code, refused.details.field]).to.deep.equal(['CONFLICT', 'mrn']);
      expect(await models().Patient.countDocuments({ mrnKey })).to.equal(1);
    });

    it('takes over a stale claim (its patient never got the MRN) once it is old enough', async () => {
      const mrnKey = mrnKeyOf('CT-4402');
      await models().PatientClaim.collection.insertOne({ _id: mrnClaimId(mrnKey), patientId: 'a-registration-that-failed', at: new Date(ctx().clock().getTime() - IN_FLIGHT_MS - 1) } as never);
      const { patient } = await registerPatient(ctx(), actor, { name: 'Takes Over', mrn: 'CT-4402', teamId: 'front-desk', allowDuplicate: false });
      expect((await models().PatientClaim.findById(mrnClaimId(mrnKey)).lean())!.patientId).to.equal(patient._id);
    });
  });
});
