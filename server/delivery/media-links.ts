/**
 * Files the clinic sends by MMS (a contact card, an agent's attachment) must
 * be fetchable by Twilio without a login: a short-lived signed link per file,
 * GET /media/:token. Only outbound files get links; a patient's own uploads
 * never do. Expired or altered links answer 404.
 */
import { SignedTokens } from '../crypto/signed-tokens.ts';
import type { Clock } from '../timeline/timeline-context.ts';

/** Long enough for Twilio's fetch and its retries, short enough not to linger. */
export const MEDIA_LINK_TTL_MS = 4 * 3600_000;

export class MediaLinks {
  private readonly tokens: SignedTokens;

  constructor(secret: string, private readonly baseUrl: string, clock: Clock) {
    this.tokens = new SignedTokens(secret, 'media', clock);
  }

  url(messageId: string, index: number): string {
    return `${this.baseUrl}/media/${this.tokens.issue([messageId, String(index)], MEDIA_LINK_TTL_MS)}`;
  }

  open(token: string): { messageId: string; index: number } | null {
    const opened = this.tokens.open(token);
    if (!opened || opened.values.length !== 2) return null;
    const index = Number(opened.values[1]);
    return Number.isInteger(index) && index >= 0 ? { messageId: opened.values[0]!, index } : null;
  }
}
