/**
 * "Continue by text message / by email": a one-time code proves the visitor
 * holds that phone or mailbox. Six digits, valid CODE_MINUTES, FIVE attempts,
 * at most a few codes per visitor and per address an hour. Only a keyed hash
 * of the code is stored. The code goes straight through the channel's
 * adapter (it is not part of anyone's timeline), and the answer never says
 * whether the address belongs to a patient: a number that opted out of texts
 * is silently not texted.
 */
import type { AbuseLimits } from './abuse-limits.ts';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { ChannelAdapter } from '../../channels/contract.ts';
import type { ChannelId } from '../../channels/channel-id.ts';
import { consumeRateLimit } from '../db/rate-limits.ts';
import { AppError } from '../errors.ts';
import type { IdentityValue } from '../timeline/identity/normalize-identity.ts';
import { identityKey } from '../timeline/ingest/resolve-identity.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import type { WidgetLanguage } from '../realtime/widget-events.ts';
import { consentWording, verificationText } from './consent-wording.ts';
import type { Visitor } from './widget-visitors.ts';
import { maskAddress } from './widget-view.ts';

export const CODE_MINUTES = 10;
export const MAX_CODE_ATTEMPTS = 5;
const PER_VISITOR = { limit: 5, windowMs: 3600_000, what: 'codes requested from this chat' };
const PER_ADDRESS = { limit: 5, windowMs: 3600_000, what: 'codes sent to this address' };

export interface ProvenAddress {
  channel: 'sms' | 'email';
  identity: IdentityValue;
  consentWording: string;
}

export class VerificationCodes {
  private readonly key: Buffer;

  constructor(
    private readonly ctx: TimelineContext,
    private readonly adapters: Record<ChannelId, ChannelAdapter>,
    private readonly options: { secret: string; clinicName: string },
    private readonly limits: AbuseLimits,
  ) {
    this.key = createHmac('sha256', options.secret).update('carethread one-time codes').digest();
  }

  async start(
    visitor: Visitor,
    input: { channel: 'sms' | 'email'; address: string; consent: boolean; language: WidgetLanguage },
    ip: string,
  ): Promise<{ expiresAt: string; sentTo: string }> {
    const { ctx } = this;
    const wording = consentWording(this.options.clinicName)[input.language][input.channel];
    if (!input.consent) {
      throw new AppError('CONSENT_REQUIRED', `consent: to continue by ${input.channel === 'sms' ? 'text message' : 'email'} we need your agreement to write to you there`, { field: 'consent' });
    }
    const kind = input.channel === 'sms' ? 'phone' : 'email';
    let target;
    try {
      target = identityKey(ctx, { kind, value: input.address });
    } catch (error) {
      if (error instanceof AppError) throw new AppError(error.code, `address: ${error.message}`, { field: 'address' });
      throw error;
    }
    const now = ctx.clock();
    await this.limits.code(ip, input.channel, target.normalized.value);
    await consumeRateLimit(ctx.models, ctx.locks, `verify:visitor:${visitor.identity._id}`, PER_VISITOR, now);
    await consumeRateLimit(ctx.models, ctx.locks, `verify:address:${target.id}`, PER_ADDRESS, now);

    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + CODE_MINUTES * 60_000);
    await ctx.models.VerificationChallenge.findOneAndUpdate(
      { _id: visitor.identity._id },
      {
        $set: {
          channel: input.channel, targetKey: target.id, targetValueEnc: ctx.cipher.encrypt(target.normalized.value),
          codeHash: this.hash(visitor.identity._id, code), attempts: 0, consentWording: wording, expiresAt, createdAt: now,
        },
      },
      { upsert: true },
    );

    if (await this.mayWrite(target.id, input.channel)) {
      const text = verificationText(this.options.clinicName, code, CODE_MINUTES, input.language);
      const outcome = await this.adapters[input.channel].send({
        messageId: `verify-${visitor.identity._id.slice(-12)}-${now.getTime()}`,
        conversationId: 'verification',
        channel: input.channel,
        to: target.normalized.value,
        body: text.body,
        subject: text.subject,
      });
      if (!outcome.ok) {
        ctx.logger.warn({ channel: input.channel, code: outcome.error.code }, 'verification code not sent');
        throw new AppError('PROVIDER_UNAVAILABLE', `We could not send a code to that ${input.channel === 'sms' ? 'number' : 'address'}; check it or try again later`, { field: 'address' });
      }
      await outcome.afterRecorded?.();
    } else {
      ctx.logger.info({ channel: input.channel }, 'verification code withheld: the address opted out or bounces');
    }
    await ctx.audit.record({ action: 'widget.verification.send', via: 'widget', ip, patientId: visitor.patient._id, details: { channel: input.channel } });
    return { expiresAt: expiresAt.toISOString(), sentTo: maskAddress(input.channel, target.normalized.value) };
  }

  /**
   * Checks a code; returns what it proved. Wrong codes count; the last allowed attempt ends the challenge.
   *
   * Every check first takes an attempt by one conditional `$inc` (only while
   * fewer than MAX_CODE_ATTEMPTS were made and the code is live), then compares:
   * guesses sent in parallel (to several nodes) each use up one attempt, so no
   * more than MAX_CODE_ATTEMPTS are ever compared. A right code is used by
   * deleting the challenge it belongs to; of two at once, one deletes it.
   */
  async confirm(visitor: Visitor, code: string, ip: string): Promise<ProvenAddress> {
    const { ctx } = this;
    return ctx.locks.run(`verify:${visitor.identity._id}`, async () => {
      const now = ctx.clock();
      const expired = () => new AppError('CODE_EXPIRED', 'code: no code is waiting or it expired; ask for a new one', { field: 'code' });
      const challenge = await ctx.models.VerificationChallenge.findOneAndUpdate(
        { _id: visitor.identity._id, attempts: { $lt: MAX_CODE_ATTEMPTS }, expiresAt: { $gt: now } },
        { $inc: { attempts: 1 } },
        { returnDocument: 'after', lean: true },
      );
      if (!challenge) throw expired();
      const audit = (outcome: 'success' | 'failure') =>
        ctx.audit.record({ action: 'widget.verification.check', via: 'widget', ip, outcome, patientId: visitor.patient._id, details: { channel: challenge.channel } });
      // Only this code's challenge goes: a new code asked for meanwhile stays.
      const end = () => ctx.models.VerificationChallenge.deleteOne({ _id: challenge._id, codeHash: challenge.codeHash });
      const given = Buffer.from(this.hash(visitor.identity._id, code.trim()), 'hex');
      const expected = Buffer.from(challenge.codeHash, 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        await audit('failure');
        if (challenge.attempts >= MAX_CODE_ATTEMPTS) {
          await end();
          throw new AppError('TOO_MANY_ATTEMPTS', 'code: too many wrong codes; ask for a new one', { field: 'code' });
        }
        const left = MAX_CODE_ATTEMPTS - challenge.attempts;
        throw new AppError('CODE_INCORRECT', `code: that code is not right; ${left} attempt${left === 1 ? '' : 's'} left`, { field: 'code' });
      }
      if ((await end()).deletedCount !== 1) throw expired(); // used by a check that won the same code a moment ago
      await audit('success');
      return {
        channel: challenge.channel,
        identity: { kind: challenge.channel === 'sms' ? 'phone' : 'email', value: ctx.cipher.decrypt(challenge.targetValueEnc) },
        consentWording: challenge.consentWording,
      };
    });
  }

  private hash(visitorKey: string, code: string): string {
    return createHmac('sha256', this.key).update(`${visitorKey}:${code}`).digest('hex');
  }

  /** False when the address's patient opted out of this channel or its mail bounces. */
  private async mayWrite(targetKey: string, channel: 'sms' | 'email'): Promise<boolean> {
    const identity = await this.ctx.models.Identity.findById(targetKey).lean();
    if (!identity) return true;
    if (identity.undeliverableAt) return false;
    const patient = await this.ctx.models.Patient.findById(identity.patientId, { consent: 1 }).lean();
    return patient?.consent[channel]?.status !== 'opted_out';
  }
}
