/**
 * An MRN belongs to one patient, across any number of nodes: whoever gives a
 * patient an MRN first inserts a claim document whose `_id` is `mrn:<mrnKey>`
 * (the blind key, no PHI). The insert is the unique index: of two
 * registrations (or edits, or imports) of one MRN at once, one inserts it and
 * the other gets a duplicate key and is refused like any duplicate MRN.
 *
 * The duplicate checks that query patients (patient-registry.ts) stay the
 * first line and the one that names the match; claims only settle the race
 * between two writers, so patients stored before claims existed need none.
 *
 * A claim whose patient no longer has that MRN (it was changed, the patient
 * was merged away, a registration failed after claiming) is stale and taken
 * over, by a compare-and-set on its holder, once it is older than
 * IN_FLIGHT_MS: a younger one may belong to a registration still between its
 * claim and its write.
 */
import { isDuplicateKeyError } from '../../db/models.ts';
import { AppError } from '../../errors.ts';
import type { TimelineContext } from '../timeline-context.ts';

type ClaimContext = Pick<TimelineContext, 'models' | 'clock'>;

/** How long a claim whose patient does not (yet) show the MRN is taken as a registration in progress. */
export const IN_FLIGHT_MS = 60_000;

export const mrnClaimId = (mrnKey: string) => `mrn:${mrnKey}`;

export const mrnTaken = () =>
  new AppError('CONFLICT', 'mrn: another patient has the same MRN; it is never given to a second patient', { field: 'mrn' });

/** Makes `patientId` the holder of the MRN, or throws CONFLICT (field `mrn`) when another patient holds it. */
export async function claimMrn(ctx: ClaimContext, patientId: string, mrnKey: string): Promise<void> {
  const { models } = ctx;
  const _id = mrnClaimId(mrnKey);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await models.PatientClaim.create({ _id, patientId, at: ctx.clock() });
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const claim = await models.PatientClaim.findById(_id).lean();
    if (!claim) continue; // released meanwhile: insert again
    if (claim.patientId === patientId) return;
    const holder = await models.Patient.findById(claim.patientId, { mrnKey: 1, mergedInto: 1 }).lean();
    if (holder && holder.mrnKey === mrnKey && !holder.mergedInto) throw mrnTaken();
    if (ctx.clock().getTime() - new Date(claim.at).getTime() < IN_FLIGHT_MS) throw mrnTaken();
    // Stale: taken over only from the holder it was read with (of two takers, one wins; the other reads again).
    const taken = await models.PatientClaim.updateOne({ _id, patientId: claim.patientId, at: claim.at }, { $set: { patientId, at: ctx.clock() } });
    if (taken.matchedCount === 1) return;
  }
  throw mrnTaken();
}

/**
 * Claims for many new patients at once (an import): one batch insert;
 * returns the patient ids whose MRN another patient holds.
 */
export async function claimMrns(ctx: ClaimContext, wanted: { patientId: string; mrnKey: string }[]): Promise<Set<string>> {
  const lost = new Set<string>();
  if (wanted.length === 0) return lost;
  const at = ctx.clock();
  const docs = wanted.map((w) => ({ _id: mrnClaimId(w.mrnKey), patientId: w.patientId, at }));
  const failed: { patientId: string; mrnKey: string }[] = [];
  await ctx.models.PatientClaim.insertMany(docs, { ordered: false, lean: true }).catch((error: { writeErrors?: unknown[] }) => {
    if (!error.writeErrors) throw error;
    for (const failure of error.writeErrors as { index?: number; code?: number; err?: { index?: number; code?: number } }[]) {
      const claim = wanted[failure.index ?? failure.err?.index ?? -1];
      if (!claim || (failure.code ?? failure.err?.code) !== 11000) throw error;
      failed.push(claim);
    }
  });
  // Held already: by a live patient (lost), or stale (taken over one by one).
  for (const claim of failed) {
    try {
      await claimMrn(ctx, claim.patientId, claim.mrnKey);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      lost.add(claim.patientId);
    }
  }
  return lost;
}

/** Lets the MRN go, if `patientId` holds it. */
export async function releaseMrn(ctx: ClaimContext, patientId: string, mrnKey: string | null | undefined): Promise<void> {
  if (!mrnKey) return;
  await ctx.models.PatientClaim.deleteOne({ _id: mrnClaimId(mrnKey), patientId });
}

/** A merge gave `intoId` the MRN `fromId` had: the claim moves with it. */
export async function moveMrnClaim(ctx: ClaimContext, fromId: string, intoId: string, mrnKey: string | null | undefined): Promise<void> {
  if (!mrnKey) return;
  await ctx.models.PatientClaim.updateOne({ _id: mrnClaimId(mrnKey), patientId: fromId }, { $set: { patientId: intoId, at: ctx.clock() } });
}
