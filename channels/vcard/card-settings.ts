/**
 * Where the clinic's card comes from: CLINIC_CARD_FILE (JSON, see
 * channels/vcard/README.md), or, without it, a card made of CLINIC_NAME, the
 * SMS number and the sender email. Numbers marked `inboundOnly` (a main line
 * patients call) are on the card but never used to send; they belong on the
 * carriers' Do Not Originate list.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ClinicCardError, renderVCard, type ClinicCard } from './clinic-card.ts';

export interface ClinicCardSettings {
  card: ClinicCard;
  version: '3.0' | '4.0';
  /** Numbers patients may see but the hub never sends from. */
  inboundOnlyNumbers: string[];
  /** The clinic's urgent line (a phone marked `urgent`): emergency and after-hours replies name it. */
  urgentLine: string | null;
}

const fileSchema = z.object({
  organization: z.string().min(1).optional(),
  department: z.string().optional(),
  phones: z.array(z.object({
    number: z.string(),
    types: z.array(z.enum(['work', 'voice', 'text', 'cell', 'main'])).min(1),
    label: z.string().optional(),
    inboundOnly: z.boolean().optional(),
    urgent: z.boolean().optional(),
  })).min(1),
  email: z.string().optional(),
  website: z.string().optional(),
  address: z.object({ street: z.string(), locality: z.string(), region: z.string(), postalCode: z.string(), country: z.string() }).partial().optional(),
  note: z.string().optional(),
  logoFile: z.string().optional(),
  version: z.enum(['3.0', '4.0']).default('3.0'),
}).strict();

/** Reads and checks the card; throws an Error whose message names the problem (the config reports it). */
export function loadClinicCardSettings(
  file: string | undefined,
  defaults: { clinicName: string; smsNumber?: string | undefined; email: string },
): ClinicCardSettings | null {
  if (!file) {
    if (!defaults.smsNumber) return null;
    return {
      card: { organization: defaults.clinicName, phones: [{ number: defaults.smsNumber, types: ['work', 'text'] }], email: defaults.email },
      version: '3.0',
      inboundOnlyNumbers: [],
      urgentLine: null,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${file} as JSON (${(error as Error).message})`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'card'}: ${issue.message}`);
  }
  const spec = parsed.data;
  let logo: ClinicCard['logo'] = null;
  if (spec.logoFile) {
    const path = resolve(dirname(file), spec.logoFile);
    const contentType = /\.png$/i.test(path) ? 'image/png' : /\.jpe?g$/i.test(path) ? 'image/jpeg' : null;
    if (!contentType) throw new Error('logoFile: must be a .png or .jpg file');
    try {
      logo = { contentType, data: readFileSync(path) };
    } catch {
      throw new Error(`logoFile: cannot read ${path}`);
    }
  }
  const card: ClinicCard = {
    organization: spec.organization ?? defaults.clinicName,
    ...(spec.department ? { department: spec.department } : {}),
    phones: spec.phones.map((p) => ({ number: p.number, types: p.types, ...(p.label ? { label: p.label } : {}) })),
    ...(spec.email ? { email: spec.email } : {}),
    ...(spec.website ? { website: spec.website } : {}),
    ...(spec.address ? { address: spec.address } : {}),
    ...(spec.note ? { note: spec.note } : {}),
    logo,
  };
  try {
    renderVCard(card, { version: spec.version, uid: 'urn:uuid:00000000-0000-4000-8000-000000000000', rev: new Date(0) });
  } catch (error) {
    if (error instanceof ClinicCardError) throw new Error(error.message);
    throw error;
  }
  return {
    card,
    version: spec.version,
    inboundOnlyNumbers: spec.phones.filter((p) => p.inboundOnly).map((p) => p.number),
    urgentLine: spec.phones.find((p) => p.urgent)?.number ?? null,
  };
}
