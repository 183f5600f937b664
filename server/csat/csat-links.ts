/**
 * The email survey's link, `/csat/<token>`: the survey's id and an expiry
 * (7 days), HMAC-signed with a key derived for this purpose only
 * (purpose-keys.ts 'csat-links'), so no other link of the hub opens it and it
 * opens nothing else. The token names a survey, not the patient.
 */
import { SignedTokens } from '../crypto/signed-tokens.ts';
import type { Clock } from '../timeline/timeline-context.ts';

export const CSAT_LINK_TTL_MS = 7 * 24 * 3600_000;

/** The survey a genuine token names, and whether it is past its time; null for an altered or foreign token. */
export type CsatLinkTarget = { surveyId: string; expired: boolean } | null;

export class CsatLinks {
  private readonly tokens: SignedTokens;
  /** The same key with a clock at the epoch: tells an expired link (410) from a forged one (404). */
  private readonly anyTime: SignedTokens;

  constructor(
    secret: string,
    private readonly baseUrl: string,
    clock: Clock,
    private readonly ttlMs = CSAT_LINK_TTL_MS,
  ) {
    this.tokens = new SignedTokens(secret, 'csat', clock);
    this.anyTime = new SignedTokens(secret, 'csat', () => new Date(0));
  }

  create(surveyId: string): string {
    return `${this.baseUrl}/csat/${this.tokens.issue([surveyId], this.ttlMs)}`;
  }

  open(token: string): CsatLinkTarget {
    const opened = this.tokens.open(token);
    if (opened?.values.length === 1) return { surveyId: opened.values[0]!, expired: false };
    const genuine = this.anyTime.open(token);
    return genuine?.values.length === 1 ? { surveyId: genuine.values[0]!, expired: true } : null;
  }
}
