/**
 * Scheduled messages (issue #22): appointment reminders, results-ready
 * notices and follow-ups the clinic schedules for a patient.
 *
 * Life of one (`scheduled_messages`):
 * - scheduled through the API: rendered at once from a template or a body
 *   (message-templates.ts: every variable filled or a 400 naming it), with
 *   the channel checked as it stands then (a 409 saying why it cannot go);
 * - due at `sendAt`, claimed by one hub node with a lease on `dueAt` (a
 *   conditional update, like the outbox), so two workers or two nodes never
 *   both send it; a node that dies holding it leaves it to the next claim;
 * - deferred past the patient's quiet hours in their time zone (else the
 *   clinic's), unless its kind is in OUTREACH_URGENT_KINDS;
 * - checked again (consent, a verified address), then queued through the
 *   outbox under the provider key `scheduled:<id>`: a claim that repeats the
 *   step after a crash finds the message stored and queues nothing new;
 *   recorded in the patient's latest conversation (whatever its status: a
 *   reminder reopens nothing), or in a new one for a patient who has none;
 *   skipped with the reason in the thread when the patient cannot be reached;
 * - a reminder that expects a reply marks the patient as awaiting it: their
 *   next short text (or email) on that channel within
 *   REMINDER_REPLY_WINDOW_HOURS is read as confirm / cancel / reschedule
 *   (reminder-replies.ts). A confirmation or cancellation is recorded on the
 *   reminder and as an event in the thread, acknowledged, and reopens
 *   nothing; a request to reschedule goes to an agent like any message; an
 *   unclear reply is an ordinary message. Each answer reaches the clinic's
 *   scheduling system by GET /api/scheduled-messages?status=&since= and the
 *   signed outgoing webhook (outbound-webhook.ts).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { NormalizedInbound } from '../../../channels/contract.ts';
import { describeSmsBody, MAX_SMS_BODY_CHARACTERS } from '../../../channels/sms/segments.ts';
import type { Actor } from '../../access/access-policy.ts';
import { loadPatientFor } from '../../access/access-policy.ts';
import type { ConversationDoc, IdentityDoc, PatientDoc, ScheduledMessageDoc, ScheduledStatus } from '../../db/documents.ts';
import { AppError, forbidden, notFound } from '../../errors.ts';
import { instantOfLocalTime } from '../../routing/business-hours.ts';
import { appendMessage, messageIdFor } from '../../timeline/append-message.ts';
import { findOrOpenConversation } from '../../timeline/ingest/find-or-open-conversation.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord, type MessageRecord } from '../../timeline/records.ts';
import { chooseReplyChannel, unavailability, type ReplyChannelFacts } from '../../timeline/reply/choose-reply-channel.ts';
import { loadReachability, queueOutbound, replyFacts } from '../../timeline/reply/send-reply.ts';
import type { TimelineContext } from '../../timeline/timeline-context.ts';
import { LeasedQueue } from '../../leased-queue.ts';
import type { OutboundWebhook } from '../outbound-webhook.ts';
import { knownTimeZone, nextSendableAt, type QuietHours } from '../quiet-hours.ts';
import { SCHEDULED_KINDS, type ScheduledKind } from '../templates/default-templates.ts';
import { LINK_PLACEHOLDER, GIVEN_VARIABLES, type TemplateLanguage } from '../templates/template-text.ts';
import type { MessageTemplates } from '../templates/message-templates.ts';
import { readReminderReply, type ReminderReading } from './reminder-replies.ts';
import { acknowledgement, replyEvent, skippedEvent, STATUS_OF } from './reminder-texts.ts';

/** A node holds a claimed message this long (deciding and queueing it takes a few round trips). */
const LEASE_MS = 60_000;
/** Claims before a message that keeps failing is given up. */
const MAX_ATTEMPTS = 5;
/** How far ahead a message may be scheduled. */
const MAX_AHEAD_MS = 400 * 24 * 3600_000;
/** A sendAt this far in the past is a mistake, not "now". */
const PAST_TOLERANCE_MS = 5 * 60_000;
/** Statuses a reply may still change (a patient may confirm, then cancel within the window). */
const ANSWERABLE: ScheduledStatus[] = ['sent', 'confirmed', 'cancelled', 'reschedule_requested'];

const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/;

export const scheduleInputSchema = z
  .object({
    template: z.string().min(1).max(48).optional(),
    body: z.string().trim().min(1).max(MAX_SMS_BODY_CHARACTERS).optional(),
    variables: z
      .object(Object.fromEntries(GIVEN_VARIABLES.map((k) => [k, z.string().trim().min(1).max(200).optional()])) as Record<(typeof GIVEN_VARIABLES)[number], z.ZodOptional<z.ZodString>>)
      .strict()
      .default({})
      .refine((v) => !v.appointmentAt || !Number.isNaN(Date.parse(v.appointmentAt)) && /(Z|[+-]\d{2}:\d{2})$/.test(v.appointmentAt), {
        message: 'appointmentAt: an ISO 8601 instant with its offset, e.g. 2027-03-15T09:30:00-04:00',
        path: ['appointmentAt'],
      }),
    sendAt: z.string().min(1).max(40),
    channel: z.enum(['auto', 'sms', 'email']).default('auto'),
    kind: z.enum(SCHEDULED_KINDS).optional(),
    expectsReply: z.boolean().optional(),
    externalRef: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type ScheduleInput = z.infer<typeof scheduleInputSchema>;

export const scheduledRecordSchema = z.object({
  id: z.string(),
  patientId: z.string(),
  kind: z.enum(SCHEDULED_KINDS),
  template: z.string().nullable(),
  language: z.string(),
  channel: z.enum(['auto', 'sms', 'email']),
  sentOn: z.enum(['sms', 'email']).nullable(),
  body: z.string(),
  phiFree: z.boolean(),
  sendAt: z.string(),
  timeZone: z.string(),
  deferredUntil: z.string().nullable(),
  expectsReply: z.boolean(),
  externalRef: z.string().nullable(),
  status: z.string(),
  statusChangedAt: z.string(),
  reason: z.string().nullable(),
  sentAt: z.string().nullable(),
  conversationId: z.string().nullable(),
  messageId: z.string().nullable(),
  replyUntil: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type ScheduledRecord = z.infer<typeof scheduledRecordSchema>;

export interface OutreachOptions {
  clinicName: string;
  clinicTimeZone: string;
  clinicLanguage: TemplateLanguage;
  quietHours: QuietHours | null;
  urgentKinds: readonly ScheduledKind[];
  replyWindowMs: number;
}

/** The timeline's hook (TimelineContext.outreach): before an inbound message opens or reopens a conversation. */
export interface OutreachTimelineHooks {
  answerInbound(patient: PatientDoc, inbound: NormalizedInbound, sender: { identity: IdentityDoc; fromThePatient: boolean }): Promise<ReminderAnswer | null>;
}

export interface ReminderAnswer {
  message: MessageRecord;
  conversation: ConversationRecord;
  patientId: string;
  duplicate: boolean;
}

export interface FeedQuery {
  status?: ScheduledStatus | undefined;
  since?: Date | undefined;
  /** The `next` of the previous page (then `since` is not needed). */
  cursor?: string | undefined;
  limit: number;
}

export const feedRecordSchema = scheduledRecordSchema.omit({ body: true });
export type FeedRecord = z.infer<typeof feedRecordSchema>;

function decodeFeedCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string') return { at: new Date(ms), id };
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_CURSOR', 'cursor: not a cursor this API returned', { field: 'cursor' });
}

export class ScheduledMessages implements OutreachTimelineHooks {
  /** Due messages, claimed by one node at a time. */
  readonly worker: LeasedQueue<ScheduledMessageDoc>;

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: OutreachOptions,
    private readonly templates: MessageTemplates,
    private readonly webhook: OutboundWebhook,
    /** A signed link to the patient's secure chat (PHI-free variants carry it). */
    private readonly secureLink: (conversationId: string, patientId: string) => string,
  ) {
    this.worker = new LeasedQueue({
      name: 'outreach: the scheduled-message worker',
      model: () => this.ctx().models.ScheduledMessage,
      claimable: { status: 'scheduled' },
      leaseMs: LEASE_MS,
      clock: () => this.ctx().clock(),
      logger: () => this.ctx().logger,
      handle: (claimed) => this.process(claimed),
    });
  }

  // --- the API ---------------------------------------------------------------

  async schedule(actor: Actor, patientId: string, input: ScheduleInput): Promise<ScheduledRecord> {
    const ctx = this.ctx();
    const patient = await loadPatientFor(ctx.models, actor, patientId);
    if (patient.mergedInto) throw new AppError('CONFLICT', 'This patient was merged into another record; schedule on that one', { field: 'patientId' });
    const now = ctx.clock();
    const timeZone = knownTimeZone(patient.preferences?.timezone) ?? this.options.clinicTimeZone;
    const sendAt = parseSendAt(input.sendAt, timeZone, now);
    const kind = input.kind ?? (input.template ? (await this.templates.get(input.template)).kind : undefined);
    if (!kind) throw new AppError('INVALID_INPUT', 'kind: give reminder, follow_up or results_ready with a body', { field: 'kind' });
    const rendered = await this.templates.render({
      template: input.template, body: input.body, kind, given: input.variables, expectsReply: input.expectsReply,
      patientName: patient.nameEnc ? ctx.cipher.decrypt(patient.nameEnc) : null, patientLanguage: patient.preferences?.language, timeZone,
    });
    // Reachable now (it is checked again when it goes out): a reminder nobody can receive is refused at once.
    const { identities } = await loadReachability(ctx, patient._id);
    const latest = patient.latestConversationId ? await ctx.models.Conversation.findById(patient.latestConversationId, { lastInboundChannel: 1 }).lean() : null;
    const channel = chooseOutreachChannel(replyFacts(ctx, patient, identities, { lastInboundChannel: latest?.lastInboundChannel ?? null }), input.channel);
    if (channel.channel === 'sms' && describeSmsBody(rendered.body.split(LINK_PLACEHOLDER).join(this.sampleLink(patient))).tooLong) {
      throw new AppError('INVALID_INPUT', `body: an SMS can carry at most ${MAX_SMS_BODY_CHARACTERS.toLocaleString('en-US')} characters`, { field: 'body' });
    }
    const doc: ScheduledMessageDoc = {
      _id: `sch_${randomBytes(12).toString('hex')}`,
      patientId: patient._id,
      teamId: (patient.teamIds ?? []).find((t) => actor.teamIds.includes(t)) ?? actor.teamIds[0] ?? ctx.settings.defaultTeamId,
      kind,
      template: rendered.template,
      language: rendered.language,
      requestedChannel: input.channel,
      bodyEnc: ctx.cipher.encrypt(rendered.body),
      subject: rendered.subject,
      phiFree: rendered.phiFree,
      sendAt,
      timeZone,
      urgent: this.options.urgentKinds.includes(kind),
      expectsReply: input.expectsReply ?? rendered.expectsReply,
      externalRef: input.externalRef ?? null,
      status: 'scheduled',
      statusChangedAt: now,
      dueAt: sendAt,
      deferredUntil: null,
      attempts: 0,
      reason: null,
      channel: null,
      conversationId: null,
      messageId: null,
      sentAt: null,
      replyUntil: null,
      reply: null,
      createdBy: actor.agentId,
      withdrawnBy: null,
      createdAt: now,
    };
    await ctx.models.ScheduledMessage.create(doc);
    ctx.logger.info({ scheduledMessageId: doc._id, patientId: patient._id, kind, template: doc.template }, 'outreach: message scheduled');
    if (sendAt.getTime() <= now.getTime()) this.kick();
    return this.toRecord(doc);
  }

  /** A secure link of the length the real one will have (previews count SMS segments with it). */
  sampleLink(patient: Pick<PatientDoc, '_id' | 'latestConversationId' | 'conversationCount'>): string {
    return this.secureLink(patient.latestConversationId ?? `${patient._id}-${patient.conversationCount + 1}`, patient._id);
  }

  /** A patient's scheduled messages (every status), soonest first. */
  async listForPatient(actor: Actor, patientId: string): Promise<ScheduledRecord[]> {
    const ctx = this.ctx();
    const patient = await loadPatientFor(ctx.models, actor, patientId);
    const docs = await ctx.models.ScheduledMessage.find({ patientId: patient._id }).sort({ sendAt: 1 }).limit(200).lean();
    return docs.map((d) => this.toRecord(d));
  }

  /** Withdraws one still waiting to go out (a conditional update: of a withdrawal and a claim, one wins). */
  async withdraw(actor: Actor, patientId: string, id: string): Promise<ScheduledRecord> {
    const ctx = this.ctx();
    const patient = await loadPatientFor(ctx.models, actor, patientId);
    const now = ctx.clock();
    const withdrawn = await ctx.models.ScheduledMessage.findOneAndUpdate(
      // Not while a node holds it (claimed, its lease still running): it may be on its way. Never claimed, due, or
      // waiting for quiet hours to end (a claim only comes once that wait is over) are all free to withdraw.
      { _id: id, patientId: patient._id, status: 'scheduled', $or: [{ attempts: 0 }, { dueAt: { $lte: now } }, { deferredUntil: { $gt: now } }] },
      { $set: { status: 'withdrawn', statusChangedAt: now, dueAt: null, withdrawnBy: actor.agentId } },
      { returnDocument: 'after', lean: true },
    );
    if (withdrawn) return this.toRecord(withdrawn);
    const current = await ctx.models.ScheduledMessage.findOne({ _id: id, patientId: patient._id }).lean();
    if (!current) throw notFound('Scheduled message');
    if (current.status === 'scheduled') throw new AppError('CONFLICT', 'It is going out right now; it can no longer be withdrawn');
    throw new AppError('CONFLICT', `It can no longer be withdrawn: it is ${current.status.replace('_', ' ')}`);
  }

  /**
   * The scheduling system's feed: messages whose status changed after
   * `since` (one status, or all), oldest change first, a page at a time: the
   * answer's `next` is the cursor of the following page (a keyset on the
   * change's time and the id, so changes at the same instant are neither
   * skipped nor repeated). Supervisors see their teams'. Without the text
   * (the minimum necessary: statuses, ids and the clinic's own reference).
   */
  async feed(actor: Actor, query: FeedQuery): Promise<{ items: FeedRecord[]; next: string | null }> {
    if (actor.role !== 'admin' && actor.role !== 'supervisor') throw forbidden('Only supervisors and administrators (or the scheduling system’s account) read the feed');
    const ctx = this.ctx();
    const after = query.cursor ? decodeFeedCursor(query.cursor) : null;
    const docs = await ctx.models.ScheduledMessage.find({
      ...(actor.role === 'admin' ? {} : { teamId: { $in: [...actor.teamIds] } }),
      ...(query.status ? { status: query.status } : {}),
      ...(after
        ? { $or: [{ statusChangedAt: { $gt: after.at } }, { statusChangedAt: after.at, _id: { $gt: after.id } }] }
        : { statusChangedAt: { $gt: query.since ?? new Date(0) } }),
    })
      .sort({ statusChangedAt: 1, _id: 1 })
      .limit(query.limit + 1)
      .lean();
    const page = docs.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((d) => {
        const { body: _body, ...record } = this.toRecord(d);
        return record;
      }),
      next: docs.length > query.limit && last ? Buffer.from(JSON.stringify([last.statusChangedAt.getTime(), last._id])).toString('base64url') : null,
    };
  }

  toRecord(doc: ScheduledMessageDoc): ScheduledRecord {
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      id: doc._id, patientId: doc.patientId, kind: doc.kind, template: doc.template, language: doc.language, channel: doc.requestedChannel,
      sentOn: doc.channel, body: this.ctx().cipher.decrypt(doc.bodyEnc), phiFree: doc.phiFree, sendAt: iso(doc.sendAt)!, timeZone: doc.timeZone,
      deferredUntil: iso(doc.deferredUntil), expectsReply: doc.expectsReply, externalRef: doc.externalRef, status: doc.status,
      statusChangedAt: iso(doc.statusChangedAt)!, reason: doc.reason, sentAt: iso(doc.sentAt), conversationId: doc.conversationId,
      messageId: doc.messageId, replyUntil: iso(doc.replyUntil), createdBy: doc.createdBy, createdAt: iso(doc.createdAt)!,
    };
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

  /** Resolves when no scheduled message is being handled now. */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  private async process(scheduled: ScheduledMessageDoc): Promise<void> {
    const ctx = this.ctx();
    const { models, logger } = ctx;
    const now = ctx.clock();
    // Only while this claim holds it (`attempts` fences a claim whose lease another node took over).
    const settle = (set: Partial<ScheduledMessageDoc>) => models.ScheduledMessage.updateOne({ _id: scheduled._id, attempts: scheduled.attempts }, { $set: set });
    const giveUp = async (status: 'skipped' | 'failed', reason: string, conversation: ConversationDoc | null) => {
      await settle({ status, reason, dueAt: null, statusChangedAt: now });
      logger.info({ scheduledMessageId: scheduled._id, reason }, `outreach: scheduled message ${status}`);
      if (conversation) await this.event(conversation, skippedEvent(scheduled.kind, reason), `scheduled-skipped:${scheduled._id}`);
    };
    if (scheduled.attempts > MAX_ATTEMPTS) return giveUp('failed', 'gave_up', null);
    const patient = await models.Patient.findById(scheduled.patientId).lean();
    if (!patient || patient.mergedInto) return giveUp('skipped', 'patient_merged', null);
    if (!scheduled.urgent) {
      // Texts and emails the patient did not ask for wait out their night, in their own time zone.
      const sendable = nextSendableAt(this.options.quietHours, now, scheduled.timeZone);
      if (sendable.getTime() > now.getTime()) {
        await settle({ dueAt: sendable, deferredUntil: sendable });
        logger.info({ scheduledMessageId: scheduled._id, dueAt: sendable.toISOString() }, 'outreach: waits for the end of quiet hours');
        return;
      }
    }
    const { identities } = await loadReachability(ctx, patient._id);
    const latest = patient.latestConversationId ? await models.Conversation.findById(patient.latestConversationId).lean() : null;
    let choice: { channel: 'sms' | 'email'; reason: string };
    try {
      choice = chooseOutreachChannel(replyFacts(ctx, patient, identities, { lastInboundChannel: latest?.lastInboundChannel ?? null }), scheduled.requestedChannel);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return giveUp('skipped', reasonOf(error, scheduled.requestedChannel), latest);
    }
    // The patient's latest conversation, whatever its state (a reminder reopens nothing), or a first one.
    const conversation = latest ?? (await findOrOpenConversation(ctx, patient, { allowReopen: false, teamId: scheduled.teamId })).conversation;
    const body = ctx.cipher.decrypt(scheduled.bodyEnc).split(LINK_PLACEHOLDER).join(this.secureLink(conversation._id, patient._id));
    if (choice.channel === 'email' && scheduled.subject && !conversation.subject) {
      await ctx.locks.run(`conversation:${conversation._id}`, () =>
        models.Conversation.updateOne({ _id: conversation._id, subject: { $in: [null, ''] } }, { $set: { subject: scheduled.subject } }),
      );
    }
    const { message } = await queueOutbound(ctx, conversation, identities, choice, {
      body, author: { type: 'system', agentId: null }, providerKey: `scheduled:${scheduled._id}`,
    });
    const replyUntil = scheduled.expectsReply ? new Date(now.getTime() + this.options.replyWindowMs) : null;
    if (replyUntil) {
      // The latest reminder sent is the one a reply answers.
      await ctx.locks.run(`patient:${patient._id}`, () =>
        models.Patient.updateOne(
          { _id: patient._id, $or: [{ outreach: null }, { 'outreach.awaiting': null }, { 'outreach.awaiting.sentAt': { $lte: now } }] },
          { $set: { outreach: { awaiting: { scheduledMessageId: scheduled._id, channel: choice.channel, sentAt: now, until: replyUntil } } } },
        ),
      );
    }
    await settle({
      status: 'sent', statusChangedAt: now, dueAt: null, sentAt: now, channel: choice.channel, conversationId: conversation._id, messageId: message.id, replyUntil,
    });
    logger.info({ scheduledMessageId: scheduled._id, conversationId: conversation._id, messageId: message.id, channel: choice.channel }, 'outreach: scheduled message queued');
  }

  // --- replies ---------------------------------------------------------------

  /**
   * The hook before an inbound message opens or reopens a conversation: the
   * patient's short answer to the reminder awaiting one. Confirm and cancel
   * are recorded and answered here (returned: nothing reopens); reschedule is
   * recorded and then goes on (null) to an agent; anything else is null.
   * Costs nothing for a patient with no reminder awaiting (already read).
   */
  async answerInbound(patient: PatientDoc, inbound: NormalizedInbound, sender: { identity: IdentityDoc; fromThePatient: boolean }): Promise<ReminderAnswer | null> {
    const awaiting = patient.outreach?.awaiting;
    if (!awaiting || awaiting.channel !== inbound.channel) return null;
    const ctx = this.ctx();
    const now = ctx.clock();
    if (new Date(awaiting.until).getTime() <= now.getTime()) return null;
    // Only the patient's own proven address answers; a guardian's text or a family phone's is a message for an agent.
    if (!sender.fromThePatient || sender.identity.relation || sender.identity.sharedAt) return null;
    if (inbound.possibleOptOut || inbound.isAutomated || inbound.attachments?.length) return null;
    const reading = readReminderReply(inbound.body);
    if (!reading) return null;
    // A consent keyword (STOP, CANCEL, END…) changes consent and is never read as an answer; "YES" opts in and confirms.
    if (inbound.impliesConsent === false && reading !== 'confirm') return null;
    const messageId = messageIdFor(`reminder-reply:${inbound.providerKey}`);
    const status = STATUS_OF[reading];
    let scheduled = await ctx.models.ScheduledMessage.findOneAndUpdate(
      { _id: awaiting.scheduledMessageId, patientId: patient._id, status: { $in: ANSWERABLE.filter((s) => s !== status) } },
      { $set: { status, statusChangedAt: now, reply: { messageId, at: now, channel: awaiting.channel } } },
      { returnDocument: 'after', lean: true },
    );
    if (!scheduled) {
      // The same answer again, or Twilio's retry of one whose handling a stop cut short: finish it (each step is idempotent).
      const current = await ctx.models.ScheduledMessage.findById(awaiting.scheduledMessageId).lean();
      if (!current || current.status !== status || current.patientId !== patient._id) return null;
      scheduled = current;
    }
    const conversation = scheduled.conversationId ? await ctx.models.Conversation.findById(scheduled.conversationId).lean() : null;
    if (!conversation) return null;
    await this.webhook.enqueue({
      id: `${scheduled._id}:${status}:${scheduled.reply?.messageId ?? messageId}`,
      type: `scheduled_message.${status}`,
      data: {
        scheduledMessageId: scheduled._id, patientId: scheduled.patientId, kind: scheduled.kind, externalRef: scheduled.externalRef,
        status, sendAt: scheduled.sendAt.toISOString(), answeredAt: new Date(scheduled.reply?.at ?? now).toISOString(), channel: awaiting.channel,
      },
    });
    const appended = await appendMessage(ctx, conversation, {
      direction: 'system',
      channel: inbound.channel,
      kind: 'reminder_reply',
      body: replyEvent(reading, inbound.body),
      author: { type: 'system', agentId: null },
      providerKey: `reminder-reply:${inbound.providerKey}`,
      providerMessageId: inbound.providerMessageId ?? null,
      senderIdentityId: sender.identity._id,
      deliveryStatus: 'received',
    });
    const message = toMessageRecord(appended.message, ctx.cipher);
    const record = toConversationRecord(appended.conversation, ctx.cipher);
    if (!appended.duplicate) {
      ctx.events.messageCreated(message, record);
      await ctx.audit.record({
        action: 'reminder.reply', via: 'webhook', patientId: patient._id, conversationId: conversation._id,
        details: { scheduledMessageId: scheduled._id, status, channel: inbound.channel, messageId: message.id },
      });
      ctx.logger.info({ scheduledMessageId: scheduled._id, status, channel: inbound.channel }, 'outreach: reminder answered');
    }
    await this.acknowledge(patient, conversation, scheduled, reading, inbound.providerKey);
    // A new time needs a person: the patient's words go on to the team as a message (the event above explains them).
    if (reading === 'reschedule') return null;
    return { message, conversation: record, patientId: patient._id, duplicate: appended.duplicate };
  }

  /** A short "thank you, confirmed" on the channel the patient answered on, once per answer. */
  private async acknowledge(patient: PatientDoc, conversation: ConversationDoc, scheduled: ScheduledMessageDoc, reading: ReminderReading, providerKey: string): Promise<void> {
    const ctx = this.ctx();
    const channel = scheduled.reply?.channel ?? scheduled.channel ?? 'sms';
    const { identities } = await loadReachability(ctx, patient._id);
    if (unavailability(replyFacts(ctx, patient, identities, conversation), channel)) return;
    await queueOutbound(ctx, conversation, identities, { channel, reason: 'reminder_acknowledgement' }, {
      body: acknowledgement(scheduled.language, reading, this.options.clinicName),
      author: { type: 'system', agentId: null },
      providerKey: `reminder-ack:${providerKey}`,
    });
  }

  private async event(conversation: ConversationDoc, body: string, providerKey: string): Promise<void> {
    const ctx = this.ctx();
    const appended = await appendMessage(ctx, conversation, {
      direction: 'system', channel: 'internal', kind: 'event', body, author: { type: 'system', agentId: null }, providerKey, deliveryStatus: 'none',
    });
    if (!appended.duplicate) ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), toConversationRecord(appended.conversation, ctx.cipher));
  }
}

/**
 * The channel outreach goes on: the one asked for, or for `auto` the
 * patient's preferred channel, then the one they last wrote on, then text,
 * then email (never the web chat: a reminder is for a patient who is not in
 * it). The 409s say why a channel cannot be used, as for any message.
 */
export function chooseOutreachChannel(facts: ReplyChannelFacts, requested: 'auto' | 'sms' | 'email'): { channel: 'sms' | 'email'; reason: string } {
  if (requested !== 'auto') return chooseReplyChannel(facts, requested) as { channel: 'sms' | 'email'; reason: string };
  const usable = (c: string | null): c is 'sms' | 'email' => (c === 'sms' || c === 'email') && unavailability(facts, c) === null;
  if (usable(facts.preferredChannel)) return { channel: facts.preferredChannel, reason: 'preferred_channel' };
  if (usable(facts.lastInboundChannel)) return { channel: facts.lastInboundChannel, reason: 'last_inbound_channel' };
  for (const c of ['sms', 'email'] as const) if (usable(c)) return { channel: c, reason: 'only_reachable_channel' };
  throw new AppError('NO_REACHABLE_CHANNEL', 'The patient cannot be reached by text or email with consent and a verified address', { field: 'channel' });
}

/** The reason a channel refusal gives, for the skipped record (no PHI). */
function reasonOf(error: AppError, requested: string): string {
  const byCode: Partial<Record<string, string>> = {
    CONSENT_MISSING: error.message.includes('opted out') ? 'opted_out' : 'no_consent',
    NO_IDENTITY_FOR_CHANNEL: 'no_verified_identity',
    IDENTITY_NOT_VERIFIED: 'identity_not_verified',
    NO_REACHABLE_CHANNEL: requested === 'auto' ? 'no_reachable_channel' : 'undeliverable',
  };
  return byCode[error.code] ?? 'no_reachable_channel';
}

/**
 * `sendAt`: an instant with its offset (`2027-03-15T09:00:00-04:00`, `…Z`),
 * or a local time without one (`2027-03-15T09:00`) read in the patient's
 * time zone, so "9:00" stays 9:00 for the patient across a DST change (a
 * time the clock skips is the end of the gap).
 */
export function parseSendAt(raw: string, timeZone: string, now: Date): Date {
  const local = LOCAL_TIME.exec(raw);
  let at: Date;
  if (local) {
    const [, date, hh, mm] = local as unknown as [string, string, string, string];
    const minute = Number(hh) * 60 + Number(mm);
    if (Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || Number(hh) > 23 || Number(mm) > 59) throw badSendAt();
    at = instantOfLocalTime(date, minute, timeZone);
  } else {
    if (!/(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(Date.parse(raw))) throw badSendAt();
    at = new Date(raw);
  }
  if (at.getTime() < now.getTime() - PAST_TOLERANCE_MS) throw new AppError('INVALID_INPUT', 'sendAt: in the past', { field: 'sendAt' });
  if (at.getTime() > now.getTime() + MAX_AHEAD_MS) throw new AppError('INVALID_INPUT', 'sendAt: more than 400 days ahead', { field: 'sendAt' });
  return at;
}

const badSendAt = () =>
  new AppError('INVALID_INPUT', 'sendAt: an ISO 8601 instant with its offset (2027-03-15T09:00:00-04:00) or a local time in the patient’s time zone (2027-03-15T09:00)', { field: 'sendAt' });
