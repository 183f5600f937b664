/**
 * What a patient is found by, kept as blind keys (HMAC under the blind-index
 * key, one `kind` per index) so no name, date of birth or MRN sits in the
 * database in clear text and no search decrypts the collection.
 *
 * Names are folded (compatibility decomposition, marks dropped, lowercased,
 * apostrophes removed) and cut into words; each word is a key, and so is each
 * of its prefixes of 3 letters or more: "Zoë O'Neil" is found by "zoe",
 * "oneil", "one". Phones and emails are found through identities, whose `_id`
 * is already their blind key.
 */
import type { PhiCipher } from '../../crypto/phi-cipher.ts';
import type { PatientDoc } from '../../db/documents.ts';
import type { Models } from '../../db/models.ts';
import { AppError } from '../../errors.ts';

export const MIN_PREFIX = 3;
/** Prefixes stop here: longer ones add keys, not findability. */
const MAX_PREFIX = 24;

const KIND = { name: 'patient_name', dateOfBirth: 'patient_dob', mrn: 'patient_mrn', nameAndDateOfBirth: 'patient_name_dob' } as const;

/** Letters that do not decompose into a base letter and a mark. */
const FOLDS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h' };

/** The words of a name or of a name query, folded. */
export function nameWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþıħ]/g, (c) => FOLDS[c] ?? c)
    .replace(/['’ʼ`]/g, '');
  return [...new Set(folded.split(/[^\p{L}\p{N}]+/u).filter(Boolean))];
}

/** A date of birth as YYYY-MM-DD, from YYYY-MM-DD or MM/DD/YYYY; a real date, not in the future. */
export function normalizeDateOfBirth(raw: string, today: Date, field = 'dateOfBirth'): string {
  const text = raw.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : us ? [us[3], us[1], us[2]] : [];
  if (!year) throw new AppError('INVALID_INPUT', `${field}: a date such as 1984-07-31 or 07/31/1984`, { field });
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const value = date.toISOString().slice(0, 10);
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) {
    throw new AppError('INVALID_INPUT', `${field}: not a real date`, { field });
  }
  if (Number(year) < 1900 || value > today.toISOString().slice(0, 10)) {
    throw new AppError('INVALID_INPUT', `${field}: must be between 1900 and today`, { field });
  }
  return value;
}

const MRN = /^[A-Z0-9][A-Z0-9._/-]{0,39}$/;

/** A medical record number: trimmed, uppercased; letters, digits and . _ / - (up to 40). */
export function normalizeMrn(raw: string, field = 'mrn'): string {
  const value = raw.trim().toUpperCase();
  if (!MRN.test(value)) throw new AppError('INVALID_INPUT', `${field}: letters, digits and . _ / - (up to 40)`, { field });
  return value;
}

/** True when text may be an MRN (one word with a digit in it: "A12345", "MRN-0042", "00123456"). */
export function looksLikeMrn(text: string): boolean {
  return /\d/.test(text) && MRN.test(text.trim().toUpperCase());
}

export interface PatientKeyFields {
  name: string | null;
  /** Normalized YYYY-MM-DD. */
  dateOfBirth: string | null;
  /** Normalized. */
  mrn: string | null;
}

export interface PatientKeys {
  searchKeys: string[];
  mrnKey: string | null;
  nameDobKey: string | null;
}

export function patientKeys(cipher: PhiCipher, fields: PatientKeyFields): PatientKeys {
  const words = fields.name ? nameWords(fields.name) : [];
  const keys = new Set<string>();
  for (const word of words) {
    const letters = Array.from(word);
    for (let length = MIN_PREFIX; length < Math.min(letters.length, MAX_PREFIX + 1); length++) {
      keys.add(cipher.blindIndex(KIND.name, letters.slice(0, length).join('')));
    }
    keys.add(cipher.blindIndex(KIND.name, word));
  }
  if (fields.dateOfBirth) keys.add(dateOfBirthKey(cipher, fields.dateOfBirth));
  const mrnKey = fields.mrn ? mrnSearchKey(cipher, fields.mrn) : null;
  if (mrnKey) keys.add(mrnKey);
  return {
    searchKeys: [...keys],
    mrnKey,
    nameDobKey: words.length > 0 && fields.dateOfBirth ? nameAndDateOfBirthKey(cipher, words, fields.dateOfBirth) : null,
  };
}

/** The keys of a stored patient, from its sealed fields (after one of them changed: a merge, an edit). */
export function patientKeysOf(cipher: PhiCipher, doc: Pick<PatientDoc, 'nameEnc' | 'dateOfBirthEnc' | 'mrnEnc'>): PatientKeys {
  const open = (sealed: string | null | undefined) => (sealed ? cipher.decrypt(sealed) : null);
  return patientKeys(cipher, { name: open(doc.nameEnc), dateOfBirth: open(doc.dateOfBirthEnc), mrn: open(doc.mrnEnc) });
}

/** The key of one query word: it matches a whole name word, or the prefix of one when it has 3+ letters. */
export function nameWordKey(cipher: PhiCipher, word: string): string {
  const letters = Array.from(word);
  // Past MAX_PREFIX letters only the whole word is kept: match its longest kept prefix instead.
  return cipher.blindIndex(KIND.name, letters.length > MAX_PREFIX ? letters.slice(0, MAX_PREFIX).join('') : word);
}

export function dateOfBirthKey(cipher: PhiCipher, dateOfBirth: string): string {
  return cipher.blindIndex(KIND.dateOfBirth, dateOfBirth);
}

export function mrnSearchKey(cipher: PhiCipher, mrn: string): string {
  return cipher.blindIndex(KIND.mrn, mrn);
}

/** The same name (words in any order: "Lee, Ana" is "Ana Lee") born the same day. */
export function nameAndDateOfBirthKey(cipher: PhiCipher, words: string[], dateOfBirth: string): string {
  return cipher.blindIndex(KIND.nameAndDateOfBirth, `${[...words].sort().join(' ')}\u0000${dateOfBirth}`);
}

/** Recomputes every patient's keys from its sealed fields (`npm run patients:reindex`); writes only those that differ. */
export async function reindexPatients(models: Models, cipher: PhiCipher): Promise<{ scanned: number; updated: number }> {
  let scanned = 0;
  let updated = 0;
  for await (const doc of models.Patient.find({}, { nameEnc: 1, dateOfBirthEnc: 1, mrnEnc: 1, searchKeys: 1, mrnKey: 1, nameDobKey: 1 }).lean().cursor()) {
    scanned++;
    const keys = patientKeysOf(cipher, doc);
    const same =
      keys.mrnKey === (doc.mrnKey ?? null) &&
      keys.nameDobKey === (doc.nameDobKey ?? null) &&
      keys.searchKeys.length === (doc.searchKeys ?? []).length &&
      keys.searchKeys.every((k) => doc.searchKeys!.includes(k));
    if (same) continue;
    await models.Patient.updateOne({ _id: doc._id }, { $set: keys });
    updated++;
  }
  return { scanned, updated };
}
