/**
 * Patients the clinic registers itself (an agent's form, an import): name,
 * date of birth and MRN sealed with their blind keys (patient-keys.ts), the
 * phone and email given as identities that are only *asserted* (staff typed
 * them; the patient has proven nothing), and duplicates caught first.
 *
 * A duplicate is the same phone or email (an identity already exists: that
 * patient), the same MRN, or the same name and date of birth. A phone, an
 * email or an MRN of another patient is never given to a second one; the
 * same name and date of birth is (twins, namesakes) when a supervisor or an
 * admin says so. Checks and writes run under one in-process lock
 * (`registry:patients`), so two forms cannot both pass the checks; across
 * nodes, identities are unique by `_id` and MRNs by their claim
 * (patient-claims.ts), while a same-name-and-birth-date warning is only
 * certain within one process (server/db/STORE-CONTRACT.md).
 */
import { Types } from 'mongoose';
import { CHANNEL_IDS, type ChannelId } from '../../../channels/channel-id.ts';
import { canAccessPatient, type Actor } from '../../access/access-policy.ts';
import type { IdentityDoc, PatientDoc } from '../../db/documents.ts';
import { updateEach } from '../../db/serialized-models.ts';
import { AppError, DuplicatePatientError, type DuplicatePatient } from '../../errors.ts';
import { normalizeEmail, normalizePhone } from '../identity/normalize-identity.ts';
import { attachIdentity, identityKey, newPatientFields } from '../ingest/resolve-identity.ts';
import { toPatientSummary } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { claimMrn, releaseMrn } from './patient-claims.ts';
import { normalizeDateOfBirth, normalizeMrn, patientKeys, type PatientKeys } from './patient-keys.ts';

export const REGISTRY_LOCK = 'registry:patients';

export const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What staff may give about a patient (absent: unchanged; null: cleared). */
export interface PatientFields {
  name?: string | undefined;
  dateOfBirth?: string | null | undefined;
  mrn?: string | null | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  preferredChannel?: ChannelId | null | undefined;
  language?: string | null | undefined;
  timezone?: string | null | undefined;
}

export interface CleanContact {
  /** The identity's `_id` (its blind key). */
  id: string;
  value: string;
}

export interface CleanPatientFields {
  name?: string;
  dateOfBirth?: string | null;
  mrn?: string | null;
  phone?: CleanContact;
  email?: CleanContact;
  preferences: Partial<PatientDoc['preferences']>;
}

type KeysContext = Pick<TimelineContext, 'cipher' | 'settings' | 'clock'>;

/** Normalized and checked; a problem is a 400 naming the field (as `fieldNames` calls it, e.g. a CSV column). */
export function cleanPatientFields(ctx: KeysContext, input: PatientFields, fieldNames: Partial<Record<keyof PatientFields, string>> = {}): CleanPatientFields {
  const field = (name: keyof PatientFields) => fieldNames[name] ?? name;
  const invalid = (name: keyof PatientFields, message: string) => new AppError('INVALID_INPUT', `${field(name)}: ${message}`, { field: field(name) });
  const clean: CleanPatientFields = { preferences: {} };
  if (input.name !== undefined) {
    const name = input.name.trim().replace(/\s+/g, ' ');
    if (!name || name.length > 200) throw invalid('name', 'the patient’s name, 1 to 200 characters');
    clean.name = name;
  }
  if (input.dateOfBirth !== undefined) clean.dateOfBirth = input.dateOfBirth === null ? null : normalizeDateOfBirth(input.dateOfBirth, ctx.clock(), field('dateOfBirth'));
  if (input.mrn !== undefined) clean.mrn = input.mrn === null ? null : normalizeMrn(input.mrn, field('mrn'));
  const contact = (kind: 'phone' | 'email', raw: string): CleanContact => {
    try {
      const value = kind === 'phone' ? normalizePhone(raw, ctx.settings.defaultPhoneRegion) : normalizeEmail(raw);
      return { id: identityKey(ctx, { kind, value }).id, value };
    } catch (error) {
      if (error instanceof AppError) throw new AppError(error.code, `${field(kind)}: ${error.message}`, { field: field(kind) });
      throw error;
    }
  };
  if (input.phone !== undefined) clean.phone = contact('phone', input.phone);
  if (input.email !== undefined) clean.email = contact('email', input.email);
  if (input.preferredChannel !== undefined) {
    if (input.preferredChannel !== null && !CHANNEL_IDS.includes(input.preferredChannel)) throw invalid('preferredChannel', `one of ${CHANNEL_IDS.join(', ')}`);
    clean.preferences.channel = input.preferredChannel;
  }
  if (input.language !== undefined) {
    if (input.language !== null && !LANGUAGE_TAG.test(input.language)) throw invalid('language', 'a language tag such as en, es or it-IT');
    clean.preferences.language = input.language;
  }
  if (input.timezone !== undefined) {
    if (input.timezone !== null && !isTimeZone(input.timezone)) throw invalid('timezone', 'an IANA time zone such as America/New_York');
    clean.preferences.timezone = input.timezone;
  }
  return clean;
}

export interface DuplicateMatch {
  patient: PatientDoc;
  reason: DuplicatePatient['reason'];
}

/** Existing patients that the given contacts or keys point at (none of them `exceptPatientId`). */
export async function findDuplicates(
  ctx: Pick<TimelineContext, 'models'>,
  probe: { phoneId?: string | undefined; emailId?: string | undefined; mrnKey?: string | null; nameDobKey?: string | null },
  exceptPatientId?: string,
): Promise<DuplicateMatch[]> {
  const { models } = ctx;
  const matches: DuplicateMatch[] = [];
  for (const [reason, id] of [['phone', probe.phoneId], ['email', probe.emailId]] as const) {
    if (!id) continue;
    // By `_id`: the one lookup FerretDB pushes down.
    const identity = await models.Identity.findById(id, { patientId: 1 }).lean();
    if (!identity || identity.patientId === exceptPatientId) continue;
    const patient = await models.Patient.findById(identity.patientId).lean();
    if (patient) matches.push({ patient, reason });
  }
  const or = [...(probe.mrnKey ? [{ mrnKey: probe.mrnKey }] : []), ...(probe.nameDobKey ? [{ nameDobKey: probe.nameDobKey }] : [])];
  if (or.length > 0) {
    for (const patient of await models.Patient.find({ $or: or, mergedInto: null }).limit(20).lean()) {
      if (patient._id === exceptPatientId) continue;
      if (probe.mrnKey && patient.mrnKey === probe.mrnKey) matches.push({ patient, reason: 'mrn' });
      if (probe.nameDobKey && patient.nameDobKey === probe.nameDobKey) matches.push({ patient, reason: 'name_and_date_of_birth' });
    }
  }
  return matches;
}

const REASON_WORDS: Record<DuplicatePatient['reason'], string> = {
  phone: 'the same phone number',
  email: 'the same email address',
  mrn: 'the same MRN',
  name_and_date_of_birth: 'the same name and date of birth',
};
const FIELD_OF: Record<DuplicatePatient['reason'], string> = { phone: 'phone', email: 'email', mrn: 'mrn', name_and_date_of_birth: 'name' };

/** Who may register a patient who has the same name and date of birth as another. */
export const canOverrideDuplicates = (actor: Actor) => actor.role === 'supervisor' || actor.role === 'admin';

/**
 * Refuses matches: a phone, email or MRN of another patient always (409
 * CONFLICT naming the field when the caller overrides, DUPLICATE_PATIENT
 * otherwise); the same name and date of birth unless overridden.
 */
async function refuseDuplicates(ctx: TimelineContext, actor: Actor, matches: DuplicateMatch[], allowDuplicate: boolean, editing: boolean): Promise<void> {
  if (matches.length === 0) return;
  const hard = matches.find((m) => m.reason !== 'name_and_date_of_birth');
  if (hard && (allowDuplicate || editing)) {
    throw new AppError('CONFLICT', `${FIELD_OF[hard.reason]}: another patient has ${REASON_WORDS[hard.reason]}; it is never given to a second patient`, { field: FIELD_OF[hard.reason] });
  }
  if (!hard && allowDuplicate) return;
  const reasons = [...new Set(matches.map((m) => REASON_WORDS[m.reason]))].join(', ');
  const next = hard ? 'open the existing record instead' : 'open the existing record, or (supervisors and admins) send allowDuplicate: true to register this patient anyway';
  const error = new DuplicatePatientError(`This patient may already be registered (${reasons}): ${next}`, await describeDuplicates(ctx, actor, matches));
  error.details.field = FIELD_OF[matches[0]!.reason];
  throw error;
}

/** Matches as the actor may see them: another team's patient shows as a match without id or name. */
async function describeDuplicates(ctx: TimelineContext, actor: Actor, matches: DuplicateMatch[]): Promise<DuplicatePatient[]> {
  const ids = [...new Set(matches.map((m) => m.patient._id))];
  const conversations = await ctx.models.Conversation.find({ patientId: { $in: ids } }, { patientId: 1, teamId: 1, assigneeId: 1 }).lean();
  return matches.map(({ patient, reason }) => {
    const visible = canAccessPatient(actor, patient, conversations.filter((c) => c.patientId === patient._id));
    const { id, name } = toPatientSummary(patient, ctx.cipher);
    return visible ? { id, name, reason } : { id: null, name: null, reason };
  });
}

export interface RegisteredPatient {
  patient: PatientDoc;
  identities: IdentityDoc[];
  /** Same name and date of birth as these, registered anyway by a supervisor or admin. */
  overridden: DuplicateMatch[];
}

/** A new patient with the given fields, of `teamId`, its contacts asserted. */
export async function registerPatient(
  ctx: TimelineContext,
  actor: Actor,
  input: PatientFields & { name: string; teamId: string; allowDuplicate: boolean },
): Promise<RegisteredPatient> {
  const clean = cleanPatientFields(ctx, input);
  const keys = patientKeys(ctx.cipher, { name: clean.name!, dateOfBirth: clean.dateOfBirth ?? null, mrn: clean.mrn ?? null });
  return ctx.locks.run(REGISTRY_LOCK, async () => {
    const matches = await findDuplicates(ctx, { phoneId: clean.phone?.id, emailId: clean.email?.id, mrnKey: keys.mrnKey, nameDobKey: keys.nameDobKey });
    await refuseDuplicates(ctx, actor, matches, input.allowDuplicate, false);
    const patient = newRegisteredPatient(ctx, clean, keys, { teamId: input.teamId, createdBy: actor.agentId });
    // The MRN is claimed before anything is written: of two registrations of one MRN on two nodes, one gets it.
    if (keys.mrnKey) await claimMrn(ctx, patient._id, keys.mrnKey);
    try {
      await ctx.models.Patient.create(patient);
      const identities = await attachContacts(ctx, patient._id, clean);
      return { patient, identities, overridden: matches };
    } catch (error) {
      // An inbound message took the address meanwhile (another node): nothing of this patient stays.
      await ctx.models.Identity.deleteMany({ patientId: patient._id });
      await ctx.models.Patient.deleteOne({ _id: patient._id });
      await releaseMrn(ctx, patient._id, keys.mrnKey);
      throw error;
    }
  });
}

/** The patient document for cleaned fields (registered by `teamId`). */
export function newRegisteredPatient(
  ctx: Pick<TimelineContext, 'cipher' | 'clock'>,
  clean: CleanPatientFields,
  keys: PatientKeys,
  origin: { teamId: string; createdBy: string | null },
): PatientDoc {
  const now = ctx.clock();
  const seal = (value: string | null | undefined) => (value ? ctx.cipher.encrypt(value) : null);
  return {
    _id: new Types.ObjectId().toHexString(),
    ...newPatientFields(seal(clean.name), now),
    preferences: { channel: clean.preferences.channel ?? null, language: clean.preferences.language ?? null, timezone: clean.preferences.timezone ?? null },
    dateOfBirthEnc: seal(clean.dateOfBirth),
    mrnEnc: seal(clean.mrn),
    ...keys,
    teamIds: [origin.teamId],
    createdBy: origin.createdBy,
    contactCardRevision: null,
  };
}

/** Changes what staff may change; a new phone or email is added (asserted), never moved from another patient. */
export async function updateRegisteredPatient(
  ctx: TimelineContext,
  actor: Actor,
  patientId: string,
  input: PatientFields & { allowDuplicate: boolean },
): Promise<{ patient: PatientDoc; overridden: DuplicateMatch[] }> {
  const clean = cleanPatientFields(ctx, input);
  const { models } = ctx;
  const outcome = await ctx.locks.run(REGISTRY_LOCK, () =>
    ctx.locks.run(`patient:${patientId}`, async () => {
      for (let attempt = 0; ; attempt++) {
        const written = await updateOnce(ctx, actor, patientId, clean, input.allowDuplicate);
        if (written) return written;
        if (attempt >= 4) throw new AppError('CONFLICT', 'The patient’s record changed meanwhile; reload it and try again');
      }
    }),
  );
  if (clean.name !== undefined) {
    // The inbox shows the name from its conversations.
    await updateEach(models.Conversation, { patientId }, { $set: { patientNameEnc: outcome.patient.nameEnc } });
  }
  return outcome;
}

/**
 * One attempt at an edit: keys and duplicate checks from the patient as read,
 * written only while its name, date of birth and MRN are still as read (the
 * keys are computed from them); null when they changed meanwhile (another
 * node's write), for the caller to read again.
 */
async function updateOnce(
  ctx: TimelineContext,
  actor: Actor,
  patientId: string,
  clean: CleanPatientFields,
  allowDuplicate: boolean,
): Promise<{ patient: PatientDoc; overridden: DuplicateMatch[] } | null> {
  const { cipher, models } = ctx;
  const open = (sealed: string | null | undefined) => (sealed ? cipher.decrypt(sealed) : null);
  const current = await models.Patient.findById(patientId).lean().orFail();
  const keys = patientKeys(cipher, {
    name: clean.name ?? open(current.nameEnc),
    dateOfBirth: clean.dateOfBirth !== undefined ? clean.dateOfBirth : open(current.dateOfBirthEnc),
    mrn: clean.mrn !== undefined ? clean.mrn : open(current.mrnEnc),
  });
  const matches = await findDuplicates(
    ctx,
    {
      phoneId: clean.phone?.id,
      emailId: clean.email?.id,
      // Only what this edit changes is checked: a duplicate that was already there was decided before.
      mrnKey: keys.mrnKey !== (current.mrnKey ?? null) ? keys.mrnKey : null,
      nameDobKey: keys.nameDobKey !== (current.nameDobKey ?? null) ? keys.nameDobKey : null,
    },
    patientId,
  );
  await refuseDuplicates(ctx, actor, matches, allowDuplicate, true);
  const set: Record<string, unknown> = { ...keys, updatedAt: ctx.clock() };
  if (clean.name !== undefined) set.nameEnc = cipher.encrypt(clean.name);
  if (clean.dateOfBirth !== undefined) set.dateOfBirthEnc = clean.dateOfBirth ? cipher.encrypt(clean.dateOfBirth) : null;
  if (clean.mrn !== undefined) set.mrnEnc = clean.mrn ? cipher.encrypt(clean.mrn) : null;
  for (const [key, value] of Object.entries(clean.preferences)) set[`preferences.${key}`] = value;
  const mrnChanged = keys.mrnKey !== (current.mrnKey ?? null);
  // A new MRN is claimed before it is written (patient-claims.ts): two edits on two nodes cannot both take it.
  if (mrnChanged && keys.mrnKey) await claimMrn(ctx, patientId, keys.mrnKey);
  let patient: PatientDoc | null = null;
  try {
    await attachContacts(ctx, patientId, clean);
    patient = await models.Patient.findOneAndUpdate(
      { _id: patientId, nameEnc: current.nameEnc ?? null, dateOfBirthEnc: current.dateOfBirthEnc ?? null, mrnEnc: current.mrnEnc ?? null },
      { $set: set },
      { returnDocument: 'after', lean: true },
    );
    if (!patient) await models.Patient.exists({ _id: patientId }).orFail();
  } finally {
    if (mrnChanged) await releaseMrn(ctx, patientId, patient ? current.mrnKey : keys.mrnKey);
  }
  return patient ? { patient, overridden: matches } : null;
}

/** The given phone and email as asserted identities of the patient; one the patient already has keeps its trust. */
async function attachContacts(ctx: TimelineContext, patientId: string, clean: CleanPatientFields): Promise<IdentityDoc[]> {
  const identities: IdentityDoc[] = [];
  for (const kind of ['phone', 'email'] as const) {
    const contact = clean[kind];
    if (!contact) continue;
    const existing = await ctx.models.Identity.findById(contact.id).lean();
    if (existing && existing.patientId !== patientId) {
      throw new AppError('CONFLICT', `${kind}: that ${kind === 'phone' ? 'number' : 'address'} belongs to another patient; it is never given to a second one`, { field: kind });
    }
    identities.push(existing ?? (await attachIdentity(ctx, patientId, { kind, value: contact.value }, { evidence: 'agent_entered' })));
  }
  return identities;
}
