/**
 * Transmission security (45 CFR 164.312(e)) at the HTTP layer: HSTS, a strict
 * Content-Security-Policy (no inline script, no framing), no caching of API
 * answers, and CORS only for the origins an operator lists in
 * CORS_ALLOWED_ORIGINS.
 */
import cors from 'cors';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.ts';
import type { HelmetOptions } from 'helmet';

export const SECURITY_HEADERS: HelmetOptions = {
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      // blob: an email's inline images, fetched with the agent's token ("show original").
      imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  // Same answer as the CSP's frame-ancestors 'none', for browsers that only read the old header.
  xFrameOptions: { action: 'deny' },
};

/**
 * API answers carry PHI (or say whether it exists), so no cache may keep
 * them, shared or private; without an ETag a conditional request cannot
 * be answered 304 from a copy either. Attachment downloads set their own
 * `private, no-store`, which still says no-store.
 */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  next();
}

/** CORS for the API: listed origins only; others get no CORS headers, so browsers refuse them. */
export function apiCors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '')));
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
}

/**
 * CORS for the widget's API (/api/widget/*), called from the clinic's own
 * site. Every origin may read the answers' errors, so a widget embedded where
 * it is not allowed can print why; the guard then refuses such origins with
 * ORIGIN_NOT_ALLOWED before any route runs. No cookies are involved (the
 * visitor token travels in the Authorization header).
 */
export function widgetCors(allowedOrigins: readonly string[], hubOrigin: string) {
  // The hub's own pages (/chat, /widget/verify) host the widget too.
  const allowed = new Set([...allowedOrigins, hubOrigin].map((o) => o.replace(/\/$/, '')));
  const listed = allowedOrigins.length > 0;
  const isAllowed = (origin: string) => !listed || allowed.has(origin);
  const corsHandler = cors({
    origin: true,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-File-Name'],
    maxAge: 600,
  });
  return {
    isAllowed,
    cors: corsHandler,
    guard(req: Request, _res: Response, next: NextFunction) {
      const origin = req.get('origin');
      if (origin && !isAllowed(origin)) {
        next(new AppError('ORIGIN_NOT_ALLOWED', `${origin} may not embed this chat widget; the clinic adds it to WIDGET_ALLOWED_ORIGINS`));
        return;
      }
      next();
    },
  };
}
