/**
 * Finding and registering patients, as the inbox shows it: what a typed query
 * looks like (to prefill "Add patient"), the words for duplicates and consent
 * methods, and the hub's refusals placed by the field they name.
 */
import { ApiError } from './api.ts';
import { bareMessage } from './field-errors.tsx';
import type { ConsentMethod, DuplicatePatient, PatientProfile } from './types.ts';

/** Searches wait for this pause in typing, and for this many characters. */
export const SEARCH_DEBOUNCE_MS = 300;
export const SEARCH_MIN_CHARS = 2;

/** What "Add patient" is prefilled with: the query, in the field its shape suggests. */
export interface PatientPrefill {
  name?: string;
  phone?: string;
  email?: string;
  dateOfBirth?: string;
  mrn?: string;
}

const DATE = /^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\/\d{1,2}\/\d{4})$/;
const PHONE_LIKE = /^\+?[\d\s().-]+$/;
const MRN_LIKE = /^[A-Za-z0-9-]*\d[A-Za-z0-9-]*$/;

/** The query as a prefill: an email, a date of birth, a phone number, an MRN, or else a name (the hub reads queries the same way). */
export function prefillFrom(query: string): PatientPrefill {
  const text = query.trim().replace(/\s+/g, ' ');
  if (!text) return {};
  if (text.includes('@')) return { email: text };
  if (DATE.test(text)) return { dateOfBirth: text };
  if (PHONE_LIKE.test(text) && text.replace(/\D/g, '').length >= 7) return { phone: text };
  if (!text.includes(' ') && MRN_LIKE.test(text)) return { mrn: text };
  return { name: text };
}

const REASON_WORDS: Record<DuplicatePatient['reason'], string> = {
  phone: 'same phone',
  email: 'same email',
  mrn: 'same MRN',
  name_and_date_of_birth: 'same name and date of birth',
};

export const duplicateReasonLabel = (reason: string) => REASON_WORDS[reason as DuplicatePatient['reason']] ?? reason;

/** One line per patient matched (a patient may match for several reasons), those the agent may not see last. */
export function groupDuplicates(duplicates: DuplicatePatient[]): { id: string | null; name: string | null; reasons: DuplicatePatient['reason'][] }[] {
  const groups: { id: string | null; name: string | null; reasons: DuplicatePatient['reason'][] }[] = [];
  for (const d of duplicates) {
    const same = d.id ? groups.find((g) => g.id === d.id) : undefined;
    if (same) {
      if (!same.reasons.includes(d.reason)) same.reasons.push(d.reason);
    } else {
      groups.push({ id: d.id, name: d.name, reasons: [d.reason] });
    }
  }
  return groups.sort((a, b) => Number(a.id === null) - Number(b.id === null));
}

/** The duplicates a 409 DUPLICATE_PATIENT carries (empty for any other error). */
export function duplicatesOf(error: unknown): DuplicatePatient[] | null {
  if (!(error instanceof ApiError) || error.code !== 'DUPLICATE_PATIENT') return null;
  const list = (error.data as { duplicates?: unknown } | undefined)?.duplicates;
  return Array.isArray(list) ? (list as DuplicatePatient[]) : [];
}

/** The hub's reason as an agent reads it: the API route some messages mention is for API clients, not for the inbox. */
export function readableReason(error: unknown): string {
  const message = error instanceof ApiError ? bareMessage(error) : error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\((?:GET|POST|PATCH|PUT|DELETE) \/api\/[^)]*\)/g, '');
}

export const CONSENT_METHODS: { id: ConsentMethod; label: string }[] = [
  { id: 'verbal', label: 'Verbal (phone or in person)' },
  { id: 'written', label: 'Written (signed)' },
  { id: 'portal', label: 'Patient portal' },
  { id: 'form', label: 'Intake form' },
];

/** Where a consent came from, in words ("staff:verbal" → "given to staff (verbal)"); the hub's other sources as they are. */
export function consentSourceLabel(source: string | null | undefined): string | null {
  if (!source) return null;
  const staff = /^staff:(\w+)$/.exec(source);
  if (staff) return `given to staff (${staff[1]})`;
  return source;
}

/** The patient's own phone numbers or email addresses (not a guardian's or caregiver's). */
export function ownIdentities(patient: PatientProfile, kind: 'phone' | 'email'): PatientProfile['identities'] {
  return patient.identities.filter((i) => i.kind === kind && !i.relation);
}

/** Time zones the browser knows, for the time zone field's suggestions. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}
