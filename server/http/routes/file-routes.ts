/**
 * Files the clinic sends: an agent uploads one (then names it in a reply's
 * attachmentIds), and Twilio fetches MMS media through a signed link.
 */
import { z } from 'zod';
import { agentUploader, loadAttachment, storeAttachment } from '../../attachments/attachment-store.ts';
import type { MediaLinks } from '../../delivery/media-links.ts';
import { notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { readUpload } from '../file-upload.ts';
import { Reply, defineRoute } from '../route.ts';

export function fileRoutes(hub: HubServices, links: MediaLinks) {
  const { timeline } = hub;
  return [
    defineRoute({
      method: 'post', path: '/api/attachments', tag: 'conversations', auth: 'agent',
      summary: 'Upload a file for a reply: raw body, Content-Type = the file type, X-File-Name = its name (URL-encoded); PDF, images, text; 8 MB',
      responses: { 201: { description: '{attachmentId, name, contentType, size}' } },
      handler: async ({ req, actor }) => {
        const { name, contentType, data } = await readUpload(req);
        const ref = await storeAttachment(timeline, data, contentType, { name, uploadedBy: agentUploader(actor.agentId), awaitsMessage: true });
        return new Reply(201, { attachmentId: ref.slice('blob:'.length), name, contentType, size: data.length });
      },
    }),
    defineRoute({
      method: 'get', path: '/media/:token', tag: 'conversations', auth: 'public',
      summary: 'A file the clinic sent by MMS, for the carrier to fetch (signed link, a few hours; 404 when expired or altered)',
      params: z.object({ token: z.string().min(10).max(400) }),
      responses: { 200: { description: 'The file' }, 404: { description: 'Expired, altered or unknown' } },
      handler: async ({ params, res }) => {
        const target = links.open(params.token);
        const message = target ? await timeline.models.Message.findById(target.messageId).lean() : null;
        const attachment = target && message?.direction === 'outbound' ? message.attachments[target.index] : undefined;
        const stored = attachment ? await loadAttachment(timeline, attachment.ref) : null;
        if (!attachment || !stored) throw notFound('Media');
        res.set({
          'Cache-Control': 'private, no-store',
          'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(timeline.cipher.decrypt(attachment.nameEnc))}`,
        });
        res.status(200).type(stored.contentType).send(stored.data);
        return undefined;
      },
    }),
  ];
}
