/**
 * Email threading for an outbound message: its own Message-ID, In-Reply-To
 * and References to the conversation's earlier mail (ours by our ids, the
 * patient's by the Message-ID we stored as their provider id), the subject
 * ("Re: …" of the patient's), and a per-conversation reply address
 * `reply+<conversationId>.<signature>@INBOUND_EMAIL_DOMAIN` that cannot be
 * guessed, so a reply lands in the right thread and nobody can forge one
 * into another patient's.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OutboundEnvelope } from '../../channels/contract.ts';
import { foldHeaderText } from '../../channels/email/header-text.ts';
import type { MessageDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

export class ReplyAddresses {
  constructor(
    private readonly secret: string,
    readonly domain: string,
  ) {}

  for(conversationId: string): string {
    return `reply+${conversationId}.${this.sign(conversationId)}@${this.domain}`;
  }

  /** The conversation a reply address belongs to, or null when it was not ours or was altered. */
  conversationOf(address: string): string | null {
    const match = /^reply\+([A-Za-z0-9-]+)\.([A-Za-z0-9_-]{16})@(.+)$/.exec(address.trim());
    if (!match || match[3]!.toLowerCase() !== this.domain.toLowerCase()) return null;
    const expected = Buffer.from(this.sign(match[1]!));
    const given = Buffer.from(match[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given) ? match[1]! : null;
  }

  private sign(conversationId: string): string {
    return createHmac('sha256', this.secret).update(`reply-address:${conversationId}`).digest('base64url').slice(0, 16);
  }
}

/** A new outbound email's Message-ID core: 128 random bits, never a database id, so a reply cannot be forged into a thread by guessing. */
export function newEmailMessageId(): string {
  return randomBytes(16).toString('hex');
}

export function messageIdHeader(emailMessageId: string, domain: string): string {
  return `<${emailMessageId}@${domain}>`;
}

/** The random core of a Message-ID the hub sent (`<32 hex@our domain>`), or null for anyone else's. */
export function ourEmailMessageId(header: string, domain: string): string | null {
  const match = /^<([0-9a-f]{32})@([^<>@\s]+)>$/i.exec(header.trim());
  return match && match[2]!.toLowerCase() === domain.toLowerCase() ? match[1]!.toLowerCase() : null;
}

/** The Message-ID header of an outbound message (ones queued before random ids carry their old one). */
function headerOf(message: MessageDoc, domain: string): string {
  return messageIdHeader(message.emailMessageId ?? message._id, domain);
}

export async function emailThreadFor(
  ctx: TimelineContext,
  message: MessageDoc,
  addresses: ReplyAddresses,
  clinicName: string,
): Promise<NonNullable<OutboundEnvelope['email']>> {
  const earlier = await ctx.models.Message.find({ conversationId: message.conversationId, channel: 'email', seq: { $lt: message.seq } })
    .sort({ seq: -1 })
    .limit(20)
    .lean();
  const ids = earlier
    .reverse()
    .map((m) => (m.direction === 'outbound' ? headerOf(m, addresses.domain) : m.providerMessageId))
    .filter((id): id is string => Boolean(id && /^<[^<>\s]+>$/.test(id)));
  const conversation = await ctx.models.Conversation.findById(message.conversationId, { subject: 1 }).lean();
  // "Re:" only when answering an earlier email; the first email of a thread carries the subject as it is.
  const answering = earlier.length > 0;
  // Stored subjects are already one line; folding again keeps one stored before that rule from reaching the headers.
  const stored = foldHeaderText(conversation?.subject ?? '');
  const subject = foldHeaderText(!stored
    ? `A message from ${clinicName}`
    : answering && !/^re:/i.test(stored) ? `Re: ${stored}` : stored);
  return {
    messageIdHeader: headerOf(message, addresses.domain),
    ...(ids.length ? { inReplyTo: ids[ids.length - 1]! } : {}),
    references: ids,
    replyTo: addresses.for(message.conversationId),
    subject,
  };
}
