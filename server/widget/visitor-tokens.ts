/**
 * Visitor tokens: what a browser keeps to come back to its conversation. A
 * JWT naming the visitor, signed with a key derived from JWT_SECRET for this
 * purpose only (an agent's token is never a visitor's, nor the reverse).
 * They last VISITOR_TOKEN_DAYS from their last use (each connection gets a
 * fresh one); "end chat" revokes every token issued before it.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../errors.ts';

export const VISITOR_TOKEN_DAYS = 7;
const AUDIENCE = 'carethread-widget';

export class VisitorTokens {
  /**
   * A KeyObject, not the raw bytes: given a Buffer or a string, jsonwebtoken first tries to read it as a PEM key and
   * fails (about 0.45 ms a token, measured); a secret KeyObject goes straight to the HMAC (about 0.02 ms).
   */
  private readonly key: KeyObject;

  constructor(jwtSecret: string, private readonly clock: () => Date) {
    this.key = createSecretKey(createHmac('sha256', jwtSecret).update('carethread widget visitor tokens').digest());
  }

  /** A new visitor id: 24 random bytes, URL-safe. */
  static newVisitorId(): string {
    return randomBytes(24).toString('base64url');
  }

  issue(visitorId: string): string {
    const now = Math.floor(this.clock().getTime() / 1000);
    return jwt.sign({ sub: visitorId, aud: AUDIENCE, iat: now, exp: now + VISITOR_TOKEN_DAYS * 86_400 }, this.key, { algorithm: 'HS256' });
  }

  /** The visitor id and when the token was issued; UNAUTHENTICATED when forged, expired or not a visitor token. */
  verify(token: string): { visitorId: string; issuedAt: Date } {
    try {
      const claims = jwt.verify(token, this.key, { algorithms: ['HS256'], audience: AUDIENCE, clockTimestamp: Math.floor(this.clock().getTime() / 1000) }) as jwt.JwtPayload;
      if (typeof claims.sub !== 'string' || typeof claims.iat !== 'number') throw new Error('claims');
      return { visitorId: claims.sub, issuedAt: new Date(claims.iat * 1000) };
    } catch {
      throw new AppError('UNAUTHENTICATED', 'This chat session is not valid any more; start a new chat');
    }
  }
}
