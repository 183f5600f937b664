/**
 * The routing layer every inbound patient message passes through, its rules
 * in this order:
 *   1. triage: an emergency or crisis signal gets a safety reply at once (on
 *      the channel the patient used, any hour, without marketing consent,
 *      once per conversation per hour), the conversation turns urgent and is
 *      flagged, supervisors and the on-call team are alerted (and paged with
 *      no PHI when configured);
 *   2. department: a web chat goes to the team the patient picked in the
 *      pre-chat form; a first text from a new number can get a menu
 *      (SMS_DEPARTMENT_MENU) whose digit, in the next text, routes it;
 *   3. after hours: one automatic reply per conversation per closed period
 *      (when the team reopens, what to do if it is urgent), with consent;
 *   4. assignment: a new or reopened conversation goes to an online agent of
 *      its team with free capacity (assignment-policy.ts); nobody free, it
 *      waits and supervisors are alerted after the team's wait (sweep()).
 * Every step is idempotent, so a provider's retry of the webhook (the hub
 * may have stopped halfway) completes what is missing and repeats nothing.
 */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { ConversationDoc, MessageDoc, RoutingSettings, TeamDoc } from '../db/documents.ts';
import { appendMessage } from '../timeline/append-message.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord } from '../timeline/records.ts';
import { chooseReplyChannel } from '../timeline/reply/choose-reply-channel.ts';
import { loadReachability, queueOutbound, replyFacts } from '../timeline/reply/send-reply.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { AssignmentService } from './assignment.ts';
import { afterHoursReply } from './after-hours-text.ts';
import { closedPeriodKey, describeNextOpening, type TeamHours } from './business-hours.ts';
import { createTriageMatcher, safetyReply, type TriageMatch } from './triage/triage-matcher.ts';
import type { TriageRules } from './triage/triage-rules.ts';
import { teamHoursOf } from './team-settings.ts';
import type { FaqMatcher } from './faq.ts';

/** One safety reply per conversation per hour: a patient who keeps writing is not answered in a loop. */
export const SAFETY_REPLY_INTERVAL_MS = 60 * 60_000;

export interface RoutingAlerts {
  /** `triage:alert` to the team's supervisors, the admins and the on-call team. */
  triage(conversation: ConversationRecord, match: { category: string; label: string }): void;
  /** A conversation waited longer than the team allows without an agent free to take it. */
  escalation(conversation: ConversationRecord, waitedMinutes: number): void;
}

export interface TriagePager {
  /** Pages the on-call people (SMS/email) with no PHI: the category and a link to the conversation. */
  page(conversationId: string, category: string): void;
}

export interface RoutingOptions {
  clinicName: string;
  /** Published FAQ answers (faq-store.ts); after hours, a matching non-clinical question is answered automatically. */
  faq(): Promise<FaqMatcher>;
  rules: TriageRules;
  /** The clinic's urgent line from its contact card, named in safety and after-hours replies. */
  urgentLine: string | null;
  /** Hours of a team without its own: the clinic's (WIDGET_BUSINESS_HOURS in CLINIC_TIMEZONE), or always open. */
  defaultHours: TeamHours | null;
  alerts: RoutingAlerts;
  pager: TriagePager;
  /** Offer the department menu to a first text from a new number. */
  smsDepartmentMenu: boolean;
  /** Whether an agent who set themselves online is really there (connected, active lately). */
  isAgentOnline(agentId: string): Promise<boolean>;
}

export interface InboundForRouting {
  messageId: string;
  conversationId: string;
  /** The conversation was opened or reopened by this message (assignment considers only those). */
  opened: boolean;
  /** The sender was not known before this message. */
  newPatient?: boolean;
  /**
   * The message and its conversation as ingest just wrote them: routing then reads neither again (each read is a
   * round trip on MongoDB and a scan on the embedded store). Decisions on the conversation are written only while
   * what they read still holds (the conditional updates below), so a copy a few milliseconds old is safe.
   */
  stored?: { message: MessageDoc; conversation: ConversationDoc };
}

export class InboundRouting {
  private readonly matcher;
  readonly assignment: AssignmentService;

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: RoutingOptions,
  ) {
    this.matcher = createTriageMatcher(options.rules);
    this.assignment = new AssignmentService(ctx, { isAgentOnline: options.isAgentOnline, escalation: options.alerts.escalation });
  }

  async route(inbound: InboundForRouting): Promise<void> {
    const ctx = this.ctx();
    const message = inbound.stored?.message ?? (await ctx.models.Message.findById(inbound.messageId).lean());
    if (!message || message.direction !== 'inbound' || message.channel === 'internal') return;
    const text = ctx.cipher.decrypt(message.bodyEnc);
    const match = this.matcher.match(text);
    let transferred = false;
    if (match) await this.triage(message, match);
    else {
      let conversation = inbound.stored?.conversation ?? (await ctx.models.Conversation.findById(message.conversationId).lean());
      if (!conversation) return;
      const moved = await this.department(conversation, message, text, inbound);
      transferred = moved !== null;
      // After hours are the team's where the conversation now is.
      conversation = moved ?? conversation;
      await this.afterHours(conversation, message, text);
    }
    if (inbound.opened || transferred) await this.assignment.assignNew(inbound.conversationId);
  }

  /** Periodic: conversations that waited too long are escalated; waiting ones are offered to agents who came online. */
  async sweep(): Promise<void> {
    await this.assignment.sweep();
  }

  private async triage(message: MessageDoc, match: TriageMatch): Promise<void> {
    const ctx = this.ctx();
    const now = ctx.clock();
    // The flag and the reply's hour are claimed together, under the conversation's lock and by one conditional
    // update on MongoDB: of a retried webhook or two nodes, one sends the reply.
    const hourAgo = new Date(now.getTime() - SAFETY_REPLY_INTERVAL_MS);
    const before = await ctx.models.Conversation.findById(message.conversationId).lean();
    if (!before) return;
    const claimed = await ctx.locks.run(`conversation:${before._id}`, () =>
      ctx.models.Conversation.findOneAndUpdate(
        { _id: before._id, $or: [{ triage: null }, { 'triage.lastReplyAt': null }, { 'triage.lastReplyAt': { $lte: hourAgo } }] },
        { $set: { priority: 'urgent', triage: { category: match.category, label: match.label, at: now, messageId: message._id, lastReplyAt: now }, updatedAt: now } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (!claimed) {
      // Answered within the hour: the newest signal still shows on the flag, and nobody is alerted twice.
      await ctx.locks.run(`conversation:${before._id}`, () =>
        ctx.models.Conversation.updateOne({ _id: before._id }, { $set: { priority: 'urgent', 'triage.category': match.category, 'triage.label': match.label, 'triage.messageId': message._id } }),
      );
      return;
    }
    const language = message.channel === 'internal' ? 'en' : await this.languageFor(message, match);
    const reply = safetyReply(this.options.rules, match, language, this.options.urgentLine);
    await this.answer(claimed, message, reply, 'triage_safety_reply', `triage-reply:${message._id}`, { consent: false });
    const event = await appendMessage(ctx, (await ctx.models.Conversation.findById(claimed._id).lean()) ?? claimed, {
      direction: 'system', channel: 'internal', kind: 'event', author: { type: 'system', agentId: null }, deliveryStatus: 'none',
      body: `Urgent: ${match.label}. A safety reply was sent to the patient; supervisors and the on-call team were alerted.`,
    });
    const record = toConversationRecord(event.conversation, ctx.cipher);
    ctx.events.messageCreated(toMessageRecord(event.message, ctx.cipher), record);
    ctx.events.conversationUpdated(record);
    this.options.alerts.triage(record, match);
    this.options.pager.page(claimed._id, match.category);
    await ctx.audit.record({ action: 'conversation.update', via: 'system', conversationId: claimed._id, patientId: claimed.patientId, details: { triage: match.category } });
    ctx.logger.warn({ conversationId: claimed._id, messageId: message._id, category: match.category, channel: message.channel }, 'triage: emergency signal, safety reply queued');
  }

  /** Routes to the department the patient chose; the conversation as moved to another team, or null when it stays. */
  private async department(conversation: ConversationDoc, message: MessageDoc, text: string, inbound: InboundForRouting): Promise<ConversationDoc | null> {
    const ctx = this.ctx();
    // Only a conversation still where new ones start is routed: one an agent placed (or a retry finds moved) stays put.
    if (conversation.assigneeId || conversation.teamId !== ctx.settings.defaultTeamId) return null;
    if (message.channel === 'webchat' && inbound.opened) {
      const sender = message.senderIdentityId ? await ctx.models.Identity.findById(message.senderIdentityId, { routeToTeamId: 1 }).lean() : null;
      if (sender?.routeToTeamId) return this.transfer(conversation, sender.routeToTeamId, 'the patient chose it in the chat');
      return null;
    }
    if (message.channel !== 'sms') return null;
    if (conversation.awaitingDepartment) {
      // The menu is answered once: of two texts handled at once (two nodes), the one that clears the flag reads its digit.
      const cleared = await ctx.locks.run(`conversation:${conversation._id}`, () =>
        ctx.models.Conversation.updateOne({ _id: conversation._id, awaitingDepartment: true }, { $set: { awaitingDepartment: null } }),
      );
      if (cleared.matchedCount !== 1) return null;
      const digit = /^\s*([1-9])\s*[.)!]?\s*$/.exec(text)?.[1];
      const team = digit ? (await ctx.models.Team.find({}, { department: 1 }).lean()).find((t) => t.department?.smsKey === digit) : undefined;
      return team ? this.transfer(conversation, team._id, `the patient replied ${digit} to the menu`) : null;
    }
    if (!this.options.smsDepartmentMenu || !inbound.opened || !inbound.newPatient) return null;
    const offered = (await ctx.models.Team.find({}, { department: 1 }).lean())
      .flatMap((t) => (t.department?.smsKey ? [{ key: t.department.smsKey, label: t.department.label }] : []))
      .sort((a, b) => a.key.localeCompare(b.key));
    if (offered.length === 0) return null;
    const language = await this.languageFor(message, null);
    const reply = { en: 'Reply', es: 'Responda', it: 'Risponda' }[language];
    const choices = offered.map((o) => `${o.key} ${{ en: 'for', es: 'para', it: 'per' }[language]} ${o.label}`).join(', ');
    // Offered only while nobody placed the conversation meanwhile (the same condition as the read above, in the filter).
    const offering = await ctx.locks.run(`conversation:${conversation._id}`, () =>
      ctx.models.Conversation.updateOne({ _id: conversation._id, assigneeId: null, teamId: conversation.teamId }, { $set: { awaitingDepartment: true } }),
    );
    if (offering.matchedCount !== 1) return null;
    await this.answer(conversation, message, `${this.options.clinicName}: ${reply} ${choices}.`, 'department_menu', `department-menu:${conversation._id}`, { consent: true });
    return null;
  }

  /** Moves the conversation to the team; the conversation as moved, or null when it did not move. */
  private async transfer(conversation: ConversationDoc, teamId: string, why: string): Promise<ConversationDoc | null> {
    const ctx = this.ctx();
    if (teamId === conversation.teamId) return null;
    const team = await ctx.models.Team.findById(teamId, { name: 1 }).lean();
    if (!team) return null;
    // Only while it is still unassigned in the team it was routed from: an agent's transfer or assignment meanwhile stands.
    const moved = await ctx.locks.run(`conversation:${conversation._id}`, () =>
      ctx.models.Conversation.findOneAndUpdate(
        { _id: conversation._id, assigneeId: null, teamId: conversation.teamId },
        { $set: { teamId, updatedAt: ctx.clock() } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (!moved) return null;
    const event = await appendMessage(ctx, moved, {
      direction: 'system', channel: 'internal', kind: 'event', author: { type: 'system', agentId: null }, deliveryStatus: 'none',
      body: `Routed to ${team.name}: ${why}`,
    });
    const record = toConversationRecord(event.conversation, ctx.cipher);
    ctx.events.messageCreated(toMessageRecord(event.message, ctx.cipher), record);
    ctx.events.conversationUpdated(record);
    return event.conversation;
  }

  private async afterHours(conversation: ConversationDoc, message: MessageDoc, text: string): Promise<void> {
    const ctx = this.ctx();
    const team = await ctx.models.Team.findById(conversation.teamId).lean();
    const hours = teamHoursOf(team, this.options.defaultHours);
    if (!hours) return;
    const now = ctx.clock();
    const key = closedPeriodKey(hours, now);
    if (!key) return;
    // A published, non-clinical FAQ answers the question itself (each question once: keyed by the message).
    const language = await this.languageFor(message, null);
    const entry = (await this.options.faq()).answerFor(text, { teamId: conversation.teamId, language });
    if (entry) await this.answer(conversation, message, entry.answer, 'faq_answer', `faq:${message._id}`, { consent: true });
    if (conversation.afterHoursKey === key) return;
    const claimed = await ctx.locks.run(`conversation:${conversation._id}`, () =>
      ctx.models.Conversation.findOneAndUpdate({ _id: conversation._id, afterHoursKey: { $ne: key } }, { $set: { afterHoursKey: key } }, { returnDocument: 'after', lean: true }),
    );
    if (!claimed) return;
    const body = afterHoursReply(language, { clinic: this.options.clinicName, reopens: describeNextOpening(hours, now, language), urgentLine: this.options.urgentLine });
    await this.answer(claimed, message, body, 'after_hours_reply', `after-hours:${conversation._id}:${key}`, { consent: true });
  }

  /**
   * Queues the hub's own answer on the channel the patient used, to the address
   * they wrote from. `consent: false` for a safety reply (it answers the patient;
   * only an opt-out stops it, as the carrier would refuse it anyway).
   */
  private async answer(conversation: ConversationDoc, message: MessageDoc, body: string, reason: string, providerKey: string, rule: { consent: boolean }): Promise<void> {
    const ctx = this.ctx();
    const channel = message.channel as ChannelId;
    // A forged From (SPF and DKIM not aligned) would make the clinic mail whoever it names: flagged and alerted, never answered.
    if (message.senderUnauthenticated) {
      ctx.logger.warn({ conversationId: conversation._id, reason, channel }, 'automatic answer not sent: the sender is not authenticated');
      return;
    }
    const { patient, identities } = await loadReachability(ctx, conversation.patientId);
    const sender = identities.find((i) => i._id === message.senderIdentityId);
    if (!sender) return;
    const consent = sender.relation ? sender.contactConsent?.status : patient.consent[channel]?.status;
    if (consent === 'opted_out') {
      ctx.logger.warn({ conversationId: conversation._id, reason, channel }, 'automatic answer not sent: the address opted out');
      return;
    }
    if (rule.consent && channel !== 'webchat') {
      try {
        chooseReplyChannel(replyFacts(ctx, patient, identities, conversation), channel);
      } catch {
        return; // no consent on that channel: the hub does not write first
      }
    }
    await queueOutbound(ctx, conversation, identities, { channel, reason, recipient: sender }, {
      body, author: { type: 'system', agentId: null }, providerKey,
    });
  }

  /** The patient's language: their preference, else the language the triage phrase was written in, else English. */
  private async languageFor(message: MessageDoc, match: TriageMatch | null): Promise<'en' | 'es' | 'it'> {
    const patient = await this.ctx().models.Patient.findById(message.patientId, { preferences: 1 }).lean();
    const preferred = patient?.preferences?.language?.slice(0, 2).toLowerCase();
    if (preferred === 'en' || preferred === 'es' || preferred === 'it') return preferred;
    return match?.language ?? 'en';
  }
}

export type { RoutingSettings, TeamDoc };
