/**
 * Builds /widget.js: one IIFE for browsers (ES2020), socket.io-client
 * included, nothing written to disk. The hub serves `code`; scripts/widget-size.ts
 * prints the sizes.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface WidgetBuild {
  code: string;
  /** Raw size in bytes (UTF-8). */
  bytes: number;
  /** Size gzipped at the highest level. */
  gzipBytes: number;
}

export async function buildWidget(options: { minify?: boolean } = {}): Promise<WidgetBuild> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: options.minify ?? true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the widget');
  const code = file.text;
  return { code, bytes: file.contents.byteLength, gzipBytes: gzipSync(file.contents, { level: 9 }).byteLength };
}
