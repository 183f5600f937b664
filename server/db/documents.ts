/** Stored document shapes. Fields ending in `Enc` hold PhiCipher-sealed text. */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { IdentityTrust, TrustEvidence } from '../timeline/identity/identity-trust.ts';

export type ConsentStatus = 'opted_in' | 'opted_out' | 'unknown';
/** `portal`: a patient id a clinic's logged-in portal vouches for (widget identity hash); not a channel. */
export type IdentityKind = 'phone' | 'email' | 'web' | 'portal';
export type ConversationStatus = 'open' | 'pending' | 'resolved';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type Direction = 'inbound' | 'outbound' | 'note' | 'system';
export type { DeliveryStatus } from '../../channels/contract.ts';
import type { DeliveryStatus } from '../../channels/contract.ts';
export type Role = 'admin' | 'supervisor' | 'agent';
export type RelatedContactRelation = 'guardian' | 'caregiver';

export interface Consent {
  status: ConsentStatus;
  at?: Date;
  source?: string;
  wording?: string;
  /** The agent who recorded it (consent given to staff: `staff:<method>`). */
  capturedBy?: string;
}

export interface PatientDoc {
  _id: string;
  nameEnc: string | null;
  preferences: { channel: ChannelId | null; language: string | null; timezone: string | null };
  consent: Record<ChannelId, Consent>;
  consentHistory: { channel: ChannelId; status: ConsentStatus; at: Date; source: string; wording?: string; capturedBy?: string }[];
  latestConversationId: string | null;
  conversationCount: number;
  /** Contact details typed into the widget's pre-chat form: shown to agents as unverified, never used to send. */
  claimedContacts: { kind: 'phone' | 'email'; valueEnc: string; at: Date }[];
  /** Set when this patient (a web visitor's) was proven to be another one and merged into it. */
  mergedInto: string | null;
  /** The revision of the clinic's contact card last sent to this patient (automatic sends go once per revision). */
  contactCardRevision?: string | null;
  /** The clinic number this patient hears from (sticky sender, server/delivery/sender-pool.ts); missing: none yet. */
  smsSender?: { number: string; assignedAt: Date } | null;
  /** Sealed YYYY-MM-DD, and the clinic's medical record number (trimmed, uppercased). */
  dateOfBirthEnc?: string | null;
  mrnEnc?: string | null;
  /**
   * Blind keys for search (server/timeline/patients/patient-keys.ts): each name word and its
   * prefixes of 3+ letters, the date of birth, the MRN. `mrnKey` and `nameDobKey` (the whole
   * name with the date of birth) find duplicates with one equality each.
   */
  searchKeys?: string[];
  mrnKey?: string | null;
  nameDobKey?: string | null;
  /** Teams that registered the patient (staff-created or imported): they see the patient before any conversation. */
  teamIds?: string[];
  /** The agent who registered the patient (null: created by an inbound message, or imported from the command line). */
  createdBy?: string | null;
  /** Satisfaction surveys (server/csat/): the last one sent, and the one whose answer is awaited by text or in the chat. */
  csat?: PatientCsat | null;
  /** Scheduled outreach (server/outreach/scheduled/): the reminder whose reply (confirm, cancel, reschedule) is awaited. */
  outreach?: { awaiting: ReminderAwaiting | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PatientCsat {
  /** At most one survey per CSAT_SURVEY_INTERVAL_DAYS: the last one sent and when. */
  lastSurveyId: string | null;
  lastSentAt: Date | null;
  /** The patient's next text (or the chat's stars) until `until` may answer this survey. */
  awaiting: { surveyId: string; channel: 'sms' | 'webchat'; until: Date } | null;
}

export interface ReminderAwaiting {
  scheduledMessageId: string;
  /** The patient's next text (or email) on this channel until `until` is read as an answer. */
  channel: 'sms' | 'email';
  sentAt: Date;
  until: Date;
}

export interface IdentityDoc {
  _id: string;
  kind: IdentityKind;
  patientId: string;
  valueEnc: string;
  /** How it was established (server/timeline/identity/identity-trust.ts); absent on documents from before. */
  trust?: IdentityTrust;
  /** The evidence behind `trust`, e.g. inbound_sms, authenticated_email, thread_reply, agent_promotion. */
  trustEvidence?: TrustEvidence | null;
  /** When it became verified (null unless trust is verified). */
  verifiedAt: Date | null;
  /** The agent who verified it by hand (trustEvidence agent_promotion). */
  verifiedBy?: string | null;
  /** Set by an agent: used by more than one person (a family phone); never links a visitor or causes a merge. */
  sharedAt?: Date | null;
  /** A related contact of the patient (not the patient): a guardian or caregiver, with their own name and consent. */
  relation?: RelatedContactRelation | null;
  contactNameEnc?: string | null;
  contactConsent?: Consent | null;
  /** The patient it belonged to before an agent's merge moved it (a detach puts it back). */
  mergedFromPatientId?: string | null;
  /** Mail to it bounced or was dropped; cleared when the patient writes from it again. */
  undeliverableAt: Date | null;
  /** A web visitor's department choice (a team id): their chat goes to that team. */
  routeToTeamId?: string | null;
  /** Why, in words for agents ("the email address bounced", "the number is a landline…"). */
  undeliverableReason?: string | null;
  lastSeenAt: Date;
  createdAt: Date;
  /** Web visitors: how the visitor proved who they are (then they see the patient's whole thread). */
  linkedBy?: 'phone' | 'email' | 'portal' | null;
  linkedAt?: Date | null;
  /** Web visitors: tokens issued before this no longer open the widget ("end chat"). */
  tokensRevokedAt?: Date | null;
}

export interface ConversationDoc {
  _id: string;
  patientId: string;
  status: ConversationStatus;
  assigneeId: string | null;
  teamId: string;
  priority: Priority;
  subject: string | null;
  channels: ChannelId[];
  lastInboundChannel: ChannelId | null;
  lastInboundAt: Date | null;
  lastMessageAt: Date;
  lastSeq: number;
  previewEnc: string | null;
  previewDirection: Direction | null;
  patientNameEnc: string | null;
  /** The phone or email the conversation started from (sealed): the inbox's label for a patient with no name. */
  patientContactEnc?: string | null;
  unreadCount: number;
  messageCount: number;
  openedAt: Date;
  firstResponseAt: Date | null;
  /** An emergency or crisis signal in the patient's words: the conversation is urgent until an agent clears it. */
  triage?: { category: string; label: string; at: Date; messageId: string; lastReplyAt: Date | null } | null;
  /** The SMS department menu was sent: the patient's next text may be its digit. */
  awaitingDepartment?: boolean | null;
  /** The closed period an after-hours reply was last sent for (one per closed period). */
  afterHoursKey?: string | null;
  /** Since when it waits for an agent (open and unassigned), and when supervisors were alerted about it. */
  waitingSince?: Date | null;
  escalatedAt?: Date | null;
  /** The patient may have asked to stop ("stop texting me") in words that are not a keyword: an agent decides. */
  possibleOptOut?: { messageId: string; channel: ChannelId; at: Date } | null;
  assignedAt: Date | null;
  resolvedAt: Date | null;
  reopenedAt: Date | null;
  reopenCount: number;
  updatedAt: Date;
}

export interface AttachmentDoc {
  nameEnc: string;
  contentType: string;
  size: number;
  /** `blob:<id>` (sealed in the hub) or, until the hub has imported it, the provider's URL. */
  ref: string;
  /** An inline image of an HTML email: its Content-ID (the original HTML refers to it as cid:). */
  contentId?: string | null;
  /** Why the hub could not keep the file (the provider's copy failed to download after retries). */
  unavailable?: string | null;
}

export interface DeliveryError {
  code: string;
  message: string;
  retryable: boolean;
  /** The next step for the agent, from the channel's catalogue of failures. */
  suggestion?: string;
}

export interface MessageDoc {
  _id: string;
  conversationId: string;
  patientId: string;
  seq: number;
  /** `<conversationId>:<seq>`: unique, so two appends can never take the same seq. */
  seqKey: string;
  /** Unique: `twilio:SM…` for provider messages, `hub:<id>` for ours, so retries never duplicate. */
  providerKey: string;
  providerMessageId: string | null;
  direction: Direction;
  channel: ChannelId | 'internal';
  /**
   * `automatic_reply`: mail a machine wrote (RFC 3834), shown as an event, never as the patient's words.
   * `csat`: the patient's answer to a satisfaction survey (a system event: never unread, never reopens).
   * `reminder_reply`: a reply that confirmed or cancelled a reminder (a system event with the patient's words, sealed).
   */
  kind: 'text' | 'vcard' | 'event' | 'automatic_reply' | 'csat' | 'reminder_reply';
  bodyEnc: string;
  attachments: AttachmentDoc[];
  author: { type: 'patient' | 'agent' | 'system'; agentId: string | null };
  clientId: string | null;
  channelReason: string | null;
  /** The identity an outbound message goes to (its address is sealed there, not copied here). */
  recipientIdentityId: string | null;
  /** Inbound: the identity it came from, and that identity's trust when it arrived (agents see anything not verified). */
  senderIdentityId?: string | null;
  senderTrust?: IdentityTrust | null;
  /** Inbound email whose sender failed authentication (SPF/DKIM not aligned with From): why, e.g. spf_fail. */
  senderUnauthenticated?: string | null;
  /** Inbound email: the whole message as received, sealed JSON {text?, html?} (html sanitised; inline images as cid:). */
  originalEnc?: string | null;
  /** Inbound: what the channel could not do exactly (an unknown charset, read as UTF-8), for agents. */
  receptionNote?: string | null;
  /** Outbound email: the random part of its Message-ID header (128 bits); replies thread by it, never by a database id. */
  emailMessageId?: string | null;
  /** Outbound SMS: the clinic number it was sent from (its status callbacks count against that number's reputation). */
  fromNumber?: string | null;
  delivery: {
    status: DeliveryStatus;
    history: { status: DeliveryStatus; at: Date; errorCode?: string }[];
    error: DeliveryError | null;
    /** Provider event ids already applied (SendGrid sg_event_id, Twilio sid+status), the newest few: re-posts change nothing. */
    eventIds?: string[];
  };
  /** Channel fallback: the message this one stands in for, the one standing in for it ('none': nothing could), the channels tried. */
  fallback?: { of?: string | null; next: string | null; tried: string[] } | null;
  /** Set while the message waits in the outbox for the delivery worker. */
  outboxDueAt: Date | null;
  /** Channel fallback on time (DELIVERY_FALLBACK_AFTER_MINUTES): when it falls back unless a delivery report came first. */
  fallbackDueAt?: Date | null;
  attempts: number;
  createdAt: Date;
}

/**
 * One patient's hold on a key that only one patient may have, by `_id`
 * (`mrn:<mrnKey>`): the unique index that keeps an MRN to one patient across
 * nodes (server/timeline/patients/patient-claims.ts).
 */
export interface PatientClaimDoc {
  _id: string;
  patientId: string;
  at: Date;
}

/** A possible same-person pair, or an identity two patients use, for agents to review (never acted on automatically). */
export interface IdentitySuggestionDoc {
  _id: string;
  patientIds: string[];
  identityId: string | null;
  /** Why: code_to_unverified_identity, code_to_shared_identity, typed_known_contact. */
  evidence: string;
  occurrences: number;
  createdAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolution: 'merged' | 'dismissed' | null;
}

export interface AgentDoc {
  _id: string;
  email: string;
  name: string;
  role: Role;
  teamIds: string[];
  passwordHash: string;
  /** TOTP second factor: sealed secret; enabled once a code was confirmed. */
  totpSecretEnc: string | null;
  totpEnabledAt: Date | null;
  /** The 30-second step of the last code accepted: a code is accepted once (no replay within its window). */
  totpLastStep?: number | null;
  /** A new secret being enrolled: it replaces the active one only once a code from it is confirmed. */
  totpPendingSecretEnc?: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  /** What the agent set in the inbox; `online` counts only while connected and active (effective status). */
  status?: AgentStatus;
  statusAt?: Date | null;
  /** Languages spoken (en, es, it…) and skills (slugs): assignment prefers a match. */
  languages?: string[];
  skills?: string[];
}

export type AgentStatus = 'online' | 'away' | 'offline';

export interface TeamDoc {
  _id: string;
  name: string;
  createdAt: Date;
  /** Opening hours (server/routing/business-hours.ts, stored as PUT); none: the clinic's default (WIDGET_BUSINESS_HOURS). */
  hours?: TeamHoursJson | null;
  /** How new conversations find an agent (server/routing/assignment-policy.ts); none: manual. */
  routing?: RoutingSettings | null;
  /** Offered to patients as a department (the widget's pre-chat choice, the SMS menu's digit). */
  department?: { label: string; smsKey: string | null } | null;
  /** Round robin's memory: when this team last assigned to each agent. */
  lastAssignedAt?: Record<string, Date> | null;
}

export interface TeamHoursJson {
  timeZone: string;
  weekly: { day: string; from: string; to: string }[];
  holidays: { date: string; name?: string }[];
}

export interface RoutingSettings {
  mode: 'manual' | 'round_robin' | 'least_busy';
  maxOpenPerAgent: number;
  escalateAfterMinutes: number;
}

export interface SessionDoc {
  _id: string;
  agentId: string;
  refreshHash: string;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  createdAt: Date;
  lastRefreshAt: Date;
  /** Last authenticated request; sessions idle longer than IDLE_TIMEOUT_MINUTES end. */
  lastActivityAt: Date;
  /** Hashes of this session's earlier refresh secrets: presenting one again is theft (the session ends); anything else is just refused. */
  retiredRefreshHashes?: string[];
}

export interface LoginThrottleDoc {
  _id: string;
  failures: number;
  lockedUntil: Date | null;
  lastFailureAt: Date;
}

export interface DevOutboxDoc {
  _id: string;
  channel: ChannelId;
  messageId: string;
  /** The provider request, sealed: it holds the body and the address. */
  requestEnc: string;
  createdAt: Date;
}

export interface AuditEventDoc {
  /** Position in the chain: 1, 2, 3 … */
  _id: number;
  at: Date;
  action: string;
  actorId: string | null;
  actorRole: string | null;
  sessionId: string | null;
  via: string;
  ip: string | null;
  patientId: string | null;
  conversationId: string | null;
  outcome: 'success' | 'denied' | 'failure';
  flagged: boolean;
  reason: string | null;
  details: Record<string, string | number | boolean | null>;
  prevHash: string;
  /** HMAC-SHA256 with the audit key `keyId` (AUDIT_CHAIN_KEY, outside the database); entries from before keying have none. */
  hash: string;
  keyId?: string | null;
}

/** A supervisor's emergency access to one conversation, for one session, for a limited time. */
export interface AccessGrantDoc {
  _id: string;
  sessionId: string;
  agentId: string;
  conversationId: string;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface AttachmentBlobDoc {
  _id: string;
  contentType: string;
  size: number;
  /** Widget uploads: the file's name (sealed) and the web identity that uploaded it, until a message claims it. */
  nameEnc?: string | null;
  uploadedBy?: string | null;
  /** Uploads: since when no message has claimed it (null once one does); unclaimed ones expire (UNATTACHED_UPLOAD_HOURS). */
  pendingSince?: Date | null;
  /** The file, base64, sealed. */
  dataEnc: string;
  createdAt: Date;
}

/** A one-time code a web visitor asked for, to prove a phone or email; one pending per visitor. */
export interface VerificationChallengeDoc {
  /** The visitor's web identity id. */
  _id: string;
  channel: 'sms' | 'email';
  /** The identity id (blind index) of the address being proven, and the address itself, sealed. */
  targetKey: string;
  targetValueEnc: string;
  codeHash: string;
  attempts: number;
  consentWording: string;
  expiresAt: Date;
  createdAt: Date;
}

/** Sliding-window counters (verification codes per visitor and per address). */
export interface RateLimitDoc {
  _id: string;
  /** Sliding windows: the times of recent hits. */
  hits?: Date[];
  /** Sliding windows: bumped by every write, so a write applies only to the hits it was decided on (rate-limits.ts). */
  rev?: number;
  /** Fixed windows (`<key>@<window>`): the count so far, and when the window's document may go. */
  count?: number;
  expiresAt?: Date | null;
}

/** A team's saved reply, inserted in the inbox by typing "/" and its shortcut. `_id` = `<teamId>:<shortcut>`. */
export interface CannedResponseDoc {
  _id: string;
  teamId: string;
  shortcut: string;
  title: string;
  body: string;
  createdBy: string;
  createdAt: Date;
}

/** Hub-wide facts kept across restarts, e.g. the contact card's current revision and since when. */
export interface HubSettingDoc {
  _id: string;
  value: Record<string, string | number | boolean | null>;
  updatedAt: Date;
}

/**
 * A satisfaction survey (server/csat/), one per resolve of a conversation
 * (`_id` = `<conversationId>:<reopenCount>`): scheduled at the resolve, claimed
 * by one hub node with a lease on `dueAt` (like the outbox), sent once, then
 * answered at most once.
 */
export interface CsatSurveyDoc {
  _id: string;
  conversationId: string;
  patientId: string;
  /** The conversation's team when it was resolved (supervisors read their teams' comments). */
  teamId: string;
  /** The conversation's reopen count at the resolve: a reopen before the survey goes out cancels it. */
  reopenCount: number;
  /** The channel the patient last wrote on, where the survey goes. */
  channel: ChannelId;
  language: 'en' | 'es' | 'it';
  status: 'scheduled' | 'sent' | 'answered' | 'skipped';
  /** Scheduled: when it may go out (a claim pushes it a lease ahead). Null once settled. */
  dueAt: Date | null;
  /** Claims so far: a claim's fencing token. */
  attempts: number;
  /** Why it did not go out: reopened, no_consent, widget_closed, recently_surveyed, … (no PHI). */
  skipReason: string | null;
  resolvedAt: Date;
  sentAt: Date | null;
  /** Answers are taken until then (24 h by text and in the chat, 7 days by the email link). */
  expiresAt: Date | null;
  /** The timeline message that carried it (SMS, email) or announced it (web chat). */
  messageId: string | null;
  answeredAt: Date | null;
  answerChannel: ChannelId | null;
  /** The timeline event that holds the answer (for a text: derived from the provider key, so a retry finds it). */
  answerMessageId: string | null;
  score: number | null;
  /** The patient's comment, sealed (PHI). */
  commentEnc: string | null;
  hasComment: boolean;
  createdAt: Date;
}

/** A named message template of the clinic's (server/outreach/templates/); no PHI. `_id` is the name. */
export interface MessageTemplateDoc {
  _id: string;
  kind: 'reminder' | 'follow_up' | 'results_ready';
  description: string;
  bodies: Partial<Record<'en' | 'es' | 'it', string>>;
  phiFreeBodies: Partial<Record<'en' | 'es' | 'it', string>>;
  subjects: Partial<Record<'en' | 'es' | 'it', string>>;
  expectsReply: boolean;
  updatedBy: string;
  updatedAt: Date;
}

export type ScheduledStatus = 'scheduled' | 'sent' | 'confirmed' | 'cancelled' | 'reschedule_requested' | 'withdrawn' | 'skipped' | 'failed';

/**
 * A message the clinic schedules for a patient (server/outreach/scheduled/):
 * claimed by one hub node with a lease on `dueAt` (like the outbox), deferred
 * past the patient's quiet hours, queued through the outbox once under the
 * provider key `scheduled:<_id>`, and, for a reminder, answered by the
 * patient's reply (`confirmed`, `cancelled`, `reschedule_requested`).
 */
export interface ScheduledMessageDoc {
  _id: string;
  patientId: string;
  /** The scheduling agent's team (supervisors list their teams'). */
  teamId: string;
  kind: 'reminder' | 'follow_up' | 'results_ready';
  template: string | null;
  language: 'en' | 'es' | 'it';
  requestedChannel: 'auto' | 'sms' | 'email';
  /** Rendered at scheduling, sealed; `{{link}}` stays until it goes out. */
  bodyEnc: string;
  subject: string | null;
  phiFree: boolean;
  sendAt: Date;
  /** The zone its quiet hours were judged in (the patient's, else the clinic's). */
  timeZone: string;
  /** Kinds in OUTREACH_URGENT_KINDS skip the quiet hours. */
  urgent: boolean;
  expectsReply: boolean;
  /** The clinic's own reference (its appointment id): given back in listings and webhooks. */
  externalRef: string | null;
  status: ScheduledStatus;
  statusChangedAt: Date;
  /** While scheduled: when it may go out next (a claim pushes it a lease ahead). Null once settled. */
  dueAt: Date | null;
  /** Set when quiet hours moved it: the instant it then waited for. */
  deferredUntil: Date | null;
  attempts: number;
  /** Why it was skipped or failed (no PHI): no_consent, no_verified_identity, opted_out, patient_merged, gave_up… */
  reason: string | null;
  channel: 'sms' | 'email' | null;
  conversationId: string | null;
  messageId: string | null;
  sentAt: Date | null;
  /** Replies are read until then. */
  replyUntil: Date | null;
  reply: { messageId: string; at: Date; channel: 'sms' | 'email' } | null;
  createdBy: string;
  withdrawnBy: string | null;
  createdAt: Date;
}

/** An outgoing webhook call (OUTBOUND_WEBHOOK_URL), kept until delivered: retried with backoff, by one node at a time. */
export interface WebhookDeliveryDoc {
  _id: string;
  event: string;
  /** The JSON body, exactly as signed and sent (ids and statuses: no PHI). */
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  dueAt: Date | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}
