/**
 * /widget.js: client-widget/ bundled on first use. Loaded by other sites'
 * pages, so it is the one resource with a cross-origin resource policy.
 */
import type { Request, Response } from 'express';
import { builtAssets } from './built-assets.ts';

export interface WidgetScript {
  serve(req: Request, res: Response): Promise<void>;
}

export function widgetScript(): WidgetScript {
  const assets = builtAssets(async () => {
    // Imported on first use: esbuild is loaded only by hubs that serve the front ends.
    const { buildWidget } = await import('../../client-widget/build.ts');
    const { code } = await buildWidget({ minify: true });
    return { 'widget.js': { body: code, contentType: 'application/javascript; charset=utf-8' } };
  }, 'public, max-age=300');
  assets.warm();
  return {
    serve: (req, res) => assets.serve(req, res, 'widget.js', { 'Cross-Origin-Resource-Policy': 'cross-origin', 'Access-Control-Allow-Origin': '*' }),
  };
}
