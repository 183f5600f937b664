import { z } from 'zod';
import type { HubServices } from '../../hub-services.ts';
import { Reply, defineRoute } from '../route.ts';

export function healthRoutes(hub: HubServices) {
  return [
    defineRoute({
      method: 'get', path: '/healthz', tag: 'health', auth: 'public',
      summary: 'The process is up',
      responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
      handler: async () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'get', path: '/readyz', tag: 'health', auth: 'public',
      summary: 'The database answers; the hub can take traffic',
      responses: { 200: { description: 'Ready' }, 503: { description: 'The database is not answering' } },
      handler: async () => {
        try {
          await hub.db.ping();
          return { status: 'ready' };
        } catch {
          return new Reply(503, { error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is not answering' } });
        }
      },
    }),
  ];
}
