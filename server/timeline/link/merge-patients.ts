/**
 * Merges a web visitor's patient into the patient they proved to be (a
 * one-time code to that patient's phone or email, or a portal's identity
 * hash). Only ever in that direction: the visitor's side holds nothing but
 * what was written in the widget, so nothing of the proven patient's history
 * is exposed by a merge; it is exposed by the proof.
 *
 * Without multi-document transactions every step is idempotent and the
 * visitor's patient is marked `mergedInto` first: whoever next meets that
 * mark (the widget connecting, an inbound message) runs the merge again and
 * it finishes where it stopped. Nothing is deleted before it has been moved.
 *
 * The thread: when the proven patient has an open conversation, the
 * visitor's open conversation is folded into it (messages move to its end,
 * keeping their ids, times and channels); otherwise the visitor's
 * conversation becomes the patient's current one. Either way agents see one
 * thread, with a system line saying what happened.
 */
import type { ChannelId } from '../../../channels/channel-id.ts';
import type { ConversationDoc, PatientDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { updateEach } from '../../db/serialized-models.ts';
import { appendMessage, relocateMessage } from '../append-message.ts';
import { toConversationRecord, toMessageRecord } from '../records.ts';
import { patientKeysOf } from '../patients/patient-keys.ts';
import type { TimelineContext } from '../timeline-context.ts';

export interface MergeOutcome {
  /** The conversation the visitor's thread now lives in (null if the visitor had none). */
  conversationId: string | null;
  movedMessages: number;
}

/** Who asked for a merge an agent decided on (reviewed suggestions), for the timeline note and the audit trail. */
export interface MergeDecision {
  actor: { agentId: string; role: string; sessionId?: string };
  reason: string;
}

export function mergePatientInto(ctx: TimelineContext, fromId: string, intoId: string, proof: string, decision?: MergeDecision): Promise<MergeOutcome> {
  if (fromId === intoId) throw new Error('cannot merge a patient into itself');
  // One merge per visitor patient at a time; the steps below take the patients' and conversations' own locks.
  return ctx.locks.run(`merge:${fromId}`, () => merge(ctx, fromId, intoId, proof, decision));
}

/** Follows (and finishes) a merge that was interrupted: returns the patient that now stands for `patientId`. */
export async function currentPatientFor(ctx: TimelineContext, patientId: string): Promise<PatientDoc> {
  let patient = await ctx.models.Patient.findById(patientId).lean().orFail();
  for (let hops = 0; patient.mergedInto && hops < 5; hops++) {
    await mergePatientInto(ctx, patient._id, patient.mergedInto, 'resumed');
    patient = await ctx.models.Patient.findById(patient.mergedInto).lean().orFail();
  }
  return patient;
}

async function merge(ctx: TimelineContext, fromId: string, intoId: string, proof: string, decision?: MergeDecision): Promise<MergeOutcome> {
  const { models } = ctx;
  const now = ctx.clock();
  const from = await models.Patient.findById(fromId).lean().orFail();
  if (from.mergedInto && from.mergedInto !== intoId) throw new AppError('CONFLICT', 'This visitor was already linked to another patient');
  if (!from.mergedInto) await models.Patient.updateOne({ _id: fromId }, { $set: { mergedInto: intoId, updatedAt: now } });

  // Each identity remembers where it came from: detaching it undoes the merge for it.
  await updateEach(models.Identity, { patientId: fromId }, { $set: { patientId: intoId, mergedFromPatientId: fromId } });
  await mergeProfile(ctx, from, intoId);

  const fromConversations = await models.Conversation.find({ patientId: fromId }).sort({ openedAt: 1 }).lean();
  const into = await models.Patient.findById(intoId).lean().orFail();
  let target: ConversationDoc | null = into.latestConversationId
    ? await models.Conversation.findById(into.latestConversationId).lean()
    : null;
  const targetIsLive = target !== null && target.status !== 'resolved';
  let moved = 0;

  for (const conversation of fromConversations) {
    const live = conversation.status !== 'resolved';
    if (live && targetIsLive && target) {
      moved += await foldInto(ctx, conversation, target);
      target = await models.Conversation.findById(target._id).lean().orFail();
      continue;
    }
    // Adopt it: the conversation keeps its id, assignee and KPI times, now under the proven patient.
    await updateEach(models.Message, { conversationId: conversation._id }, { $set: { patientId: intoId } });
    const adopted = await models.Conversation.findOneAndUpdate(
      { _id: conversation._id },
      { $set: { patientId: intoId, patientNameEnc: into.nameEnc ?? conversation.patientNameEnc, updatedAt: now } },
      { returnDocument: 'after', lean: true },
    ).orFail();
    const newer = !target || new Date(adopted.lastMessageAt) >= new Date(target.lastMessageAt);
    if (live || newer) {
      await ctx.locks.run(`patient:${intoId}`, () =>
        models.Patient.updateOne({ _id: intoId }, { $set: { latestConversationId: adopted._id, updatedAt: now } }),
      );
      target = adopted;
    }
    ctx.events.conversationUpdated(toConversationRecord(adopted, ctx.cipher));
  }
  if (!target) return { conversationId: null, movedMessages: moved };
  const note = await appendMessage(ctx, target, {
    direction: 'system',
    channel: 'internal',
    kind: 'event',
    body: decision
      ? `Patient records merged after review: ${proof}`
      : `Web chat visitor verified by ${proof}; their web chat is part of this conversation now`,
    author: { type: 'system', agentId: null },
    providerKey: `merge:${fromId}:${intoId}`,
    deliveryStatus: 'none',
  });
  if (!note.duplicate) {
    ctx.events.messageCreated(toMessageRecord(note.message, ctx.cipher), toConversationRecord(note.conversation, ctx.cipher));
    // An agent's merge is audited by its route, with the agent and the reason.
    if (!decision) {
      await ctx.audit.record({
        action: 'patient.merge', via: 'system', patientId: intoId, conversationId: target._id,
        details: { mergedPatientId: fromId, proof, movedMessages: moved },
      });
    }
  }
  ctx.logger.info({ fromPatientId: fromId, intoPatientId: intoId, conversationId: target._id, moved }, 'web visitor merged into patient');
  return { conversationId: target._id, movedMessages: moved };
}

/** Moves every message of `conversation` to the end of `target`, in seq order, then removes the emptied conversation. */
async function foldInto(ctx: TimelineContext, conversation: ConversationDoc, target: ConversationDoc): Promise<number> {
  const { models } = ctx;
  let moved = 0;
  let current = target;
  for (;;) {
    const batch = await models.Message.find({ conversationId: conversation._id }).sort({ seq: 1 }).limit(100).lean();
    if (batch.length === 0) break;
    for (const message of batch) {
      const result = await relocateMessage(ctx, message, current);
      current = result.conversation;
      moved++;
      if (message.direction === 'inbound' || message.direction === 'outbound') {
        ctx.events.messageCreated(toMessageRecord(result.message, ctx.cipher), toConversationRecord(result.conversation, ctx.cipher));
      }
    }
  }
  // Keep the earliest KPI facts of the folded conversation: its first response may predate the target's.
  if (conversation.firstResponseAt && (!current.firstResponseAt || conversation.firstResponseAt < current.firstResponseAt)) {
    await ctx.locks.run(`conversation:${current._id}`, () =>
      models.Conversation.updateOne({ _id: current._id }, { $set: { firstResponseAt: conversation.firstResponseAt } }),
    );
  }
  await models.Conversation.deleteOne({ _id: conversation._id });
  ctx.events.conversationMerged(conversation._id, toConversationRecord(current, ctx.cipher));
  return moved;
}

/** Consent, name and unverified contacts: the later record of each consent wins; history is the union. */
async function mergeProfile(ctx: TimelineContext, from: PatientDoc, intoId: string): Promise<void> {
  await ctx.locks.run(`patient:${intoId}`, async () => {
    const into = await ctx.models.Patient.findById(intoId).lean().orFail();
    const set: Record<string, unknown> = { updatedAt: ctx.clock() };
    for (const channel of Object.keys(from.consent) as ChannelId[]) {
      const theirs = from.consent[channel];
      const ours = into.consent[channel];
      if (!theirs || theirs.status === 'unknown') continue;
      if (!ours || ours.status === 'unknown' || new Date(theirs.at ?? 0) > new Date(ours.at ?? 0)) set[`consent.${channel}`] = theirs;
    }
    // FerretDB 1.24 drops empty arrays and nulls from an upsert's $setOnInsert: a field may be missing.
    const intoHistory = into.consentHistory ?? [];
    const intoClaims = into.claimedContacts ?? [];
    const seen = new Set(intoHistory.map((h) => `${h.channel}|${h.status}|${new Date(h.at).getTime()}`));
    const history = [...intoHistory, ...(from.consentHistory ?? []).filter((h) => !seen.has(`${h.channel}|${h.status}|${new Date(h.at).getTime()}`))]
      .sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
    set.consentHistory = history;
    if (!into.nameEnc && from.nameEnc) set.nameEnc = from.nameEnc;
    if (!into.dateOfBirthEnc && from.dateOfBirthEnc) set.dateOfBirthEnc = from.dateOfBirthEnc;
    if (!into.mrnEnc && from.mrnEnc) set.mrnEnc = from.mrnEnc;
    if (set.nameEnc || set.dateOfBirthEnc || set.mrnEnc) {
      const sealed = (field: 'nameEnc' | 'dateOfBirthEnc' | 'mrnEnc') => (set[field] as string | undefined) ?? into[field] ?? null;
      Object.assign(set, patientKeysOf(ctx.cipher, { nameEnc: sealed('nameEnc'), dateOfBirthEnc: sealed('dateOfBirthEnc'), mrnEnc: sealed('mrnEnc') }));
    }
    // The teams that registered either patient keep seeing the one that remains.
    const teamIds = [...new Set([...(into.teamIds ?? []), ...(from.teamIds ?? [])])];
    if (teamIds.length > (into.teamIds ?? []).length) set.teamIds = teamIds;
    if (!into.preferences.language && from.preferences.language) set['preferences.language'] = from.preferences.language;
    const known = new Set(intoClaims.map((c) => ctx.cipher.decrypt(c.valueEnc)));
    const added = (from.claimedContacts ?? []).filter((c) => !known.has(ctx.cipher.decrypt(c.valueEnc)));
    if (added.length) set.claimedContacts = [...intoClaims, ...added];
    await ctx.models.Patient.updateOne({ _id: intoId }, { $set: set });
  });
}
