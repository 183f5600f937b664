/**
 * The agents' inbox (client-inbox/), served at /inbox/ from the hub's origin
 * under the hub's strict CSP. It talks only to the public REST API and the
 * /agents namespace; the files hold no data, so they may be cached briefly.
 */
import { z } from 'zod';
import { builtAssets } from '../built-assets.ts';
import { Reply, defineRoute } from '../route.ts';

export function inboxAppRoutes() {
  const assets = builtAssets(async () => {
    const { buildInbox } = await import('../../../client-inbox/build.ts');
    return buildInbox({ minify: true });
  }, 'no-cache');
  assets.warm();
  return [
    defineRoute({
      method: 'get', path: '/inbox/', tag: 'inbox', auth: 'public',
      summary: 'The agents’ unified inbox (web app)',
      responses: { 200: { description: 'HTML' } },
      handler: async ({ req, res }) => {
        // Express matches /inbox here too; the app's relative URLs need the slash.
        if (!req.originalUrl.split('?')[0]!.endsWith('/')) return new Reply(308, undefined, { Location: '/inbox/' });
        await assets.serve(req, res, 'index.html');
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/inbox/:file', tag: 'inbox', auth: 'public',
      summary: 'The inbox’s script and styles',
      params: z.object({ file: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'a file name') }),
      responses: { 200: { description: 'A static file' } },
      handler: async ({ req, res, params }) => {
        await assets.serve(req, res, params.file);
        return undefined;
      },
    }),
  ];
}
