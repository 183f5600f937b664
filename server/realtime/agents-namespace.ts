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
import { anySocketIn, roomsAcrossNodes, tellOtherNodes } from './redis-fanout.ts';
import { listMessages } from '../timeline/message-history.ts';
import type { ConversationRecord, MessageRecord } from '../timeline/records.ts';
import type { LiveQueue, LiveQueueHost, QueueAudience, TeamSelection } from '../reports/live-queue.ts';
import type { TimelineContext, TimelineEvents } from '../timeline/timeline-context.ts';
import {
  AGENT_ROOMS,
  type AgentClientToServerEvents,
  type AgentInterServerEvents,
  type AgentServerToClientEvents,
  type AgentSocketData,
  type HubStatus,
} from './events.ts';

type AgentNamespace = Namespace<AgentClientToServerEvents, AgentServerToClientEvents, AgentInterServerEvents, AgentSocketData>;
type AgentSocket = Socket<AgentClientToServerEvents, AgentServerToClientEvents, AgentInterServerEvents, AgentSocketData>;

export interface AgentsRealtimeOptions {
  /** How often live connections are re-checked against their sessions (automatic logoff, disabled agents). */
  revalidateEveryMs: number;
}

export class AgentsRealtime implements TimelineEvents, LiveQueueHost {
  private readonly nsp: AgentNamespace;
  /** The live queue figures for supervisors and admins (server/reports/live-queue.ts), once the hub attaches it. */
  private queue: LiveQueue | null = null;
  private readonly online = new Map<string, number>();
  private readonly revalidation: NodeJS.Timeout;
  private status: HubStatus = { state: 'ok', reason: null, since: new Date().toISOString() };

  constructor(
    io: Server,
    private readonly auth: AuthService,
    private readonly audit: AuditLog,
    private readonly timeline: () => TimelineContext,
    options: AgentsRealtimeOptions,
  ) {
    this.nsp = io.of('/agents') as AgentNamespace;
    this.revalidation = setInterval(() => {
      // Sessions cannot be checked while the database is away: keep the sockets, check again once it is back.
      if (this.status.state === 'degraded') return;
      void this.revalidate().catch((error) => this.timeline().logger.error({ err: error }, 'socket revalidation failed'));
    }, options.revalidateEveryMs);
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
    // Another node changed who may follow a conversation: its sockets here are checked too.
    this.nsp.on('conversation:access', (change) => {
      const c = change?.conversation;
      if (typeof change?.roomOf !== 'string' || typeof c?.id !== 'string' || typeof c.teamId !== 'string') return;
      const access = { teamId: c.teamId, assigneeId: typeof c.assigneeId === 'string' ? c.assigneeId : null };
      this.closeFor(change.roomOf, (socket) => !this.mayFollow(socket, c.id, access), change.reason === 'merged_elsewhere' ? 'merged_elsewhere' : 'access_lost');
    });
    // Another node saw the queue change: this node's watchers get the new figures too.
    this.nsp.on('queue:changed', () => this.queue?.changed());
  }

  messageCreated(message: MessageRecord, conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('message:created', { message, conversation });
    this.queueSaw(conversation);
  }

  messageUpdated(message: MessageRecord, conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('message:updated', { message, conversation });
  }

  conversationUpdated(conversation: ConversationRecord): void {
    this.roomsFor(conversation).emit('conversation:updated', { conversation });
    this.queueSaw(conversation);
    // A transfer or reassignment: whoever had it open without access now leaves it.
    this.closeFor(conversation.id, (socket) => !this.mayFollow(socket, conversation.id, conversation), 'access_lost');
    this.tellOtherNodes(conversation.id, conversation, 'access_lost');
  }

  conversationMerged(fromConversationId: string, conversation: ConversationRecord): void {
    // Only those who may see the conversation it went into hear where it went; others only that it is gone.
    this.roomsFor(conversation).emit('conversation:merged', { fromConversationId, conversation });
    this.queueChanged();
    this.closeFor(fromConversationId, (socket) => !this.mayFollow(socket, conversation.id, conversation), 'merged_elsewhere');
    this.tellOtherNodes(fromConversationId, conversation, 'merged_elsewhere');
  }

  private tellOtherNodes(roomOf: string, conversation: ConversationRecord, reason: 'access_lost' | 'merged_elsewhere'): void {
    tellOtherNodes(this.nsp, 'conversation:access', { roomOf, conversation: { id: conversation.id, teamId: conversation.teamId, assigneeId: conversation.assigneeId }, reason });
  }

  /** Relays the patient's typing in the widget to the agents who have the conversation open. */
  patientTyping(conversationId: string, isTyping: boolean): void {
    this.nsp.to(AGENT_ROOMS.conversation(conversationId)).emit('patient:typing', { conversationId, isTyping });
  }

  /** Called when an agent types in a conversation (the widget shows "typing…"). */
  onAgentTyping: (conversationId: string, isTyping: boolean) => void = () => {};

  /** Disconnects every socket of a session on this node now (logout, revocation); other nodes' revalidation follows within seconds. */
  endSession(sessionId: string, reason: string): void {
    for (const socket of this.nsp.sockets.values()) {
      if (socket.data.sessionId === sessionId) this.disconnect(socket, reason);
    }
  }

  /** Disconnects every socket of an agent on this node now (account disabled); other nodes' revalidation follows within seconds. */
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

  /** Whether the agent has a live connection to any node (this one, or one that answers in time). */
  isOnline(agentId: string): Promise<boolean> {
    return anySocketIn(this.nsp, AGENT_ROOMS.agent(agentId));
  }

  triageAlert(alert: { conversationId: string; teamId: string; category: string; label: string; at: string }, onCallTeamId: string | null): void {
    const rooms = [AGENT_ROOMS.supervisors(alert.teamId), AGENT_ROOMS.admins, ...(onCallTeamId ? [AGENT_ROOMS.team(onCallTeamId)] : [])];
    this.nsp.to(rooms).emit('triage:alert', alert);
  }

  /** A sending number was flagged for its reputation: the admins are told (Numbers panel). */
  numberFlagged(flag: { number: string; reason: string; at: string }): void {
    this.nsp.to(AGENT_ROOMS.admins).emit('number:flagged', flag);
  }

  escalation(alert: { conversationId: string; teamId: string; waitedMinutes: number; at: string }): void {
    this.nsp.to([AGENT_ROOMS.supervisors(alert.teamId), AGENT_ROOMS.admins]).emit('queue:escalation', alert);
  }

  agentStatus(agentId: string, status: 'online' | 'away' | 'offline'): void {
    this.nsp.emit('agent:status', { agentId, status });
    this.queueChanged();
  }

  /** The agents with a live connection to any node (one question to the other nodes). */
  async connectedAgentIds(): Promise<ReadonlySet<string>> {
    const agentRoom = AGENT_ROOMS.agent('');
    return new Set((await roomsAcrossNodes(this.nsp, agentRoom)).map((name) => name.slice(agentRoom.length)));
  }

  /** The live queue's watchers on this node: supervisors (their teams' rooms) and admins (every team). */
  queueAudience(): QueueAudience {
    const supervisorRoom = AGENT_ROOMS.supervisors('');
    return {
      watchedTeams: () => {
        const rooms = this.nsp.adapter.rooms;
        if ((rooms.get(AGENT_ROOMS.admins)?.size ?? 0) > 0) return 'all';
        const teams = new Set<string>();
        for (const [name, members] of rooms) if (members.size > 0 && name.startsWith(supervisorRoom)) teams.add(name.slice(supervisorRoom.length));
        return teams;
      },
      // Each node computes for its own watchers: the push stays on this node.
      push: (stats, except) => this.nsp.local.to([AGENT_ROOMS.supervisors(stats.teamId), AGENT_ROOMS.admins]).except([...except]).emit('queue:stats', stats),
      send: (socketId, items) => {
        const socket = this.nsp.sockets.get(socketId);
        for (const item of items) socket?.emit('queue:stats', item);
      },
    };
  }

  attachLiveQueue(queue: LiveQueue): void {
    this.queue = queue;
  }

  /** A conversation changed: the queue's figures may have (this node's watchers, and the other nodes'). */
  private queueSaw(conversation: ConversationRecord): void {
    if (this.queue?.conversationChanged(conversation)) tellOtherNodes(this.nsp, 'queue:changed');
  }

  private queueChanged(): void {
    if (!this.queue) return;
    this.queue.changed();
    tellOtherNodes(this.nsp, 'queue:changed');
  }

  /** The hub's state changed (its database went away or came back): every inbox of this node shows it. */
  hubStatus(status: HubStatus): void {
    if (status.state === this.status.state) return;
    this.status = { ...status };
    this.nsp.local.emit('hub:status', this.status);
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
    // Supervisors and admins watch the live queue: their teams' figures once now, then as they change.
    const watches: TeamSelection | null = actor.role === 'admin' ? 'all' : actor.role === 'supervisor' ? new Set(actor.teamIds) : null;
    if (watches) this.queue?.watcherJoined(socket.id, watches);
    const ip = socket.handshake.address;
    if (this.status.state !== 'ok') socket.emit('hub:status', this.status);
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
      if (typeof ack !== 'function') return;
      const agentRoom = AGENT_ROOMS.agent('');
      void roomsAcrossNodes(this.nsp, agentRoom).then((names) => ack({ ok: true, agentIds: names.map((name) => name.slice(agentRoom.length)) }));
    });
    socket.on('disconnect', () => {
      this.markOnline(actor.agentId, -1);
      this.queue?.watcherLeft(socket.id);
    });
  }

  private markOnline(agentId: string, delta: number): void {
    const before = this.online.get(agentId) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) this.online.delete(agentId);
    else this.online.set(agentId, after);
    if (before === 0 && after > 0) {
      this.nsp.emit('presence', { agentId, online: true });
      this.queueChanged();
    }
    if (before > 0 && after === 0) {
      // Gone from this node; offline only if no other node holds a socket of theirs either.
      void this.isOnline(agentId).then((elsewhere) => {
        if (!elsewhere && !this.online.has(agentId)) {
          this.nsp.emit('presence', { agentId, online: false });
          this.queueChanged();
        }
      });
    }
  }

  private guard<T extends object>(ack: unknown, work: () => Promise<T>): void {
    answerAck(ack, work, this.timeline().logger);
  }
}
