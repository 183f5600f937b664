/**
 * The one entry point for inbound traffic from every channel:
 * resolve identity -> patient, find (or reopen, or open) the patient's
 * conversation, append the message, publish. Idempotent on providerKey.
 */
import type { NormalizedInbound } from '../../../channels/contract.ts';
import type { ChannelId } from '../../../channels/channel-id.ts';
import type { PatientDoc } from '../../db/documents.ts';
import { appendMessage, completeInterruptedAppend, messageIdFor } from '../append-message.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord, type MessageRecord } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { findOrOpenConversation } from './find-or-open-conversation.ts';
import { resolveIdentity } from './resolve-identity.ts';
import { currentPatientFor } from '../link/merge-patients.ts';
import { trustOf, type TrustEvidence } from '../identity/identity-trust.ts';
import { flagPossibleOptOut } from '../possible-opt-out.ts';

export interface IngestResult {
  message: MessageRecord;
  conversation: ConversationRecord;
  patientId: string;
  duplicate: boolean;
  newPatient: boolean;
}

export async function ingestInbound(ctx: TimelineContext, inbound: NormalizedInbound): Promise<IngestResult> {
  const replay = await ctx.models.Message.findById(messageIdFor(inbound.providerKey)).lean();
  if (replay) {
    // A retry. If an outage cut the first attempt short after the message was stored, the conversation is told now.
    const settled = await completeInterruptedAppend(ctx, replay);
    if (!settled.duplicate) {
      await ctx.audit.record({
        action: 'inbound.ingest', via: 'webhook', patientId: replay.patientId, conversationId: replay.conversationId,
        details: { channel: inbound.channel, messageId: replay._id, completedOnRetry: true },
      });
      ctx.events.messageCreated(toMessageRecord(replay, ctx.cipher), toConversationRecord(settled.conversation, ctx.cipher));
      if (replay.attachments.some((a) => !a.ref.startsWith('blob:'))) ctx.importMedia?.(replay._id);
    }
    // Routing completes whatever a stop cut short (each of its steps is idempotent).
    if (replay.direction === 'inbound') await ctx.routeInbound?.({ messageId: replay._id, conversationId: replay.conversationId, opened: true });
    const conversation = await ctx.models.Conversation.findById(replay.conversationId).lean().orFail();
    return {
      message: toMessageRecord(replay, ctx.cipher),
      conversation: toConversationRecord(conversation, ctx.cipher),
      patientId: replay.patientId,
      duplicate: true,
      newPatient: false,
    };
  }

  const authenticated = inbound.authentication?.authenticated !== false;
  const resolved = await resolveIdentity(ctx, inbound.from, { evidence: evidenceFor(inbound.from.kind, authenticated), displayName: inbound.displayName });
  const { created } = resolved;
  const senderTrust = trustOf(resolved.identity);
  // Only the patient themselves, proven, consents by writing; a relative in the thread or a forged From does not.
  const fromThePatient = authenticated && senderTrust === 'verified';
  // A web visitor proven to be another patient: finish that merge if it was interrupted, and write there.
  const patient = resolved.patient.mergedInto ? await currentPatientFor(ctx, resolved.patient._id) : resolved.patient;
  if (inbound.impliesConsent !== false && fromThePatient) await recordPatientInitiatedConsent(ctx, patient, inbound.channel);
  // Sticky sender: the clinic number a patient texts becomes theirs if they have none (free when they have one).
  if (inbound.channel === 'sms') await ctx.smsSenders?.claimInbound(patient, inbound.to);
  // Satisfaction survey (server/csat/): the patient's next text within 24 h of an SMS survey, when it reads as a score
  // ("5 great service"), is the survey's answer: stored as a `csat` event in the resolved conversation and returned
  // here, so it reopens nothing, opens nothing, counts no unread and is not routed. Anything else (late, "7", unclear,
  // a comment with a triage signal) goes on below as an ordinary message. Free when no survey waits (patient as read).
  // A reminder awaiting an answer (server/outreach/scheduled/): "C", "sí", "annulla"… confirm or cancel it the same way
  // (an event, nothing reopened); a request to reschedule is recorded and goes on below to an agent. When a survey and
  // a reminder both wait (a "1" could answer either), the one sent last is asked first.
  const sender = { identity: resolved.identity, fromThePatient };
  const reminderFirst = new Date(patient.outreach?.awaiting?.sentAt ?? 0).getTime() > new Date(patient.csat?.lastSentAt ?? 0).getTime();
  const answers = reminderFirst ? [ctx.outreach, ctx.csat] : [ctx.csat, ctx.outreach];
  for (const hooks of answers) {
    const answer = await hooks?.answerInbound(patient, inbound, sender);
    if (answer) return { ...answer, newPatient: created };
  }
  const found = await findOrOpenConversation(ctx, patient, { allowReopen: !inbound.isAutomated && authenticated });
  let conversation = found.conversation;
  if (found.reopened) {
    const reopenNote = await appendMessage(ctx, conversation, {
      direction: 'system',
      channel: 'internal',
      kind: 'event',
      body: `Conversation reopened by a new ${inbound.channel} message`,
      author: { type: 'system', agentId: null },
      deliveryStatus: 'none',
    });
    conversation = reopenNote.conversation;
    ctx.events.messageCreated(toMessageRecord(reopenNote.message, ctx.cipher), toConversationRecord(conversation, ctx.cipher));
  }

  if (!conversation.patientContactEnc && inbound.from.kind !== 'web') {
    const contact = ctx.cipher.encrypt(resolved.normalized);
    // The first contact stays: set only while none is (two first messages on two nodes set it once).
    await ctx.locks.run(`conversation:${conversation._id}`, () =>
      ctx.models.Conversation.updateOne({ _id: conversation._id, patientContactEnc: null }, { $set: { patientContactEnc: contact } }),
    );
    conversation = { ...conversation, patientContactEnc: contact };
  }

  // Mail a machine wrote (out-of-office, auto-reply, bulk) is an event in the thread, not the patient's words:
  // no unread, no preview, no reopening, no preferred channel, never a patient response in the metrics.
  const automatic = inbound.isAutomated === true;
  const appended = await appendMessage(ctx, conversation, {
    direction: automatic ? 'system' : 'inbound',
    kind: automatic ? 'automatic_reply' : 'text',
    channel: inbound.channel,
    body: inbound.body,
    attachments: inbound.attachments,
    author: automatic ? { type: 'system', agentId: null } : { type: 'patient', agentId: null },
    providerKey: inbound.providerKey,
    providerMessageId: inbound.providerMessageId ?? null,
    clientId: inbound.clientId ?? null,
    senderIdentityId: resolved.identity._id,
    senderTrust,
    senderUnauthenticated: authenticated ? null : inbound.authentication!.reason,
    deliveryStatus: 'received',
    original: inbound.original ?? null,
    receptionNote: inbound.receptionNote ?? null,
  });
  if (!appended.duplicate && inbound.possibleOptOut && !automatic) {
    await flagPossibleOptOut(ctx, appended.conversation, appended.message);
  }
  if (!appended.duplicate && appended.message.attachments.some((a) => !a.ref.startsWith('blob:'))) {
    ctx.importMedia?.(appended.message._id);
  }
  const message = toMessageRecord(appended.message, ctx.cipher);
  const conversationRecord = toConversationRecord(appended.conversation, ctx.cipher);
  if (!appended.duplicate) {
    await ctx.audit.record({
      action: 'inbound.ingest', via: 'webhook', patientId: patient._id, conversationId: conversationRecord.id,
      details: { channel: inbound.channel, messageId: message.id },
    });
    ctx.events.messageCreated(message, conversationRecord);
    // Triage, after-hours answer, assignment: before the provider is answered, so a failure makes it retry.
    if (!automatic) {
      await ctx.routeInbound?.({
        messageId: appended.message._id, conversationId: appended.conversation._id, opened: found.opened || found.reopened, newPatient: created,
        stored: { message: appended.message, conversation: appended.conversation },
      });
    }
    if (!automatic) ctx.onInbound?.({ channel: inbound.channel, patientId: patient._id, conversationId: conversationRecord.id, newPatient: created, impliesConsent: inbound.impliesConsent !== false });
  }
  ctx.logger.info(
    { conversationId: conversationRecord.id, messageId: message.id, channel: inbound.channel, seq: message.seq, duplicate: appended.duplicate },
    'inbound message stored',
  );
  return { message, conversation: conversationRecord, patientId: patient._id, duplicate: appended.duplicate, newPatient: created };
}

function evidenceFor(kind: NormalizedInbound['from']['kind'], authenticated: boolean): TrustEvidence {
  if (kind === 'phone') return 'inbound_sms';
  if (kind === 'web') return 'visitor_token';
  return authenticated ? 'authenticated_email' : 'unauthenticated_email';
}

/**
 * A patient who writes to the clinic may be answered on that channel
 * (patient-initiated, conversational messaging). An explicit opt-out always wins.
 */
async function recordPatientInitiatedConsent(ctx: TimelineContext, patient: PatientDoc, channel: ChannelId): Promise<void> {
  if (patient.consent[channel]?.status !== 'unknown') return;
  const at = ctx.clock();
  const source = 'patient_initiated';
  // One conditional update: only while the channel's consent is still unknown, so an opt-out recorded
  // meanwhile (a STOP handled by another node) is never overwritten by this implied opt-in.
  await ctx.locks.run(`patient:${patient._id}`, () =>
    ctx.models.Patient.updateOne(
      { _id: patient._id, [`consent.${channel}.status`]: 'unknown' },
      {
        $set: { [`consent.${channel}`]: { status: 'opted_in', at, source }, updatedAt: at },
        $push: { consentHistory: { channel, status: 'opted_in', at, source } },
      },
    ),
  );
}
