/**
 * Scheduled messages (reminders, results-ready notices, follow-ups) as the
 * inbox shows them: the hub's shapes (server/outreach/), the words for their
 * statuses and kinds, and which variables a template's text asks for.
 */

export type ScheduledKind = 'reminder' | 'follow_up' | 'results_ready';
export type ScheduledStatus = 'scheduled' | 'sent' | 'confirmed' | 'cancelled' | 'reschedule_requested' | 'withdrawn' | 'skipped' | 'failed';
export type OutreachChannel = 'auto' | 'sms' | 'email';
export type TemplateLanguage = 'en' | 'es' | 'it';

/** What the agent may give for a message's placeholders (the hub fills the others). */
export const GIVEN_VARIABLES = ['appointmentAt', 'firstName', 'location', 'provider', 'detail'] as const;
export type GivenVariable = (typeof GIVEN_VARIABLES)[number];

/** GET /api/templates: one template. */
export interface MessageTemplate {
  name: string;
  kind: ScheduledKind;
  description: string;
  bodies: Partial<Record<TemplateLanguage, string>>;
  phiFreeBodies: Partial<Record<TemplateLanguage, string>>;
  subjects: Partial<Record<TemplateLanguage, string>>;
  expectsReply: boolean;
  builtIn: boolean;
  /** Every variable its texts use (both variants). */
  variables: string[];
  updatedAt: string | null;
}

export interface TemplateCatalogue {
  items: MessageTemplate[];
  variables: { name: string; phiFree: boolean; description: string }[];
  /** The hub sends the PHI-free variant of every template (and refuses written bodies). */
  phiSafeNotifications: boolean;
}

/** POST /api/templates/preview: the exact text one patient would get. */
export interface TemplatePreview {
  template: string | null;
  language: string;
  phiFree: boolean;
  body: string;
  subject: string | null;
  sms: { segments: number; encoding: string; characters: number; tooLong: boolean };
}

export interface PreviewRequest {
  patientId: string;
  template?: string;
  body?: string;
  kind?: ScheduledKind;
  variables?: Partial<Record<GivenVariable, string>>;
}

/** POST /api/patients/:id/scheduled-messages. */
export interface ScheduleRequest {
  template?: string;
  body?: string;
  kind?: ScheduledKind;
  variables?: Partial<Record<GivenVariable, string>>;
  /** An instant with its offset, or a local 'YYYY-MM-DDTHH:mm' the hub reads in the patient's time zone. */
  sendAt: string;
  channel: OutreachChannel;
  expectsReply?: boolean;
  externalRef?: string;
}

export interface ScheduledMessage {
  id: string;
  patientId: string;
  kind: ScheduledKind;
  template: string | null;
  language: string;
  channel: OutreachChannel;
  sentOn: 'sms' | 'email' | null;
  body: string;
  phiFree: boolean;
  sendAt: string;
  /** The zone the hub reads its times in: the patient's, else the clinic's. */
  timeZone: string;
  deferredUntil: string | null;
  expectsReply: boolean;
  externalRef: string | null;
  status: ScheduledStatus;
  statusChangedAt: string;
  reason: string | null;
  sentAt: string | null;
  conversationId: string | null;
  messageId: string | null;
  replyUntil: string | null;
  createdBy: string;
  createdAt: string;
}

export const KIND_LABELS: Record<ScheduledKind, string> = {
  reminder: 'Reminder',
  follow_up: 'Follow-up',
  results_ready: 'Results ready',
};

const REASONS: Record<string, string> = {
  opted_out: 'the patient opted out',
  no_consent: 'no consent',
  no_verified_identity: 'no verified address',
  identity_not_verified: 'the address is not verified',
  no_reachable_channel: 'no way to reach the patient',
  undeliverable: 'cannot be delivered there',
  patient_merged: 'the patient record was merged',
  gave_up: 'gave up after repeated failures',
};

export function skipReasonLabel(reason: string | null): string {
  return reason ? (REASONS[reason] ?? reason.replace(/_/g, ' ')) : 'no reason given';
}

/** The badge of a scheduled message: its words and the tag style. */
export function scheduledStatusBadge(m: Pick<ScheduledMessage, 'status' | 'reason'>): { label: string; tone: string } {
  switch (m.status) {
    case 'scheduled':
      return { label: 'Scheduled', tone: 'tag-auto' };
    case 'sent':
      return { label: 'Sent', tone: 'tag-muted' };
    case 'confirmed':
      return { label: 'Confirmed', tone: 'tag-ok' };
    case 'cancelled':
      return { label: 'Cancelled by patient', tone: 'tag-warn' };
    case 'reschedule_requested':
      return { label: 'Asks to reschedule', tone: 'tag-warn' };
    case 'withdrawn':
      return { label: 'Withdrawn', tone: 'tag-muted' };
    case 'skipped':
      return { label: `Not sent (${skipReasonLabel(m.reason)})`, tone: 'tag-bad' };
    case 'failed':
      return { label: 'Failed', tone: 'tag-bad' };
    default:
      return { label: String(m.status), tone: 'tag-muted' };
  }
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The variables texts use, in order of first use (the hub's own reading of `{{name}}`). */
export function placeholdersIn(texts: (string | undefined)[]): string[] {
  const found: string[] = [];
  for (const text of texts) for (const m of (text ?? '').matchAll(PLACEHOLDER)) if (!found.includes(m[1]!)) found.push(m[1]!);
  return found;
}

/**
 * The given variables a template needs, for the variant the hub will send:
 * with PHI-safe notifications on, the PHI-free texts (no location or
 * provider; the hub refuses a value the sent text does not use).
 * `appointmentAt` stands for {{date}} and {{time}}.
 */
export function neededVariables(texts: (string | undefined)[]): Set<GivenVariable> {
  const used = placeholdersIn(texts);
  const needed = new Set<GivenVariable>();
  if (used.includes('date') || used.includes('time')) needed.add('appointmentAt');
  for (const v of ['firstName', 'location', 'provider', 'detail'] as const) if (used.includes(v)) needed.add(v);
  return needed;
}
