/**
 * The clinic writes first: the patient's open conversation is continued, or
 * a new one opened (in the actor's team, assigned to them), and the message is
 * queued exactly like a reply (sendReply: the outbox, channel reasons,
 * events). A resolved conversation is not reopened for this: a new outreach
 * is a new conversation.
 *
 * Only to an address the rules allow, checked before anything is opened:
 * the patient must have consented to that channel (CONSENT_MISSING), and the
 * address must be one the patient proved (IDENTITY_NOT_VERIFIED otherwise).
 * A phone or email staff typed in is asserted, not proven, so the first
 * message waits until the patient writes from it or an agent verifies it
 * with a reason (`POST /api/patients/:id/identities/:identityId/verify`).
 * A PHI-safe notice would not help there: its secure link opens the thread
 * only after a code to a *verified* address, so the patient could not read it.
 */
import { IDENTITY_KIND_OF } from '../../../channels/channel-id.ts';
import { describeSmsBody, MAX_SMS_BODY_CHARACTERS } from '../../../channels/sms/segments.ts';
import { canAccessConversation, type Actor } from '../../access/access-policy.ts';
import type { ConversationDoc, IdentityDoc, PatientDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { speaksForThePatient } from '../identity/identity-trust.ts';
import { findOrOpenConversation } from '../ingest/find-or-open-conversation.ts';
import { toConversationRecord, type ConversationRecord, type MessageRecord } from '../records.ts';
import { chooseReplyChannel } from '../reply/choose-reply-channel.ts';
import { currentReplyFacts, sendReply } from '../reply/send-reply.ts';
import type { TimelineContext } from '../timeline-context.ts';

export interface FirstMessageInput {
  channel: 'auto' | 'sms' | 'email';
  body: string;
  subject?: string | undefined;
}

const ADDRESS_WORDS = { sms: 'phone number', email: 'email address' } as const;

export async function startConversation(
  ctx: TimelineContext,
  actor: Actor,
  patient: PatientDoc,
  input: FirstMessageInput,
): Promise<{ conversation: ConversationRecord; message: MessageRecord; opened: boolean }> {
  const { models } = ctx;
  const latest = patient.latestConversationId ? await models.Conversation.findById(patient.latestConversationId).lean() : null;
  const ongoing = latest && latest.status !== 'resolved' ? latest : null;
  if (ongoing && !canAccessConversation(actor, ongoing)) throw anotherTeams();
  const identities = await models.Identity.find({ patientId: patient._id }).lean();
  const channel = await firstMessageChannel(ctx, patient, identities, ongoing, input.channel);
  if (channel === 'sms' && describeSmsBody(input.body).tooLong) {
    throw new AppError('INVALID_INPUT', `body: an SMS can carry at most ${MAX_SMS_BODY_CHARACTERS.toLocaleString('en-US')} characters`, { field: 'body' });
  }
  const teamId = (patient.teamIds ?? []).find((t) => actor.teamIds.includes(t)) ?? actor.teamIds[0] ?? patient.teamIds?.[0] ?? ctx.settings.defaultTeamId;
  const found: { conversation: ConversationDoc; opened: boolean } = ongoing
    ? { conversation: ongoing, opened: false }
    : await findOrOpenConversation(ctx, patient, {
        allowReopen: false,
        neverReopen: true,
        teamId,
        assigneeId: actor.role === 'admin' || actor.teamIds.includes(teamId) ? actor.agentId : null,
      });
  // The patient may have written meanwhile, into another team's conversation.
  if (!canAccessConversation(actor, found.conversation)) throw anotherTeams();
  const message = await sendReply(ctx, actor, found.conversation, { body: input.body, channel: input.channel, subject: input.subject });
  const conversation = await models.Conversation.findById(found.conversation._id).lean().orFail();
  return { conversation: toConversationRecord(conversation, ctx.cipher), message, opened: found.opened };
}

/** The channel the first message would take, or the 409 that says why it cannot go. */
async function firstMessageChannel(
  ctx: TimelineContext,
  patient: PatientDoc,
  identities: IdentityDoc[],
  ongoing: ConversationDoc | null,
  requested: FirstMessageInput['channel'],
) {
  if (requested !== 'auto') {
    const own = identities.filter((i) => i.kind === IDENTITY_KIND_OF[requested] && !i.relation);
    if (own.length === 0) {
      throw new AppError('NO_IDENTITY_FOR_CHANNEL', `The patient has no ${ADDRESS_WORDS[requested]}; add one to the patient first`, { field: 'channel' });
    }
    const status = patient.consent[requested]?.status ?? 'unknown';
    if (status !== 'opted_in') {
      throw new AppError(
        'CONSENT_MISSING',
        status === 'opted_out'
          ? `The patient has opted out of ${requested} messages`
          : `The patient has not consented to ${requested} messages: record their consent first (POST /api/patients/${patient._id}/consents)`,
        { field: 'channel' },
      );
    }
    if (!own.some(speaksForThePatient)) {
      throw new AppError(
        'IDENTITY_NOT_VERIFIED',
        `The patient’s ${ADDRESS_WORDS[requested]} is not verified (entered by staff, replied in a thread, or shared): the clinic writes first only to an address the patient proved. Verify it in the patient panel with the reason (e.g. confirmed with the patient in person), or wait for the patient to write from it`,
        { field: 'channel' },
      );
    }
  }
  return chooseReplyChannel(await currentReplyFacts(ctx, patient, identities, ongoing ?? { lastInboundChannel: null }), requested).channel;
}

const anotherTeams = () =>
  new AppError('CONFLICT', 'The patient already has an open conversation with another team; ask that team to transfer it to you', { field: 'patientId' });
