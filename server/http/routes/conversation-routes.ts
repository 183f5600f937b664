import { z } from 'zod';
import { CHANNEL_IDS } from '../../../channels/channel-id.ts';
import { describeSmsBody } from '../../../channels/sms/segments.ts';
import { hasHeaderBreak } from '../../../channels/email/header-text.ts';
import { canBreakGlass, loadConversationFor, type AuditScope } from '../../access/access-policy.ts';
import { sendAttachment } from '../attachment-response.ts';
import type { ContactCards } from '../../delivery/contact-cards.ts';
import { sendContactCard } from '../../timeline/reply/send-contact-card.ts';
import { forbidden, notFound } from '../../errors.ts';
import { Types } from 'mongoose';
import type { HubServices } from '../../hub-services.ts';
import { assignConversation, markRead, reopenConversation, resolveConversation, setPriority } from '../../timeline/conversation-actions.ts';
import { inboxCounts, listInbox } from '../../timeline/inbox-list.ts';
import { listMessages } from '../../timeline/message-history.ts';
import { toConversationRecord } from '../../timeline/records.ts';
import { addNote, describeReplyOptions, sendReply } from '../../timeline/reply/send-reply.ts';
import { Reply, defineRoute } from '../route.ts';
import { originalOf } from '../original-email.ts';
import { resolvePossibleOptOut } from '../../timeline/possible-opt-out.ts';

const STATUSES = ['open', 'pending', 'resolved'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

const idParams = z.object({ id: z.string().min(1).max(100) });
const body = z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10,000 characters');

const messageShape = z.object({
  id: z.string(), conversationId: z.string(), seq: z.number().int(),
  direction: z.enum(['inbound', 'outbound', 'note', 'system']),
  channel: z.string(), body: z.string(), channelReason: z.string().nullable(),
  delivery: z.object({ status: z.string() }), createdAt: z.string(),
});
const conversationShape = z.object({
  id: z.string(), patientId: z.string(), status: z.enum(STATUSES), assigneeId: z.string().nullable(),
  teamId: z.string(), priority: z.enum(PRIORITIES), lastMessageAt: z.string(), lastSeq: z.number().int(),
});
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export function conversationRoutes(hub: HubServices, contactCards: ContactCards) {
  const { timeline } = hub;
  const load = (actor: Parameters<typeof loadConversationFor>[1], id: string, scope: AuditScope) =>
    loadConversationFor(timeline.models, actor, id, scope, timeline.clock());
  /** Assigning, transferring, prioritizing, resolving: the team's decisions, never open to an emergency grant (it would outlive the grant). */
  const loadToManage = async (actor: Parameters<typeof loadConversationFor>[1], id: string, scope: AuditScope) => {
    const conversation = await load(actor, id, scope);
    if (scope.flagged) throw forbidden('Emergency access lets you read and reply only; the conversation’s team assigns, transfers and resolves it');
    return conversation;
  };
  return [
    defineRoute({
      method: 'get', path: '/api/conversations', audit: 'conversation.list', tag: 'conversations', auth: 'agent',
      summary: 'The inbox: conversations the agent may see, newest activity first',
      query: z.object({
        status: z.string().optional().transform((v) => (v ? v.split(',') : undefined)).pipe(z.array(z.enum(STATUSES)).optional()),
        assignee: z.string().max(100).optional().describe('"me", "unassigned" or an agent id'),
        team: z.string().max(100).optional(),
        channel: z.enum(CHANNEL_IDS).optional(),
        priority: z.enum(PRIORITIES).optional(),
        patient: z.string().max(100).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25),
        cursor: z.string().max(200).optional(),
      }),
      responses: { 200: { description: 'A page of conversations', schema: list(conversationShape) } },
      handler: async ({ actor, query }) =>
        listInbox(timeline, actor, {
          status: query.status, assignee: query.assignee, teamId: query.team, channel: query.channel,
          priority: query.priority, patientId: query.patient, limit: query.limit, cursor: query.cursor,
        }),
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/counts', tag: 'conversations', auth: 'agent',
      summary: 'How many active (open or pending) and unread conversations each inbox view holds',
      responses: { 200: { description: '{mine, unassigned, teams, all}: {active, unread}' } },
      handler: async ({ actor }) => inboxCounts(timeline, actor),
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/:id', audit: 'conversation.read', tag: 'conversations', auth: 'agent',
      summary: 'One conversation', params: idParams,
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope }) => toConversationRecord(await load(actor, params.id, scope), timeline.cipher),
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/:id/messages', audit: 'messages.read', tag: 'conversations', auth: 'agent',
      summary: 'Messages by seq: `after` N to catch up, `before` N (or nothing: the latest) to scroll back',
      params: idParams,
      query: z.object({
        after: z.coerce.number().int().min(0).optional(),
        before: z.coerce.number().int().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }).refine((q) => q.after === undefined || q.before === undefined, { message: 'give after or before, not both', path: ['after'] }),
      responses: { 200: { description: 'A page of messages in seq order', schema: list(messageShape) } },
      handler: async ({ actor, params, scope, query }) => {
        const conversation = await load(actor, params.id, scope);
        return listMessages(timeline, conversation._id, query);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/messages', audit: 'message.create', tag: 'conversations', auth: 'agent',
      summary: 'Reply to the patient; channel "auto" follows the continuity rules and the choice is stored with its reason',
      params: idParams,
      body: z.object({
        body,
        channel: z.enum(['auto', ...CHANNEL_IDS]).default('auto'),
        clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (up to 64)').optional(),
        subject: z.string().trim().min(1).max(200).refine((s) => !hasHeaderBreak(s), 'must be one line: no line breaks or control characters').optional().describe('email only: the subject of the conversation’s first email'),
        attachmentIds: z.array(z.string().regex(/^[a-f0-9]{24}$/, 'an id from POST /api/attachments')).max(5).optional(),
        recipientId: z.string().min(1).max(200).optional().describe('a related contact (guardian, caregiver) chosen by the agent; never chosen by auto'),
      }),
      responses: { 201: { description: 'The reply, queued for delivery', schema: messageShape } },
      handler: async ({ actor, params, scope, body: input }) => {
        const conversation = await load(actor, params.id, scope);
        return new Reply(201, await sendReply(timeline, actor, conversation, input));
      },
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/contact-card', audit: 'message.create', tag: 'conversations', auth: 'agent',
      summary: 'Send the clinic’s contact card (vCard) so the patient saves its numbers; channel "auto" follows the continuity rules',
      params: idParams,
      body: z.object({ channel: z.enum(['auto', ...CHANNEL_IDS]).default('auto') }),
      responses: { 201: { description: 'The card’s message, queued for delivery', schema: messageShape } },
      handler: async ({ actor, params, scope, body: input }) => {
        const conversation = await load(actor, params.id, scope);
        return new Reply(201, await sendContactCard(timeline, actor, conversation, input.channel, await contactCards.current()));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/:id/reply-options', audit: 'conversation.read', tag: 'conversations', auth: 'agent',
      summary: 'Which channel "auto" would use and why, and why other channels are unavailable',
      params: idParams,
      responses: { 200: { description: 'The channel picker’s facts' } },
      handler: async ({ actor, params, scope }) => describeReplyOptions(timeline, await load(actor, params.id, scope)),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/notes', audit: 'note.create', tag: 'conversations', auth: 'agent',
      summary: 'An internal note: visible to agents, never sent to the patient',
      params: idParams, body: z.object({ body }),
      responses: { 201: { description: 'The note', schema: messageShape } },
      handler: async ({ actor, params, scope, body: input }) => new Reply(201, await addNote(timeline, actor, await load(actor, params.id, scope), input.body)),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/assign', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Assign to an agent ("me", an id, or null for nobody) and/or transfer to a team',
      params: idParams,
      body: z.object({ assigneeId: z.string().min(1).max(100).nullable().optional(), teamId: z.string().min(1).max(100).optional() })
        .refine((b) => b.assigneeId !== undefined || b.teamId !== undefined, { message: 'give assigneeId or teamId', path: ['assigneeId'] }),
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope, body: input }) => {
        const conversation = await loadToManage(actor, params.id, scope);
        const assigneeId = input.assigneeId === 'me' ? actor.agentId : input.assigneeId;
        return assignConversation(timeline, actor, conversation, { assigneeId, ...(input.teamId ? { teamId: input.teamId } : {}) });
      },
    }),
    defineRoute({
      method: 'patch', path: '/api/conversations/:id', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Set the priority', params: idParams, body: z.object({ priority: z.enum(PRIORITIES) }),
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope, body: input }) => setPriority(timeline, actor, await loadToManage(actor, params.id, scope), input.priority),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/resolve', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Resolve; a new message within the reopen window reopens it', params: idParams,
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope }) => resolveConversation(timeline, actor, await loadToManage(actor, params.id, scope)),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/reopen', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Reopen a resolved conversation (the patient’s latest only)', params: idParams,
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope }) => reopenConversation(timeline, actor, await loadToManage(actor, params.id, scope)),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/read', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Mark the conversation read (unread count to 0)', params: idParams,
      responses: { 200: { description: 'The conversation', schema: conversationShape } },
      handler: async ({ actor, params, scope }) => {
        const conversation = await load(actor, params.id, scope);
        // Someone reading under an emergency grant does not clear the team's unread count.
        return scope.flagged ? toConversationRecord(conversation, timeline.cipher) : markRead(timeline, conversation);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/:id/messages/:messageId/attachments/:index', tag: 'conversations', auth: 'agent', audit: 'messages.read',
      summary: 'An attachment of a message (e.g. MMS media), fetched from the provider by the hub with its credentials',
      params: z.object({ id: z.string().min(1).max(100), messageId: z.string().min(1).max(100), index: z.coerce.number().int().min(0).max(20) }),
      responses: { 200: { description: 'The file' } },
      handler: async ({ actor, params, scope, res }) => {
        const conversation = await load(actor, params.id, scope);
        const message = await timeline.models.Message.findById(params.messageId).lean();
        if (!message || message.conversationId !== conversation._id) throw notFound('Attachment');
        await sendAttachment(res, timeline, hub.adapters, message, params.index);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/api/conversations/:id/messages/:messageId/original', tag: 'conversations', auth: 'agent', audit: 'messages.read',
      summary: 'An inbound email as it arrived, before reply stripping ("show original"): {text, html}; inline images point at the message’s attachments',
      params: z.object({ id: z.string().min(1).max(100), messageId: z.string().min(1).max(100) }),
      responses: { 200: { description: 'The original', schema: z.object({ text: z.string().nullable(), html: z.string().nullable() }) } },
      handler: async ({ actor, params, scope }) => {
        const conversation = await load(actor, params.id, scope);
        const message = await timeline.models.Message.findById(params.messageId).lean();
        if (!message || message.conversationId !== conversation._id || !message.originalEnc) throw notFound('Original message');
        scope.details = { ...scope.details, messageId: message._id, original: true };
        return originalOf(message, timeline.cipher);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/possible-opt-out', audit: 'conversation.update', tag: 'conversations', auth: 'agent',
      summary: 'Act on a possible opt-out ("stop texting me"): record the opt-out for the address it came from, or dismiss the flag',
      params: idParams,
      body: z.object({ decision: z.enum(['record', 'dismiss']) }),
      responses: { 200: { description: 'The conversation', schema: conversationShape }, 409: { description: 'No possible opt-out is flagged' } },
      handler: async ({ actor, params, body: input, scope }) => resolvePossibleOptOut(timeline, actor, await load(actor, params.id, scope), input.decision),
    }),
    defineRoute({
      method: 'post', path: '/api/conversations/:id/break-glass', tag: 'conversations', auth: 'agent', audit: 'break_glass',
      summary: 'Emergency access: a supervisor opens a conversation outside their teams, stating why (audited and flagged)',
      params: idParams,
      body: z.object({ reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500) }),
      responses: { 201: { description: 'Access granted for BREAK_GLASS_MINUTES to this session' } },
      handler: async ({ actor, params, body: input, scope }) => {
        if (!canBreakGlass(actor)) throw forbidden('Only supervisors can use emergency access');
        const conversation = await timeline.models.Conversation.findById(params.id).lean();
        if (!conversation) throw notFound('Conversation');
        const now = timeline.clock();
        const expiresAt = new Date(now.getTime() + hub.config.breakGlassMs);
        await timeline.models.AccessGrant.create({
          _id: new Types.ObjectId().toHexString(), sessionId: actor.sessionId, agentId: actor.agentId,
          conversationId: conversation._id, reason: input.reason, createdAt: now, expiresAt,
        });
        Object.assign(scope, { conversationId: conversation._id, patientId: conversation.patientId, flagged: true, reason: input.reason });
        hub.timeline.logger.warn({ event: 'break_glass', agentId: actor.agentId, conversationId: conversation._id }, 'emergency access granted');
        return new Reply(201, { conversationId: conversation._id, expiresAt: expiresAt.toISOString() });
      },
    }),
  ];
}

/** Tools for composing replies. */
export function composeRoutes() {
  return [
    defineRoute({
      method: 'post', path: '/api/sms/segments', tag: 'conversations', auth: 'agent',
      summary: 'How an SMS body will be sent: encoding (GSM-7 or UCS-2), segments, characters, and whether it is over 1,600',
      body: z.object({ body: z.string().max(20_000) }),
      responses: { 200: { description: '{encoding, segments, characters, tooLong}' } },
      handler: async ({ body }) => describeSmsBody(body.body),
    }),
  ];
}
