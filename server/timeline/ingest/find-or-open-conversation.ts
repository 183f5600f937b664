/**
 * The continuity rule for inbound traffic: a patient has at most one open
 * conversation, whatever channel they write on; a conversation resolved within
 * the reopen window is reopened rather than a new one started.
 *
 * The patient document is the single point of agreement: a new conversation
 * gets the id `<patientId>-<n>` and wins only by a compare-and-set of the
 * patient's `conversationCount` from n-1 to n. Racers that lose re-read the
 * patient and use the winner's conversation. Conversations are created with an
 * idempotent upsert on that id, so a crash between the two steps heals itself.
 */
import type { ConversationDoc, PatientDoc } from '../../db/documents.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { retryOnDuplicate } from './resolve-identity.ts';

export interface ConversationForInbound {
  conversation: ConversationDoc;
  opened: boolean;
  reopened: boolean;
}

export interface OpenOptions {
  allowReopen: boolean;
  /** The clinic writes first: a resolved conversation stays resolved, however recent, and a new one is opened. */
  neverReopen?: boolean;
  /** A new conversation's team (default: the hub's default team) and assignee. */
  teamId?: string;
  assigneeId?: string | null;
}

export function findOrOpenConversation(ctx: TimelineContext, patient: PatientDoc, options: OpenOptions): Promise<ConversationForInbound> {
  return ctx.locks.run(`patient:${patient._id}`, () => settle(ctx, patient, options));
}

async function settle(ctx: TimelineContext, initialPatient: PatientDoc, options: OpenOptions): Promise<ConversationForInbound> {
  const { models } = ctx;
  let patient = initialPatient;
  for (let attempt = 0; attempt < 20; attempt++) {
    const now = ctx.clock();
    if (patient.latestConversationId) {
      // Healing a conversation a crash left half-made: as the hub makes them, not as this caller's new one.
      const latest = await ensureConversation(ctx, patient, patient.latestConversationId, {});
      if (latest.status !== 'resolved') return { conversation: latest, opened: false, reopened: false };
      const resolvedAgo = now.getTime() - new Date(latest.resolvedAt ?? 0).getTime();
      if (resolvedAgo <= ctx.settings.reopenWindowMs && !options.neverReopen) {
        if (!options.allowReopen) return { conversation: latest, opened: false, reopened: false };
        const reopened = await models.Conversation.findOneAndUpdate(
          { _id: latest._id, status: 'resolved' },
          { $set: { status: 'open', resolvedAt: null, reopenedAt: now, updatedAt: now }, $inc: { reopenCount: 1 } },
          { returnDocument: 'after', lean: true },
        );
        if (reopened) return { conversation: reopened, opened: false, reopened: true };
        patient = await reread(ctx, patient._id);
        continue;
      }
    }
    const next = patient.conversationCount + 1;
    const id = `${patient._id}-${next}`;
    // The compare-and-set: only from the count this decision was made on (and only while no newer conversation
    // became the latest), so of two nodes racing one wins and the other re-reads and uses the winner's.
    const won = await models.Patient.updateOne(
      { _id: patient._id, conversationCount: patient.conversationCount, latestConversationId: patient.latestConversationId ?? null },
      { $set: { conversationCount: next, latestConversationId: id, updatedAt: now } },
    );
    if (won.matchedCount === 1) {
      return { conversation: await ensureConversation(ctx, patient, id, options), opened: true, reopened: false };
    }
    patient = await reread(ctx, patient._id);
  }
  throw new Error('could not settle the patient’s open conversation after 20 attempts');
}

async function reread(ctx: TimelineContext, patientId: string): Promise<PatientDoc> {
  return ctx.models.Patient.findById(patientId).lean().orFail();
}

function ensureConversation(ctx: TimelineContext, patient: PatientDoc, id: string, options: Pick<OpenOptions, 'teamId' | 'assigneeId'>): Promise<ConversationDoc> {
  const now = ctx.clock();
  const assigneeId = options.assigneeId ?? null;
  return retryOnDuplicate(() =>
    ctx.models.Conversation.findOneAndUpdate(
      { _id: id },
      {
        $setOnInsert: {
          patientId: patient._id,
          status: 'open',
          assigneeId,
          teamId: options.teamId ?? ctx.settings.defaultTeamId,
          priority: 'normal',
          subject: null,
          channels: [],
          lastInboundChannel: null,
          lastInboundAt: null,
          lastMessageAt: now,
          lastSeq: 0,
          previewEnc: null,
          previewDirection: null,
          patientNameEnc: patient.nameEnc,
          unreadCount: 0,
          messageCount: 0,
          openedAt: now,
          firstResponseAt: null,
          assignedAt: assigneeId ? now : null,
          resolvedAt: null,
          reopenedAt: null,
          reopenCount: 0,
          updatedAt: now,
        },
      },
      { upsert: true, returnDocument: 'after', lean: true },
    ).orFail(),
  );
}
