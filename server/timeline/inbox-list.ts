/**
 * The agents' inbox: one query over conversations, newest activity first,
 * filtered by what the agent may see and asked for, with a keyset cursor
 * (lastMessageAt, _id) so pages never skip or repeat under live updates.
 */
import type { QueryFilter as FilterQuery } from "mongoose";
import type { ChannelId } from '../../channels/channel-id.ts';
import { visibleConversationsFilter, type Actor } from '../access/access-policy.ts';
import type { ConversationDoc, ConversationStatus, Priority } from '../db/documents.ts';
import { AppError } from '../errors.ts';
import { toConversationRecord, type ConversationRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';

export interface InboxFilters {
  status?: ConversationStatus[] | undefined;
  /** 'me', 'unassigned' or an agent id. */
  assignee?: string | undefined;
  teamId?: string | undefined;
  channel?: ChannelId | undefined;
  priority?: Priority | undefined;
  patientId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export async function listInbox(ctx: TimelineContext, actor: Actor, filters: InboxFilters): Promise<{ items: ConversationRecord[]; nextCursor: string | null }> {
  const and: FilterQuery<ConversationDoc>[] = [visibleConversationsFilter(actor)];
  if (filters.status?.length) and.push({ status: filters.status.length === 1 ? filters.status[0] : { $in: filters.status } });
  if (filters.assignee === 'me') and.push({ assigneeId: actor.agentId });
  else if (filters.assignee === 'unassigned') and.push({ assigneeId: null });
  else if (filters.assignee) and.push({ assigneeId: filters.assignee });
  if (filters.teamId) and.push({ teamId: filters.teamId });
  if (filters.channel) and.push({ channels: filters.channel });
  if (filters.priority) and.push({ priority: filters.priority });
  if (filters.patientId) and.push({ patientId: filters.patientId });
  if (filters.cursor) {
    const { at, id } = decodeCursor(filters.cursor);
    and.push({ $or: [{ lastMessageAt: { $lt: at } }, { lastMessageAt: at, _id: { $lt: id } }] });
  }
  const docs = await ctx.models.Conversation.find(and.length === 1 ? and[0]! : { $and: and })
    .sort({ lastMessageAt: -1, _id: -1 })
    .limit(filters.limit + 1)
    .lean();
  const page = docs.slice(0, filters.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((d) => toConversationRecord(d, ctx.cipher)),
    nextCursor: docs.length > filters.limit && last ? encodeCursor(last.lastMessageAt, last._id) : null,
  };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([new Date(at).getTime(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && typeof id === 'string') return { at: new Date(ms), id };
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_CURSOR', 'cursor: not a cursor this API returned', { field: 'cursor' });
}

export interface ViewCount {
  /** Open and pending conversations in the view. */
  active: number;
  /** Of those, with messages no agent has read. */
  unread: number;
}

/**
 * The numbers beside the inbox's views (Mine, Unassigned, My teams, All):
 * one read of the active conversations the agent may see, tallied per view.
 */
export async function inboxCounts(ctx: TimelineContext, actor: Actor): Promise<Record<'mine' | 'unassigned' | 'teams' | 'all', ViewCount>> {
  const docs = await ctx.models.Conversation.find(
    { $and: [visibleConversationsFilter(actor), { status: { $in: ['open', 'pending'] } }] },
    { assigneeId: 1, teamId: 1, unreadCount: 1 },
  ).lean();
  const tally = (keep: (d: Pick<ConversationDoc, 'assigneeId' | 'teamId'>) => boolean): ViewCount => {
    const inView = docs.filter(keep);
    return { active: inView.length, unread: inView.filter((d) => d.unreadCount > 0).length };
  };
  return {
    mine: tally((d) => d.assigneeId === actor.agentId),
    unassigned: tally((d) => !d.assigneeId),
    teams: tally((d) => actor.teamIds.includes(d.teamId)),
    all: tally(() => true),
  };
}
