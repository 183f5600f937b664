/**
 * Links a web visitor to the patient they proved to be: the phone or email a
 * one-time code went to, or the patient id a portal vouched for. The proven
 * identity is added to the visitor's own patient when nobody has it yet;
 * otherwise the visitor's patient is merged into its owner. From then on the
 * visitor sees that patient's thread, every channel of it.
 */
import type { IdentityDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import type { IdentityValue } from '../identity/normalize-identity.ts';
import { attachIdentity, identityKey } from '../ingest/resolve-identity.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { currentPatientFor, mergePatientInto } from './merge-patients.ts';

export type LinkProof = 'phone' | 'email' | 'portal';

export interface LinkOutcome {
  patientId: string;
  /** The visitor's patient was merged into an existing one. */
  merged: boolean;
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
    let patientId = visitorPatient._id;
    if (!existing) {
      try {
        await attachIdentity(ctx, visitorPatient._id, proven, { verified: true });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
        existing = await ctx.models.Identity.findById(id).lean().orFail(); // someone else's since we looked
      }
    }
    let merged = false;
    if (existing) {
      if (!existing.verifiedAt) await ctx.models.Identity.updateOne({ _id: id }, { $set: { verifiedAt: ctx.clock() } });
      const owner = await currentPatientFor(ctx, existing.patientId);
      if (owner._id !== visitorPatient._id) {
        await mergePatientInto(ctx, visitorPatient._id, owner._id, PROOF_WORDS[how]);
        merged = true;
      }
      patientId = owner._id;
    }
    await ctx.models.Identity.updateOne({ _id: webIdentityId }, { $set: { linkedBy: how, linkedAt: ctx.clock() } });
    return { patientId, merged };
  });
}
