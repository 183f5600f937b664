/** Answers a request for one attachment of a message: stored files from the hub, provider media fetched with the hub's credentials. */
import type { Response } from 'express';
import type { ChannelAdapter } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import { loadAttachment } from '../attachments/attachment-store.ts';
import type { MessageDoc } from '../db/documents.ts';
import { AppError, notFound } from '../errors.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

export async function sendAttachment(
  res: Response,
  timeline: TimelineContext,
  adapters: Record<ChannelId, ChannelAdapter>,
  message: MessageDoc,
  index: number,
): Promise<void> {
  const attachment = message.attachments[index];
  if (!attachment || message.channel === 'internal') throw notFound('Attachment');
  res.set('Cache-Control', 'private, no-store');
  // Never rendered inline by the hub's origin: a patient's upload is untrusted content.
  res.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(timeline.cipher.decrypt(attachment.nameEnc))}`);
  const stored = await loadAttachment(timeline, attachment.ref);
  if (stored) {
    res.status(200).type(stored.contentType).send(stored.data);
    return;
  }
  if (attachment.unavailable) throw new AppError('NOT_FOUND', `This attachment could not be kept: ${attachment.unavailable}`);
  // Not imported yet (the hub fetches provider media in the background): fetched for this request only.
  const file = await adapters[message.channel].fetchAttachment?.(attachment.ref);
  if (!file?.ok) throw new AppError('PROVIDER_UNAVAILABLE', 'The provider did not return this attachment; try again later');
  res.status(200).type(file.contentType).send(file.data);
}
