/**
 * Socket.IO namespace /agents: the agents' live inbox.
 *
 * The access token is checked in the handshake (expired or forged: refused).
 * Each socket joins its agent room, its team rooms and, for admins, the admin
 * room; a conversation's events go to its team, its assignee and the admins,
 * so an agent only ever receives what the access policy lets them read.
 */
import type { Namespace, Server, Socket } from 'socket.io';
import { canAccessConversation, loadConversationFor, type Actor, type AuditScope } from '../access/access-policy.ts';
import type { AuditAction, AuditLog } from '../audit/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { AppError, isDeniedAccess } from '../errors.ts';
import { answerAck, handshakeError } from './socket-answers.ts';
import { listMessages } from '../timeline/message-history.ts';
import type { ConversationRecord, MessageRecord } from '../timeline/records.ts';
import type { TimelineContext, TimelineEvents } from '../timeline/timeline-context.ts';
import {
  AGENT_ROOMS,
  type AgentClientToServerEvents,
  type AgentInterServerEvents,
  type AgentServerToClientEvents,
  type AgentSocketData,
} from './events.ts';

type AgentNamespace = Namespace<AgentClientToServerEvents, AgentServerToClientEvents, AgentInterServerEvents, AgentSocketData>;
type AgentSocket = Socket<AgentClientToServerEvents, AgentServerToClientEvents, AgentInterServerEvents, AgentSocketData>;

export interface AgentsRealtimeOptions {
  /** How often live connections are re-checked against their sessions (automatic logoff, disabled agents). */
  revalidateEveryMs: number;
}

export class AgentsRealtime implements TimelineEvents {
  private readonly nsp: AgentNamespace;
  private readonly online = new Map<string, number>();
  private readonly revalidation: NodeJS.Timeout;

  constructor(
    io: Server,
    private readonly auth: AuthService,
    private readonly audit: AuditLog,
    private readonly timeline: () => TimelineContext,
    options: AgentsRealtimeOptions,
  ) {
    this.nsp = io.of('/agents') as AgentNamespace;
    this.revalidation = setInterval(() => void this.revalidate().catch((error) => this.timeline().logger.error({ err: error }, 'socket revalidation failed')), options.revalidateEveryMs);
    this.revalidation.unref();
    this.nsp.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      if (typeof token !== 'string') return next(handshakeError(new AppError('UNAUTHENTICATED', 'Send the access token as auth.token')));
      this.auth.authenticate(token, { touch: true }).then(
        (actor) => {
          socket.data = { agentId: actor.agentId, role: actor.role, teamIds: [...actor.teamIds], sessionId: actor.sessionId };
          next();
        },
        (error: unknown) => next(handshakeError(error)),
      );
    });
    this.nsp.on('connection', (socket) => this.onConnection(socket));
  }

  messageCreated(message: MessageRecord, conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('message:created', { message, conversation });
  }

  messageUpdated(message: MessageRecord, conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('message:updated', { message, conversation });
  }

  conversationUpdated(conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('conversation:updated', { conversation });
    // A transfer or reassignment: whoever had it open without access now leaves it.
    this.closeFor(conversation.id, (socket) => !this.mayFollow(socket, conversation.id, conversation), 'access_lost');
  }

  conversationMerged(fromConversationId: string, conversation: ConversationRecord): void {
    // Only those who may see the conversation it went into hear where it went; others only that it is gone.
    this.roomsFor(conversation).emit('conversation:merged', { fromConversationId, conversation });
    this.closeFor(fromConversationId, (socket) => !this.mayFollow(socket, conversation.id, conversation), 'merged_elsewhere');
  }

  /** Relays the patient's typing in the widget to the agents who have the conversation open. */
  patientTyping(conversationId: string, isTyping: boolean): void {
    this.nsp.to(AGENT_ROOMS.conversation(conversationId)).emit('patient:typing', { conversationId, isTyping });
  }

  /** Called when an agent types in a conversation (the widget shows "typing…"). */
  onAgentTyping: (conversationId: string, isTyping: boolean) => void = () => {};

  /** Disconnects every socket of a session now (logout, revocation). */
  endSession(sessionId: string, reason: string): void {
    for (const socket of this.nsp.sockets.values()) {
      if (socket.data.sessionId === sessionId) this.disconnect(socket, reason);
    }
  }

  /** Disconnects every socket of an agent now (account disabled). */
  endAgent(agentId: string, reason: string): void {
    for (const socket of this.nsp.sockets.values()) {
      if (socket.data.agentId === agentId) this.disconnect(socket, reason);
    }
  }

  stop(): void {
    clearInterval(this.revalidation);
  }

  /** Drops connections whose session ended elsewhere: idle timeout, another node's logout, a disabled account. */
  async revalidate(): Promise<void> {
    const sockets = [...this.nsp.sockets.values()];
    if (sockets.length === 0) return;
    const endedBecause = new Map<string, string>();
    const live = await this.auth.liveSessions(sockets.map((s) => ({ sessionId: s.data.sessionId, agentId: s.data.agentId })), endedBecause);
    const now = this.timeline().clock().getTime();
    for (const socket of sockets) {
      if (!live.has(socket.data.sessionId)) {
        this.disconnect(socket, endedBecause.get(socket.data.sessionId) ?? 'session_ended');
        continue;
      }
      // Emergency access ends with its grant: the socket stops following those conversations.
      for (const [conversationId, endsAt] of Object.entries(socket.data.grants ?? {})) {
        if (endsAt > now) continue;
        delete socket.data.grants![conversationId];
        void socket.leave(AGENT_ROOMS.conversation(conversationId));
        socket.emit('conversation:closed', { conversationId, reason: 'grant_expired' });
      }
    }
  }

  private disconnect(socket: AgentSocket, reason: string): void {
    socket.emit('session:ended', { reason });
    socket.disconnect(true);
  }

  /** Loads a conversation for a socket request; a refusal is audited as denied. */
  private async loadAudited(actor: Actor, conversationId: string, scope: AuditScope, action: AuditAction, ip: string) {
    try {
      return await loadConversationFor(this.timeline().models, actor, conversationId, scope, this.timeline().clock());
    } catch (error) {
      if (isDeniedAccess(error)) {
        await this.audit.record({ action, actor, via: 'socket', ip, outcome: 'denied', ...scope });
      }
      throw error;
    }
  }

  private recordAudit(actor: Actor, action: AuditAction, scope: AuditScope, ip: string): Promise<unknown> {
    return this.audit.record({ action, actor, via: 'socket', ip, ...scope });
  }

  /** True when this socket's agent may read the conversation: their team, their assignment, admin, or a live grant. */
  private mayFollow(socket: AgentSocket, conversationId: string, conversation: Pick<ConversationRecord, 'teamId' | 'assigneeId'>): boolean {
    if (canAccessConversation({ ...socket.data }, conversation)) return true;
    const grantEnds = socket.data.grants?.[conversationId];
    return grantEnds !== undefined && grantEnds > this.timeline().clock().getTime();
  }

  /** Takes the sockets that `leave` picks out of a conversation's room, telling each why. */
  private closeFor(conversationId: string, leave: (socket: AgentSocket) => boolean, reason: 'access_lost' | 'grant_expired' | 'merged_elsewhere'): void {
    const room = AGENT_ROOMS.conversation(conversationId);
    for (const id of this.nsp.adapter.rooms.get(room) ?? []) {
      const socket = this.nsp.sockets.get(id);
      if (!socket || !leave(socket)) continue;
      void socket.leave(room);
      if (socket.data.grants) delete socket.data.grants[conversationId];
      socket.emit('conversation:closed', { conversationId, reason });
    }
  }

  /** Whether the agent has a live connection to this node. */
  isConnected(agentId: string): boolean {
    return this.online.has(agentId);
  }

  triageAlert(alert: { conversationId: string; teamId: string; category: string; label: string; at: string }, onCallTeamId: string | null): void {
    const rooms = [AGENT_ROOMS.supervisors(alert.teamId), AGENT_ROOMS.admins, ...(onCallTeamId ? [AGENT_ROOMS.team(onCallTeamId)] : [])];
    this.nsp.to(rooms).emit('triage:alert', alert);
  }

  escalation(alert: { conversationId: string; teamId: string; waitedMinutes: number; at: string }): void {
    this.nsp.to([AGENT_ROOMS.supervisors(alert.teamId), AGENT_ROOMS.admins]).emit('queue:escalation', alert);
  }

  agentStatus(agentId: string, status: 'online' | 'away' | 'offline'): void {
    this.nsp.emit('agent:status', { agentId, status });
  }

  private roomsFor(conversation: ConversationRecord) {
    const rooms = [AGENT_ROOMS.team(conversation.teamId), AGENT_ROOMS.admins];
    if (conversation.assigneeId) rooms.push(AGENT_ROOMS.agent(conversation.assigneeId));
    return this.nsp.to(rooms);
  }

  private onConnection(socket: AgentSocket): void {
    const actor: Actor = { ...socket.data };
    void socket.join([AGENT_ROOMS.agent(actor.agentId), ...actor.teamIds.map(AGENT_ROOMS.team)]);
    if (actor.role === 'admin') void socket.join(AGENT_ROOMS.admins);
    if (actor.role === 'supervisor') void socket.join(actor.teamIds.map(AGENT_ROOMS.supervisors));
    this.markOnline(actor.agentId, +1);
    const ip = socket.handshake.address;
    void this.recordAudit(actor, 'realtime.subscribe', {}, ip);

    socket.on('conversation:join', (conversationId, ack) => {
      this.guard(ack, async () => {
        const scope: AuditScope = {};
        const conversation = await this.loadAudited(actor, String(conversationId), scope, 'conversation.read', ip);
        await this.recordAudit(actor, 'conversation.read', scope, ip);
        if (scope.flagged) {
          const grant = await this.timeline().models.AccessGrant.findOne({ sessionId: actor.sessionId, conversationId: conversation._id }).sort({ expiresAt: -1 }).lean();
          socket.data.grants = { ...socket.data.grants, [conversation._id]: grant ? new Date(grant.expiresAt).getTime() : 0 };
        }
        await socket.join(AGENT_ROOMS.conversation(conversation._id));
        return { lastSeq: conversation.lastSeq };
      });
    });
    socket.on('conversation:leave', (conversationId) => void socket.leave(AGENT_ROOMS.conversation(String(conversationId))));
    socket.on('messages:since', (query, ack) => {
      this.guard(ack, async () => {
        const afterSeq = Number(query?.afterSeq);
        if (!Number.isInteger(afterSeq) || afterSeq < 0) throw new AppError('INVALID_INPUT', 'afterSeq: must be a whole number ≥ 0', { field: 'afterSeq' });
        const limit = Math.min(Math.max(Number(query.limit) || 200, 1), 500);
        const scope: AuditScope = {};
        const conversation = await this.loadAudited(actor, String(query.conversationId), scope, 'messages.read', ip);
        await this.recordAudit(actor, 'messages.read', scope, ip);
        return listMessages(this.timeline(), conversation._id, { after: afterSeq, limit });
      });
    });
    socket.on('typing', (payload) => {
      const conversationId = String(payload?.conversationId ?? '');
      // Only sockets that joined the conversation (access checked there) relay typing to it.
      if (!socket.rooms.has(AGENT_ROOMS.conversation(conversationId))) return;
      socket.to(AGENT_ROOMS.conversation(conversationId)).emit('typing', { conversationId, agentId: actor.agentId, isTyping: Boolean(payload.isTyping) });
      this.onAgentTyping(conversationId, Boolean(payload.isTyping));
    });
    socket.on('presence:list', (ack) => {
      if (typeof ack === 'function') ack({ ok: true, agentIds: [...this.online.keys()] });
    });
    socket.on('disconnect', () => this.markOnline(actor.agentId, -1));
  }

  private markOnline(agentId: string, delta: number): void {
    const before = this.online.get(agentId) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) this.online.delete(agentId);
    else this.online.set(agentId, after);
    if ((before === 0) !== (after === 0)) this.nsp.emit('presence', { agentId, online: after > 0 });
  }

  private guard<T extends object>(ack: unknown, work: () => Promise<T>): void {
    answerAck(ack, work, this.timeline().logger);
  }
}
