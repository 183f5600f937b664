/**
 * What agents do to a conversation besides writing: assign or transfer,
 * set priority, resolve, reopen, mark read. Each change is a single-document
 * update, leaves a system event in the timeline, and is published.
 */
import type { Actor } from '../access/access-policy.ts';
import type { ConversationDoc, Priority } from '../db/documents.ts';
import { AppError, notFound } from '../errors.ts';
import { appendMessage } from './append-message.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';

export interface AssignInput {
  /** An agent id, or null to leave it unassigned. */
  assigneeId?: string | null;
  teamId?: string;
}

export async function assignConversation(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc, input: AssignInput): Promise<ConversationRecord> {
  const { models } = ctx;
  const locked = <T>(work: () => Promise<T>) => ctx.locks.run(`conversation:${conversation._id}`, work);
  const now = ctx.clock();
  const set: Partial<ConversationDoc> = { updatedAt: now };
  const said: string[] = [];
  /** The assignee was checked against the team the conversation was read in (not one this change sets). */
  let checkedTeam = false;
  if (input.teamId !== undefined && input.teamId !== conversation.teamId) {
    const team = await models.Team.findById(input.teamId).lean();
    if (!team) throw new AppError('INVALID_INPUT', 'No such team', { field: 'teamId' });
    set.teamId = team._id;
    said.push(`transferred to team ${team.name}`);
  }
  if (input.assigneeId !== undefined) {
    if (input.assigneeId === null) {
      set.assigneeId = null;
      // Back in the queue: its wait (and escalation) starts now.
      set.waitingSince = now;
      set.escalatedAt = null;
      said.push('unassigned');
    } else {
      const agent = await models.Agent.findById(input.assigneeId).lean();
      if (!agent || agent.disabledAt) throw new AppError('INVALID_INPUT', 'No such active agent', { field: 'assigneeId' });
      const teamId = set.teamId ?? conversation.teamId;
      if (agent.role !== 'admin' && !agent.teamIds.includes(teamId)) {
        throw new AppError('INVALID_INPUT', 'That agent is not in the conversation’s team; transfer it to their team first', { field: 'assigneeId' });
      }
      checkedTeam = agent.role !== 'admin' && set.teamId === undefined;
      set.assigneeId = agent._id;
      set.assignedAt = now;
      set.waitingSince = null;
      said.push(`assigned to ${agent.name}`);
    }
  }
  if (said.length === 0) return toConversationRecord(conversation, ctx.cipher);
  // An agent checked against the conversation's team is assigned only while it is still in that team
  // (a transfer made meanwhile, on any node, makes this a 409 instead of an assignee outside the team).
  const updated = await locked(() =>
    models.Conversation.findOneAndUpdate(
      { _id: conversation._id, ...(checkedTeam ? { teamId: conversation.teamId } : {}) },
      { $set: set },
      { returnDocument: 'after', lean: true },
    ),
  );
  if (!updated) {
    if (checkedTeam && (await models.Conversation.exists({ _id: conversation._id }))) {
      throw new AppError('CONFLICT', 'The conversation moved to another team meanwhile; reload it and assign again');
    }
    throw notFound('Conversation');
  }
  return recordEvent(ctx, actor, updated, `Conversation ${said.join(' and ')}`);
}

export async function setPriority(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc, priority: Priority): Promise<ConversationRecord> {
  if (priority === conversation.priority) return toConversationRecord(conversation, ctx.cipher);
  const updated = await ctx.locks.run(`conversation:${conversation._id}`, () =>
    ctx.models.Conversation.findOneAndUpdate(
      { _id: conversation._id },
      { $set: { priority, updatedAt: ctx.clock() } },
      { returnDocument: 'after', lean: true },
    ).orFail(),
  );
  return recordEvent(ctx, actor, updated, `Priority set to ${priority}`);
}

export async function resolveConversation(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc): Promise<ConversationRecord> {
  const now = ctx.clock();
  const updated = await ctx.locks.run(`conversation:${conversation._id}`, () =>
    ctx.models.Conversation.findOneAndUpdate(
      { _id: conversation._id, status: { $ne: 'resolved' } },
      { $set: { status: 'resolved', resolvedAt: now, unreadCount: 0, updatedAt: now } },
      { returnDocument: 'after', lean: true },
    ),
  );
  if (!updated) throw new AppError('CONVERSATION_RESOLVED', 'The conversation is already resolved');
  const record = await recordEvent(ctx, actor, updated, 'Conversation resolved');
  // "How did we do?" after the channel's delay (server/csat/); never fails the resolve.
  await ctx.csat?.conversationResolved(updated);
  return record;
}

export async function reopenConversation(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc): Promise<ConversationRecord> {
  const now = ctx.clock();
  // Only the patient's latest conversation may reopen: one open conversation per patient.
  const patient = await ctx.models.Patient.findById(conversation.patientId).lean().orFail();
  if (patient.latestConversationId !== conversation._id) {
    throw new AppError('CONFLICT', 'The patient has a newer conversation; continue there');
  }
  const updated = await ctx.locks.run(`conversation:${conversation._id}`, () =>
    ctx.models.Conversation.findOneAndUpdate(
      { _id: conversation._id, status: 'resolved' },
      { $set: { status: 'open', resolvedAt: null, reopenedAt: now, updatedAt: now }, $inc: { reopenCount: 1 } },
      { returnDocument: 'after', lean: true },
    ),
  );
  if (!updated) throw new AppError('CONFLICT', 'The conversation is not resolved');
  return recordEvent(ctx, actor, updated, 'Conversation reopened');
}

export async function markRead(ctx: TimelineContext, conversation: ConversationDoc): Promise<ConversationRecord> {
  const updated = await ctx.locks.run(`conversation:${conversation._id}`, () =>
    ctx.models.Conversation.findOneAndUpdate({ _id: conversation._id }, { $set: { unreadCount: 0 } }, { returnDocument: 'after', lean: true }).orFail(),
  );
  const record = toConversationRecord(updated, ctx.cipher);
  ctx.events.conversationUpdated(record);
  return record;
}

async function recordEvent(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc, text: string): Promise<ConversationRecord> {
  const appended = await appendMessage(ctx, conversation, {
    direction: 'system',
    channel: 'internal',
    kind: 'event',
    body: text,
    author: { type: 'agent', agentId: actor.agentId },
    deliveryStatus: 'none',
  });
  const record = toConversationRecord(appended.conversation, ctx.cipher);
  ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), record);
  ctx.events.conversationUpdated(record);
  return record;
}
