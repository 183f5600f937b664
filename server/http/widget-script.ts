/**
 * Serves /widget.js: client-widget/ bundled by esbuild when the hub starts
 * (once per process), kept in memory with its gzip, answered with an ETag.
 * Loaded by other sites' pages, so it is the one resource with a cross-origin
 * resource policy.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';

export interface WidgetScript {
  serve(req: Request, res: Response): Promise<void>;
}

interface Built {
  code: Buffer;
  gzip: Buffer;
  etag: string;
}

let building: Promise<Built> | undefined;

function build(): Promise<Built> {
  // Imported on first use: esbuild is loaded only by hubs that serve the widget.
  building ??= import('../../client-widget/build.ts').then(({ buildWidget }) => buildWidget({ minify: true })).then(({ code }: { code: string }) => {
    const bytes = Buffer.from(code);
    return { code: bytes, gzip: gzipSync(bytes, { level: 9 }), etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
  });
  return building!;
}

export function widgetScript(): WidgetScript {
  void build().catch(() => undefined); // start early; errors surface on the first request
  return {
    async serve(req, res) {
      const built = await build();
      res.set({
        'Content-Type': 'application/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=300',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'Access-Control-Allow-Origin': '*',
        ETag: built.etag,
        Vary: 'Accept-Encoding',
      });
      if (req.get('if-none-match') === built.etag) {
        res.status(304).end();
        return;
      }
      if (/\bgzip\b/.test(req.get('accept-encoding') ?? '')) {
        res.set('Content-Encoding', 'gzip').status(200).send(built.gzip);
      } else {
        res.status(200).send(built.code);
      }
    },
  };
}
