/**
 * The text of a message template: `{{variable}}` placeholders from one fixed
 * catalogue, checked when a template is saved and filled when a message is
 * scheduled. A template never produces a message with a hole: a placeholder
 * outside the catalogue, a value nobody gave, or a value for a placeholder the
 * template does not have is an error naming the variable (a 400 at the API).
 *
 * Where values come from:
 * - `firstName`: the patient's name on file (its first word), or `variables.firstName`;
 * - `clinicName`: CLINIC_NAME;
 * - `date`, `time`: `variables.appointmentAt` (an instant), written in the
 *   patient's language and time zone (Intl; a DST change is the zone's business);
 * - `location`, `provider`, `detail`: given by the caller, and PHI: never in a
 *   PHI-free variant;
 * - `link`: a signed, expiring link to the patient's secure chat, made when
 *   the message goes out (a reminder scheduled weeks ahead gets a fresh one).
 */
import { AppError } from '../../errors.ts';

export const TEMPLATE_LANGUAGES = ['en', 'es', 'it'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

interface VariableSpec {
  /** Allowed in the PHI-free variant (no clinical detail). */
  phiFree: boolean;
  /** Given in the request's `variables` (else the hub fills it). */
  given: boolean;
  description: string;
}

export const TEMPLATE_VARIABLES = {
  firstName: { phiFree: true, given: false, description: 'The patient’s first name (variables.firstName overrides the name on file)' },
  clinicName: { phiFree: true, given: false, description: 'The clinic’s name (CLINIC_NAME)' },
  date: { phiFree: true, given: false, description: 'The date of variables.appointmentAt, in the patient’s language and time zone' },
  time: { phiFree: true, given: false, description: 'The time of variables.appointmentAt, in the patient’s language and time zone' },
  location: { phiFree: false, given: true, description: 'Where (a site or department): clinical detail, not in PHI-free variants' },
  provider: { phiFree: false, given: true, description: 'Who (a clinician): clinical detail, not in PHI-free variants' },
  detail: { phiFree: false, given: true, description: 'Any other clinical detail, not in PHI-free variants' },
  link: { phiFree: true, given: false, description: 'A signed, expiring link to the patient’s secure chat, made when the message goes out' },
} as const satisfies Record<string, VariableSpec>;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;

/** What a request may give in `variables`: the catalogue's given ones, a first name, and the appointment's instant. */
export const GIVEN_VARIABLES = ['appointmentAt', 'firstName', 'location', 'provider', 'detail'] as const;
export type GivenVariables = Partial<Record<(typeof GIVEN_VARIABLES)[number], string>>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** Kept in a stored body until the message goes out, then replaced by the link. */
export const LINK_PLACEHOLDER = '{{link}}';

const isVariable = (name: string): name is TemplateVariable => Object.hasOwn(TEMPLATE_VARIABLES, name);

/** The variables a template text uses, in order of first use; a 400 naming `field` and the culprit otherwise. */
export function placeholdersOf(text: string, field: string, options: { phiFree: boolean }): TemplateVariable[] {
  const found: TemplateVariable[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!isVariable(name)) {
      throw new AppError('INVALID_INPUT', `${field}: unknown variable {{${name}}} (known: ${Object.keys(TEMPLATE_VARIABLES).join(', ')})`, { field });
    }
    if (options.phiFree && !TEMPLATE_VARIABLES[name].phiFree) {
      throw new AppError('INVALID_INPUT', `${field}: {{${name}}} is clinical detail and cannot be in the PHI-free variant`, { field });
    }
    if (!found.includes(name)) found.push(name);
  }
  // A stray brace pair is a placeholder typed wrong ("{name}}", "{{ name"), which would reach the patient as is.
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) throw new AppError('INVALID_INPUT', `${field}: a "{{" or "}}" without its pair`, { field });
  if (options.phiFree && !found.includes('link')) {
    throw new AppError('INVALID_INPUT', `${field}: a PHI-free variant carries {{link}} (the secure link) instead of the detail`, { field });
  }
  return found;
}

export interface FillContext {
  language: TemplateLanguage;
  timeZone: string;
  clinicName: string;
  /** The patient's full name on file, if any. */
  patientName: string | null;
  given: GivenVariables;
}

/**
 * Fills every placeholder but `{{link}}` (kept for the send). Refuses a
 * variable the template needs and nobody gave, and a given one it does not use.
 */
export function fillTemplate(text: string, field: string, context: FillContext, options: { phiFree: boolean }): string {
  const used = placeholdersOf(text, field, options);
  const values = valuesFor(used, context);
  return text.replace(PLACEHOLDER, (whole, name: string) => (name === 'link' ? LINK_PLACEHOLDER : values[name as TemplateVariable]!));
}

/** Refuses given variables that none of the texts use (a typo, or the wrong template): the 400 names it. */
export function checkGivenAreUsed(given: GivenVariables, usedByAny: Set<TemplateVariable>): void {
  for (const key of Object.keys(given) as (keyof GivenVariables)[]) {
    const uses = key === 'appointmentAt' ? usedByAny.has('date') || usedByAny.has('time') : usedByAny.has(key);
    if (!uses) {
      const what = key === 'appointmentAt' ? '{{date}} or {{time}}' : `{{${key}}}`;
      throw new AppError('INVALID_INPUT', `variables.${key}: the template has no ${what}`, { field: `variables.${key}` });
    }
  }
}

function valuesFor(used: TemplateVariable[], context: FillContext): Partial<Record<TemplateVariable, string>> {
  const values: Partial<Record<TemplateVariable, string>> = {};
  const missing = (name: string, why: string) => new AppError('INVALID_INPUT', `variables.${name}: ${why}`, { field: `variables.${name}` });
  for (const name of used) {
    switch (name) {
      case 'firstName': {
        const first = context.given.firstName?.trim() || context.patientName?.trim().split(/\s+/)[0];
        if (!first) throw missing('firstName', 'the template uses {{firstName}} and the patient has no name on file; give it');
        values.firstName = first;
        break;
      }
      case 'clinicName':
        values.clinicName = context.clinicName;
        break;
      case 'date':
      case 'time': {
        if (!context.given.appointmentAt) throw missing('appointmentAt', `the template uses {{${name}}}; give the appointment's date and time`);
        const at = new Date(context.given.appointmentAt);
        values[name] = name === 'date' ? formatDate(at, context.language, context.timeZone) : formatTime(at, context.language, context.timeZone);
        break;
      }
      case 'location':
      case 'provider':
      case 'detail': {
        const value = context.given[name]?.trim();
        if (!value) throw missing(name, `the template uses {{${name}}}; give it`);
        values[name] = value;
        break;
      }
      case 'link':
        break;
    }
  }
  return values;
}

const LOCALES: Record<TemplateLanguage, string> = { en: 'en-US', es: 'es-ES', it: 'it-IT' };

/**
 * Intl puts a narrow no-break space before "PM" and no-break spaces elsewhere:
 * outside GSM-7, one such character makes a whole text UCS-2 (70 characters a
 * segment instead of 160). A plain space reads the same.
 */
const plainSpaces = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ');

export function formatDate(at: Date, language: TemplateLanguage, timeZone: string): string {
  return plainSpaces(new Intl.DateTimeFormat(LOCALES[language], { timeZone, weekday: 'long', day: 'numeric', month: 'long' }).format(at));
}

export function formatTime(at: Date, language: TemplateLanguage, timeZone: string): string {
  return plainSpaces(new Intl.DateTimeFormat(LOCALES[language], { timeZone, hour: 'numeric', minute: '2-digit' }).format(at));
}
