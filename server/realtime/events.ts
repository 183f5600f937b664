/**
 * The typed event maps of the /agents namespace, shared by the hub and its
 * clients (the inbox, tests). Payloads carry stored records with their seq.
 */
import type { ConversationRecord, MessageRecord } from '../timeline/records.ts';

export type AckError = { ok: false; error: { code: string; message: string; field?: string } };
export type Ack<T> = (answer: ({ ok: true } & T) | AckError) => void;

export interface AgentServerToClientEvents {
  'message:created': (payload: { message: MessageRecord; conversation: ConversationRecord }) => void;
  'message:updated': (payload: { message: MessageRecord; conversation: ConversationRecord }) => void;
  'conversation:updated': (payload: { conversation: ConversationRecord }) => void;
  /** A web visitor proved to be this patient: their conversation was folded into `conversation` and is gone. */
  'conversation:merged': (payload: { fromConversationId: string; conversation: ConversationRecord }) => void;
  /**
   * This socket may no longer follow the conversation (transferred to another team, an emergency grant
   * ended, or folded into a conversation this agent may not see): it left the conversation's room.
   */
  'conversation:closed': (payload: { conversationId: string; reason: 'access_lost' | 'grant_expired' | 'merged_elsewhere' }) => void;
  /** The patient is typing in the web chat widget. */
  'patient:typing': (payload: { conversationId: string; isTyping: boolean }) => void;
  typing: (payload: { conversationId: string; agentId: string; isTyping: boolean }) => void;
  presence: (payload: { agentId: string; online: boolean }) => void;
  /**
   * An emergency or crisis signal in a patient's message (to the team's supervisors, the admins and the
   * on-call team). No PHI: who may open the conversation opens it.
   */
  'triage:alert': (payload: { conversationId: string; teamId: string; category: string; label: string; at: string }) => void;
  /** A conversation has waited longer than its team allows for an agent (to the team's supervisors and the admins). */
  'queue:escalation': (payload: { conversationId: string; teamId: string; waitedMinutes: number; at: string }) => void;
  /** An agent's status changed (online, away, offline). */
  'agent:status': (payload: { agentId: string; status: 'online' | 'away' | 'offline' }) => void;
  /** The session ended (logout, idle timeout, revoked, account disabled); the socket is closed after it. */
  'session:ended': (payload: { reason: string }) => void;
}

export interface AgentClientToServerEvents {
  'conversation:join': (conversationId: string, ack: Ack<{ lastSeq: number }>) => void;
  'conversation:leave': (conversationId: string) => void;
  'messages:since': (
    query: { conversationId: string; afterSeq: number; limit?: number },
    ack: Ack<{ items: MessageRecord[]; nextCursor: string | null }>,
  ) => void;
  typing: (payload: { conversationId: string; isTyping: boolean }) => void;
  'presence:list': (ack: Ack<{ agentIds: string[] }>) => void;
}

export type AgentInterServerEvents = Record<string, never>;

export interface AgentSocketData {
  agentId: string;
  role: 'admin' | 'supervisor' | 'agent';
  teamIds: string[];
  sessionId: string;
  /** Conversations this socket follows only through a break-glass grant, with when the grant ends (ms). */
  grants?: Record<string, number>;
}

export const AGENT_ROOMS = {
  agent: (id: string) => `agent:${id}`,
  team: (id: string) => `team:${id}`,
  supervisors: (teamId: string) => `supervisors:${teamId}`,
  conversation: (id: string) => `conversation:${id}`,
  admins: 'role:admin',
} as const;
