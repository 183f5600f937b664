/**
 * The reputation of each sending number, kept as events happen (never by
 * reading messages on request): counters per number and UTC hour, moved by
 * one `$inc` upsert each (sent when Twilio takes a text, a terminal status
 * when its callback first moves the message there, a STOP keyword texted to
 * the number). Over a rolling window (NUMBER_HEALTH_WINDOW_DAYS) they give
 * the delivery rate and, per 1,000 texts sent, carrier filtering (30007) and
 * opt-outs.
 *
 * A number is judged after each bad event (undelivered, failed, opt-out:
 * only those can push it over a line), and only once the window holds
 * NUMBER_HEALTH_MIN_SENT texts (the delivery rate once as many have an
 * outcome). Crossing a line flags it: one conditional write on its
 * `sms_numbers` document (`flaggedAt: null`), so it is flagged once across
 * nodes, then an audit entry and `number:flagged` to admins on /agents. A
 * flagged number gets no new patients (sender-pool.ts) until an admin restores
 * it (audited); after a restore only what happened since counts, so the flag
 * does not come straight back on the evidence that made it.
 */
import { isDuplicateKeyError } from '../db/models.ts';
import type { SmsNumberDoc, SmsNumberStatsDoc } from './number-documents.ts';
import type { NumberStanding } from './sender-pool.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

export interface NumberHealthSettings {
  windowMs: number;
  minSent: number;
  minDeliveryRate: number;
  maxFilteredPer1000: number;
  maxOptOutsPer1000: number;
}

export interface NumberFlag {
  number: string;
  reason: string;
  at: string;
}

/** The window's figures for one number (an item of GET /api/numbers/health, without its role and pool state). */
export interface NumberFigures {
  sent: number;
  delivered: number;
  undelivered: number;
  failed: number;
  deliveryRate: number | null;
  filtered30007: number;
  unreachable: { '30003': number; '30005': number; '30006': number };
  optOuts: number;
  optOutsPer1000: number | null;
  filteredPer1000: number | null;
}

type Counter = 'sent' | 'delivered' | 'undelivered' | 'failed' | 'e30007' | 'e30003' | 'e30005' | 'e30006' | 'optOuts';
const COUNTERS: readonly Counter[] = ['sent', 'delivered', 'undelivered', 'failed', 'e30007', 'e30003', 'e30005', 'e30006', 'optOuts'];
const COUNTED_ERRORS = new Set(['30007', '30003', '30005', '30006']);
const HOUR_MS = 3600_000;

const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);

export class NumberHealth implements NumberStanding {
  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly settings: NumberHealthSettings,
    /** Told of a number that was just flagged (admins on /agents). */
    private readonly announce: (flag: NumberFlag) => void,
  ) {}

  /** A text handed to Twilio from `number`. */
  async sent(number: string): Promise<void> {
    await this.count(number, { sent: 1 });
  }

  /** A status callback that moved a message to a terminal status (once per message and status). */
  async outcome(number: string, status: 'delivered' | 'undelivered' | 'failed', errorCode?: string): Promise<void> {
    const code = errorCode && COUNTED_ERRORS.has(errorCode) ? (`e${errorCode}` as Counter) : null;
    await this.count(number, { [status]: 1, ...(status !== 'delivered' && code ? { [code]: 1 } : {}) });
    if (status !== 'delivered') await this.judge(number);
  }

  /** A STOP keyword texted to `number`. */
  async optOut(number: string): Promise<void> {
    await this.count(number, { optOuts: 1 });
    await this.judge(number);
  }

  async flagged(numbers: readonly string[]): Promise<Set<string>> {
    const docs = await this.ctx().models.SmsNumber.find({ _id: { $in: [...numbers] } }, { flaggedAt: 1 }).lean();
    return new Set(docs.filter((d) => d.flaggedAt).map((d) => d._id));
  }

  /** The numbers' standing documents (missing: never flagged). */
  async standings(numbers: readonly string[]): Promise<Map<string, SmsNumberDoc>> {
    const docs = await this.ctx().models.SmsNumber.find({ _id: { $in: [...numbers] } }).lean();
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** The rolling window ending now. */
  window(): { from: Date; to: Date } {
    const to = this.ctx().clock();
    return { from: new Date(to.getTime() - this.settings.windowMs), to };
  }

  /** Each number's figures over the window (one range read for all of them), from `since` when later. */
  async figures(numbers: readonly string[], since?: Map<string, Date>): Promise<Map<string, NumberFigures>> {
    const { from } = this.window();
    const docs = numbers.length
      ? await this.ctx().models.SmsNumberStats.find({ number: { $in: [...numbers] }, hour: { $gte: hourOf(from) } }).lean()
      : [];
    const sums = new Map(numbers.map((n) => [n, Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>]));
    for (const doc of docs) {
      const floor = since?.get(doc.number);
      if (floor && doc.hour < floor) continue;
      const sum = sums.get(doc.number);
      if (sum) for (const c of COUNTERS) sum[c] += doc[c] ?? 0;
    }
    return new Map([...sums].map(([n, s]) => [n, toFigures(s)]));
  }

  /** Why these figures cross a line, or null; only judged once the window holds enough texts. */
  verdict(f: NumberFigures): string | null {
    const s = this.settings;
    if (f.sent < s.minSent) return null;
    const per1000 = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
    if (f.filteredPer1000 !== null && f.filteredPer1000 > s.maxFilteredPer1000) {
      return `carrier filtering (30007): ${per1000(f.filteredPer1000)} per 1,000 sent, over ${s.maxFilteredPer1000}`;
    }
    if (f.optOutsPer1000 !== null && f.optOutsPer1000 > s.maxOptOutsPer1000) {
      return `opt-outs: ${per1000(f.optOutsPer1000)} per 1,000 sent, over ${s.maxOptOutsPer1000}`;
    }
    const settled = f.delivered + f.undelivered + f.failed;
    if (f.deliveryRate !== null && settled >= s.minSent && f.deliveryRate < s.minDeliveryRate) {
      return `delivery rate ${(f.deliveryRate * 100).toFixed(1)}%, under ${(s.minDeliveryRate * 100).toFixed(1)}%`;
    }
    return null;
  }

  /** Takes a number out of the pool's new assignments when it crosses a line (once, across nodes). */
  private async judge(number: string): Promise<void> {
    const ctx = this.ctx();
    const standing = await ctx.models.SmsNumber.findById(number).lean();
    if (standing?.flaggedAt) return;
    // After a restore only what happened since counts (from the next whole hour: buckets are hours).
    const since = standing?.restoredAt ? new Map([[number, new Date(hourOf(standing.restoredAt).getTime() + HOUR_MS)]]) : undefined;
    const figures = (await this.figures([number], since)).get(number)!;
    const reason = this.verdict(figures);
    if (!reason) return;
    const at = ctx.clock();
    try {
      const result = await ctx.models.SmsNumber.updateOne(
        { _id: number, flaggedAt: null },
        { $set: { flaggedAt: at, flagReason: reason, updatedAt: at } },
        { upsert: true },
      );
      if (result.modifiedCount === 0 && result.upsertedCount === 0) return;
    } catch (error) {
      if (isDuplicateKeyError(error)) return; // flagged meanwhile (the upsert met the flagged document)
      throw error;
    }
    ctx.logger.warn({ number, reason, sent: figures.sent }, 'sending number flagged: no new patients get it until an admin restores it');
    await ctx.audit.record({ action: 'number.flag', via: 'system', details: { number, reason, sent: figures.sent } });
    this.announce({ number, reason, at: at.toISOString() });
  }

  /** Puts a flagged number back in the pool; false when it was not flagged. */
  async restore(number: string, agentId: string): Promise<boolean> {
    const ctx = this.ctx();
    const at = ctx.clock();
    const result = await ctx.models.SmsNumber.updateOne(
      { _id: number, flaggedAt: { $ne: null } },
      { $set: { flaggedAt: null, flagReason: null, restoredAt: at, restoredBy: agentId, updatedAt: at } },
    );
    if (result.modifiedCount === 0) return false;
    ctx.logger.info({ number, agentId }, 'sending number restored to the pool');
    return true;
  }

  /** One `$inc` on the number's bucket for this hour (created by the first event). */
  private async count(number: string, inc: Partial<Record<Counter, number>>): Promise<void> {
    const ctx = this.ctx();
    const hour = hourOf(ctx.clock());
    const update = { $inc: inc, $setOnInsert: { number, hour } };
    const _id = `${number}|${hour.toISOString()}`;
    try {
      await ctx.models.SmsNumberStats.updateOne({ _id }, update, { upsert: true });
    } catch (error) {
      // Two nodes creating the same bucket: the loser's upsert fails on the _id; as an update it applies.
      if (!isDuplicateKeyError(error)) throw error;
      await ctx.models.SmsNumberStats.updateOne({ _id }, { $inc: inc });
    }
  }
}

function toFigures(s: Record<Counter, number>): NumberFigures {
  const settled = s.delivered + s.undelivered + s.failed;
  return {
    sent: s.sent,
    delivered: s.delivered,
    undelivered: s.undelivered,
    failed: s.failed,
    deliveryRate: settled ? s.delivered / settled : null,
    filtered30007: s.e30007,
    unreachable: { '30003': s.e30003, '30005': s.e30005, '30006': s.e30006 },
    optOuts: s.optOuts,
    optOutsPer1000: s.sent ? (s.optOuts / s.sent) * 1000 : null,
    filteredPer1000: s.sent ? (s.e30007 / s.sent) * 1000 : null,
  };
}

/** What to do about a number's figures, in words for the admin; null when nothing stands out. */
export function hintFor(f: NumberFigures, settings: NumberHealthSettings): string | null {
  const bad = f.undelivered + f.failed;
  const filteredHigh = f.filtered30007 > 0 && ((f.filteredPer1000 ?? 0) > settings.maxFilteredPer1000 || (f.filtered30007 >= 3 && f.filtered30007 * 2 >= bad));
  if (filteredHigh) {
    return 'Carriers are blocking texts from this number as spam (error 30007). Register the clinic’s brand and campaign for 10DLC (A2P) in Twilio, '
      + 'or send from the clinic’s verified toll-free number; keep texts conversational and name the clinic.';
  }
  if ((f.optOutsPer1000 ?? 0) > settings.maxOptOutsPer1000) {
    return 'Many patients texted STOP to this number: check what is sent from it and how often, and that patients agreed to texts.';
  }
  const unreachable = f.unreachable['30003'] + f.unreachable['30005'] + f.unreachable['30006'];
  if (bad >= 3 && unreachable * 2 >= bad) {
    return 'Most failures are phones that are off, unknown or landlines (30003, 30005, 30006): the patients’ numbers, not this number’s reputation.';
  }
  return null;
}
