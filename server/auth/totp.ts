/**
 * The optional second factor (RFC 6238 TOTP, via the otpauth library): an
 * agent enrols an authenticator app, confirms one code, and from then on
 * login needs a current code. The secret is sealed like PHI.
 *
 * A code is accepted once: the step it belongs to is recorded on the agent
 * with a conditional update, so a code seen over a shoulder or replayed from
 * a log within its 30-second window is refused. Changing or removing the
 * factor takes the password and a current code, is audited, and ends the
 * account's other sessions; a new secret replaces the old one only once a
 * code from it is confirmed, so enrolment never leaves the account without
 * its factor in between.
 */
import * as OTPAuth from 'otpauth';
import type { Actor } from '../access/access-policy.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { AgentDoc } from '../db/documents.ts';
import type { Models } from '../db/models.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../timeline/timeline-context.ts';
import { verifyPassword } from './passwords.ts';

const STEP_MS = 30_000;

/** The step a current code belongs to, or null when it is not current (±1 step for clock drift). */
function stepOf(cipher: PhiCipher, secretEnc: string | null | undefined, code: string, now: Date): number | null {
  if (!secretEnc || !/^\d{6}$/.test(code)) return null;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(cipher.decrypt(secretEnc)) });
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: 1 });
  return delta === null ? null : Math.floor(now.getTime() / STEP_MS) + delta;
}

/** Accepts a current code of the agent's active secret once; false for a wrong, stale or already used one. */
export async function acceptTotp(models: Models, cipher: PhiCipher, agent: AgentDoc, code: string, now: Date, secretEnc = agent.totpSecretEnc): Promise<boolean> {
  const step = stepOf(cipher, secretEnc, code, now);
  if (step === null) return false;
  const used = await models.Agent.updateOne(
    { _id: agent._id, $or: [{ totpLastStep: null }, { totpLastStep: { $exists: false } }, { totpLastStep: { $lt: step } }] },
    { $set: { totpLastStep: step } },
  );
  return used.modifiedCount === 1;
}

export interface TotpChangeEffects {
  audit: AuditLog;
  /** Ends the agent's sessions other than the one making the change (REST and sockets). */
  endOtherSessions(agentId: string, keepSessionId: string, reason: string): Promise<void>;
}

export class TotpEnrolment {
  constructor(
    private readonly models: Models,
    private readonly cipher: PhiCipher,
    private readonly clock: Clock,
    private readonly issuerName: string,
    private readonly effects: TotpChangeEffects,
  ) {}

  /** A new secret, pending until a code from it is confirmed; with a factor already on, only with the password and a current code. */
  async begin(actor: Actor, proof: { password: string; code?: string | undefined }, ip: string): Promise<{ secret: string; otpauthUri: string }> {
    const agent = await this.reauthenticate(actor, proof, 'totp.setup', ip);
    const secret = new OTPAuth.Secret({ size: 20 });
    await this.models.Agent.updateOne({ _id: agent._id }, { $set: { totpPendingSecretEnc: this.cipher.encrypt(secret.base32) } });
    await this.effects.audit.record({ action: 'totp.setup', via: 'rest', ip, actor });
    const totp = new OTPAuth.TOTP({ issuer: this.issuerName, label: agent.email, secret });
    return { secret: secret.base32, otpauthUri: totp.toString() };
  }

  /** Turns the pending secret on once the agent proves their app produces its codes. */
  async confirm(actor: Actor, code: string, ip: string): Promise<void> {
    const agent = await this.models.Agent.findById(actor.agentId).lean().orFail();
    if (!agent.totpPendingSecretEnc) throw new AppError('CONFLICT', 'Start enrolment first (POST /api/auth/totp/setup)');
    if (!(await acceptTotp(this.models, this.cipher, agent, code, this.clock(), agent.totpPendingSecretEnc))) {
      throw new AppError('INVALID_INPUT', 'code: not the current code from your app', { field: 'code' });
    }
    await this.models.Agent.updateOne(
      { _id: agent._id, totpPendingSecretEnc: agent.totpPendingSecretEnc },
      { $set: { totpSecretEnc: agent.totpPendingSecretEnc, totpPendingSecretEnc: null, totpEnabledAt: this.clock() } },
    );
    await this.effects.audit.record({ action: 'totp.enable', via: 'rest', ip, actor });
    await this.effects.endOtherSessions(agent._id, actor.sessionId, 'second_factor_changed');
  }

  /** Removes the second factor: the password and a current code. */
  async disable(actor: Actor, proof: { password: string; code: string }, ip: string): Promise<void> {
    const agent = await this.reauthenticate(actor, proof, 'totp.disable', ip);
    if (!agent.totpEnabledAt) throw new AppError('CONFLICT', 'The second factor is not on');
    await this.models.Agent.updateOne({ _id: agent._id }, { $set: { totpSecretEnc: null, totpPendingSecretEnc: null, totpEnabledAt: null } });
    await this.effects.audit.record({ action: 'totp.disable', via: 'rest', ip, actor });
    await this.effects.endOtherSessions(agent._id, actor.sessionId, 'second_factor_changed');
  }

  private async reauthenticate(actor: Actor, proof: { password: string; code?: string | undefined }, action: 'totp.setup' | 'totp.disable', ip: string): Promise<AgentDoc> {
    const agent = await this.models.Agent.findById(actor.agentId).lean().orFail();
    const refuse = async (error: AppError) => {
      await this.effects.audit.record({ action, via: 'rest', ip, actor, outcome: 'denied' });
      return error;
    };
    if (!(await verifyPassword(agent.passwordHash, proof.password))) throw await refuse(new AppError('INVALID_CREDENTIALS', 'password: not your current password', { field: 'password' }));
    if (agent.totpEnabledAt) {
      if (!proof.code) throw await refuse(new AppError('TOTP_REQUIRED', 'code: the current code from your authenticator app', { field: 'code' }));
      if (!(await acceptTotp(this.models, this.cipher, agent, proof.code, this.clock()))) {
        throw await refuse(new AppError('INVALID_CREDENTIALS', 'code: not the current code from your app', { field: 'code' }));
      }
    }
    return agent;
  }
}
