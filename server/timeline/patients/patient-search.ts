/**
 * Finding a patient from what a caller or a form says: an exact phone (any
 * common format) or email through the identities' blind `_id`, and a name,
 * date of birth or MRN through the patients' blind `searchKeys`. Nothing is
 * decrypted to search; only the page of results is opened (records.ts).
 *
 * Results are the patients the actor may see (access-policy.ts), in `_id`
 * order (creation order), paged by a cursor on `_id`.
 */
import type { QueryFilter } from 'mongoose';
import { canAccessConversation, canAccessPatient, type Actor } from '../../access/access-policy.ts';
import type { ConversationDoc, PatientDoc } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';
import { normalizeEmail, normalizePhone } from '../identity/normalize-identity.ts';
import { identityKey } from '../ingest/resolve-identity.ts';
import { toPatientSearchRecord, type PatientSearchRecord } from '../records.ts';
import type { TimelineContext } from '../timeline-context.ts';
import { dateOfBirthKey, looksLikeMrn, mrnSearchKey, nameWordKey, nameWords, normalizeDateOfBirth, normalizeMrn } from './patient-keys.ts';

export type PatientQueryKind = 'phone' | 'email' | 'date_of_birth' | 'mrn' | 'phone_or_mrn' | 'name';

export interface PatientQuery {
  kind: PatientQueryKind;
  /** Identity `_id`s (phone, email): their patients match. */
  identityIds: string[];
  /** A patient matches when its searchKeys hold every key of one group. */
  keyGroups: string[][];
  /** How many words a name query has (for the audit entry; never the words). */
  words: number;
}

const MAX_WORDS = 8;
const DATE = /^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\/\d{1,2}\/\d{4})$/;
const PHONE_LIKE = /^\+?[\d\s().-]+$/;

/** What kind of query `q` is, as blind keys. */
export function parsePatientQuery(ctx: Pick<TimelineContext, 'cipher' | 'settings' | 'clock'>, q: string): PatientQuery {
  const text = q.trim();
  const none = { identityIds: [], keyGroups: [], words: 0 };
  if (text.includes('@')) {
    let email: string;
    try {
      email = normalizeEmail(text);
    } catch {
      throw new AppError('INVALID_INPUT', 'q: not a complete email address', { field: 'q' });
    }
    return { ...none, kind: 'email', identityIds: [identityKey(ctx, { kind: 'email', value: email }).id] };
  }
  if (DATE.test(text)) {
    return { ...none, kind: 'date_of_birth', keyGroups: [[dateOfBirthKey(ctx.cipher, normalizeDateOfBirth(text, ctx.clock(), 'q'))]] };
  }
  if (PHONE_LIKE.test(text) && text.replace(/\D/g, '').length >= 7) {
    // Digits alone may be a phone number or an MRN ("00123456"): both are looked up.
    const phone = phoneOrNull(text, ctx.settings.defaultPhoneRegion);
    const mrn = looksLikeMrn(text.replace(/\s/g, '')) ? normalizeMrn(text.replace(/\s/g, ''), 'q') : null;
    return {
      ...none,
      kind: phone && mrn ? 'phone_or_mrn' : phone ? 'phone' : 'mrn',
      identityIds: phone ? [identityKey(ctx, { kind: 'phone', value: phone }).id] : [],
      keyGroups: mrn ? [[mrnSearchKey(ctx.cipher, mrn)]] : [],
    };
  }
  if (!/\s/.test(text) && looksLikeMrn(text)) return { ...none, kind: 'mrn', keyGroups: [[mrnSearchKey(ctx.cipher, normalizeMrn(text, 'q'))]] };
  const words = nameWords(text);
  if (words.length === 0) throw new AppError('INVALID_INPUT', 'q: a name, phone, email, date of birth or MRN', { field: 'q' });
  if (words.length > MAX_WORDS) throw new AppError('INVALID_INPUT', `q: at most ${MAX_WORDS} words`, { field: 'q' });
  return { ...none, kind: 'name', keyGroups: [words.map((w) => nameWordKey(ctx.cipher, w))], words: words.length };
}

function phoneOrNull(text: string, region: string): string | null {
  try {
    return normalizePhone(text, region);
  } catch {
    return null;
  }
}

export interface PatientSearchPage {
  items: PatientSearchRecord[];
  nextCursor: string | null;
  kind: PatientQueryKind;
}

/** Candidates read per round; agents' invisible ones are skipped, so a page may take more than one. */
const BATCH = 200;

export async function searchPatients(
  ctx: TimelineContext,
  actor: Actor,
  input: { q: string; limit: number; cursor?: string | undefined },
): Promise<PatientSearchPage> {
  const { models } = ctx;
  const query = parsePatientQuery(ctx, input.q);
  let after = input.cursor ? decodeCursor(input.cursor) : null;

  // Through identities: a lookup by `_id` each (pushed down even on FerretDB).
  const owners = new Set<string>();
  for (const id of query.identityIds) {
    const identity = await models.Identity.findById(id, { patientId: 1 }).lean();
    if (identity) owners.add(identity.patientId);
  }
  let pending: PatientDoc[] = [];
  for (const id of owners) {
    const patient = await models.Patient.findById(id).lean();
    if (patient && !patient.mergedInto && (after === null || patient._id > after)) pending.push(patient);
  }

  const found: { patient: PatientDoc; conversations: ConversationDoc[] }[] = [];
  let exhausted = query.keyGroups.length === 0;
  for (;;) {
    let batch: PatientDoc[] = [];
    if (!exhausted) {
      const filter: QueryFilter<PatientDoc> = {
        $or: query.keyGroups.map((keys) => ({ searchKeys: keys.length === 1 ? keys[0] : { $all: keys } })),
        mergedInto: null,
        ...(after !== null ? { _id: { $gt: after } } : {}),
      };
      batch = await models.Patient.find(filter).sort({ _id: 1 }).limit(BATCH).lean();
      exhausted = batch.length < BATCH;
    }
    // Everything up to the batch's last id has now been seen (from both sources).
    const upTo = exhausted ? null : batch.at(-1)!._id;
    const seen = new Set(batch.map((p) => p._id));
    const candidates = [...batch, ...pending.filter((p) => !seen.has(p._id) && (upTo === null || p._id <= upTo))].sort((a, b) => (a._id < b._id ? -1 : 1));
    pending = upTo === null ? [] : pending.filter((p) => p._id > upTo);
    found.push(...(await visibleTo(ctx, actor, candidates)));
    if (exhausted || found.length > input.limit) break;
    after = upTo;
  }

  const page = found.slice(0, input.limit);
  const identities = page.length ? await models.Identity.find({ patientId: { $in: page.map((f) => f.patient._id) } }).lean() : [];
  return {
    kind: query.kind,
    items: page.map(({ patient, conversations }) =>
      toPatientSearchRecord(patient, identities.filter((i) => i.patientId === patient._id), conversations, ctx.cipher),
    ),
    nextCursor: found.length > input.limit ? encodeCursor(page.at(-1)!.patient._id) : null,
  };
}

/** The candidates the actor may see, each with the conversations the actor may see (newest first). */
async function visibleTo(ctx: TimelineContext, actor: Actor, candidates: PatientDoc[]) {
  if (candidates.length === 0) return [];
  const conversations = await ctx.models.Conversation.find({ patientId: { $in: candidates.map((p) => p._id) } }).sort({ lastMessageAt: -1 }).lean();
  return candidates.flatMap((patient) => {
    const own = conversations.filter((c) => c.patientId === patient._id);
    return canAccessPatient(actor, patient, own) ? [{ patient, conversations: own.filter((c) => canAccessConversation(actor, c)) }] : [];
  });
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const [id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown];
    if (typeof id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(id)) return id;
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_CURSOR', 'cursor: not a cursor this API returned', { field: 'cursor' });
}
