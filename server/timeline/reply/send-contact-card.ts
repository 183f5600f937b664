/**
 * "Send our contact card": the clinic's vCard as a message of kind `vcard`
 * on the patient's channel (continuity rules, consent checked, like any
 * reply). The file travels as the message's attachment: MMS media by signed
 * link, an email attachment, a download in the widget. Automatic sends (first
 * SMS contact, a changed card) go at most once per card revision per patient,
 * enforced by the provider key, and never where consent is missing.
 */
import { storeAttachment } from '../../attachments/attachment-store.ts';
import type { Actor } from '../../access/access-policy.ts';
import type { ConversationDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import type { MessageRecord } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { chooseReplyChannel, type RequestedChannel } from './choose-reply-channel.ts';
import { currentReplyFacts, loadReachability, queueOutbound } from './send-reply.ts';

export interface ContactCardFile {
  organization: string;
  revision: string;
  fileName: string;
  vcf: string;
  /** The card with this number as the clinic's texting number (several sending numbers: the patient's own). */
  forSender?(number: string): string;
}

/** What the card's message says: what it is, and the promise that protects patients from impostors. */
export function contactCardText(organization: string): string {
  return `${organization}: this is our contact card. Save it so our calls and texts show our name. We will never ask for passwords or payment by text or phone.`;
}

export async function sendContactCard(
  ctx: TimelineContext,
  sender: Actor | null,
  conversation: ConversationDoc,
  requested: RequestedChannel,
  card: ContactCardFile,
): Promise<MessageRecord | null> {
  const automatic = sender === null;
  const { patient, identities } = await loadReachability(ctx, conversation.patientId);
  if (automatic && patient.contactCardRevision === card.revision) return null;
  let choice;
  try {
    choice = chooseReplyChannel(await currentReplyFacts(ctx, patient, identities, conversation), requested);
  } catch (error) {
    if (automatic && error instanceof AppError) return null; // no consent on that channel: nothing goes out by itself
    throw error;
  }
  // The card carries the number this patient hears from (chosen now if none yet), whatever channel it goes by,
  // so the contact they save matches every text that follows.
  const fromNumber = (await ctx.smsSenders?.ensure(patient)) ?? null;
  const vcf = fromNumber && card.forSender ? card.forSender(fromNumber) : card.vcf;
  const ref = await storeAttachment(ctx, Buffer.from(vcf, 'utf8'), 'text/vcard', { name: card.fileName, uploadedBy: 'hub' });
  // Sent by the hub itself (first text, card change): the thread says so, not "chosen by the agent".
  const reason = automatic ? (patient.contactCardRevision ? 'automatic_contact_card_update' : 'automatic_contact_card') : choice.reason;
  const { message, duplicate } = await queueOutbound(ctx, conversation, identities, { ...choice, reason }, {
    kind: 'vcard',
    body: contactCardText(card.organization),
    attachments: [{ name: card.fileName, contentType: 'text/vcard', size: Buffer.byteLength(vcf), ref }],
    ...(choice.channel === 'sms' ? { fromNumber } : {}),
    author: sender ? { type: 'agent', agentId: sender.agentId } : { type: 'system', agentId: null },
    ...(automatic ? { providerKey: `contact-card:${patient._id}:${card.revision}` } : {}),
  });
  if (duplicate) return null;
  await ctx.locks.run(`patient:${patient._id}`, () =>
    ctx.models.Patient.updateOne({ _id: patient._id }, { $set: { contactCardRevision: card.revision, updatedAt: ctx.clock() } }),
  );
  ctx.logger.info({ conversationId: conversation._id, messageId: message.id, channel: choice.channel, automatic, revision: card.revision }, 'contact card queued');
  return message;
}
