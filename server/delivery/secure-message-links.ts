/**
 * PHI-safe notifications: when the clinic turns them on, an SMS or email
 * carries no PHI, only "You have a new secure message from <clinic>" and a
 * signed, expiring link to the conversation. The patient reads the message
 * in the web chat after proving who they are (the widget's verification).
 */
import { SignedTokens } from '../crypto/signed-tokens.ts';
import type { Clock } from '../timeline/timeline-context.ts';

export interface SecureLinkTarget {
  conversationId: string;
  patientId: string;
  expiresAt: Date;
}

export class SecureMessageLinks {
  private readonly tokens: SignedTokens;

  constructor(
    secret: string,
    private readonly baseUrl: string,
    private readonly ttlMs: number,
    clock: Clock,
  ) {
    this.tokens = new SignedTokens(secret, 'secure-link', clock);
  }

  /** A link naming the conversation (not its content), valid for the configured time. */
  create(conversationId: string, patientId: string): string {
    return `${this.baseUrl}/m/${this.tokens.issue([conversationId, patientId], this.ttlMs)}`;
  }

  /** The link's target, or null when it was altered or has expired. */
  verify(token: string): SecureLinkTarget | null {
    const opened = this.tokens.open(token);
    if (!opened || opened.values.length !== 2) return null;
    const [conversationId, patientId] = opened.values as [string, string];
    return { conversationId, patientId, expiresAt: opened.expiresAt };
  }
}

export function phiSafeNotice(clinicName: string, link: string): { body: string; subject: string } {
  return {
    subject: `New secure message from ${clinicName}`,
    body: `You have a new secure message from ${clinicName}. Read it here: ${link}`,
  };
}
