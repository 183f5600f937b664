/**
 * Possible same-person pairs and identities two patients use, kept for agents
 * to review. The hub never merges on such evidence by itself (a family phone,
 * a guardian writing for a child, a relative CC'd on an email are common in
 * healthcare); a supervisor decides, with a reason, through the merge and
 * detach routes.
 */
import { createHash } from 'node:crypto';
import type { TimelineContext } from '../timeline-context.ts';

export type SuggestionEvidence = 'code_to_unverified_identity' | 'code_to_shared_identity' | 'typed_known_contact';

export const EVIDENCE_WORDS: Record<SuggestionEvidence, string> = {
  code_to_unverified_identity: 'A web chat visitor proved control of an address another patient has only unverified (replied in a thread, or given)',
  code_to_shared_identity: 'A web chat visitor proved control of an address marked as shared by several people',
  typed_known_contact: 'A web chat visitor typed a phone or email that belongs to another patient',
};

/** Records (or counts again) a suggestion; one per pair of patients, identity and kind of evidence. */
export async function suggestSamePerson(
  ctx: TimelineContext,
  input: { patientIds: [string, string]; identityId: string | null; evidence: SuggestionEvidence },
): Promise<void> {
  const patientIds = [...input.patientIds].sort();
  const id = createHash('sha256').update(`${patientIds.join('|')}|${input.identityId ?? ''}|${input.evidence}`).digest('hex').slice(0, 32);
  const now = ctx.clock();
  await ctx.models.IdentitySuggestion.updateOne(
    { _id: id },
    {
      $setOnInsert: { patientIds, identityId: input.identityId, evidence: input.evidence, createdAt: now, resolvedAt: null, resolvedBy: null, resolution: null },
      $set: { lastSeenAt: now },
      $inc: { occurrences: 1 },
    },
    { upsert: true },
  );
}

/** Closes every open suggestion that names this patient (after a merge or a dismissal). */
export async function resolveSuggestionsFor(ctx: TimelineContext, patientIds: string[], agentId: string, resolution: 'merged' | 'dismissed'): Promise<void> {
  const open = await ctx.models.IdentitySuggestion.find({ resolvedAt: null }).lean();
  for (const s of open.filter((x) => x.patientIds.every((p) => patientIds.includes(p)))) {
    await ctx.models.IdentitySuggestion.updateOne({ _id: s._id, resolvedAt: null }, { $set: { resolvedAt: ctx.clock(), resolvedBy: agentId, resolution } });
  }
}
