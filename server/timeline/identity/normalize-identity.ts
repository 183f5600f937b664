/**
 * Turns what a channel saw ("(415) 555-0100", "Jane@Example.ORG ") into the one
 * canonical value an identity is keyed by: E.164 phones, lowercased emails.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { IdentityKind } from '../../db/documents.ts';

export interface IdentityValue {
  kind: IdentityKind;
  value: string;
}

/** E.164 for a phone number written in any common format; national numbers use the default region. */
export function normalizePhone(raw: string, defaultRegion: string): string {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultRegion as CountryCode);
  if (!parsed || !parsed.isPossible()) {
    throw new AppError('INVALID_PHONE_NUMBER', 'Not a phone number that can receive messages', { field: 'phone' });
  }
  return parsed.number;
}

const emailSchema = z.email();

export function normalizeEmail(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!emailSchema.safeParse(value).success) throw new AppError('INVALID_INPUT', 'Not a valid email address', { field: 'email' });
  return value;
}

const portalIdSchema = z.string().regex(/^[\x21-\x7e]{1,128}$/);
const visitorIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/);

export function normalizeIdentity(identity: IdentityValue, defaultRegion: string): IdentityValue {
  switch (identity.kind) {
    case 'phone':
      return { kind: 'phone', value: normalizePhone(identity.value, defaultRegion) };
    case 'email':
      return { kind: 'email', value: normalizeEmail(identity.value) };
    case 'web':
      if (!visitorIdSchema.safeParse(identity.value).success) {
        throw new AppError('INVALID_INPUT', 'A web visitor id is 8-128 letters, digits, _ or -', { field: 'visitorId' });
      }
      return identity;
    case 'portal': {
      const value = identity.value.trim();
      if (!portalIdSchema.safeParse(value).success) {
        throw new AppError('INVALID_INPUT', 'A portal patient id is 1-128 printable characters', { field: 'patientId' });
      }
      return { kind: 'portal', value };
    }
  }
}
