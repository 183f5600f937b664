/**
 * Who may see and change which conversation: the one place this is decided,
 * for REST and sockets alike. Admins: everything. Supervisors and agents:
 * conversations of their teams, and any assigned to them.
 */
import type { QueryFilter as FilterQuery } from "mongoose";
import type { ConversationDoc, Role } from '../db/documents.ts';
import { forbidden, notFound } from '../errors.ts';
import type { Models } from '../db/models.ts';

export interface Actor {
  agentId: string;
  role: Role;
  teamIds: readonly string[];
  sessionId: string;
}

export function canAccessConversation(actor: Actor, conversation: Pick<ConversationDoc, 'teamId' | 'assigneeId'>): boolean {
  if (actor.role === 'admin') return true;
  return conversation.assigneeId === actor.agentId || actor.teamIds.includes(conversation.teamId);
}

/** The inbox filter that shows an actor exactly the conversations canAccessConversation allows. */
export function visibleConversationsFilter(actor: Actor): FilterQuery<ConversationDoc> {
  if (actor.role === 'admin') return {};
  return { $or: [{ teamId: { $in: [...actor.teamIds] } }, { assigneeId: actor.agentId }] };
}

/** Loads a conversation the actor may access, or fails with 404 (unknown) / 403 (not theirs). */
export async function loadConversationFor(models: Models, actor: Actor, conversationId: string): Promise<ConversationDoc> {
  const conversation = await models.Conversation.findById(conversationId).lean();
  if (!conversation) throw notFound('Conversation');
  if (!canAccessConversation(actor, conversation)) throw forbidden('This conversation belongs to a team you are not in');
  return conversation;
}

export function canManageAgents(actor: Actor): boolean {
  return actor.role === 'admin';
}
