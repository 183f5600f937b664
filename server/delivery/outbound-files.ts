/**
 * The files of an outbound message, as each channel carries them: email as
 * attachments, SMS as MMS media links (signed, short-lived), web chat not at
 * all (the widget downloads them from the hub).
 */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { OutboundEnvelope } from '../../channels/contract.ts';
import { loadAttachment } from '../attachments/attachment-store.ts';
import type { MessageDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import type { MediaLinks } from './media-links.ts';

export async function outboundFiles(
  ctx: TimelineContext,
  message: MessageDoc,
  channel: ChannelId,
  links: MediaLinks,
): Promise<Pick<OutboundEnvelope, 'attachments' | 'mediaUrls'>> {
  if (message.attachments.length === 0 || channel === 'webchat') return {};
  if (channel === 'sms') return { mediaUrls: message.attachments.map((_, index) => links.url(message._id, index)) };
  const attachments: NonNullable<OutboundEnvelope['attachments']> = [];
  for (const attachment of message.attachments) {
    const stored = await loadAttachment(ctx, attachment.ref);
    if (stored) attachments.push({ name: ctx.cipher.decrypt(attachment.nameEnc), contentType: stored.contentType, content: stored.data });
  }
  return { attachments };
}
