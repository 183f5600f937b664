/**
 * Expiring, tamper-evident tokens for links the hub hands out without a login
 * (secure-message links, media for Twilio's fetcher): the payload in clear
 * base64url, then an HMAC over it bound to a purpose, so a token made for one
 * use is refused by another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../timeline/timeline-context.ts';

export class SignedTokens {
  constructor(
    private readonly secret: string,
    private readonly purpose: string,
    private readonly clock: Clock,
  ) {}

  issue(values: readonly string[], ttlMs: number): string {
    const payload = Buffer.from(JSON.stringify([...values, this.clock().getTime() + ttlMs])).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The values, or null when the token was altered, made for another purpose, or has expired. */
  open(token: string): { values: string[]; expiresAt: Date } | null {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
      const expiresAtMs = parsed.pop();
      if (typeof expiresAtMs !== 'number' || expiresAtMs <= this.clock().getTime()) return null;
      if (!parsed.every((v): v is string => typeof v === 'string')) return null;
      return { values: parsed, expiresAt: new Date(expiresAtMs) };
    } catch {
      return null;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(`${this.purpose}:${payload}`).digest('base64url');
  }
}
