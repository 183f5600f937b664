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
import { CHANNEL_IDS, type ChannelId } from '../../../channels/channel-id.ts';
import type { ConversationDoc, PatientDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { updateEach } from '../../db/serialized-models.ts';
import { appendMessage, relocateMessage } from '../append-message.ts';
import { consentAsRead } from '../consent.ts';
import { toConversationRecord, toMessageRecord } from '../records.ts';
import { moveMrnClaim } from '../patients/patient-claims.ts';
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
  const linkedElsewhere = () => new AppError('CONFLICT', 'This visitor was already linked to another patient');
  if (from.mergedInto && from.mergedInto !== intoId) throw linkedElsewhere();
  if (!from.mergedInto) {
    // Marked once: of two merges of one patient at once (two proofs, two nodes), the first mark stands.
    const marked = await models.Patient.updateOne({ _id: fromId, mergedInto: null }, { $set: { mergedInto: intoId, updatedAt: now } });
    if (marked.matchedCount !== 1 && (await models.Patient.findById(fromId, { mergedInto: 1 }).lean().orFail()).mergedInto !== intoId) throw linkedElsewhere();
  }

  // Each identity remembers where it came from: detaching it undoes the merge for it.
  await updateEach(models.Identity, { patientId: fromId }, { $set: { patientId: intoId, mergedFromPatientId: fromId } });
  await mergeProfile(ctx, from, intoId);

  const fromConversations = await models.Conversation.find({ patientId: fromId }).sort({ openedAt: 1 }).lean();
  let into = await models.Patient.findById(intoId).lean().orFail();
  /** The proven patient's latest conversation as this merge last saw it: the compare-and-set below writes over only that. */
  let latestId = into.latestConversationId ?? null;
  let target: ConversationDoc | null = latestId ? await models.Conversation.findById(latestId).lean() : null;
  let targetIsLive = target !== null && target.status !== 'resolved';
  let moved = 0;
  let replans = 0;

  for (let i = 0; i < fromConversations.length; i++) {
    const conversation = fromConversations[i]!;
    const live = conversation.status !== 'resolved';
    if (live && targetIsLive && target && target._id !== conversation._id) {
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
      // Only over the latest conversation this plan was made against: one a message opened meanwhile
      // (find-or-open-conversation.ts, on any node) is never hidden behind the adopted one.
      const became = await ctx.locks.run(`patient:${intoId}`, () =>
        models.Patient.updateOne({ _id: intoId, latestConversationId: latestId }, { $set: { latestConversationId: adopted._id, updatedAt: now } }),
      );
      if (became.matchedCount !== 1) {
        if (++replans > MAX_REPLANS) throw new Error(`merge of ${fromId} into ${intoId}: the patient's latest conversation kept changing`);
        // Plan this conversation again against the patient's conversation as it is now (fold into it if it is live).
        into = await models.Patient.findById(intoId).lean().orFail();
        latestId = into.latestConversationId ?? null;
        target = latestId ? await models.Conversation.findById(latestId).lean() : null;
        targetIsLive = target !== null && target.status !== 'resolved';
        i--;
        continue;
      }
      latestId = adopted._id;
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
  const moveAll = async () => {
    for (;;) {
      const batch = await models.Message.find({ conversationId: conversation._id }).sort({ seq: 1 }).limit(100).lean();
      if (batch.length === 0) break;
      for (const message of batch) {
        const result = await relocateMessage(ctx, message, current);
        current = result.conversation;
        if (result.duplicate) continue; // another node's run of this merge moved it
        moved++;
        if (message.direction === 'inbound' || message.direction === 'outbound') {
          ctx.events.messageCreated(toMessageRecord(result.message, ctx.cipher), toConversationRecord(result.conversation, ctx.cipher));
        }
      }
    }
  };
  await moveAll();
  // Keep the earliest KPI facts of the folded conversation: its first response may predate the target's.
  // The comparison is the filter (none yet, or a later one), so a first response recorded meanwhile is weighed too.
  if (conversation.firstResponseAt) {
    const earliest = await ctx.locks.run(`conversation:${current._id}`, () =>
      models.Conversation.findOneAndUpdate(
        { _id: current._id, $or: [{ firstResponseAt: null }, { firstResponseAt: { $gt: conversation.firstResponseAt } }] },
        { $set: { firstResponseAt: conversation.firstResponseAt } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (earliest) current = earliest;
  }
  await models.Conversation.deleteOne({ _id: conversation._id });
  // A message another node stored in it just before it went (the visitor's lock holds only in one process) still moves.
  await moveAll();
  ctx.events.conversationMerged(conversation._id, toConversationRecord(current, ctx.cipher));
  return moved;
}

/** Compare-and-set attempts of a profile merge (only writers on several nodes at once retry). */
const MAX_PROFILE_ATTEMPTS = 10;
/** Times a merge plans a conversation again because the proven patient's latest conversation changed under it. */
const MAX_REPLANS = 10;

/**
 * Consent, name and unverified contacts: the later record of each consent wins; history is the union.
 *
 * Computed from the proven patient as read and written only while the fields
 * it was computed from are unchanged (consent, the lengths of its history,
 * contacts and teams, name, date of birth, MRN, language): a STOP recorded
 * meanwhile on another node is never overwritten by an older consent; the
 * merge reads again and decides again.
 */
async function mergeProfile(ctx: TimelineContext, from: PatientDoc, intoId: string): Promise<void> {
  await ctx.locks.run(`patient:${intoId}`, async () => {
    for (let attempt = 0; attempt < MAX_PROFILE_ATTEMPTS; attempt++) {
      const into = await ctx.models.Patient.findById(intoId).lean().orFail();
      const set = mergedProfile(ctx, from, into);
      const written = await ctx.models.Patient.updateOne({ _id: intoId, ...profileAsRead(into) }, { $set: set });
      if (written.matchedCount !== 1) continue;
      // The MRN came with the merge: so does its claim (patient-claims.ts).
      if (set.mrnEnc) await moveMrnClaim(ctx, from._id, intoId, from.mrnKey);
      return;
    }
    throw new Error(`merge into ${intoId}: the patient kept changing; profile not merged after ${MAX_PROFILE_ATTEMPTS} attempts`);
  });
}

function mergedProfile(ctx: TimelineContext, from: PatientDoc, into: PatientDoc): Record<string, unknown> {
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
  return set;
}

/** A filter matching the patient only while every field mergedProfile reads is as it was read. */
function profileAsRead(patient: PatientDoc): Record<string, unknown> {
  const teamIds = patient.teamIds ?? [];
  return {
    ...Object.assign({}, ...CHANNEL_IDS.map((channel) => consentAsRead(channel, patient.consent?.[channel]))),
    ...lengthIs('consentHistory', (patient.consentHistory ?? []).length),
    ...lengthIs('claimedContacts', (patient.claimedContacts ?? []).length),
    ...(teamIds.length ? { teamIds } : lengthIs('teamIds', 0)),
    nameEnc: patient.nameEnc ?? null,
    dateOfBirthEnc: patient.dateOfBirthEnc ?? null,
    mrnEnc: patient.mrnEnc ?? null,
    'preferences.language': patient.preferences?.language ?? null,
  };
}

/** Matches an array field of exactly `length` elements (a missing field counts as empty). */
function lengthIs(field: string, length: number): Record<string, unknown> {
  return length === 0 ? { [`${field}.0`]: { $exists: false } } : { [field]: { $size: length } };
}
