/**
 * The optional second factor (RFC 6238 TOTP, via the otpauth library): an
 * agent enrols an authenticator app, confirms one code, and from then on
 * login needs a current code. The secret is sealed like PHI.
 */
import * as OTPAuth from 'otpauth';
import type { Actor } from '../access/access-policy.ts';
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { Models } from '../db/models.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../timeline/timeline-context.ts';

export function totpMatches(cipher: PhiCipher, secretEnc: string | null, code: string, now: Date): boolean {
  if (!secretEnc || !/^\d{6}$/.test(code)) return false;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(cipher.decrypt(secretEnc)) });
  return totp.validate({ token: code, timestamp: now.getTime(), window: 1 }) !== null;
}

export class TotpEnrolment {
  constructor(
    private readonly models: Models,
    private readonly cipher: PhiCipher,
    private readonly clock: Clock,
    private readonly issuerName: string,
  ) {}

  /** A new secret, not active until a code from it is confirmed. */
  async begin(actor: Actor): Promise<{ secret: string; otpauthUri: string }> {
    const agent = await this.models.Agent.findById(actor.agentId).lean().orFail();
    const secret = new OTPAuth.Secret({ size: 20 });
    await this.models.Agent.updateOne({ _id: agent._id }, { $set: { totpSecretEnc: this.cipher.encrypt(secret.base32), totpEnabledAt: null } });
    const totp = new OTPAuth.TOTP({ issuer: this.issuerName, label: agent.email, secret });
    return { secret: secret.base32, otpauthUri: totp.toString() };
  }

  /** Turns the second factor on once the agent proves their app produces codes. */
  async confirm(actor: Actor, code: string): Promise<void> {
    const agent = await this.models.Agent.findById(actor.agentId).lean().orFail();
    if (!agent.totpSecretEnc) throw new AppError('CONFLICT', 'Start enrolment first (POST /api/auth/totp/setup)');
    if (!totpMatches(this.cipher, agent.totpSecretEnc, code, this.clock())) {
      throw new AppError('INVALID_INPUT', 'code: not the current code from your app', { field: 'code' });
    }
    await this.models.Agent.updateOne({ _id: agent._id }, { $set: { totpEnabledAt: this.clock() } });
  }
}
