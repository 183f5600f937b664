/**
 * What agents decide about identities, explicitly and with a reason (each an
 * audited route): verify an identity (the only way one becomes verified after
 * it was stored unverified), mark one shared, merge two patients, and detach
 * an identity, which undoes a merge for it: the identity and the messages it
 * sent or received go back to the patient it came from (or to a new one).
 */
import { Types } from 'mongoose';
import type { IdentityDoc, MessageDoc, PatientDoc } from '../../db/documents.ts';
import { AppError, notFound } from '../../errors.ts';
import { appendMessage, relocateMessage } from '../append-message.ts';
import { findOrOpenConversation } from '../ingest/find-or-open-conversation.ts';
import { newPatientFields } from '../ingest/resolve-identity.ts';
import { mergePatientInto, type MergeDecision } from '../link/merge-patients.ts';
import { toConversationRecord, toMessageRecord } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { isVerified } from './identity-trust.ts';
import { resolveSuggestionsFor } from './identity-suggestions.ts';

export async function identityOfPatient(ctx: TimelineContext, patientId: string, identityId: string): Promise<IdentityDoc> {
  const identity = await ctx.models.Identity.findById(identityId).lean();
  if (!identity || identity.patientId !== patientId) throw notFound('Identity of this patient');
  return identity;
}

/** An agent vouches for an identity (e.g. confirmed on a call): it becomes verified. */
export async function verifyIdentity(ctx: TimelineContext, identity: IdentityDoc, agentId: string): Promise<IdentityDoc> {
  if (identity.sharedAt) throw new AppError('CONFLICT', 'This identity is marked as shared by several people; unmark it first if only the patient uses it');
  if (identity.kind === 'web') throw new AppError('INVALID_INPUT', 'A web chat visitor is linked by proof (a code or the portal), not by an agent', { field: 'identityId' });
  if (isVerified(identity)) return identity;
  const updated = await ctx.models.Identity.findOneAndUpdate(
    { _id: identity._id, patientId: identity.patientId },
    { $set: { trust: 'verified', trustEvidence: 'agent_promotion', verifiedAt: ctx.clock(), verifiedBy: agentId } },
    { returnDocument: 'after', lean: true },
  );
  if (!updated) throw new AppError('CONFLICT', 'The identity changed meanwhile; reload the patient');
  return updated;
}

/** A family phone or shared mailbox: never links a visitor, causes a merge or receives `auto` replies while marked. */
export async function markIdentityShared(ctx: TimelineContext, identity: IdentityDoc, shared: boolean): Promise<IdentityDoc> {
  const updated = await ctx.models.Identity.findOneAndUpdate(
    { _id: identity._id, patientId: identity.patientId },
    { $set: { sharedAt: shared ? ctx.clock() : null } },
    { returnDocument: 'after', lean: true },
  );
  if (!updated) throw new AppError('CONFLICT', 'The identity changed meanwhile; reload the patient');
  return updated;
}

export async function mergePatientsByAgent(ctx: TimelineContext, from: PatientDoc, into: PatientDoc, decision: MergeDecision) {
  if (from._id === into._id) throw new AppError('INVALID_INPUT', 'intoPatientId: a patient cannot be merged into itself', { field: 'intoPatientId' });
  if (from.mergedInto) throw new AppError('CONFLICT', 'This patient was already merged into another one');
  if (into.mergedInto) throw new AppError('CONFLICT', 'intoPatientId: that patient was merged into another one; merge into that one instead', { field: 'intoPatientId' });
  const outcome = await mergePatientInto(ctx, from._id, into._id, `${decision.reason}`, decision);
  await resolveSuggestionsFor(ctx, [from._id, into._id], decision.actor.agentId, 'merged');
  return outcome;
}

export interface DetachOutcome {
  patientId: string;
  conversationId: string | null;
  movedMessages: number;
  /** True when the identity went back to the patient a merge had taken it from. */
  restored: boolean;
}

/**
 * Takes an identity off a patient: back to the patient an agent's or a
 * visitor's merge took it from (that patient stands on its own again), or
 * to a new patient. Messages it sent, and replies that went to it, move with
 * it into a conversation of that patient, ids and times kept.
 */
export async function detachIdentity(ctx: TimelineContext, identity: IdentityDoc, reason: string, agentId: string): Promise<DetachOutcome> {
  const fromPatientId = identity.patientId;
  return ctx.locks.run(`merge:detach:${identity._id}`, async () => {
    const remaining = await ctx.models.Identity.countDocuments({ patientId: fromPatientId });
    if (remaining <= 1) throw new AppError('CONFLICT', 'This is the patient’s only identity; there is nothing to detach it from');
    const now = ctx.clock();
    let target: PatientDoc | null = null;
    let restored = false;
    let created = false;
    if (identity.mergedFromPatientId) target = await ctx.models.Patient.findById(identity.mergedFromPatientId).lean();
    if (!target) {
      target = await newPatientFor(ctx, now);
      created = true;
    }
    const moved = await ctx.models.Identity.updateOne(
      { _id: identity._id, patientId: fromPatientId },
      { $set: { patientId: target._id, mergedFromPatientId: null } },
    );
    if (moved.modifiedCount !== 1) {
      if (created) await ctx.models.Patient.deleteOne({ _id: target._id });
      throw new AppError('CONFLICT', 'The identity changed meanwhile; reload the patient');
    }
    // Counted again once moved: of two identities detached at once (two agents, two nodes), the one
    // that would leave the patient with none is put back, so a patient always keeps an identity.
    if ((await ctx.models.Identity.countDocuments({ patientId: fromPatientId })) === 0) {
      await ctx.models.Identity.updateOne(
        { _id: identity._id, patientId: target._id },
        { $set: { patientId: fromPatientId, mergedFromPatientId: identity.mergedFromPatientId ?? null } },
      );
      if (created) await ctx.models.Patient.deleteOne({ _id: target._id });
      throw new AppError('CONFLICT', 'The patient’s other identities were detached meanwhile; this one stays');
    }
    if (!created) {
      // It stands on its own again, with a new conversation for what comes back to it. Once: a sibling
      // identity detached from the same merge (now or earlier) finds it standing and joins it as it is.
      target =
        (await ctx.models.Patient.findOneAndUpdate(
          { _id: target._id, mergedInto: { $ne: null } },
          { $set: { mergedInto: null, latestConversationId: null, updatedAt: now } },
          { returnDocument: 'after', lean: true },
        )) ?? (await ctx.models.Patient.findById(target._id).lean().orFail());
      restored = true;
    }

    const messages = await ctx.models.Message.find({
      patientId: fromPatientId,
      $or: [{ senderIdentityId: identity._id }, { recipientIdentityId: identity._id }],
    }).lean();
    let conversationId: string | null = null;
    if (messages.length > 0) {
      let { conversation } = await findOrOpenConversation(ctx, target, { allowReopen: true });
      const sourceIds = new Set<string>();
      for (const message of messages.sort(byTime)) {
        sourceIds.add(message.conversationId);
        const result = await relocateMessage(ctx, message, conversation);
        conversation = result.conversation;
        if (result.duplicate) continue; // moved meanwhile by someone else: left where it is
        ctx.events.messageCreated(toMessageRecord(result.message, ctx.cipher), toConversationRecord(result.conversation, ctx.cipher));
      }
      conversationId = conversation._id;
      const note = `An identity was detached after review (${reason}); its messages moved`;
      await systemLine(ctx, conversation._id, `${note} here from another patient’s conversation`);
      for (const id of sourceIds) await systemLine(ctx, id, `${note} to a separate patient`);
    }
    ctx.logger.info({ identityId: identity._id, fromPatientId, toPatientId: target._id, moved: messages.length, restored, agentId }, 'identity detached');
    return { patientId: target._id, conversationId, movedMessages: messages.length, restored };
  });
}

const byTime = (a: MessageDoc, b: MessageDoc) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || a.seq - b.seq;

async function newPatientFor(ctx: TimelineContext, now: Date): Promise<PatientDoc> {
  const doc: PatientDoc = { _id: new Types.ObjectId().toHexString(), ...newPatientFields(null, now) };
  await ctx.models.Patient.collection.insertOne(doc as never);
  return doc;
}

async function systemLine(ctx: TimelineContext, conversationId: string, body: string): Promise<void> {
  const conversation = await ctx.models.Conversation.findById(conversationId).lean();
  if (!conversation) return;
  const appended = await appendMessage(ctx, conversation, {
    direction: 'system', channel: 'internal', kind: 'event', body, author: { type: 'system', agentId: null }, deliveryStatus: 'none',
  });
  const record = toConversationRecord(appended.conversation, ctx.cipher);
  ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), record);
  ctx.events.conversationUpdated(record);
}
