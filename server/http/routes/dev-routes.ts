/**
 * Sandbox-only routes: what outbound messages would have been sent, and a
 * loopback inbound that feeds the timeline as a channel adapter would.
 * Absent (404) when both providers are configured.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CHANNEL_IDS, IDENTITY_KIND_OF } from '../../../channels/channel-id.ts';
import type { HubServices } from '../../hub-services.ts';
import { ingestInbound } from '../../timeline/ingest/ingest-inbound.ts';
import { Reply, defineRoute } from '../route.ts';

export function devRoutes(hub: HubServices) {
  // Never in production: a hub there without provider credentials records outbound messages but does not list them.
  const enabled = () => (hub.config.sandbox.sms || hub.config.sandbox.email) && hub.config.env !== 'production';
  return [
    defineRoute({
      method: 'get', path: '/api/dev/outbox', tag: 'sandbox', auth: 'admin', enabled, audit: 'messages.read',
      summary: 'Sandbox mode: outbound messages as they would have been sent to the provider, newest first',
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), channel: z.enum(CHANNEL_IDS).optional() }),
      responses: { 200: { description: 'Recorded provider requests' } },
      handler: async ({ query }) => {
        const entries = await hub.db.models.DevOutbox.find(query.channel ? { channel: query.channel } : {})
          .sort({ createdAt: -1, _id: -1 })
          .limit(query.limit)
          .lean();
        return {
          items: entries.map((e) => ({
            id: e._id, channel: e.channel, messageId: e.messageId,
            request: JSON.parse(hub.timeline.cipher.decrypt(e.requestEnc)) as unknown, createdAt: e.createdAt.toISOString(),
          })),
          nextCursor: null,
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/dev/inbound', tag: 'sandbox', auth: 'admin', enabled,
      summary: 'Sandbox mode: ingest a patient message as if a channel had received it (loopback channel)',
      body: z.object({
        channel: z.enum(CHANNEL_IDS),
        from: z.string().trim().min(1).max(320),
        body: z.string().max(10_000),
        displayName: z.string().trim().min(1).max(120).optional(),
        providerMessageId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
      }),
      responses: { 201: { description: 'Stored' }, 200: { description: 'A duplicate of a message already stored (same providerMessageId): nothing new' } },
      handler: async ({ body }) => {
        const providerMessageId = body.providerMessageId ?? `loop${randomBytes(12).toString('hex')}`;
        const result = await ingestInbound(hub.timeline, {
          channel: body.channel,
          from: { kind: IDENTITY_KIND_OF[body.channel], value: body.from },
          providerKey: `loopback:${providerMessageId}`,
          providerMessageId,
          body: body.body,
          ...(body.displayName ? { displayName: body.displayName } : {}),
        });
        return new Reply(result.duplicate ? 200 : 201, result);
      },
    }),
  ];
}
