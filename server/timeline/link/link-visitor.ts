/**
 * Links a web visitor to the patient they proved to be. A one-time code
 * proves control of an address, not that its owner is the patient
 * (identity-trust.ts): the visitor is linked to an existing patient only when
 * the address is already a verified, unshared identity of that patient, or
 * the clinic's portal vouched for the patient id. A new address becomes a
 * verified identity of the visitor's own patient. An address that belongs to
 * someone else unverified (a relative who replied in a thread, a number an
 * agent typed) or shared (a family phone) links nothing: the visitor goes on
 * as their own patient, and agents get a suggestion to review.
 */
import type { IdentityDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import type { IdentityValue } from '../identity/normalize-identity.ts';
import { speaksForThePatient } from '../identity/identity-trust.ts';
import { suggestSamePerson } from '../identity/identity-suggestions.ts';
import { attachIdentity, identityKey } from '../ingest/resolve-identity.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { currentPatientFor, mergePatientInto } from './merge-patients.ts';

export type LinkProof = 'phone' | 'email' | 'portal';

export interface LinkOutcome {
  patientId: string;
  /** The visitor's patient was merged into an existing one. */
  merged: boolean;
  /** False when the proof did not make the visitor anyone else: they go on with their own thread. */
  linked: boolean;
}

const PROOF_WORDS: Record<LinkProof, string> = {
  phone: 'a code sent by text message',
  email: 'a code sent by email',
  portal: 'the patient portal’s sign-in',
};

/** Runs under the visitor's lock, the same one the widget's sends take, so no message slips past a merge. */
export function linkVisitor(ctx: TimelineContext, webIdentityId: string, proven: IdentityValue, how: LinkProof): Promise<LinkOutcome> {
  return ctx.locks.run(`visitor:${webIdentityId}`, async () => {
    const web = await ctx.models.Identity.findById(webIdentityId).lean().orFail();
    const visitorPatient = await currentPatientFor(ctx, web.patientId);
    const { id } = identityKey(ctx, proven);
    let existing: IdentityDoc | null = await ctx.models.Identity.findById(id).lean();
    if (!existing) {
      try {
        await attachIdentity(ctx, visitorPatient._id, proven, { evidence: how === 'portal' ? 'portal' : 'code_to_new_address' });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
        existing = await ctx.models.Identity.findById(id).lean().orFail(); // someone else's since we looked
      }
    }
    let outcome: LinkOutcome = { patientId: visitorPatient._id, merged: false, linked: true };
    if (existing) {
      const owner = await currentPatientFor(ctx, existing.patientId);
      if (owner._id !== visitorPatient._id) {
        // The portal signs the patient id itself; a code counts only for a verified, unshared address.
        const proves = how === 'portal' || speaksForThePatient(existing);
        if (!proves) {
          await suggestSamePerson(ctx, {
            patientIds: [visitorPatient._id, owner._id],
            identityId: existing._id,
            evidence: existing.sharedAt ? 'code_to_shared_identity' : 'code_to_unverified_identity',
          });
          await ctx.audit.record({
            action: 'widget.link.refused', via: 'widget', patientId: visitorPatient._id,
            details: { identityId: existing._id, ownerPatientId: owner._id, why: existing.sharedAt ? 'shared' : 'not_verified' },
          });
          return { patientId: visitorPatient._id, merged: false, linked: false };
        }
        await mergePatientInto(ctx, visitorPatient._id, owner._id, PROOF_WORDS[how]);
        outcome = { patientId: owner._id, merged: true, linked: true };
      }
    }
    await ctx.models.Identity.updateOne({ _id: webIdentityId }, { $set: { linkedBy: how, linkedAt: ctx.clock() } });
    return outcome;
  });
}
