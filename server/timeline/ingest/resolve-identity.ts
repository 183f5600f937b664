/**
 * Finds the patient behind an identity, creating both when the identity is new.
 *
 * No read-then-write: the identity is an upsert on its blind-index `_id`, which
 * either creates it (pointing at a fresh patient id) or returns the winner's,
 * and the patient is an idempotent upsert on that id. Two webhooks racing for
 * a new phone number therefore end in one identity and one patient.
 */
import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/models.ts';
import { AppError } from '../../errors.ts';
import type { IdentityDoc, PatientDoc } from '../../db/documents.ts';
import { normalizeIdentity, type IdentityValue } from '../identity/normalize-identity.ts';
import { isVerified, trustFromEvidence, type TrustEvidence } from '../identity/identity-trust.ts';
import { patientKeys, patientKeysOf } from '../patients/patient-keys.ts';
import type { TimelineContext } from '../timeline-context.ts';

export interface ResolvedIdentity {
  identity: IdentityDoc;
  patient: PatientDoc;
  created: boolean;
  /** The identity's value as normalized (E.164 phone, lowercased email). */
  normalized: string;
}

/** The identity document's `_id` for a raw value (normalized first). */
export function identityKey(ctx: Pick<TimelineContext, 'cipher' | 'settings'>, raw: IdentityValue): { id: string; normalized: IdentityValue } {
  const normalized = normalizeIdentity(raw, ctx.settings.defaultPhoneRegion);
  return { id: `${normalized.kind}:${ctx.cipher.blindIndex(normalized.kind, normalized.value)}`, normalized };
}

export async function resolveIdentity(
  ctx: TimelineContext,
  raw: IdentityValue,
  options: { evidence: TrustEvidence; displayName?: string | undefined },
): Promise<ResolvedIdentity> {
  const { models, cipher } = ctx;
  const { id, normalized } = identityKey(ctx, raw);
  const now = ctx.clock();
  const candidatePatientId = new Types.ObjectId().toHexString();
  const proven = trustFromEvidence(options.evidence) === 'verified';

  // A known identity keeps the trust it has: no later message upgrades it (identity-trust.ts).
  const identity = await retryOnDuplicate(() =>
    models.Identity.findOneAndUpdate(
      { _id: id },
      {
        $setOnInsert: { ...newIdentityFields(ctx, normalized, candidatePatientId, options.evidence), createdAt: now, ...(proven ? {} : { lastSeenAt: now }) },
        // Proven traffic from an address shows it works again; an unproven one (a forged From) changes nothing.
        ...(proven ? { $set: { lastSeenAt: now, undeliverableAt: null, undeliverableReason: null } } : {}),
      },
      { upsert: true, returnDocument: 'after', lean: true },
    ).orFail(),
  );

  const patient = await retryOnDuplicate(() =>
    models.Patient.findOneAndUpdate(
      { _id: identity.patientId },
      {
        $setOnInsert: {
          ...newPatientFields(options.displayName ? cipher.encrypt(options.displayName) : null, now),
          ...(options.displayName ? { searchKeys: patientKeys(cipher, { name: options.displayName, dateOfBirth: null, mrn: null }).searchKeys } : {}),
        },
      },
      { upsert: true, returnDocument: 'after', lean: true },
    ).orFail(),
  );
  // A name is taken only from the patient's own proven identity, not from a relative in the thread.
  if (options.displayName && !patient.nameEnc && isVerified(identity)) {
    const nameEnc = cipher.encrypt(options.displayName);
    patient.nameEnc = await ctx.locks.run(`patient:${patient._id}`, async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await models.Patient.findById(patient._id, { nameEnc: 1, dateOfBirthEnc: 1, mrnEnc: 1 }).lean();
        if (!current || current.nameEnc) return current?.nameEnc ?? nameEnc;
        // Only while still nameless, and with the search keys of the date of birth and MRN it was computed from.
        const written = await models.Patient.updateOne(
          { _id: patient._id, nameEnc: null, dateOfBirthEnc: current.dateOfBirthEnc ?? null, mrnEnc: current.mrnEnc ?? null },
          { $set: { nameEnc, ...patientKeysOf(cipher, { ...current, nameEnc }), updatedAt: now } },
        );
        if (written.matchedCount === 1) return nameEnc;
      }
      return patient.nameEnc; // kept changing (several nodes at once): the name waits for the next message
    });
  }
  return { identity, patient, created: identity.patientId === candidatePatientId, normalized: normalized.value };
}

/** A new patient: no name unless given, no preferences, consent unknown on every channel, no conversation yet. */
export function newPatientFields(nameEnc: string | null, now: Date): Omit<PatientDoc, '_id'> {
  return {
    nameEnc,
    preferences: { channel: null, language: null, timezone: null },
    consent: { sms: { status: 'unknown' }, email: { status: 'unknown' }, webchat: { status: 'unknown' } },
    consentHistory: [],
    claimedContacts: [],
    mergedInto: null,
    latestConversationId: null,
    conversationCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** Concurrent upserts on the same `_id` may lose with E11000 on MongoDB; the retry finds the winner's document. */
export async function retryOnDuplicate<T>(operation: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await operation();
    } catch (error) {
      if (!isDuplicateKeyError(error) || i >= attempts) throw error;
    }
  }
}

/**
 * Adds an identity to an existing patient (after proof: an inbound message
 * from it, a one-time code, or an operator's record). Refuses an identity
 * that already belongs to another patient: merging patients is an explicit,
 * audited step, never a side effect.
 */
export async function attachIdentity(
  ctx: TimelineContext,
  patientId: string,
  raw: IdentityValue,
  options: { evidence: TrustEvidence },
): Promise<IdentityDoc> {
  const { id, normalized } = identityKey(ctx, raw);
  const now = ctx.clock();
  const identity = await retryOnDuplicate(() =>
    ctx.models.Identity.findOneAndUpdate(
      { _id: id },
      { $setOnInsert: { ...newIdentityFields(ctx, normalized, patientId, options.evidence), createdAt: now }, $set: { lastSeenAt: now } },
      { upsert: true, returnDocument: 'after', lean: true },
    ).orFail(),
  );
  if (identity.patientId !== patientId) {
    throw new AppError('CONFLICT', `That ${normalized.kind} already belongs to another patient`, { field: normalized.kind });
  }
  return identity;
}

function newIdentityFields(ctx: Pick<TimelineContext, 'cipher' | 'clock'>, normalized: IdentityValue, patientId: string, evidence: TrustEvidence) {
  const trust = trustFromEvidence(evidence);
  return {
    kind: normalized.kind,
    patientId,
    valueEnc: ctx.cipher.encrypt(normalized.value),
    trust,
    trustEvidence: evidence,
    verifiedAt: trust === 'verified' ? ctx.clock() : null,
  };
}

/** A whole new identity document, for bulk inserts (an import); single ones are upserts (resolveIdentity, attachIdentity). */
export function newIdentityDoc(ctx: Pick<TimelineContext, 'cipher' | 'clock'>, id: string, normalized: IdentityValue, patientId: string, evidence: TrustEvidence): IdentityDoc {
  const now = ctx.clock();
  return { _id: id, ...newIdentityFields(ctx, normalized, patientId, evidence), undeliverableAt: null, lastSeenAt: now, createdAt: now };
}

/** Mail to this identity bounced (or the number is a landline): replies skip it until the patient writes from it again. */
export async function markIdentityUndeliverable(ctx: TimelineContext, identityId: string, reason: string): Promise<void> {
  await ctx.models.Identity.updateOne({ _id: identityId }, { $set: { undeliverableAt: ctx.clock(), undeliverableReason: reason } });
}
