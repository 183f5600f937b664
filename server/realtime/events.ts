/**
 * The typed event maps of the /agents namespace, shared by the hub and its
 * clients (the inbox, tests). Payloads carry stored records with their seq.
 */
import type { ConversationRecord, MessageRecord } from '../timeline/records.ts';
import type { QueueStats } from '../reports/live-queue.ts';

export type { QueueStats };

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
  /**
   * A team's live queue (an item of GET /api/reports/queue), to its supervisors and the admins: once on
   * connect, then when its figures change, at most once a second per team (every second while someone
   * waits, so `longestWaitSeconds` moves).
   */
  'queue:stats': (payload: QueueStats) => void;
  /**
   * A sending number crossed a reputation threshold (server/delivery/number-health.ts) and gets no new patients
   * until an admin restores it (to the admins). Clinic numbers only, no PHI.
   */
  'number:flagged': (payload: { number: string; reason: string; at: string }) => void;
  /** An agent's status changed (online, away, offline). */
  'agent:status': (payload: { agentId: string; status: 'online' | 'away' | 'offline' }) => void;
  /** The session ended (logout, idle timeout, revoked, account disabled); the socket is closed after it. */
  'session:ended': (payload: { reason: string }) => void;
  /**
   * The hub's own state: 'degraded' while its database is unreachable (webhooks are refused with 503 so the
   * providers retry; replies and history wait), 'ok' when it is back. Sent on every change, and on connect
   * while degraded.
   */
  'hub:status': (payload: HubStatus) => void;
}

export interface HubStatus {
  state: 'ok' | 'degraded';
  /** Why it is degraded ('database_unreachable'); null when ok. */
  reason: string | null;
  /** When this state began (ISO 8601). */
  since: string;
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

/** Between hub nodes (Redis adapter, server/realtime/redis-fanout.ts). */
export interface AgentInterServerEvents {
  /**
   * Who may follow a conversation changed on another node (transfer, reassignment, merge): sockets here in
   * `roomOf`'s room that may not read `conversation` leave it, told `reason`.
   */
  'conversation:access': (change: {
    roomOf: string;
    conversation: { id: string; teamId: string; assigneeId: string | null };
    reason: 'access_lost' | 'merged_elsewhere';
  }) => void;
  /** Something that moves the live queue happened on another node: this node's watchers get new figures. */
  'queue:changed': () => void;
}

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
