/**
 * Transmission security (45 CFR 164.312(e)) at the HTTP layer: HSTS, a strict
 * Content-Security-Policy (no inline script, no framing), and CORS only for
 * the origins an operator lists in CORS_ALLOWED_ORIGINS.
 */
import cors from 'cors';
import type { HelmetOptions } from 'helmet';

export const SECURITY_HEADERS: HelmetOptions = {
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
};

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
