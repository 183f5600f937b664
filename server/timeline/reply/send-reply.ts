/**
 * Agent replies and notes. A reply picks its channel by the continuity rules,
 * is stored as `queued` in the outbox with the choice and its reason, and the
 * delivery worker sends it. A note is stored and never leaves the hub.
 */
import { CHANNEL_IDS, IDENTITY_KIND_OF, type ChannelId } from '../../../channels/channel-id.ts';
import type { Actor } from '../../access/access-policy.ts';
import type { ConversationDoc, IdentityDoc, PatientDoc } from '../../db/documents.ts';
import { describeSmsBody, MAX_SMS_BODY_CHARACTERS } from '../../../channels/sms/segments.ts';
import { AppError } from '../../errors.ts';
import { speaksForThePatient } from '../identity/identity-trust.ts';
import { newEmailMessageId } from '../../delivery/email-thread.ts';
import { agentUploader, MAX_MMS_BYTES, uploadedAttachments } from '../../attachments/attachment-store.ts';
import { appendMessage, type NewMessage } from '../append-message.ts';
import { toConversationRecord, toMessageRecord, type MessageRecord } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { chooseReplyChannel, unavailability, type ReplyChannelFacts, type RequestedChannel } from './choose-reply-channel.ts';

export interface ReplyInput {
  body: string;
  channel: RequestedChannel;
  clientId?: string | undefined;
  /** Email only: the subject of the conversation's first email (later ones answer it as "Re: …"). */
  subject?: string | undefined;
  /** Files this agent uploaded (POST /api/attachments). */
  attachmentIds?: string[] | undefined;
  /** A related contact of the patient (guardian, caregiver) the agent chose; the channel is the contact's. */
  recipientId?: string | undefined;
}

export async function sendReply(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc, input: ReplyInput): Promise<MessageRecord> {
  const { patient, identities } = await loadReachability(ctx, conversation.patientId);
  const contact = input.recipientId ? relatedContactFor(identities, input.recipientId, input.channel) : null;
  const { channel, reason } = contact ? { channel: contact.channel, reason: 'related_contact' } : chooseReplyChannel(await currentReplyFacts(ctx, patient, identities, conversation), input.channel);
  if (channel === 'sms' && describeSmsBody(input.body).tooLong) {
    throw new AppError('INVALID_INPUT', `body: an SMS can carry at most ${MAX_SMS_BODY_CHARACTERS.toLocaleString('en-US')} characters`, { field: 'body' });
  }
  const attachments = await uploadedAttachments(ctx, agentUploader(actor.agentId), input.attachmentIds ?? [], 'POST /api/attachments');
  if (channel === 'sms' && attachments.reduce((sum, a) => sum + a.size, 0) > MAX_MMS_BYTES) {
    throw new AppError('INVALID_INPUT', 'attachmentIds: a text message carries at most 5 MB of files; send them by email or web chat', { field: 'attachmentIds' });
  }
  if (channel === 'email' && input.subject && !conversation.subject) {
    // The first email's subject stays: one conditional update (of two first emails at once, one sets it).
    await ctx.locks.run(`conversation:${conversation._id}`, () =>
      ctx.models.Conversation.updateOne({ _id: conversation._id, subject: { $in: [null, ''] } }, { $set: { subject: input.subject } }),
    );
  }
  const { message } = await queueOutbound(ctx, conversation, identities, { channel, reason, ...(contact ? { recipient: contact.identity } : {}) }, {
    body: input.body,
    attachments,
    author: { type: 'agent', agentId: actor.agentId },
    clientId: input.clientId ?? null,
    // The patient's sticky number, known already: the delivery worker need not read the patient again.
    ...(channel === 'sms' ? { fromNumber: ctx.smsSenders?.stickyOf(patient) ?? null } : {}),
    // A client id makes a resent reply (after a dropped connection) land once.
    ...(input.clientId ? { providerKey: `client:${actor.agentId}:${input.clientId}` } : {}),
  });
  ctx.logger.info({ conversationId: conversation._id, messageId: message.id, channel, reason, agentId: actor.agentId }, 'reply queued');
  return message;
}

/**
 * Stores an outbound message on the chosen channel, addressed to the patient's
 * latest verified identity there, queued for the delivery worker, and
 * announces it (unless its provider key shows it was already stored).
 */
/** The related contact a reply was addressed to, if it may receive one now (a 4xx naming the problem otherwise). */
function relatedContactFor(identities: IdentityDoc[], recipientId: string, requested: RequestedChannel): { identity: IdentityDoc; channel: ChannelId } {
  const identity = identities.find((i) => i._id === recipientId && i.relation);
  if (!identity) throw new AppError('INVALID_INPUT', 'recipientId: not a related contact of this patient', { field: 'recipientId' });
  const channel: ChannelId = identity.kind === 'phone' ? 'sms' : 'email';
  if (requested !== 'auto' && requested !== channel) {
    throw new AppError('INVALID_INPUT', `channel: this contact is reached by ${channel}`, { field: 'channel' });
  }
  const why = contactUnavailability(identity);
  if (why === 'undeliverable') throw new AppError('NO_REACHABLE_CHANNEL', 'Mail to this contact bounced; check the address', { field: 'recipientId' });
  if (why) throw new AppError('CONSENT_MISSING', `This contact has ${why === 'opted_out' ? 'opted out' : 'not consented'}; record their consent first`, { field: 'recipientId' });
  return { identity, channel };
}

export function contactUnavailability(identity: IdentityDoc): 'undeliverable' | 'opted_out' | 'no_consent' | null {
  if (identity.undeliverableAt) return 'undeliverable';
  const status = identity.contactConsent?.status ?? 'unknown';
  if (status === 'opted_out') return 'opted_out';
  return status === 'opted_in' ? null : 'no_consent';
}

export async function queueOutbound(
  ctx: TimelineContext,
  conversation: ConversationDoc,
  identities: IdentityDoc[],
  choice: { channel: ChannelId; reason: string; recipient?: IdentityDoc },
  content: Pick<NewMessage, 'body' | 'kind' | 'attachments' | 'author' | 'clientId' | 'providerKey' | 'fallback' | 'fromNumber'>,
): Promise<{ message: MessageRecord; duplicate: boolean }> {
  const appended = await appendMessage(ctx, conversation, {
    ...content,
    direction: 'outbound',
    channel: choice.channel,
    channelReason: choice.reason,
    // A related contact the agent chose, or else the patient's own latest verified address there.
    recipientIdentityId: (choice.recipient ?? latestVerifiedIdentity(identities, choice.channel)!)._id,
    ...(choice.channel === 'email' ? { emailMessageId: newEmailMessageId() } : {}),
    deliveryStatus: 'queued',
    queueForDelivery: true,
  });
  const message = toMessageRecord(appended.message, ctx.cipher);
  if (!appended.duplicate) {
    ctx.events.messageCreated(message, toConversationRecord(appended.conversation, ctx.cipher));
    ctx.kickDelivery(appended.message._id);
  }
  return { message, duplicate: appended.duplicate };
}

export async function addNote(ctx: TimelineContext, actor: Actor, conversation: ConversationDoc, body: string): Promise<MessageRecord> {
  const appended = await appendMessage(ctx, conversation, {
    direction: 'note',
    channel: 'internal',
    body,
    author: { type: 'agent', agentId: actor.agentId },
    deliveryStatus: 'none',
  });
  const message = toMessageRecord(appended.message, ctx.cipher);
  ctx.events.messageCreated(message, toConversationRecord(appended.conversation, ctx.cipher));
  return message;
}

/** Which channels a reply could use now and why the others cannot: the agent's channel picker. */
export async function describeReplyOptions(ctx: TimelineContext, conversation: ConversationDoc) {
  const { patient, identities } = await loadReachability(ctx, conversation.patientId);
  const facts = await currentReplyFacts(ctx, patient, identities, conversation);
  let auto: { channel: ChannelId; reason: string } | { channel: null; reason: string };
  try {
    auto = chooseReplyChannel(facts, 'auto');
  } catch (error) {
    auto = { channel: null, reason: (error as Error).message };
  }
  return {
    auto,
    channels: CHANNEL_IDS.map((channel) => {
      const unavailable = unavailability(facts, channel);
      return { channel, unavailable, ...(unavailable === 'undeliverable' ? { detail: facts.undeliverable?.[channel] ?? null } : {}) };
    }),
    /** Related contacts (guardian, caregiver): the agent may choose one explicitly; `auto` never does. */
    contacts: identities
      .filter((i) => i.relation && i.kind !== 'web' && i.kind !== 'portal')
      .map((i) => ({
        recipientId: i._id,
        relation: i.relation!,
        name: i.contactNameEnc ? ctx.cipher.decrypt(i.contactNameEnc) : null,
        channel: (i.kind === 'phone' ? 'sms' : 'email') as ChannelId,
        value: ctx.cipher.decrypt(i.valueEnc),
        unavailable: contactUnavailability(i),
      })),
  };
}

export async function loadReachability(ctx: TimelineContext, patientId: string): Promise<{ patient: PatientDoc; identities: IdentityDoc[] }> {
  const [patient, identities] = await Promise.all([
    ctx.models.Patient.findById(patientId).lean().orFail(),
    ctx.models.Identity.find({ patientId }).lean(),
  ]);
  return { patient, identities };
}

/** The facts for choosing a reply's channel, with whether the patient's widget is open now (asked of every hub node). */
export async function currentReplyFacts(ctx: TimelineContext, patient: PatientDoc, identities: IdentityDoc[], conversation: Pick<ConversationDoc, 'lastInboundChannel'>): Promise<ReplyChannelFacts> {
  return replyFacts(ctx, patient, identities, conversation, await ctx.isWidgetConnected(patient._id));
}

/**
 * The same facts without asking whether the widget is open (`widgetConnected` as given, false by default): enough
 * to check one named channel (`unavailability`, a requested channel); `auto` needs currentReplyFacts.
 */
export function replyFacts(
  _ctx: TimelineContext,
  patient: PatientDoc,
  identities: IdentityDoc[],
  conversation: Pick<ConversationDoc, 'lastInboundChannel'>,
  widgetConnected = false,
): ReplyChannelFacts {
  const verifiedIdentity = Object.fromEntries(
    CHANNEL_IDS.map((c) => [c, Boolean(latestVerifiedIdentity(identities, c))]),
  ) as Record<ChannelId, boolean>;
  const kindOf = (c: ChannelId) => IDENTITY_KIND_OF[c];
  const unverifiedIdentity = Object.fromEntries(
    CHANNEL_IDS.map((c) => [c, !verifiedIdentity[c] && identities.some((i) => i.kind === kindOf(c) && !i.relation && !i.undeliverableAt)]),
  ) as Record<ChannelId, boolean>;
  const undeliverable = Object.fromEntries(
    CHANNEL_IDS.flatMap((c) => {
      const bounced = identities.find((i) => i.kind === kindOf(c) && !i.relation && speaksForThePatient(i) && i.undeliverableAt);
      return !verifiedIdentity[c] && bounced ? [[c, bounced.undeliverableReason ?? 'the address could not receive']] : [];
    }),
  ) as Partial<Record<ChannelId, string>>;
  return {
    consent: patient.consent,
    verifiedIdentity,
    unverifiedIdentity,
    undeliverable,
    widgetConnected,
    lastInboundChannel: conversation.lastInboundChannel,
    preferredChannel: patient.preferences.channel,
  };
}

export function latestVerifiedIdentity(identities: IdentityDoc[], channel: ChannelId): IdentityDoc | undefined {
  const kind = IDENTITY_KIND_OF[channel];
  return identities
    .filter((i) => i.kind === kind && speaksForThePatient(i) && !i.undeliverableAt)
    .sort((a, b) => new Date(b.lastSeenAt).getTime() - new Date(a.lastSeenAt).getTime())[0];
}
