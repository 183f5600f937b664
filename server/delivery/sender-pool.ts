/**
 * Sticky sender: with several clinic numbers, a patient always hears from the
 * same one (the number on the contact card they were sent), so a saved
 * contact matches. The choice is the patient's `smsSender`, stored once by a
 * conditional update, so two nodes racing agree:
 *
 * - a patient who texts a pool number with no sender yet gets that number;
 * - otherwise the first text (or contact card) to them picks one of the
 *   healthy numbers by rendezvous hashing of the patient id: spread evenly,
 *   the same answer on every node, and removing a number only moves its own
 *   patients;
 * - a number taken out of the configuration loses its patients to a new
 *   choice (logged with ids and clinic numbers only);
 * - a number flagged for poor reputation (number-health.ts) gets no new
 *   patients, but keeps its own (sticky); with every number flagged, new
 *   patients are spread over all of them and the log says so.
 *
 * Inbound-only numbers never send: the config refuses them in the pool.
 */
import { createHash } from 'node:crypto';
import type { MessageDoc, PatientDoc } from '../db/documents.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

type SenderOf = Pick<PatientDoc, '_id' | 'smsSender'>;

/** What the sender pool needs to know of the numbers' standing. */
export interface NumberStanding {
  /** The numbers of `numbers` that are flagged now (one read, shared by every node). */
  flagged(numbers: readonly string[]): Promise<Set<string>>;
}

const MAX_TRIES = 3;

export class SenderPool {
  constructor(
    private readonly ctx: () => TimelineContext,
    /** TWILIO_FROM_NUMBER and TWILIO_FROM_NUMBERS: empty when Twilio's Messaging Service chooses. */
    readonly numbers: readonly string[],
    private readonly standing: NumberStanding,
  ) {}

  /** Without numbers of our own (a Messaging Service alone) Twilio chooses, and nothing here runs. */
  get enabled(): boolean {
    return this.numbers.length > 0;
  }

  isSender(number: string | null | undefined): number is string {
    return Boolean(number) && this.numbers.includes(number!);
  }

  /** The patient's number if it is still one the hub sends from; no I/O. */
  stickyOf(patient: Pick<PatientDoc, 'smsSender'> | null | undefined): string | null {
    const number = patient?.smsSender?.number;
    return this.isSender(number) ? number : null;
  }

  /** The patient's number, chosen now if they have none (or theirs left the configuration). */
  async ensure(patient: SenderOf): Promise<string | null> {
    if (!this.enabled) return null;
    return this.stickyOf(patient) ?? this.assign(patient, null);
  }

  /** A text to a pool number: that number becomes the patient's when they have none. Costs nothing when they have one. */
  async claimInbound(patient: SenderOf, to: string | undefined): Promise<void> {
    if (!this.enabled || !this.isSender(to) || this.stickyOf(patient)) return;
    await this.assign(patient, to);
  }

  /**
   * The number an outbound SMS goes from: the one stamped on it when it was queued (free), else the patient's
   * (one read), chosen now if they have none.
   */
  async forMessage(message: Pick<MessageDoc, '_id' | 'patientId' | 'fromNumber'>): Promise<string | null> {
    if (!this.enabled) return null;
    if (this.isSender(message.fromNumber)) return message.fromNumber;
    const patient = await this.ctx().models.Patient.findById(message.patientId, { smsSender: 1 }).lean();
    if (!patient) return null;
    return this.ensure(patient);
  }

  /**
   * Stores a number for the patient with one conditional update on what was read (none, or a number no longer
   * configured), so of two nodes choosing at once one wins and the other adopts its choice.
   */
  private async assign(patient: SenderOf, preferred: string | null): Promise<string | null> {
    const ctx = this.ctx();
    let current = patient.smsSender?.number ?? null;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const number = preferred ?? (await this.choose(patient._id));
      const at = ctx.clock();
      const updated = await ctx.locks.run(`patient:${patient._id}`, () =>
        ctx.models.Patient.findOneAndUpdate(
          current ? { _id: patient._id, 'smsSender.number': current } : { _id: patient._id, smsSender: null },
          { $set: { smsSender: { number, assignedAt: at } } },
          { returnDocument: 'after', lean: true },
        ),
      );
      if (updated) {
        if (current) ctx.logger.info({ patientId: patient._id, previous: current, number }, 'sticky sender: the patient’s number is no longer configured; another assigned');
        else ctx.logger.info({ patientId: patient._id, number, by: preferred ? 'inbound' : 'pool' }, 'sticky sender assigned');
        return number;
      }
      // Someone else decided first: theirs stands if it is still a sending number.
      const fresh = await ctx.models.Patient.findById(patient._id, { smsSender: 1 }).lean();
      if (!fresh) return null;
      const theirs = this.stickyOf(fresh);
      if (theirs) return theirs;
      current = fresh.smsSender?.number ?? null;
    }
    ctx.logger.warn({ patientId: patient._id }, 'sticky sender: could not store a number after several tries; sending from the pool’s choice');
    return this.choose(patient._id);
  }

  /** Rendezvous hashing over the healthy numbers (all of them when every one is flagged). */
  private async choose(patientId: string): Promise<string> {
    const flagged = await this.standing.flagged(this.numbers);
    let candidates = this.numbers.filter((n) => !flagged.has(n));
    if (candidates.length === 0) {
      this.ctx().logger.warn({ numbers: this.numbers.length }, 'sticky sender: every sending number is flagged; new patients still get one of them (restore one in Numbers)');
      candidates = [...this.numbers];
    }
    return rendezvous(patientId, candidates);
  }
}

/** The candidate with the highest hash of (patient, number): deterministic, even, and stable when others leave. */
export function rendezvous(patientId: string, candidates: readonly string[]): string {
  let best = candidates[0]!;
  let bestScore = -1n;
  for (const number of candidates) {
    const score = createHash('sha256').update(`${patientId}|${number}`).digest().readBigUInt64BE(0);
    if (score > bestScore) {
      best = number;
      bestScore = score;
    }
  }
  return best;
}
