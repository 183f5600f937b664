/**
 * Socket.IO namespace /widget: the patients' web chat.
 *
 * The handshake carries a visitor token (auth.token) and, from browsers, an
 * Origin that must be one of WIDGET_ALLOWED_ORIGINS. Each socket joins its
 * visitor's room, its patient's room and its current conversation's room.
 * Events for a patient go to the patient's room, so a visitor only ever gets
 * the patient they are (their own anonymous one until they prove more).
 */
import type { AbuseLimits } from '../widget/abuse-limits.ts';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { uploadedAttachments } from '../attachments/attachment-store.ts';
import { AppError } from '../errors.ts';
import { parseInput } from '../validation.ts';
import { answerAck, handshakeError } from './socket-answers.ts';
import { anySocketIn, tellOtherNodes } from './redis-fanout.ts';
import { advanceDeliveryStatus } from '../delivery/delivery-status.ts';
import { ingestInbound } from '../timeline/ingest/ingest-inbound.ts';
import { linkVisitor } from '../timeline/link/link-visitor.ts';
import { recordConsent } from '../timeline/consent.ts';
import { toMessageRecord, type ConversationRecord, type MessageRecord } from '../timeline/records.ts';
import type { TimelineContext, TimelineEvents } from '../timeline/timeline-context.ts';
import type { VerificationCodes } from '../widget/verification-codes.ts';
import type { Visitor, WidgetVisitors } from '../widget/widget-visitors.ts';
import { isVisibleToPatient, toWidgetMessage } from '../widget/widget-view.ts';
import type { AgentsRealtime } from './agents-namespace.ts';
import {
  WIDGET_LANGUAGES,
  type WidgetClientToServerEvents,
  type WidgetCsatRequest,
  type WidgetServerToClientEvents,
} from './widget-events.ts';
import type { PatientDoc } from '../db/documents.ts';

/** The chat's satisfaction survey (server/csat/csat-surveys.ts): its answer, and the one still waiting when a widget connects. */
export interface WidgetCsat {
  answerFromWidget(patientId: string, payload: unknown): Promise<Record<never, never>>;
  pendingFor(patient: PatientDoc): Promise<WidgetCsatRequest | null>;
}

interface WidgetSocketData {
  visitorId: string;
  identityId: string;
  patientId: string;
  conversationId: string | null;
}

/** Between hub nodes (Redis adapter): a visitor's sockets there move to their new patient's and conversation's rooms too. */
interface WidgetInterServerEvents {
  'visitor:resync': (identityId: string) => void;
}

type WidgetNamespace = Namespace<WidgetClientToServerEvents, WidgetServerToClientEvents, WidgetInterServerEvents, WidgetSocketData>;
type WidgetSocket = Socket<WidgetClientToServerEvents, WidgetServerToClientEvents, WidgetInterServerEvents, WidgetSocketData>;

export const MAX_WIDGET_BODY_LENGTH = 4000;
export const MAX_WIDGET_ATTACHMENTS = 5;

const rooms = {
  patient: (id: string) => `patient:${id}`,
  visitor: (identityId: string) => `visitor:${identityId}`,
  conversation: (id: string) => `conversation:${id}`,
};

const sendSchema = z.object({
  clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 letters, digits, _ or -'),
  body: z.string().max(MAX_WIDGET_BODY_LENGTH, `at most ${MAX_WIDGET_BODY_LENGTH} characters`),
  attachmentIds: z.array(z.string().regex(/^[a-f0-9]{24}$/, 'unknown attachment')).max(MAX_WIDGET_ATTACHMENTS).optional(),
});
const sinceSchema = z.object({ afterSeq: z.number().int().min(0), limit: z.number().int().min(1).max(200).optional() });
const verifyStartSchema = z.object({
  channel: z.enum(['sms', 'email']),
  address: z.string().trim().min(3, 'enter a phone number or email address').max(320),
  consent: z.boolean(),
  language: z.enum(WIDGET_LANGUAGES as [string, ...string[]]).optional(),
});
const verifyConfirmSchema = z.object({ code: z.string().trim().regex(/^\d{6}$/, 'the code is 6 digits') });

export interface WidgetRealtimeDeps {
  visitors: WidgetVisitors;
  codes: VerificationCodes;
  agents: AgentsRealtime;
  limits: AbuseLimits;
  timeline: () => TimelineContext;
  /** Whether a browser origin may use the widget (WIDGET_ALLOWED_ORIGINS). */
  originAllowed(origin: string): boolean;
}

export class WidgetRealtime implements TimelineEvents {
  private readonly nsp: WidgetNamespace;
  /** The visitor the handshake loaded, handed to the connection so it is not read twice. */
  private readonly handshaken = new Map<string, Visitor>();
  /** Satisfaction surveys in the chat (server/csat/; set by the hub). */
  csat: WidgetCsat | undefined;

  constructor(io: Server, private readonly deps: WidgetRealtimeDeps) {
    this.nsp = io.of('/widget') as WidgetNamespace;
    this.nsp.use((socket, next) => {
      const origin = socket.handshake.headers.origin;
      if (origin && !deps.originAllowed(origin)) {
        return next(handshakeError(new AppError('ORIGIN_NOT_ALLOWED', `${origin} may not embed this chat widget; add it to WIDGET_ALLOWED_ORIGINS`)));
      }
      const token = (socket.handshake.auth as { token?: unknown }).token;
      if (typeof token !== 'string') return next(handshakeError(new AppError('UNAUTHENTICATED', 'Send the visitor token as auth.token')));
      deps.visitors.authenticate(token).then(
        (visitor) => {
          socket.data = { visitorId: visitor.visitorId, identityId: visitor.identity._id, patientId: visitor.patient._id, conversationId: null };
          this.handshaken.set(socket.id, visitor);
          next();
        },
        (error: unknown) => next(handshakeError(error, 'The chat session could not be opened')),
      );
    });
    this.nsp.on('connection', (socket) => void this.onConnection(socket));
    this.nsp.on('visitor:resync', (identityId) => {
      if (typeof identityId !== 'string' || this.socketsOf(identityId).length === 0) return;
      void this.resyncHere(identityId).catch((error) => deps.timeline().logger.error({ err: error }, 'widget resync from another node failed'));
    });
    deps.agents.onAgentTyping = (conversationId, isTyping) => this.nsp.to(rooms.conversation(conversationId)).emit('agent:typing', { isTyping });
  }

  /** True while at least one widget of this patient is connected (to any node: this one, or one that answers in time). */
  isConnected(patientId: string): Promise<boolean> {
    return anySocketIn(this.nsp, rooms.patient(patientId));
  }

  messageCreated(message: MessageRecord, conversation: ConversationRecord): void {
    if (!isVisibleToPatient(message)) return;
    this.nsp.to(rooms.patient(conversation.patientId)).emit('message:created', toWidgetMessage(message));
  }

  messageUpdated(message: MessageRecord, conversation: ConversationRecord): void {
    if (!isVisibleToPatient(message)) return;
    this.nsp.to(rooms.patient(conversation.patientId)).emit('message:updated', toWidgetMessage(message));
  }

  conversationUpdated(): void {}

  /** "How did we do?" in the patient's open chats, on every node (the patient's room). */
  csatRequest(patientId: string, request: WidgetCsatRequest): void {
    this.nsp.to(rooms.patient(patientId)).emit('csat:request', request);
  }

  conversationMerged(): void {}

  private async onConnection(socket: WidgetSocket): Promise<void> {
    const ip = socket.handshake.address;
    const ctx = this.deps.timeline();
    socket.on('message:send', (payload, ack) => this.guard(ack, () => this.send(socket, payload)));
    socket.on('messages:since', (query, ack) => this.guard(ack, () => this.since(socket, query)));
    socket.on('messages:seen', (payload) => void this.seen(socket, payload).catch((error) => ctx.logger.error({ err: error }, 'widget seen failed')));
    socket.on('typing', (payload) => {
      if (socket.data.conversationId) this.deps.agents.patientTyping(socket.data.conversationId, Boolean(payload?.isTyping));
    });
    socket.on('verify:start', (payload, ack) =>
      this.guard(ack, async () => {
        const input = parseInput(verifyStartSchema, payload, 'payload');
        const visitor = await this.visitorOf(socket);
        return this.deps.codes.start(visitor, { ...input, language: (input.language ?? visitor.patient.preferences.language ?? 'en') as 'en' }, ip);
      }),
    );
    socket.on('verify:confirm', (payload, ack) =>
      this.guard(ack, async () => {
        const { code } = parseInput(verifyConfirmSchema, payload, 'payload');
        const visitor = await this.visitorOf(socket);
        const proven = await this.deps.codes.confirm(visitor, code, ip);
        const { patientId, linked } = await linkVisitor(ctx, visitor.identity._id, proven.identity, proven.identity.kind as 'phone' | 'email');
        // The answer is the same either way: the widget never learns whether an address belongs to someone.
        if (linked) {
          await recordConsent(ctx, patientId, proven.channel, 'opted_in', 'widget_verification', proven.consentWording);
          // They chose to go on there: that is their preferred channel now.
          await ctx.models.Patient.updateOne({ _id: patientId }, { $set: { 'preferences.channel': proven.channel, updatedAt: ctx.clock() } });
        }
        return { session: await this.resync(visitor.identity._id) };
      }),
    );
    socket.on('csat:answer', (payload, ack) =>
      this.guard(ack, async () => {
        if (!this.csat) throw new AppError('NOT_FOUND', 'No survey is waiting for an answer in this chat');
        // The socket's own patient only: a visitor can answer nobody else's survey, whatever it sends.
        return this.csat.answerFromWidget(socket.data.patientId, payload);
      }),
    );
    socket.on('session:end', (ack) =>
      this.guard(ack, async () => {
        const visitor = await this.visitorOf(socket);
        await this.deps.visitors.end(visitor, ip);
        // Through the visitor's room, so their chats open on other nodes end too.
        setImmediate(() => {
          this.nsp.to(rooms.visitor(visitor.identity._id)).emit('session:ended', { reason: 'ended_by_visitor' });
          this.nsp.in(rooms.visitor(visitor.identity._id)).disconnectSockets(true);
        });
        return {};
      }),
    );

    try {
      await socket.join(rooms.visitor(socket.data.identityId)); // enter() adds the patient's and conversation's rooms
      const visitor = this.handshaken.get(socket.id) ?? (await this.deps.visitors.load(socket.data.visitorId));
      this.handshaken.delete(socket.id);
      await this.enter(socket, visitor);
      // A survey still waiting for this chat's answer is shown again (a reload, a dropped connection).
      const survey = await this.csat?.pendingFor(visitor.patient);
      if (survey) socket.emit('csat:request', survey);
      if (visitor.identity.linkedBy) {
        await ctx.audit.record({ action: 'widget.messages.read', via: 'widget', ip, patientId: visitor.patient._id, conversationId: socket.data.conversationId });
      }
    } catch (error) {
      ctx.logger.error({ err: error }, 'widget connection setup failed');
      socket.disconnect(true);
    }
  }

  /** Puts the socket in its patient's and conversation's rooms and tells the widget its session (with a fresh token). */
  private async enter(socket: WidgetSocket, visitor: Visitor): Promise<void> {
    const session = await this.deps.visitors.session(visitor, this.deps.visitors.tokens.issue(visitor.visitorId));
    if (socket.data.patientId !== visitor.patient._id) await socket.leave(rooms.patient(socket.data.patientId));
    if (socket.data.conversationId && socket.data.conversationId !== session.conversationId) await socket.leave(rooms.conversation(socket.data.conversationId));
    socket.data.patientId = visitor.patient._id;
    socket.data.conversationId = session.conversationId;
    await socket.join([rooms.patient(visitor.patient._id), ...(session.conversationId ? [rooms.conversation(session.conversationId)] : [])]);
    socket.emit('session', session);
  }

  /** After a link or a new conversation: every socket of the visitor, on every node, moves rooms and gets its new session. */
  private async resync(identityId: string) {
    tellOtherNodes(this.nsp, 'visitor:resync', identityId);
    return this.resyncHere(identityId);
  }

  private async resyncHere(identityId: string) {
    const sockets = this.socketsOf(identityId);
    const visitorId = sockets[0]?.data.visitorId;
    if (!visitorId) throw new AppError('UNAUTHENTICATED', 'The chat session is gone');
    const visitor = await this.deps.visitors.load(visitorId);
    for (const socket of sockets) await this.enter(socket, visitor);
    return this.deps.visitors.session(visitor, this.deps.visitors.tokens.issue(visitorId));
  }

  private socketsOf(identityId: string): WidgetSocket[] {
    const ids = this.nsp.adapter.rooms.get(rooms.visitor(identityId)) ?? new Set<string>();
    return [...ids].map((id) => this.nsp.sockets.get(id)).filter((s): s is WidgetSocket => s !== undefined);
  }

  private visitorOf(socket: WidgetSocket): Promise<Visitor> {
    return this.deps.visitors.load(socket.data.visitorId);
  }

  private async send(socket: WidgetSocket, payload: unknown) {
    const ctx = this.deps.timeline();
    const input = parseInput(sendSchema, payload, 'payload');
    await this.deps.limits.message(socket.handshake.address, socket.data.identityId);
    const body = input.body.trim();
    const ids = input.attachmentIds ?? [];
    if (!body && ids.length === 0) throw new AppError('INVALID_INPUT', 'body: write a message or attach a file', { field: 'body' });
    const attachments = await uploadedAttachments(ctx, socket.data.identityId, ids, 'from this chat');
    const result = await ctx.locks.run(`visitor:${socket.data.identityId}`, () =>
      ingestInbound(ctx, {
        channel: 'webchat',
        from: { kind: 'web', value: socket.data.visitorId },
        // The widget's own id per message: a resend after a dropped connection is the same message.
        providerKey: `webchat:${socket.data.visitorId}:${input.clientId}`,
        clientId: input.clientId,
        body,
        attachments,
      }),
    );
    if (result.patientId !== socket.data.patientId || result.conversation.id !== socket.data.conversationId) {
      await this.resync(socket.data.identityId);
    }
    return { message: toWidgetMessage(result.message) };
  }

  private async since(socket: WidgetSocket, query: unknown) {
    const ctx = this.deps.timeline();
    const { afterSeq, limit = 100 } = parseInput(sinceSchema, query, 'payload');
    const visitor = await this.visitorOf(socket);
    const conversationId = visitor.patient.latestConversationId;
    if (!conversationId) return { conversationId: null, items: [], hasMore: false };
    const docs = await ctx.models.Message.find({ conversationId, seq: { $gt: afterSeq }, direction: { $in: ['inbound', 'outbound'] } })
      .sort({ seq: 1 })
      .limit(limit + 1)
      .lean();
    const items = docs.slice(0, limit).map((d) => toWidgetMessage(toMessageRecord(d, ctx.cipher)));
    return { conversationId, items, hasMore: docs.length > limit };
  }

  /** Read ticks: the patient has the chat open and saw the clinic's web chat messages up to this seq. */
  private async seen(socket: WidgetSocket, payload: unknown): Promise<void> {
    const upToSeq = Number((payload as { upToSeq?: unknown })?.upToSeq);
    const conversationId = socket.data.conversationId;
    if (!conversationId || !Number.isInteger(upToSeq) || upToSeq < 1) return;
    const ctx = this.deps.timeline();
    const unread = await ctx.models.Message.find(
      { conversationId, seq: { $lte: upToSeq }, direction: 'outbound', channel: 'webchat', 'delivery.status': { $in: ['queued', 'sending', 'sent', 'delivered'] } },
      { _id: 1 },
    ).lean();
    for (const message of unread) await advanceDeliveryStatus(ctx, message._id, 'read');
  }

  private guard<T extends object>(ack: unknown, work: () => Promise<T>): void {
    answerAck(ack, work, this.deps.timeline().logger);
  }

}

