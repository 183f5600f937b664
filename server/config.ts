/**
 * The hub's settings, read and validated once from the environment. This is
 * the only module that reads `process.env`; everything else receives a Config.
 */
import { loadTriageRules, type TriageRules } from './routing/triage/triage-rules.ts';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseBusinessHours, type OpeningSpan } from './routing/business-hours.ts';
import { loadClinicCardSettings, type ClinicCardSettings } from '../channels/vcard/card-settings.ts';
import { DEFAULT_QUIET_HOURS, parseQuietHours, type QuietHours } from './outreach/quiet-hours.ts';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 random bytes');

/** `PHI_ENCRYPTION_KEY`: one base64 key, or `keyId:base64,keyId:base64` during a rotation (first encrypts). */
const phiKeyList = z.string().transform((raw, ctx) => {
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const keys = parts.map((part, index) => {
    const [id, b64] = part.includes(':') ? (part.split(':', 2) as [string, string]) : [`k${index + 1}`, part];
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) ctx.addIssue({ code: 'custom', message: `key "${id}" must be base64 of exactly 32 bytes` });
    return { id, key };
  });
  if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one key is required' });
  return keys;
});

const optionalText = z.string().trim().min(1).optional();
/** A phone number written exactly in E.164 (+ country code and number, nothing else), as Twilio names its numbers. */
const isE164 = (value: string) => /^\+[1-9]\d{6,14}$/.test(value) && parsePhoneNumberFromString(value)?.number === value;
const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  MONGODB_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'letters, digits, _ and - only').default('carethread'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  PHI_ENCRYPTION_KEY: phiKeyList,
  PHI_BLIND_INDEX_KEY: base64Key,
  AUDIT_CHAIN_KEY: phiKeyList,
  ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16),
  TWILIO_FROM_NUMBER: optionalText,
  TWILIO_MESSAGING_SERVICE_SID: optionalText,
  // More sending numbers (sticky sender, server/delivery/sender-pool.ts): comma-separated E.164, joined with TWILIO_FROM_NUMBER.
  TWILIO_FROM_NUMBERS: z.string().optional().transform((v, ctx) => {
    const numbers = (v ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    for (const n of numbers) if (!isE164(n)) ctx.addIssue({ code: 'custom', message: `"${n}" is not an E.164 number such as +14155550100` });
    return [...new Set(numbers)];
  }),
  // Sending numbers' reputation (server/delivery/number-health.ts): judged over a rolling window, once it holds MIN_SENT texts.
  NUMBER_HEALTH_WINDOW_DAYS: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(90, 'must be at most 90').default(7),
  NUMBER_HEALTH_MIN_SENT: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').default(100),
  NUMBER_HEALTH_MIN_DELIVERY_RATE: z.coerce.number({ error: 'must be a number between 0 and 1' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.85),
  NUMBER_HEALTH_MAX_FILTERED_PER_1000: z.coerce.number({ error: 'must be a number' }).min(0, 'must be 0 or more').max(1000, 'must be at most 1000').default(20),
  NUMBER_HEALTH_MAX_OPTOUTS_PER_1000: z.coerce.number({ error: 'must be a number' }).min(0, 'must be 0 or more').max(1000, 'must be at most 1000').default(20),
  SANDBOX_SLOW_DELIVERY_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  TWILIO_DELETE_MEDIA_AFTER_IMPORT: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  TWILIO_ADVANCED_OPT_OUT: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  SENDGRID_API_KEY: optionalText,
  SENDGRID_FROM_EMAIL: z.email().default('clinic@example.org'),
  SENDGRID_INBOUND_SECRET: z.string().min(16),
  SENDGRID_EVENT_PUBLIC_KEY: optionalText,
  INBOUND_EMAIL_DOMAIN: z.string().default('reply.example.org'),
  WIDGET_IDENTITY_SECRET: z.string().min(32),
  WIDGET_ALLOWED_ORIGINS: csv,
  CORS_ALLOWED_ORIGINS: csv,
  CLINIC_NAME: z.string().min(1).default('CareThread Clinic'),
  CLINIC_CARD_FILE: z.string().min(1).optional(),
  CONTACT_CARD_ON_FIRST_SMS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  CONTACT_CARD_ON_CHANGE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  CLINIC_TIMEZONE: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as America/New_York'),
  WIDGET_BUSINESS_HOURS: z.string().trim().min(1).optional().transform((raw, ctx) => {
    if (raw === undefined) return null;
    try {
      return parseBusinessHours(raw);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (example: "mon-fri 08:00-18:00; sat 09:00-12:00")` });
      return z.NEVER;
    }
  }),
  SMS_HELP_TEXT: z.string().min(10).max(320).optional(),
  // The language of the hub's own texts to a patient whose language it does not know (satisfaction surveys).
  CLINIC_LANGUAGE: z.enum(['en', 'es', 'it']).default('en'),
  // Outreach the hub starts by itself waits out these local hours (server/outreach/quiet-hours.ts); "off" to send any time.
  QUIET_HOURS: z.string().default(DEFAULT_QUIET_HOURS).transform((raw, ctx) => {
    try {
      return parseQuietHours(raw);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  // Scheduled outreach (server/outreach/scheduled/): kinds that skip the quiet hours, how long a reminder's reply is read.
  OUTREACH_URGENT_KINDS: csv.pipe(z.array(z.enum(['reminder', 'follow_up', 'results_ready'], { error: 'kinds are reminder, follow_up, results_ready' }))),
  REMINDER_REPLY_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(72),
  // The clinic's scheduling system hears of confirmations and cancellations here (server/outreach/outbound-webhook.ts).
  OUTBOUND_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OUTBOUND_WEBHOOK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  // Satisfaction surveys after a resolve (server/csat/).
  CSAT_SURVEYS: z.enum(['on', 'off']).default('on').transform((v) => v === 'on'),
  CSAT_SURVEY_INTERVAL_DAYS: z.coerce.number().min(0).max(365).default(7),
  CSAT_DELAY_MINUTES: z.string().default('sms=2,email=2,webchat=0').transform((raw, ctx) => {
    const value = raw.trim();
    const all = /^\d+(\.\d+)?$/.test(value) ? Number(value) : null;
    const delays = all === null ? { sms: 2, email: 2, webchat: 0 } : { sms: all, email: all, webchat: all };
    for (const part of all === null ? value.split(',').map((p) => p.trim()).filter(Boolean) : []) {
      const match = /^(sms|email|webchat)\s*=\s*(\d+(?:\.\d+)?)$/.exec(part);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not like "sms=2" (channels: sms, email, webchat; minutes)` });
        return z.NEVER;
      }
      delays[match[1] as keyof typeof delays] = Number(match[2]);
    }
    if (Object.values(delays).some((m) => m > 7 * 24 * 60)) {
      ctx.addIssue({ code: 'custom', message: 'at most 10080 minutes (a week)' });
      return z.NEVER;
    }
    return delays;
  }),
  TRIAGE_RULES_FILE: z.string().min(1).optional(),
  TRIAGE_ON_CALL_TEAM: z.string().trim().min(1).max(100).optional(),
  TRIAGE_PAGE_SMS: z.string().optional().transform((v, ctx) => {
    const numbers = (v ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    for (const n of numbers) if (!/^\+[1-9]\d{6,14}$/.test(n)) ctx.addIssue({ code: 'custom', message: `"${n}" is not an E.164 number such as +14155550100` });
    return numbers;
  }),
  TRIAGE_PAGE_EMAIL: z.string().optional().transform((v, ctx) => {
    const addresses = (v ?? '').split(',').map((a) => a.trim().toLowerCase()).filter(Boolean);
    for (const a of addresses) if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a)) ctx.addIssue({ code: 'custom', message: `"${a}" is not an email address` });
    return addresses;
  }),
  DELIVERY_FALLBACK: z.string().optional().transform((v, ctx) => {
    const channels = (v ?? '').split(',').map((c) => c.trim()).filter(Boolean);
    for (const c of channels) if (!['sms', 'email', 'webchat'].includes(c)) ctx.addIssue({ code: 'custom', message: `"${c}" is not a channel (sms, email, webchat)` });
    if (new Set(channels).size !== channels.length) ctx.addIssue({ code: 'custom', message: 'a channel is listed twice' });
    return channels as ('sms' | 'email' | 'webchat')[];
  }),
  // With DELIVERY_FALLBACK: an SMS or email still without a delivery report this long after the provider took it
  // falls back too (0: only messages that failed for good do).
  DELIVERY_FALLBACK_AFTER_MINUTES: z.coerce.number({ error: 'must be a number of minutes' }).min(0, 'must be 0 (off) or more').max(7 * 24 * 60, 'must be at most 10080 (a week)').default(30),
  SMS_DEPARTMENT_MENU: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  // The outbox (server/delivery/delivery-worker.ts): the lease must outlast a provider call (checked below).
  OUTBOX_MAX_ATTEMPTS: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(50, 'must be at most 50').default(6),
  OUTBOX_LEASE_SECONDS: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(2, 'must be at least 2').max(3600, 'must be at most 3600').default(60),
  OUTBOX_SEND_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(600, 'must be at most 600').default(15),
  // How often the outbox looks for messages it was not told of (another node's, a stopped node's lease); unset: every
  // second on MongoDB, every 30 s on the embedded store (one node; each look scans every message there).
  OUTBOX_POLL_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(0.1, 'must be at least 0.1').max(3600, 'must be at most 3600').optional(),
  OUTBOX_BACKOFF_MAX_SECONDS: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(86_400, 'must be at most 86400 (a day)').default(300),
  AGENT_AWAY_AFTER_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(5),
  DEFAULT_PHONE_REGION: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US').default('US'),
  REOPEN_WINDOW_HOURS: z.coerce.number().min(0).max(24 * 90).default(72),
  REFRESH_TOKEN_TTL_HOURS: z.coerce.number().min(1).max(24 * 30).default(12),
  PHI_SAFE_NOTIFICATIONS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  SECURE_LINK_TTL_HOURS: z.coerce.number().min(1).max(24 * 30).default(72),
  IDLE_TIMEOUT_MINUTES: z.coerce.number().min(1).max(24 * 60).default(15),
  BREAK_GLASS_MINUTES: z.coerce.number().min(5).max(24 * 60).default(60),
  WIDGET_NEW_CHATS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(20),
  WIDGET_NEW_CHATS_PER_HOUR: z.coerce.number().int().min(1).default(1000),
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  WIDGET_MESSAGES_PER_CHAT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  WIDGET_UPLOADS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(30),
  VERIFICATION_CODES_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(10),
  VERIFICATION_CODES_PER_HOUR: z.coerce.number().int().min(1).default(200),
  VERIFICATION_SMS_COUNTRIES: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) : []))
    .refine((list) => list.every((c) => /^[A-Z]{2}$/.test(c)), 'two-letter country codes, comma-separated, e.g. US,CA'),
  LOGIN_FAILURES_PER_IP_PER_HOUR: z.coerce.number().int().min(1).default(50),
  PORTAL_PROOF_MAX_AGE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(60),
  UNATTACHED_UPLOAD_HOURS: z.coerce.number().min(1).max(24 * 30).default(24),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.input<typeof envSchema>;

export interface AbuseLimitSettings {
  newChatsPerIpPerHour: number;
  newChatsPerHour: number;
  messagesPerIpPerMinute: number;
  messagesPerChatPerMinute: number;
  uploadsPerIpPerHour: number;
  codesPerIpPerHour: number;
  codesPerHour: number;
  smsCountries: readonly string[];
  unattachedUploadMs: number;
}

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly port: number;
  readonly publicBaseUrl: string;
  readonly dataDir: string;
  readonly mongodbUri: string | undefined;
  readonly databaseName: string;
  readonly redisUrl: string | undefined;
  readonly jwtSecret: string;
  readonly phiKeys: readonly { id: string; key: Buffer }[];
  readonly blindIndexKey: Buffer;
  /** Ceilings on what anyone on the internet can make the hub do (web chat, uploads, one-time codes). */
  readonly abuseLimits: AbuseLimitSettings;
  /** Keys the audit chain's HMACs (kept outside the database); first signs, all verify. */
  readonly auditKeys: readonly { id: string; key: Buffer }[];
  readonly bootstrapAdmin: { email: string; password: string } | undefined;
  readonly twilio: {
    accountSid?: string; authToken: string; fromNumber?: string; messagingServiceSid?: string; advancedOptOut: boolean; deleteMediaAfterImport: boolean;
    /** The sending pool: TWILIO_FROM_NUMBER and TWILIO_FROM_NUMBERS (union, in that order); empty with a Messaging Service alone. */
    fromNumbers: readonly string[];
  };
  /** When a sending number is taken out of the pool for new patients (NUMBER_HEALTH_*); rates per 1,000 texts sent. */
  readonly numberHealth: { windowMs: number; minSent: number; minDeliveryRate: number; maxFilteredPer1000: number; maxOptOutsPer1000: number };
  readonly sendgrid: { apiKey?: string; fromEmail: string; inboundSecret: string; eventPublicKey?: string; inboundDomain: string };
  readonly widget: {
    identitySecret: string;
    /** How long a portal's identity proof is accepted after it was made. */
    portalProofMaxAgeSeconds: number;
    /** Empty: any origin may embed the widget (development only; production must list them). */
    allowedOrigins: readonly string[];
    /** Null: always staffed. */
    businessHours: readonly OpeningSpan[] | null;
  };
  readonly clinicTimeZone: string;
  /** The clinic's contact card (null: no SMS number and no CLINIC_CARD_FILE) and when it goes out by itself. */
  readonly contactCard: { settings: ClinicCardSettings | null; onFirstSms: boolean; onChange: boolean };
  readonly corsAllowedOrigins: readonly string[];
  readonly clinicName: string;
  /** The answer to an SMS HELP keyword. */
  readonly smsHelpText: string;
  /** The language of the hub's own texts when the patient's is unknown. */
  readonly clinicLanguage: 'en' | 'es' | 'it';
  /** The local hours outreach (surveys) waits out; null: none. */
  readonly quietHours: QuietHours | null;
  /** Scheduled messages: kinds that skip quiet hours; how long a reminder's reply is read as an answer. */
  readonly outreach: { urgentKinds: readonly ('reminder' | 'follow_up' | 'results_ready')[]; replyWindowMs: number };
  /** Where confirmations and cancellations are posted, signed with the secret (HMAC-SHA256); null: nowhere. */
  readonly outboundWebhook: { url: string; secret: string } | null;
  /** Satisfaction surveys: on or off, at most one per patient per interval, sent this long after a resolve per channel. */
  readonly csat: { enabled: boolean; intervalMs: number; delayMs: Record<'sms' | 'email' | 'webchat', number> };
  /** Emergency triage: its rules (TRIAGE_RULES_FILE or the default), who else is alerted, who is paged (no PHI). */
  readonly triage: { rules: TriageRules; onCallTeamId: string | null; pageSms: readonly string[]; pageEmail: readonly string[] };
  /** Channel fallback order (empty: off): a message that failed for good is offered on the next channel. */
  readonly deliveryFallback: readonly ('sms' | 'email' | 'webchat')[];
  /** DELIVERY_FALLBACK_AFTER_MINUTES in ms; 0: no deadline, only permanent failures fall back. */
  readonly deliveryFallbackAfterMs: number;
  /** The outbox: provider calls per message at most, a claim's lease, how long one provider call may take, the longest retry wait. */
  readonly outbox: { maxAttempts: number; leaseMs: number; sendTimeoutMs: number; backoffMaxMs: number };
  /** OUTBOX_POLL_SECONDS in ms; null: chosen by the store (1 s on MongoDB, 30 s on the embedded store). */
  readonly outboxPollMs: number | null;
  /** Answer a first text from a new number with the department menu ("reply 1 for appointments…"). */
  readonly smsDepartmentMenu: boolean;
  /** An agent online but inactive this long counts as away for assignment. */
  readonly agentAwayAfterMs: number;
  readonly defaultPhoneRegion: string;
  readonly reopenWindowMs: number;
  readonly refreshTokenTtlMs: number;
  readonly accessTokenTtlSeconds: number;
  readonly idleTimeoutMs: number;
  readonly loginFailuresPerIpPerHour: number;
  /** SMS and email carry only a notice and a link, never the message. */
  readonly phiSafeNotifications: boolean;
  readonly secureLinkTtlMs: number;
  readonly breakGlassMs: number;
  readonly logLevel: string;
  /** Where development secrets were generated, when they were. */
  readonly devSecretsFile: string | undefined;
  /** Outbound SMS / email are recorded instead of sent when their provider is not configured. */
  readonly sandbox: { sms: boolean; email: boolean; slowDeliveryMs: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets that development may generate for itself; production must be given them. */
const GENERATED_IN_DEVELOPMENT = {
  JWT_SECRET: () => randomBytes(48).toString('base64url'),
  PHI_ENCRYPTION_KEY: () => `dev1:${randomBytes(32).toString('base64')}`,
  PHI_BLIND_INDEX_KEY: () => randomBytes(32).toString('base64'),
  AUDIT_CHAIN_KEY: () => `dev1:${randomBytes(32).toString('base64')}`,
  TWILIO_AUTH_TOKEN: () => randomBytes(16).toString('hex'),
  SENDGRID_INBOUND_SECRET: () => randomBytes(24).toString('base64url'),
  WIDGET_IDENTITY_SECRET: () => randomBytes(48).toString('base64url'),
  BOOTSTRAP_ADMIN_EMAIL: () => 'admin@carethread.local',
  BOOTSTRAP_ADMIN_PASSWORD: () => randomBytes(12).toString('base64url'),
} as const;

/** Parses and validates the environment; throws ConfigError naming every bad setting at once. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined && value !== '') raw[name] = value;
  const nodeEnv = raw.NODE_ENV ?? 'development';
  let devSecretsFile: string | undefined;
  if (nodeEnv === 'development') {
    const generated = fillDevelopmentSecrets(raw);
    devSecretsFile = generated;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.OUTBOUND_WEBHOOK_URL && !e.OUTBOUND_WEBHOOK_SECRET) problems.push('OUTBOUND_WEBHOOK_SECRET: required with OUTBOUND_WEBHOOK_URL (the receiver checks each call’s signature with it)');
  if (e.OUTBOUND_WEBHOOK_URL && !webhookUrlAllowed(e.OUTBOUND_WEBHOOK_URL)) problems.push('OUTBOUND_WEBHOOK_URL: must be https (plain http only to this machine: localhost, 127.0.0.1, ::1)');
  if (e.TWILIO_FROM_NUMBER && !isE164(e.TWILIO_FROM_NUMBER)) problems.push(`TWILIO_FROM_NUMBER: "${e.TWILIO_FROM_NUMBER}" is not an E.164 number such as +14155550100`);
  const fromNumbers = [...new Set([...(e.TWILIO_FROM_NUMBER ? [e.TWILIO_FROM_NUMBER] : []), ...e.TWILIO_FROM_NUMBERS])];
  let cardSettings: ClinicCardSettings | null = null;
  try {
    cardSettings = loadClinicCardSettings(e.CLINIC_CARD_FILE, { clinicName: e.CLINIC_NAME, smsNumber: fromNumbers[0], email: e.SENDGRID_FROM_EMAIL });
  } catch (error) {
    problems.push(`CLINIC_CARD_FILE: ${(error as Error).message}`);
  }
  let triageRules: TriageRules | null = null;
  try {
    triageRules = loadTriageRules(e.TRIAGE_RULES_FILE);
  } catch (error) {
    problems.push(`TRIAGE_RULES_FILE: ${(error as Error).message}`);
  }
  if (e.TWILIO_FROM_NUMBER && cardSettings?.inboundOnlyNumbers.includes(e.TWILIO_FROM_NUMBER)) {
    problems.push('TWILIO_FROM_NUMBER: that number is marked inboundOnly in CLINIC_CARD_FILE; the hub never sends from an inbound-only number');
  }
  for (const n of e.TWILIO_FROM_NUMBERS.filter((n) => cardSettings?.inboundOnlyNumbers.includes(n))) {
    problems.push(`TWILIO_FROM_NUMBERS: ${n} is marked inboundOnly in CLINIC_CARD_FILE; the hub never sends from an inbound-only number`);
  }
  if (e.NODE_ENV === 'production') {
    if (!e.PUBLIC_BASE_URL) problems.push('PUBLIC_BASE_URL: required in production');
    if (e.PHI_ENCRYPTION_KEY.some((k) => k.id.startsWith('dev'))) problems.push('PHI_ENCRYPTION_KEY: development keys are refused in production');
    if (e.AUDIT_CHAIN_KEY.some((k) => k.id.startsWith('dev'))) problems.push('AUDIT_CHAIN_KEY: development keys are refused in production');
    if (!e.MONGODB_URI && !e.ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION) {
      problems.push(
        'MONGODB_URI: required in production. The embedded database (FerretDB on SQLite) has no authentication: any process on this machine could rewrite records. ' +
          'Set ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION=true only for a single-node trial on a machine nobody else uses.',
      );
    }
    if (e.WIDGET_ALLOWED_ORIGINS.length === 0) problems.push('WIDGET_ALLOWED_ORIGINS: required in production (the sites that may embed the chat widget, e.g. https://www.example-clinic.org)');
  }
  if (e.NODE_ENV === 'production' && e.SENDGRID_API_KEY && !e.SENDGRID_EVENT_PUBLIC_KEY) {
    problems.push('SENDGRID_EVENT_PUBLIC_KEY: required in production when SENDGRID_API_KEY is set (the Event Webhook is verified with it)');
  }
  if (e.REDIS_URL && !e.MONGODB_URI) {
    problems.push(
      'REDIS_URL is set (several hub nodes) but MONGODB_URI is not: each node would start its own embedded database (FerretDB), which holds one node\'s data and ' +
        'does not isolate updates across processes. Set MONGODB_URI to a MongoDB replica set that every node shares, or unset REDIS_URL to run one node.',
    );
  }
  if (Boolean(e.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(e.BOOTSTRAP_ADMIN_PASSWORD)) {
    problems.push('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD: set both or neither');
  }
  if (e.OUTBOX_LEASE_SECONDS < 2 * e.OUTBOX_SEND_TIMEOUT_SECONDS) {
    problems.push(
      `OUTBOX_LEASE_SECONDS: must be at least twice OUTBOX_SEND_TIMEOUT_SECONDS (${e.OUTBOX_SEND_TIMEOUT_SECONDS} s), so ${2 * e.OUTBOX_SEND_TIMEOUT_SECONDS} or more: ` +
        'a message whose lease ran out while its provider call was still running could be sent a second time by another worker',
    );
  }
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    dataDir: resolve(e.DATA_DIR),
    mongodbUri: e.MONGODB_URI,
    databaseName: e.MONGODB_DATABASE,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    phiKeys: e.PHI_ENCRYPTION_KEY,
    blindIndexKey: Buffer.from(e.PHI_BLIND_INDEX_KEY, 'base64'),
    auditKeys: e.AUDIT_CHAIN_KEY,
    abuseLimits: {
      newChatsPerIpPerHour: e.WIDGET_NEW_CHATS_PER_IP_PER_HOUR,
      newChatsPerHour: e.WIDGET_NEW_CHATS_PER_HOUR,
      messagesPerIpPerMinute: e.WIDGET_MESSAGES_PER_IP_PER_MINUTE,
      messagesPerChatPerMinute: e.WIDGET_MESSAGES_PER_CHAT_PER_MINUTE,
      uploadsPerIpPerHour: e.WIDGET_UPLOADS_PER_IP_PER_HOUR,
      codesPerIpPerHour: e.VERIFICATION_CODES_PER_IP_PER_HOUR,
      codesPerHour: e.VERIFICATION_CODES_PER_HOUR,
      // Default: the clinic's own country; texting codes abroad is how SMS pumping fraud bills a clinic.
      smsCountries: e.VERIFICATION_SMS_COUNTRIES.length ? e.VERIFICATION_SMS_COUNTRIES : [e.DEFAULT_PHONE_REGION],
      unattachedUploadMs: e.UNATTACHED_UPLOAD_HOURS * 3600_000,
    },
    bootstrapAdmin:
      e.BOOTSTRAP_ADMIN_EMAIL && e.BOOTSTRAP_ADMIN_PASSWORD
        ? { email: e.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(), password: e.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      fromNumber: e.TWILIO_FROM_NUMBER ?? fromNumbers[0],
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
      advancedOptOut: e.TWILIO_ADVANCED_OPT_OUT,
      deleteMediaAfterImport: e.TWILIO_DELETE_MEDIA_AFTER_IMPORT,
      fromNumbers,
    },
    numberHealth: {
      windowMs: e.NUMBER_HEALTH_WINDOW_DAYS * 24 * 3600_000,
      minSent: e.NUMBER_HEALTH_MIN_SENT,
      minDeliveryRate: e.NUMBER_HEALTH_MIN_DELIVERY_RATE,
      maxFilteredPer1000: e.NUMBER_HEALTH_MAX_FILTERED_PER_1000,
      maxOptOutsPer1000: e.NUMBER_HEALTH_MAX_OPTOUTS_PER_1000,
    },
    sendgrid: {
      apiKey: e.SENDGRID_API_KEY,
      fromEmail: e.SENDGRID_FROM_EMAIL,
      inboundSecret: e.SENDGRID_INBOUND_SECRET,
      eventPublicKey: e.SENDGRID_EVENT_PUBLIC_KEY,
      inboundDomain: e.INBOUND_EMAIL_DOMAIN,
    },
    widget: { portalProofMaxAgeSeconds: e.PORTAL_PROOF_MAX_AGE_MINUTES * 60, identitySecret: e.WIDGET_IDENTITY_SECRET, allowedOrigins: e.WIDGET_ALLOWED_ORIGINS, businessHours: e.WIDGET_BUSINESS_HOURS },
    clinicTimeZone: e.CLINIC_TIMEZONE,
    contactCard: { settings: cardSettings, onFirstSms: e.CONTACT_CARD_ON_FIRST_SMS, onChange: e.CONTACT_CARD_ON_CHANGE },
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS,
    clinicName: e.CLINIC_NAME,
    triage: { rules: triageRules!, onCallTeamId: e.TRIAGE_ON_CALL_TEAM ?? null, pageSms: e.TRIAGE_PAGE_SMS, pageEmail: e.TRIAGE_PAGE_EMAIL },
    agentAwayAfterMs: e.AGENT_AWAY_AFTER_MINUTES * 60_000,
    smsDepartmentMenu: e.SMS_DEPARTMENT_MENU,
    deliveryFallback: e.DELIVERY_FALLBACK,
    deliveryFallbackAfterMs: Math.round(e.DELIVERY_FALLBACK_AFTER_MINUTES * 60_000),
    outboxPollMs: e.OUTBOX_POLL_SECONDS === undefined ? null : Math.round(e.OUTBOX_POLL_SECONDS * 1000),
    outbox: {
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      leaseMs: e.OUTBOX_LEASE_SECONDS * 1000,
      sendTimeoutMs: e.OUTBOX_SEND_TIMEOUT_SECONDS * 1000,
      backoffMaxMs: e.OUTBOX_BACKOFF_MAX_SECONDS * 1000,
    },
    clinicLanguage: e.CLINIC_LANGUAGE,
    quietHours: e.QUIET_HOURS,
    outreach: { urgentKinds: e.OUTREACH_URGENT_KINDS, replyWindowMs: e.REMINDER_REPLY_WINDOW_HOURS * 3600_000 },
    outboundWebhook: e.OUTBOUND_WEBHOOK_URL && e.OUTBOUND_WEBHOOK_SECRET ? { url: e.OUTBOUND_WEBHOOK_URL, secret: e.OUTBOUND_WEBHOOK_SECRET } : null,
    csat: {
      enabled: e.CSAT_SURVEYS,
      intervalMs: e.CSAT_SURVEY_INTERVAL_DAYS * 24 * 3600_000,
      delayMs: { sms: e.CSAT_DELAY_MINUTES.sms * 60_000, email: e.CSAT_DELAY_MINUTES.email * 60_000, webchat: e.CSAT_DELAY_MINUTES.webchat * 60_000 },
    },
    smsHelpText: e.SMS_HELP_TEXT ?? `${e.CLINIC_NAME}: reply to this number to reach our care team. Msg & data rates may apply. Reply STOP to opt out.`,
    defaultPhoneRegion: e.DEFAULT_PHONE_REGION,
    reopenWindowMs: e.REOPEN_WINDOW_HOURS * 3600_000,
    refreshTokenTtlMs: e.REFRESH_TOKEN_TTL_HOURS * 3600_000,
    accessTokenTtlSeconds: 15 * 60,
    idleTimeoutMs: e.IDLE_TIMEOUT_MINUTES * 60_000,
    loginFailuresPerIpPerHour: e.LOGIN_FAILURES_PER_IP_PER_HOUR,
    phiSafeNotifications: e.PHI_SAFE_NOTIFICATIONS,
    secureLinkTtlMs: e.SECURE_LINK_TTL_HOURS * 3600_000,
    breakGlassMs: e.BREAK_GLASS_MINUTES * 60_000,
    logLevel: e.LOG_LEVEL,
    devSecretsFile,
    sandbox: { sms: !e.TWILIO_ACCOUNT_SID, email: !e.SENDGRID_API_KEY, slowDeliveryMs: e.SANDBOX_SLOW_DELIVERY_SECONDS * 1000 },
  });
}

/**
 * In development, a secret that is not set is generated once and kept in
 * DATA_DIR/dev-secrets.json (mode 600), so restarts keep tokens and
 * encrypted data readable. Returns the file's path when it was used.
 */
function fillDevelopmentSecrets(raw: Record<string, string>): string | undefined {
  const missing = (Object.keys(GENERATED_IN_DEVELOPMENT) as (keyof typeof GENERATED_IN_DEVELOPMENT)[]).filter((k) => !raw[k]);
  if (missing.length === 0) return undefined;
  const dataDir = resolve(raw.DATA_DIR ?? './data');
  const file = join(dataDir, 'dev-secrets.json');
  const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  let changed = false;
  for (const name of missing) {
    if (!stored[name]) {
      stored[name] = GENERATED_IN_DEVELOPMENT[name]();
      changed = true;
    }
    raw[name] = stored[name];
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return file;
}

/** Patient-related events leave the hub only encrypted, except to a receiver on this very machine. */
function webhookUrlAllowed(raw: string): boolean {
  const url = new URL(raw);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}
