/**
 * The clinic's contact card (vCard). Patients save it so the clinic's calls
 * and texts are recognized instead of being screened as spam. 3.0 (RFC 2426)
 * is the default because it is what iOS and Android import most reliably;
 * 4.0 (RFC 6350) is available on request.
 */
import { createHash } from 'node:crypto';

export type PhoneType = 'work' | 'voice' | 'text' | 'cell' | 'main';

export interface ClinicCard {
  organization: string;
  department?: string;
  phones: { number: string; types: PhoneType[]; label?: string }[];
  email?: string;
  website?: string;
  address?: { street?: string; locality?: string; region?: string; postalCode?: string; country?: string };
  note?: string;
  logo?: { contentType: 'image/png' | 'image/jpeg'; data: Buffer } | null;
}

export interface RenderOptions {
  version?: '3.0' | '4.0';
  uid: string;
  rev: Date;
}

export class ClinicCardError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Invalid clinic card: ${field} ${problem}`);
    this.name = 'ClinicCardError';
  }
}

const CRLF = '\r\n';
const MAX_LINE_OCTETS = 75;
const PHONE_TYPES: readonly PhoneType[] = ['work', 'voice', 'text', 'cell', 'main'];
const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const UUID = /^(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
// Control characters (other than line breaks and tab) and unpaired surrogates
// cannot be written as vCard text and would corrupt the UTF-8 output.
const UNWRITABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|\p{Cs}/u;

export function renderVCard(card: ClinicCard, options: RenderOptions): string {
  validate(card);
  const version = options.version ?? '3.0';
  if (version !== '3.0' && version !== '4.0') throw new ClinicCardError('version', 'must be "3.0" or "4.0"');
  const v4 = version === '4.0';
  const uid = UUID.exec(options.uid)?.[1];
  if (!uid) throw new ClinicCardError('uid', 'must be a UUID (see cardUid)');
  if (!(options.rev instanceof Date) || Number.isNaN(options.rev.getTime())) {
    throw new ClinicCardError('rev', 'must be a valid Date');
  }

  const lines = ['BEGIN:VCARD', `VERSION:${version}`];
  if (v4) lines.push('KIND:org');
  // A card for an organization has no personal name; N stays (empty) because
  // 3.0 requires it and older importers expect it.
  lines.push('N:;;;;', `FN:${text(card.organization)}`);
  lines.push(`ORG:${structured([card.organization, ...(card.department ? [card.department] : [])])}`);
  // Without this, Apple Contacts files the card under an empty person name.
  if (!v4) lines.push('X-ABShowAs:COMPANY');

  card.phones.forEach((phone, i) => {
    // Apple's item-group label is also what Android and Google Contacts read.
    const group = phone.label ? `item${i + 1}.` : '';
    lines.push(group + (v4 ? tel4(phone.number, phone.types) : tel3(phone.number, phone.types)));
    if (phone.label) lines.push(`${group}X-ABLabel:${text(phone.label)}`);
  });
  if (card.email) lines.push(`EMAIL;TYPE=${v4 ? 'work' : 'INTERNET,WORK'}:${text(card.email)}`);
  // A URI is not a text value: its commas and semicolons are not escaped.
  if (card.website) lines.push(`URL:${card.website}`);
  const adr = card.address;
  if (adr && (adr.street || adr.locality || adr.region || adr.postalCode || adr.country)) {
    const parts = ['', '', adr.street, adr.locality, adr.region, adr.postalCode, adr.country];
    lines.push(`ADR;TYPE=${v4 ? 'work' : 'WORK'}:${structured(parts.map((p) => p ?? ''))}`);
  }
  if (card.note) lines.push(`NOTE:${text(card.note)}`);
  if (card.logo) {
    const base64 = card.logo.data.toString('base64');
    lines.push(
      v4
        ? `PHOTO:data:${card.logo.contentType};base64,${base64}`
        : `PHOTO;ENCODING=b;TYPE=${card.logo.contentType === 'image/png' ? 'PNG' : 'JPEG'}:${base64}`,
    );
  }
  lines.push(`UID:urn:uuid:${uid.toLowerCase()}`, `REV:${timestamp(options.rev, v4)}`, 'END:VCARD');
  return lines.map(fold).join(CRLF) + CRLF;
}

/**
 * The UID must not depend on the organization's name: a renamed clinic has to
 * update the contact patients already saved, not add a second one.
 */
export function cardUid(seed: string): string {
  if (!seed) throw new ClinicCardError('seed', 'must not be empty');
  const bytes = createHash('sha256').update(`carethread:clinic-card:${seed}`).digest().subarray(0, 16);
  // Version 8 / RFC 9562 variant: the UUID form for name-derived IDs that use
  // a hash other than MD5/SHA-1.
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Built from an explicit list rather than JSON.stringify(card) so that key
 * order, absent-vs-undefined and empty optional strings don't count as a
 * change (only a change may bump REV).
 */
export function cardRevision(card: ClinicCard): string {
  const a = card.address;
  const content = [
    card.organization,
    card.department || null,
    card.phones.map((p) => [p.number, p.types, p.label || null]),
    card.email || null,
    card.website || null,
    a ? [a.street, a.locality, a.region, a.postalCode, a.country].map((x) => x || null) : null,
    card.note || null,
    card.logo ? [card.logo.contentType, card.logo.data.toString('base64')] : null,
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}

/** ASCII only: mail clients and phones mangle non-ASCII attachment names. */
export function vcardFileName(organization: string): string {
  const base = organization
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/['’]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return `${base || 'clinic'}.vcf`;
}

function validate(card: ClinicCard): void {
  if (typeof card.organization !== 'string' || card.organization.trim() === '') {
    throw new ClinicCardError('organization', 'must not be empty');
  }
  const texts: [string, string | undefined][] = [
    ['organization', card.organization],
    ['department', card.department],
    ['note', card.note],
    ...Object.entries(card.address ?? {}).map(([k, v]): [string, string | undefined] => [`address.${k}`, v]),
  ];
  if (!Array.isArray(card.phones) || card.phones.length === 0) {
    throw new ClinicCardError('phones', 'must list at least one number');
  }
  card.phones.forEach((phone, i) => {
    if (typeof phone.number !== 'string' || !E164.test(phone.number)) {
      throw new ClinicCardError(`phones[${i}].number`, `must be E.164 like +14155550100, got ${JSON.stringify(phone.number)}`);
    }
    if (!Array.isArray(phone.types) || phone.types.some((t) => !PHONE_TYPES.includes(t))) {
      throw new ClinicCardError(`phones[${i}].types`, `may only contain ${PHONE_TYPES.join(', ')}`);
    }
    texts.push([`phones[${i}].label`, phone.label]);
  });
  if (card.email !== undefined && card.email !== '' && (card.email.length > 254 || !EMAIL.test(card.email))) {
    throw new ClinicCardError('email', `is not a valid address: ${JSON.stringify(card.email)}`);
  }
  if (card.website) {
    // URL() silently drops tabs and newlines, so check for whitespace first.
    let ok = !/\s/.test(card.website) && !UNWRITABLE.test(card.website);
    try {
      ok &&= ['http:', 'https:'].includes(new URL(card.website).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new ClinicCardError('website', 'must be an http(s) URL');
  }
  for (const [field, value] of texts) {
    if (value !== undefined && (typeof value !== 'string' || UNWRITABLE.test(value))) {
      throw new ClinicCardError(field, 'must be text without control characters');
    }
  }
  if (card.logo) {
    if (card.logo.contentType !== 'image/png' && card.logo.contentType !== 'image/jpeg') {
      throw new ClinicCardError('logo.contentType', 'must be image/png or image/jpeg');
    }
    if (!Buffer.isBuffer(card.logo.data) || card.logo.data.length === 0) {
      throw new ClinicCardError('logo.data', 'must be a non-empty Buffer');
    }
  }
}

function tel3(number: string, types: PhoneType[]): string {
  return `TEL${types.length ? `;TYPE=${types.join(',').toUpperCase()}` : ''}:${number}`;
}

// 4.0 has no "main" type; "main-number" is the registered equivalent (RFC 7852).
function tel4(number: string, types: PhoneType[]): string {
  const list = types.map((t) => (t === 'main' ? 'main-number' : t)).join(',');
  return `TEL;VALUE=uri${list ? `;TYPE=${list}` : ''}:tel:${number}`;
}

function text(value: string): string {
  return value.replace(/\r\n|[\\,;\r\n]/g, (c) => (c === '\\' || c === ',' || c === ';' ? `\\${c}` : '\\n'));
}

// Each component is escaped on its own so a ';' inside one cannot split it.
function structured(components: string[]): string {
  return components.map(text).join(';');
}

function timestamp(date: Date, v4: boolean): string {
  const iso = `${date.toISOString().slice(0, 19)}Z`;
  return v4 ? iso.replace(/[-:]/g, '') : iso;
}

// Fold by octets, moving the break back to a code point boundary so that no
// physical line holds half of a UTF-8 sequence (some importers decode line by line).
function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > MAX_LINE_OCTETS) {
      out.push(current);
      current = ' ';
      octets = 1;
    }
    current += char;
    octets += size;
  }
  out.push(current);
  return out.join(CRLF);
}
