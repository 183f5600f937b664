/**
 * Who may see and change which conversation: the one place this is decided,
 * for REST and sockets alike. Admins: everything. Supervisors and agents:
 * conversations of their teams, and any assigned to them. A patient: admins;
 * others when they may see one of the patient's conversations, or when one
 * of their teams registered the patient (created or imported it).
 */
import type { QueryFilter as FilterQuery } from "mongoose";
import type { ConversationDoc, PatientDoc, Role } from '../db/documents.ts';
import { HiddenFromActor, notFound } from '../errors.ts';
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

/** Whether the actor may see a patient, given that patient's conversations (all of them, or at least the visible ones). */
export function canAccessPatient(
  actor: Actor,
  patient: Pick<PatientDoc, 'teamIds'>,
  conversations: readonly Pick<ConversationDoc, 'teamId' | 'assigneeId'>[],
): boolean {
  return registeredByTeamOf(actor, patient) || conversations.some((c) => canAccessConversation(actor, c));
}

function registeredByTeamOf(actor: Actor, patient: Pick<PatientDoc, 'teamIds'>): boolean {
  return actor.role === 'admin' || (patient.teamIds ?? []).some((t) => actor.teamIds.includes(t));
}

/** Loads a patient the actor may see (canAccessPatient), or fails with 404 whether unknown or hidden. */
export async function loadPatientFor(models: Models, actor: Actor, patientId: string, scope: AuditScope = {}): Promise<PatientDoc> {
  const patient = await models.Patient.findById(patientId).lean();
  if (!patient) throw notFound('Patient');
  scope.patientId = patient._id;
  if (registeredByTeamOf(actor, patient)) return patient;
  const visible = await models.Conversation.exists({ $and: [{ patientId: patient._id }, visibleConversationsFilter(actor)] });
  if (!visible) throw new HiddenFromActor('Patient');
  return patient;
}

/**
 * What one request touched, for its audit entry: loadConversationFor fills it
 * in, and marks access that only an emergency ("break glass") grant allowed.
 */
export interface AuditScope {
  patientId?: string | null;
  conversationId?: string | null;
  flagged?: boolean;
  reason?: string | null;
  /** What else the entry should say (ids and outcomes, never PHI). */
  details?: Record<string, string | number | boolean | null>;
}

/**
 * Loads a conversation the actor may access, or fails with 404 (unknown) /
 * 403 (not theirs). A supervisor's live break-glass grant for this
 * conversation and session also opens it, flagged.
 */
export async function loadConversationFor(
  models: Models,
  actor: Actor,
  conversationId: string,
  scope: AuditScope = {},
  now: Date = new Date(),
): Promise<ConversationDoc> {
  const conversation = await models.Conversation.findById(conversationId).lean();
  if (!conversation) throw notFound('Conversation');
  scope.conversationId = conversation._id;
  scope.patientId = conversation.patientId;
  if (canAccessConversation(actor, conversation)) return conversation;
  const grant = await models.AccessGrant.findOne({
    sessionId: actor.sessionId,
    conversationId: conversation._id,
    expiresAt: { $gt: now },
  }).lean();
  if (!grant) throw new HiddenFromActor('Conversation');
  scope.flagged = true;
  scope.reason = grant.reason;
  return conversation;
}

/** Who may use emergency access: supervisors (admins see everything anyway). */
export function canBreakGlass(actor: Actor): boolean {
  return actor.role === 'supervisor' || actor.role === 'admin';
}
