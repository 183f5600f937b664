/**
 * Builds the agents' inbox served under /inbox/: index.html, app.js (the ES
 * module the page loads: preact, socket.io-client and the app, ES2020), the
 * chunks it imports on demand (the supervisor dashboard with Chart.js, and
 * what it shares with app.js) and app.css. Nothing
 * is written to disk; the hub calls buildInbox() once per process and serves
 * the files from memory. The strict CSP of the hub applies: no inline script
 * or style anywhere in these files.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface InboxFile {
  body: string | Uint8Array;
  contentType: string;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export async function buildInbox(options: { minify?: boolean } = {}): Promise<Record<string, InboxFile>> {
  const minify = options.minify ?? true;
  const [result, html] = await Promise.all([
    build({
      entryPoints: [
        { in: here('./src/main.tsx'), out: 'app' },
        { in: here('./src/app.css'), out: 'app' },
      ],
      outdir: here('./dist-virtual'),
      bundle: true,
      // The dashboard is imported on demand: agents never download Chart.js.
      splitting: true,
      chunkNames: '[name]-[hash]',
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      minify,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
      charset: 'utf8',
    }),
    readFile(here('./index.html'), 'utf8'),
  ]);
  const files: Record<string, InboxFile> = {
    'index.html': { body: html, contentType: 'text/html; charset=utf-8' },
  };
  for (const file of result.outputFiles) {
    const name = file.path.split(/[\\/]/).pop()!;
    if (name.endsWith('.js')) files[name] = { body: file.text, contentType: 'application/javascript; charset=utf-8' };
    else if (name === 'app.css') files[name] = { body: file.text, contentType: 'text/css; charset=utf-8' };
  }
  if (!files['app.js'] || !files['app.css']) throw new Error('esbuild produced no app.js or app.css for the inbox');
  return files;
}
