/**
 * Patient satisfaction (CSAT, issue #21): when a conversation is resolved the
 * patient is asked "How did we do?" once, on the channel they last wrote on:
 * by text ("Reply 1-5"), by email (a signed link to a small page,
 * csat-links.ts, routes in http/routes/csat-routes.ts), or with stars in the
 * web chat (`csat:request` / `csat:answer`).
 *
 * Life of a survey (`csat_surveys`, one per resolve: `_id` =
 * `<conversationId>:<reopenCount>`, so a second resolve of the same cycle, on
 * any node, inserts nothing):
 * - scheduled at the resolve, due after the channel's delay (CSAT_DELAY_MINUTES);
 * - claimed by one hub node with a lease on `dueAt`, like the outbox; then
 *   cancelled if the conversation was reopened meanwhile, deferred to the end
 *   of the quiet hours (text, email), skipped without consent and a verified
 *   address (text, email) or when the chat is not open (web chat), and at most
 *   one goes out per patient per CSAT_SURVEY_INTERVAL_DAYS (a conditional
 *   update of the patient's `csat` slot); the message itself is queued through
 *   the outbox under the provider key `csat:<survey>`, so it exists once;
 * - answered once (a conditional update from `sent`): the score and comment go
 *   to the timeline as a `csat` system event (the comment sealed like any
 *   body), to the KPIs (ctx.kpis), never reopening anything.
 *
 * By text, only the patient's next text within 24 hours can answer, and only
 * when it reads as a score (csat-reply.ts) and its comment raises no triage
 * signal; any other text is an ordinary message (it reopens or opens as usual).
 */
import { z } from 'zod';
import type { NormalizedInbound } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import type { Actor } from '../access/access-policy.ts';
import type { ConversationDoc, CsatSurveyDoc, IdentityDoc, PatientDoc } from '../db/documents.ts';
import { isDuplicateKeyError } from '../db/models.ts';
import { AppError, forbidden } from '../errors.ts';
import { knownTimeZone, nextSendableAt, type QuietHours } from '../outreach/quiet-hours.ts';
import type { WidgetCsatRequest } from '../realtime/widget-events.ts';
import type { CsatScore } from '../reports/kpi-sink.ts';
import { createTriageMatcher, type TriageMatcher } from '../routing/triage/triage-matcher.ts';
import type { TriageRules } from '../routing/triage/triage-rules.ts';
import { appendMessage, messageIdFor } from '../timeline/append-message.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord, type MessageRecord } from '../timeline/records.ts';
import { unavailability } from '../timeline/reply/choose-reply-channel.ts';
import { loadReachability, queueOutbound, replyFacts } from '../timeline/reply/send-reply.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { LeasedQueue } from '../leased-queue.ts';
import { parseInput } from '../validation.ts';
import { CSAT_LINK_TTL_MS, type CsatLinks } from './csat-links.ts';
import { MAX_CSAT_COMMENT_LENGTH, parseCsatReply } from './csat-reply.ts';
import { answerEvent, csatLanguageOf, surveyEmail, surveySms, WEBCHAT_SURVEY_EVENT, type CsatLanguage } from './csat-texts.ts';

/** How long a text or the chat's stars may answer a survey after it went out. */
export const CSAT_ANSWER_WINDOW_MS = 24 * 3600_000;
/** A node holds a claimed survey this long (deciding and queueing it takes a few database round trips). */
const LEASE_MS = 60_000;
/** Claims before a survey that keeps failing is given up. */
const MAX_ATTEMPTS = 5;

export interface CsatOptions {
  /** CSAT_SURVEYS: off schedules no new survey; answers to surveys already sent are still taken. */
  enabled: boolean;
  clinicName: string;
  clinicTimeZone: string;
  clinicLanguage: CsatLanguage;
  quietHours: QuietHours | null;
  intervalMs: number;
  delayMs: Record<ChannelId, number>;
  triageRules: TriageRules;
}

/** What the survey needs of the /widget namespace. */
export interface CsatWidgetPort {
  /** The patient has the chat open on some hub node. */
  isConnected(patientId: string): Promise<boolean>;
  /** Shows the survey in the patient's open chats (every node, through the patient's room). */
  request(patientId: string, request: WidgetCsatRequest): void;
}

/** The timeline's hooks (TimelineContext.csat): the resolve, and the inbound check before opening or reopening. */
export interface CsatTimelineHooks {
  conversationResolved(conversation: ConversationDoc): Promise<void>;
  answerInbound(patient: PatientDoc, inbound: NormalizedInbound, sender: { identity: IdentityDoc; fromThePatient: boolean }): Promise<CsatInboundAnswer | null>;
}

export interface CsatInboundAnswer {
  message: MessageRecord;
  conversation: ConversationRecord;
  patientId: string;
  duplicate: boolean;
}

/** What the survey page shows for a link. */
export type CsatLinkState =
  | { state: 'open'; survey: CsatSurveyDoc; language: CsatLanguage }
  | { state: 'answered' | 'expired'; language: CsatLanguage }
  | { state: 'invalid'; language: CsatLanguage };

export const csatAnswerSchema = z.object({
  score: z.coerce.number({ error: 'choose a rating from 1 to 5' }).int('choose a rating from 1 to 5').min(1, 'choose a rating from 1 to 5').max(5, 'choose a rating from 1 to 5'),
  comment: z.string().max(MAX_CSAT_COMMENT_LENGTH, `at most ${MAX_CSAT_COMMENT_LENGTH} characters`).optional(),
});
const widgetAnswerSchema = csatAnswerSchema.extend({ score: z.number().int().min(1).max(5), surveyId: z.string().max(200).optional() });

export interface CsatCommentsQuery {
  from?: Date | undefined;
  to?: Date | undefined;
  team?: string | undefined;
  limit: number;
  cursor?: Date | undefined;
}

export class CsatSurveys implements CsatTimelineHooks {
  private readonly triage: TriageMatcher;
  /** Due surveys, claimed by one node at a time. */
  private readonly worker: LeasedQueue<CsatSurveyDoc>;
  widget: CsatWidgetPort | undefined;

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: CsatOptions,
    private readonly links: CsatLinks,
  ) {
    this.triage = createTriageMatcher(options.triageRules);
    this.worker = new LeasedQueue({
      name: 'csat: the survey worker',
      model: () => this.ctx().models.CsatSurvey,
      claimable: { status: 'scheduled' },
      leaseMs: LEASE_MS,
      clock: () => this.ctx().clock(),
      logger: () => this.ctx().logger,
      handle: (survey) => this.process(survey),
    });
  }

  // --- scheduling ------------------------------------------------------------

  /** Schedules the survey of this resolve. Never throws: a resolve is never refused for a survey. */
  async conversationResolved(conversation: ConversationDoc): Promise<void> {
    if (!this.options.enabled) return;
    const ctx = this.ctx();
    try {
      const channel = conversation.lastInboundChannel;
      // A patient who never wrote in this conversation, or a conversation nobody at the clinic answered: nothing to rate.
      if (!channel || !conversation.firstResponseAt) return;
      const resolvedAt = new Date(conversation.resolvedAt ?? ctx.clock());
      const survey: CsatSurveyDoc = {
        _id: `${conversation._id}:${conversation.reopenCount ?? 0}`,
        conversationId: conversation._id,
        patientId: conversation.patientId,
        teamId: conversation.teamId,
        reopenCount: conversation.reopenCount ?? 0,
        channel,
        language: this.options.clinicLanguage,
        status: 'scheduled',
        dueAt: new Date(resolvedAt.getTime() + this.options.delayMs[channel]),
        attempts: 0,
        skipReason: null,
        resolvedAt,
        sentAt: null,
        expiresAt: null,
        messageId: null,
        answeredAt: null,
        answerChannel: null,
        answerMessageId: null,
        score: null,
        commentEnc: null,
        hasComment: false,
        createdAt: ctx.clock(),
      };
      try {
        await ctx.models.CsatSurvey.collection.insertOne(survey as never);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        return; // this resolve's survey exists already
      }
      if (this.options.delayMs[channel] === 0) this.kick();
    } catch (error) {
      ctx.logger.error({ err: error, conversationId: conversation._id }, 'csat: the survey could not be scheduled');
    }
  }

  // --- the worker ------------------------------------------------------------

  start(pollMs: number): void {
    this.worker.start(pollMs);
  }

  kick(): void {
    this.worker.kick();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Resolves when no survey is being handled now. */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  private async process(survey: CsatSurveyDoc): Promise<void> {
    const ctx = this.ctx();
    const { models, logger } = ctx;
    // Only while this claim holds it (`attempts` fences a claim whose lease another node took over).
    const settle = (set: Partial<CsatSurveyDoc>) => models.CsatSurvey.updateOne({ _id: survey._id, attempts: survey.attempts }, { $set: set });
    const skip = async (reason: string) => {
      await settle({ status: 'skipped', skipReason: reason, dueAt: null });
      logger.info({ surveyId: survey._id, conversationId: survey.conversationId, channel: survey.channel, reason }, 'csat: survey not sent');
    };
    if (survey.attempts > MAX_ATTEMPTS) return skip('gave_up');
    const conversation = await models.Conversation.findById(survey.conversationId).lean();
    // Reopened (by the patient or an agent) since this resolve: the survey of a later resolve will ask.
    if (!conversation || conversation.status !== 'resolved' || (conversation.reopenCount ?? 0) !== survey.reopenCount) return skip('reopened');
    const patient = await models.Patient.findById(conversation.patientId).lean();
    if (!patient || patient.mergedInto) return skip('patient_merged');
    const now = ctx.clock();
    const channel = survey.channel;
    if (channel !== 'webchat') {
      // A text or an email the patient did not ask for waits out their night (the chat is answered while they are in it).
      const timeZone = knownTimeZone(patient.preferences?.timezone) ?? this.options.clinicTimeZone;
      const sendable = nextSendableAt(this.options.quietHours, now, timeZone);
      if (sendable.getTime() > now.getTime()) {
        await settle({ dueAt: sendable });
        logger.info({ surveyId: survey._id, dueAt: sendable.toISOString() }, 'csat: survey waits for the end of quiet hours');
        return;
      }
    }
    if (this.recentlySurveyed(patient, survey._id, now)) return skip('recently_surveyed');
    let identities: IdentityDoc[] = [];
    if (channel === 'webchat') {
      if (!this.widget || !(await this.widget.isConnected(patient._id))) return skip('widget_closed');
    } else {
      const reach = await loadReachability(ctx, patient._id);
      // Like any message the clinic starts: consent for the channel and an address the patient proved.
      const why = unavailability(replyFacts(ctx, reach.patient, reach.identities, conversation), channel);
      if (why) return skip(why);
      identities = reach.identities;
    }
    const language = csatLanguageOf(patient.preferences?.language, this.options.clinicLanguage);
    const until = new Date(now.getTime() + CSAT_ANSWER_WINDOW_MS);
    if (!(await this.claimPatientSlot(patient._id, survey, channel, now, until))) return skip('recently_surveyed');

    let messageId: string;
    if (channel === 'webchat') {
      const event = await appendMessage(ctx, conversation, {
        direction: 'system', channel: 'internal', kind: 'event', body: WEBCHAT_SURVEY_EVENT,
        author: { type: 'system', agentId: null }, providerKey: `csat:${survey._id}`, deliveryStatus: 'none',
      });
      if (!event.duplicate) ctx.events.messageCreated(toMessageRecord(event.message, ctx.cipher), toConversationRecord(event.conversation, ctx.cipher));
      messageId = event.message._id;
      this.widget!.request(patient._id, { surveyId: survey._id, conversationId: conversation._id, language, maxCommentLength: MAX_CSAT_COMMENT_LENGTH });
    } else {
      const body = channel === 'sms' ? surveySms(language, this.options.clinicName) : surveyEmail(language, this.options.clinicName, this.links.create(survey._id));
      const { message } = await queueOutbound(ctx, conversation, identities, { channel, reason: 'csat_survey' }, {
        body, author: { type: 'system', agentId: null }, providerKey: `csat:${survey._id}`,
      });
      messageId = message.id;
    }
    await settle({
      status: 'sent', dueAt: null, sentAt: now, language, messageId,
      expiresAt: new Date(now.getTime() + (channel === 'email' ? CSAT_LINK_TTL_MS : CSAT_ANSWER_WINDOW_MS)),
    });
    logger.info({ surveyId: survey._id, conversationId: conversation._id, channel }, 'csat: survey sent');
  }

  private recentlySurveyed(patient: PatientDoc, surveyId: string, now: Date): boolean {
    const last = patient.csat?.lastSentAt;
    return Boolean(last && patient.csat?.lastSurveyId !== surveyId && now.getTime() - new Date(last).getTime() < this.options.intervalMs);
  }

  /**
   * The patient's survey slot: one conditional update, so of two surveys due at once (two nodes, two conversations)
   * one goes out per interval. A retry of the same survey (its node stopped after this) takes it again.
   */
  private async claimPatientSlot(patientId: string, survey: CsatSurveyDoc, channel: ChannelId, now: Date, until: Date): Promise<boolean> {
    const cutoff = new Date(now.getTime() - this.options.intervalMs);
    const claimed = await this.ctx().models.Patient.updateOne(
      { _id: patientId, $or: [{ csat: null }, { 'csat.lastSentAt': null }, { 'csat.lastSentAt': { $lte: cutoff } }, { 'csat.lastSurveyId': survey._id }] },
      {
        $set: {
          csat: { lastSurveyId: survey._id, lastSentAt: now, awaiting: channel === 'email' ? null : { surveyId: survey._id, channel, until } },
          updatedAt: now,
        },
      },
    );
    return claimed.matchedCount === 1;
  }

  // --- answers ---------------------------------------------------------------

  /**
   * The hook before an inbound message opens or reopens a conversation: the
   * patient's next text after an SMS survey answers it when it is a score in
   * time. Costs nothing for patients with no survey waiting (the patient is
   * already read). Null: an ordinary message.
   */
  async answerInbound(patient: PatientDoc, inbound: NormalizedInbound, sender: { identity: IdentityDoc; fromThePatient: boolean }): Promise<CsatInboundAnswer | null> {
    const awaiting = patient.csat?.awaiting;
    if (!awaiting || awaiting.channel !== 'sms' || inbound.channel !== 'sms') return null;
    // Only the patient's own proven number answers; a guardian's text or a family phone's is a message.
    if (!sender.fromThePatient || sender.identity.relation || sender.identity.sharedAt) return null;
    const ctx = this.ctx();
    const messageId = messageIdFor(inbound.providerKey);
    const survey = await ctx.models.CsatSurvey.findById(awaiting.surveyId).lean();
    if (survey?.status === 'answered' && survey.answerMessageId === messageId) {
      // Twilio's retry of an answer whose recording a stop cut short: finish it.
      return this.recordAnswer(survey, { channel: 'sms', providerKey: inbound.providerKey, providerMessageId: inbound.providerMessageId ?? null, senderIdentityId: sender.identity._id, via: 'webhook' });
    }
    const now = ctx.clock();
    const reply = inbound.impliesConsent === false || inbound.possibleOptOut || inbound.isAutomated || inbound.attachments?.length ? null : parseCsatReply(inbound.body);
    // A score with words after it is read for emergencies like any message: "1 I have chest pain" is triaged, not filed.
    const safe = reply !== null && (reply.comment === null || this.triage.match(inbound.body) === null);
    const inTime = survey?.status === 'sent' && survey.patientId === patient._id && new Date(awaiting.until).getTime() > now.getTime();
    if (!survey || !reply || !safe || !inTime) {
      // This is the text after the survey: whatever it says, no later one answers it.
      await this.releaseSlot(patient._id, awaiting.surveyId);
      return null;
    }
    const answered = await this.markAnswered(survey._id, { score: reply.score, comment: reply.comment, channel: 'sms', messageId, now });
    if (!answered) {
      await this.releaseSlot(patient._id, awaiting.surveyId);
      return null;
    }
    return this.recordAnswer(answered, { channel: 'sms', providerKey: inbound.providerKey, providerMessageId: inbound.providerMessageId ?? null, senderIdentityId: sender.identity._id, via: 'webhook' });
  }

  /** `csat:answer` from a visitor's socket: only the survey waiting in that visitor's own patient's chat. */
  async answerFromWidget(patientId: string, payload: unknown): Promise<Record<never, never>> {
    const ctx = this.ctx();
    const input = parseInput(widgetAnswerSchema, payload, 'payload');
    const patient = await ctx.models.Patient.findById(patientId, { csat: 1 }).lean();
    const awaiting = patient?.csat?.awaiting;
    const now = ctx.clock();
    if (!awaiting || awaiting.channel !== 'webchat' || (input.surveyId !== undefined && input.surveyId !== awaiting.surveyId)) {
      throw new AppError('NOT_FOUND', 'No survey is waiting for an answer in this chat');
    }
    const survey = await ctx.models.CsatSurvey.findById(awaiting.surveyId).lean();
    if (!survey || survey.patientId !== patientId) throw new AppError('NOT_FOUND', 'No survey is waiting for an answer in this chat');
    if (survey.status === 'answered') throw new AppError('CONFLICT', 'This survey was answered already: thank you');
    if (survey.status !== 'sent' || new Date(awaiting.until).getTime() <= now.getTime()) throw new AppError('NOT_FOUND', 'No survey is waiting for an answer in this chat');
    const comment = input.comment?.trim() || null;
    const answered = await this.markAnswered(survey._id, { score: input.score, comment, channel: 'webchat', messageId: messageIdFor(`csat-answer:${survey._id}`), now });
    if (!answered) throw new AppError('CONFLICT', 'This survey was answered already: thank you');
    await this.recordAnswer(answered, { channel: 'webchat', providerKey: `csat-answer:${survey._id}`, senderIdentityId: null, via: 'widget' });
    return {};
  }

  /** The survey still waiting in this patient's chat (shown again when a widget connects), if any. */
  async pendingFor(patient: PatientDoc): Promise<WidgetCsatRequest | null> {
    const awaiting = patient.csat?.awaiting;
    if (!awaiting || awaiting.channel !== 'webchat' || new Date(awaiting.until).getTime() <= this.ctx().clock().getTime()) return null;
    const survey = await this.ctx().models.CsatSurvey.findById(awaiting.surveyId).lean();
    if (survey?.status !== 'sent' || survey.patientId !== patient._id) return null;
    return { surveyId: survey._id, conversationId: survey.conversationId, language: survey.language, maxCommentLength: MAX_CSAT_COMMENT_LENGTH };
  }

  /** What GET /csat/:token shows. */
  async linkState(token: string): Promise<CsatLinkState> {
    const fallback = this.options.clinicLanguage;
    const target = this.links.open(token);
    if (!target) return { state: 'invalid', language: fallback };
    const survey = await this.ctx().models.CsatSurvey.findById(target.surveyId).lean();
    if (!survey || survey.channel !== 'email' || (survey.status !== 'sent' && survey.status !== 'answered')) return { state: 'invalid', language: fallback };
    if (survey.status === 'answered') return { state: 'answered', language: survey.language };
    if (target.expired || !survey.expiresAt || new Date(survey.expiresAt).getTime() <= this.ctx().clock().getTime()) return { state: 'expired', language: survey.language };
    return { state: 'open', survey, language: survey.language };
  }

  /** POST /csat/:token: the answer, once. Returns the state after it ('answered' for the first answer too). */
  async answerFromLink(token: string, input: { score: number; comment?: string | undefined }): Promise<CsatLinkState & { recorded?: boolean }> {
    const current = await this.linkState(token);
    if (current.state !== 'open') return current;
    const ctx = this.ctx();
    const comment = input.comment?.trim() || null;
    const answered = await this.markAnswered(current.survey._id, {
      score: input.score, comment, channel: 'email', messageId: messageIdFor(`csat-answer:${current.survey._id}`), now: ctx.clock(),
    });
    if (!answered) return { state: 'answered', language: current.language };
    await this.recordAnswer(answered, { channel: 'email', providerKey: `csat-answer:${answered._id}`, senderIdentityId: null, via: 'rest' });
    return { state: 'answered', language: current.language, recorded: true };
  }

  /** The one answer: a conditional update from `sent` (of two answers at once, on any node, one is recorded). */
  private markAnswered(
    surveyId: string,
    answer: { score: number; comment: string | null; channel: ChannelId; messageId: string; now: Date },
  ): Promise<CsatSurveyDoc | null> {
    const ctx = this.ctx();
    return ctx.models.CsatSurvey.findOneAndUpdate(
      { _id: surveyId, status: 'sent' },
      {
        $set: {
          status: 'answered', answeredAt: answer.now, answerChannel: answer.channel, answerMessageId: answer.messageId, score: answer.score,
          commentEnc: answer.comment ? ctx.cipher.encrypt(answer.comment) : null, hasComment: answer.comment !== null,
        },
      },
      { returnDocument: 'after', lean: true },
    );
  }

  /**
   * The answer in the timeline (a `csat` system event: no unread, no preview, no reopening), the patient's slot
   * freed, the KPIs told. Idempotent: the event's provider key makes a retry find the stored one.
   */
  private async recordAnswer(
    survey: CsatSurveyDoc,
    how: { channel: ChannelId; providerKey: string; providerMessageId?: string | null; senderIdentityId: string | null; via: 'webhook' | 'widget' | 'rest' },
  ): Promise<CsatInboundAnswer | null> {
    const ctx = this.ctx();
    const comment = survey.commentEnc ? ctx.cipher.decrypt(survey.commentEnc) : null;
    const conversation = await ctx.models.Conversation.findById(survey.conversationId).lean();
    if (!conversation) {
      await this.releaseSlot(survey.patientId, survey._id);
      ctx.logger.warn({ surveyId: survey._id }, 'csat: answered, but its conversation is gone (merged); kept on the survey only');
      return null;
    }
    const appended = await appendMessage(ctx, conversation, {
      direction: 'system',
      channel: how.channel,
      kind: 'csat',
      body: answerEvent(survey.score!, comment, how.channel),
      author: { type: 'system', agentId: null },
      providerKey: how.providerKey,
      providerMessageId: how.providerMessageId ?? null,
      senderIdentityId: how.senderIdentityId,
      deliveryStatus: 'received',
    });
    // Freed after the event is stored: a text whose handling stops between the two is finished by Twilio's retry.
    await this.releaseSlot(survey.patientId, survey._id);
    const message = toMessageRecord(appended.message, ctx.cipher);
    const record = toConversationRecord(appended.conversation, ctx.cipher);
    if (!appended.duplicate) {
      ctx.events.messageCreated(message, record);
      await ctx.audit.record({
        action: 'csat.answer', via: how.via, patientId: survey.patientId, conversationId: survey.conversationId,
        details: { channel: how.channel, messageId: message.id, score: survey.score!, hasComment: survey.hasComment },
      });
      try {
        await ctx.kpis?.csatAnswered({
          conversationId: survey.conversationId, channel: how.channel, score: survey.score as CsatScore, hasComment: survey.hasComment, at: new Date(survey.answeredAt ?? ctx.clock()),
        });
      } catch (error) {
        ctx.logger.error({ err: error, surveyId: survey._id }, 'csat: the KPIs were not told of an answer (npm run kpis:rebuild recovers it)');
      }
      ctx.logger.info({ surveyId: survey._id, conversationId: survey.conversationId, channel: how.channel }, 'csat: survey answered');
    }
    return { message, conversation: record, patientId: survey.patientId, duplicate: appended.duplicate };
  }

  /** Frees the patient's slot, only if it still holds this survey (a newer survey's slot stays). */
  private async releaseSlot(patientId: string, surveyId: string): Promise<void> {
    await this.ctx().models.Patient.updateOne({ _id: patientId, 'csat.awaiting.surveyId': surveyId }, { $set: { 'csat.awaiting': null } });
  }

  // --- the comments report -----------------------------------------------------

  /** Recent comments with their score: supervisors for their teams, admins for all. The comments are PHI (the route audits). */
  async comments(actor: Actor, query: CsatCommentsQuery) {
    if (actor.role !== 'admin' && actor.role !== 'supervisor') throw forbidden('Only supervisors and administrators can read survey comments');
    if (query.team && actor.role !== 'admin' && !actor.teamIds.includes(query.team)) throw forbidden('You can read the comments of your own teams only');
    const ctx = this.ctx();
    const to = query.to ?? ctx.clock();
    const upTo = query.cursor && query.cursor.getTime() < to.getTime() ? query.cursor : to;
    const from = query.from ?? new Date(to.getTime() - 30 * 24 * 3600_000);
    const teams = query.team ? [query.team] : actor.role === 'admin' ? null : [...actor.teamIds];
    const docs = await ctx.models.CsatSurvey.find({
      ...(teams ? { teamId: { $in: teams } } : {}),
      hasComment: true,
      answeredAt: { $gte: from, $lt: upTo },
    })
      .sort({ answeredAt: -1 })
      .limit(query.limit + 1)
      .lean();
    const page = docs.slice(0, query.limit);
    return {
      items: page.map((d) => ({
        conversationId: d.conversationId,
        teamId: d.teamId,
        channel: d.answerChannel ?? d.channel,
        score: d.score!,
        comment: d.commentEnc ? ctx.cipher.decrypt(d.commentEnc) : '',
        at: new Date(d.answeredAt!).toISOString(),
      })),
      nextCursor: docs.length > query.limit ? new Date(page.at(-1)!.answeredAt!).toISOString() : null,
    };
  }
}
