import { z } from 'zod';
import { DATABASE_RETRY_AFTER_SECONDS } from '../../db/database-health.ts';
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
        const notReady = () =>
          new Reply(503, { error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is not answering' } }, { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) });
        // Known down: answer now (a ping would wait for a server to select); known up: confirm with a ping.
        if (!hub.db.health.available) return notReady();
        try {
          await hub.db.ping();
          return { status: 'ready' };
        } catch {
          return notReady();
        }
      },
    }),
  ];
}
