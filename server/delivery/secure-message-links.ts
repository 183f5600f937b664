/**
 * PHI-safe notifications: when the clinic turns them on, an SMS or email
 * carries no PHI, only "You have a new secure message from <clinic>" and a
 * signed, expiring link to the conversation. The patient reads the message
 * in the web chat after proving who they are (the widget's verification).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../timeline/timeline-context.ts';

export interface SecureLinkTarget {
  conversationId: string;
  patientId: string;
  expiresAt: Date;
}

export class SecureMessageLinks {
  constructor(
    private readonly secret: string,
    private readonly baseUrl: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** A link naming the conversation (not its content), valid for the configured time. */
  create(conversationId: string, patientId: string): string {
    const payload = Buffer.from(JSON.stringify([conversationId, patientId, this.clock().getTime() + this.ttlMs])).toString('base64url');
    return `${this.baseUrl}/m/${payload}.${this.sign(payload)}`;
  }

  /** The link's target, or null when it was altered or has expired. */
  verify(token: string): SecureLinkTarget | null {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const [conversationId, patientId, expiresAtMs] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string, number];
      if (typeof expiresAtMs !== 'number' || expiresAtMs <= this.clock().getTime()) return null;
      return { conversationId, patientId, expiresAt: new Date(expiresAtMs) };
    } catch {
      return null;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(`secure-link:${payload}`).digest('base64url');
  }
}

/** The whole text a PHI-safe SMS or email carries. */
export function phiSafeNotice(clinicName: string, link: string): { body: string; subject: string } {
  return {
    subject: `New secure message from ${clinicName}`,
    body: `You have a new secure message from ${clinicName}. Read it here: ${link}`,
  };
}
