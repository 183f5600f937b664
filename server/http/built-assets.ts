/**
 * The hub's own front ends (the patient widget, the agents' inbox) are built
 * by esbuild from source when first needed, once per process, and served from
 * memory with their gzip and an ETag: no build step before `npm start`, no
 * build output in the repository.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';
import { notFound } from '../errors.ts';

export type AssetFiles = Record<string, { body: string | Uint8Array; contentType: string }>;

interface Built {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  contentType: string;
}

export interface BuiltAssets {
  /** Starts the build now (errors surface on the first request). */
  warm(): void;
  serve(req: Request, res: Response, name: string, headers?: Record<string, string>): Promise<void>;
}

export function builtAssets(build: () => Promise<AssetFiles>, cacheControl: string): BuiltAssets {
  let files: Promise<Map<string, Built>> | undefined;
  const load = () => {
    files ??= build().then((built) => {
      const out = new Map<string, Built>();
      for (const [name, file] of Object.entries(built)) {
        const body = Buffer.from(file.body);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
        out.set(name, { body, gzip: gzipSync(body, { level: 9 }), etag, contentType: file.contentType });
      }
      return out;
    });
    return files;
  };
  return {
    warm() {
      void load().catch(() => undefined);
    },
    async serve(req, res, name, headers = {}) {
      const file = (await load()).get(name);
      if (!file) throw notFound(`File ${name}`);
      res.set({ 'Content-Type': file.contentType, 'Cache-Control': cacheControl, ETag: file.etag, Vary: 'Accept-Encoding', ...headers });
      if (req.get('if-none-match') === file.etag) {
        res.status(304).end();
        return;
      }
      if (/\bgzip\b/.test(req.get('accept-encoding') ?? '')) res.set('Content-Encoding', 'gzip').status(200).send(file.gzip);
      else res.status(200).send(file.body);
    },
  };
}
