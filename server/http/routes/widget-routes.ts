/**
 * The patient widget's HTTP side: the script itself (/widget.js), its
 * settings, starting a chat, and files. Called cross-origin from the clinic's
 * site (widget CORS in security-headers.ts); authenticated by the visitor
 * token, never by an agent's.
 */
import { z } from 'zod';
import { ACCEPTED_ATTACHMENT_TYPES, MAX_STORED_ATTACHMENT_BYTES, storeAttachment } from '../../attachments/attachment-store.ts';
import type { Request } from 'express';
import { AppError, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { MAX_WIDGET_ATTACHMENTS, MAX_WIDGET_BODY_LENGTH } from '../../realtime/widget-namespace.ts';
import { WIDGET_LANGUAGES, type WidgetConfig, type WidgetLanguage } from '../../realtime/widget-events.ts';
import { isOpenAt, nextOpening } from '../../routing/business-hours.ts';
import { clinicDefaultHours, teamHoursOf } from '../../routing/team-settings.ts';
import { consentWording } from '../../widget/consent-wording.ts';
import type { Visitor, WidgetVisitors } from '../../widget/widget-visitors.ts';
import { sendAttachment } from '../attachment-response.ts';
import { readUpload } from '../file-upload.ts';
import type { AbuseLimits } from '../../widget/abuse-limits.ts';
import { Reply, defineRoute } from '../route.ts';
import type { WidgetScript } from '../widget-script.ts';

const languageSchema = z.enum(WIDGET_LANGUAGES as [WidgetLanguage, ...WidgetLanguage[]]);

const visitorBody = z.object({
  name: z.string().max(100, 'at most 100 characters').default(''),
  phone: z.string().max(40).optional(),
  email: z.string().max(254).optional(),
  consent: z.object({ sms: z.boolean().optional(), email: z.boolean().optional() }).optional(),
  language: languageSchema.optional(),
  department: z.string().min(1).max(100).optional(),
  portal: z.object({
    patientId: z.string().min(1).max(128),
    issuedAt: z.number().int().min(0).describe('when the portal made the proof, Unix seconds'),
    hash: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'),
  }).optional(),
});

export function widgetRoutes(hub: HubServices, visitors: WidgetVisitors, script: WidgetScript, limits: AbuseLimits) {
  const { config, timeline } = hub;
  const visitorFrom = async (req: Request): Promise<Visitor> => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new AppError('UNAUTHENTICATED', 'Send the visitor token as "Authorization: Bearer <token>"');
    return visitors.authenticate(match[1]!);
  };

  return [
    defineRoute({
      method: 'get', path: '/widget.js', tag: 'widget', auth: 'public',
      summary: 'The embeddable patient chat widget (one script tag; see client-widget/README.md)',
      responses: { 200: { description: 'JavaScript' } },
      handler: async ({ req, res }) => {
        await script.serve(req, res);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/api/widget/config', tag: 'widget', auth: 'public',
      summary: 'What the widget needs before a chat: clinic name, whether agents are away, file limits, consent wording',
      responses: { 200: { description: 'Widget settings' } },
      handler: async (): Promise<WidgetConfig> => {
        // One source of truth: the hours of the team web chats go to (the clinic's default when it has none).
        const hours = teamHoursOf(await timeline.models.Team.findById(timeline.settings.defaultTeamId).lean(), clinicDefaultHours(config));
        const at = timeline.clock();
        const away = hours !== null && !isOpenAt(hours, at);
        return {
          clinicName: config.clinicName,
          away,
          nextOpenAt: away ? (nextOpening(hours, at)?.toISOString() ?? null) : null,
          attachments: { maxBytes: MAX_STORED_ATTACHMENT_BYTES, contentTypes: [...ACCEPTED_ATTACHMENT_TYPES], maxPerMessage: MAX_WIDGET_ATTACHMENTS },
          consentWording: consentWording(config.clinicName),
          maxBodyLength: MAX_WIDGET_BODY_LENGTH,
          departments: (await timeline.models.Team.find({ department: { $ne: null } }).sort({ name: 1 }).lean())
            .filter((team) => team.department)
            .map((team) => ({ id: team._id, label: team.department!.label })),
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/widget/visitors', tag: 'widget', auth: 'public',
      summary: 'Start a web chat: the pre-chat form (or a portal identity hash) -> a visitor token',
      body: visitorBody,
      responses: { 201: { description: '{token, session}' } },
      handler: async ({ body, ip }) => new Reply(201, await visitors.create(body, ip)),
    }),
    defineRoute({
      method: 'post', path: '/api/widget/attachments', tag: 'widget', auth: 'public',
      summary: 'Upload a file for a web chat message: raw body, Content-Type = the file type, X-File-Name = its name (URL-encoded)',
      responses: { 201: { description: '{attachmentId, name, contentType, size}' } },
      handler: async ({ req }) => {
        const visitor = await visitorFrom(req);
        await limits.upload(req.ip ?? '');
        const { name, contentType, data } = await readUpload(req);
        const ref = await storeAttachment(timeline, data, contentType, { name, uploadedBy: visitor.identity._id, awaitsMessage: true });
        return new Reply(201, { attachmentId: ref.slice('blob:'.length), name, contentType, size: data.length });
      },
    }),
    defineRoute({
      method: 'get', path: '/api/widget/messages/:messageId/attachments/:index', tag: 'widget', auth: 'public',
      summary: 'A file of a message in the visitor’s own thread',
      params: z.object({ messageId: z.string().min(1).max(100), index: z.coerce.number().int().min(0).max(20) }),
      responses: { 200: { description: 'The file' } },
      handler: async ({ req, res, params }) => {
        const visitor = await visitorFrom(req);
        const message = await timeline.models.Message.findById(params.messageId).lean();
        // Their patient's messages only, and only what the widget shows (no notes).
        if (!message || message.patientId !== visitor.patient._id || (message.direction !== 'inbound' && message.direction !== 'outbound')) {
          throw notFound('Attachment');
        }
        await sendAttachment(res, timeline, hub.adapters, message, params.index);
        return undefined;
      },
    }),
  ];
}
