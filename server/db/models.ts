/**
 * The collections and their indexes. Models are bound to one mongoose
 * connection (no global mongoose), so tests can run several hubs in one process.
 *
 * FerretDB 1.x on SQLite builds no index on nested fields or arrays, so every
 * uniqueness the product relies on is `_id` or a top-level field:
 * identities (`_id` = kind + blind index), messages (`providerKey`, `seqKey`),
 * agents (`email`), MRNs (patient claims, `_id` = `mrn:` + blind index). test/integration/store/uniqueness.test.ts proves each one.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type {
  AccessGrantDoc,
  AttachmentBlobDoc,
  AgentDoc,
  CannedResponseDoc,
  HubSettingDoc,
  IdentitySuggestionDoc,
  PatientClaimDoc,
  CsatSurveyDoc,
  MessageTemplateDoc,
  ScheduledMessageDoc,
  WebhookDeliveryDoc,
  AuditEventDoc,
  ConversationDoc,
  DevOutboxDoc,
  IdentityDoc,
  LoginThrottleDoc,
  MessageDoc,
  PatientDoc,
  RateLimitDoc,
  SessionDoc,
  TeamDoc,
  VerificationChallengeDoc,
} from './documents.ts';
import type { KpiBucketDoc, KpiConversationDoc } from '../reports/kpi-documents.ts';
import type { SmsNumberDoc, SmsNumberStatsDoc } from '../delivery/number-documents.ts';

const options = { versionKey: false as const, minimize: false, strict: 'throw' as const, autoIndex: false, autoCreate: false };

const consentSchema = new Schema(
  { status: { type: String, default: 'unknown' }, at: Date, source: String, wording: String, capturedBy: String },
  { _id: false },
);

const patientSchema = new Schema<PatientDoc>(
  {
    _id: String,
    nameEnc: { type: String, default: null },
    preferences: {
      channel: { type: String, default: null },
      language: { type: String, default: null },
      timezone: { type: String, default: null },
    },
    consent: {
      sms: { type: consentSchema, default: () => ({ status: 'unknown' }) },
      email: { type: consentSchema, default: () => ({ status: 'unknown' }) },
      webchat: { type: consentSchema, default: () => ({ status: 'unknown' }) },
    },
    consentHistory: { type: [{ channel: String, status: String, at: Date, source: String, wording: String, capturedBy: String, _id: false }], default: [] },
    latestConversationId: { type: String, default: null },
    conversationCount: { type: Number, default: 0 },
    claimedContacts: { type: [{ kind: String, valueEnc: String, at: Date, _id: false }], default: [] },
    mergedInto: { type: String, default: null },
    contactCardRevision: { type: String, default: null },
    smsSender: { type: new Schema({ number: String, assignedAt: Date }, { _id: false }), default: null },
    dateOfBirthEnc: { type: String, default: null },
    mrnEnc: { type: String, default: null },
    searchKeys: { type: [String], default: [] },
    mrnKey: { type: String, default: null },
    nameDobKey: { type: String, default: null },
    teamIds: { type: [String], default: [] },
    createdBy: { type: String, default: null },
    csat: {
      type: new Schema(
        {
          lastSurveyId: { type: String, default: null },
          lastSentAt: { type: Date, default: null },
          awaiting: { type: new Schema({ surveyId: String, channel: String, until: Date }, { _id: false }), default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    outreach: {
      type: new Schema(
        { awaiting: { type: new Schema({ scheduledMessageId: String, channel: String, sentAt: Date, until: Date }, { _id: false }), default: null } },
        { _id: false },
      ),
      default: null,
    },
    createdAt: Date,
    updatedAt: Date,
  },
  { ...options, collection: 'patients' },
);
// Patient search and duplicate checks (multikey on MongoDB; FerretDB scans).
// Patient search: a key (or all of several) among unmerged patients, in _id order for the cursor.
patientSchema.index({ searchKeys: 1, _id: 1 });
patientSchema.index({ mrnKey: 1 });
patientSchema.index({ nameDobKey: 1 });
// The contact card rollout finds patients sent an older card.
patientSchema.index({ contactCardRevision: 1 });
// How many patients hear from each sending number (GET /api/numbers/health).
patientSchema.index({ 'smsSender.number': 1 });

const identitySchema = new Schema<IdentityDoc>(
  {
    _id: String,
    kind: String,
    patientId: String,
    valueEnc: String,
    trust: { type: String },
    trustEvidence: { type: String, default: null },
    verifiedAt: { type: Date, default: null },
    verifiedBy: { type: String, default: null },
    sharedAt: { type: Date, default: null },
    mergedFromPatientId: { type: String, default: null },
    relation: { type: String, default: null },
    contactNameEnc: { type: String, default: null },
    contactConsent: { type: { status: String, at: Date, source: String, wording: String, _id: false }, default: null },
    undeliverableAt: { type: Date, default: null },
    undeliverableReason: { type: String, default: null },
    routeToTeamId: { type: String, default: null },
    lastSeenAt: Date,
    createdAt: Date,
    linkedBy: { type: String, default: null },
    linkedAt: { type: Date, default: null },
    tokensRevokedAt: { type: Date, default: null },
  },
  { ...options, collection: 'identities' },
);
identitySchema.index({ patientId: 1 });

const conversationSchema = new Schema<ConversationDoc>(
  {
    _id: String,
    patientId: String,
    status: String,
    assigneeId: { type: String, default: null },
    teamId: String,
    priority: String,
    subject: { type: String, default: null },
    channels: [String],
    lastInboundChannel: { type: String, default: null },
    lastInboundAt: { type: Date, default: null },
    lastMessageAt: Date,
    lastSeq: Number,
    previewEnc: { type: String, default: null },
    previewDirection: { type: String, default: null },
    patientNameEnc: { type: String, default: null },
    patientContactEnc: { type: String, default: null },
    possibleOptOut: { type: { messageId: String, channel: String, at: Date, _id: false }, default: null },
    triage: { type: { category: String, label: String, at: Date, messageId: String, lastReplyAt: Date, _id: false }, default: null },
    afterHoursKey: { type: String, default: null },
    awaitingDepartment: { type: Boolean, default: null },
    waitingSince: { type: Date, default: null },
    escalatedAt: { type: Date, default: null },
    unreadCount: Number,
    messageCount: Number,
    openedAt: Date,
    firstResponseAt: { type: Date, default: null },
    assignedAt: { type: Date, default: null },
    resolvedAt: { type: Date, default: null },
    reopenedAt: { type: Date, default: null },
    reopenCount: Number,
    updatedAt: Date,
  },
  { ...options, collection: 'conversations' },
);
// The inbox list sorts newest activity first within each filter.
conversationSchema.index({ lastMessageAt: -1, _id: -1 });
conversationSchema.index({ status: 1, lastMessageAt: -1, _id: -1 });
conversationSchema.index({ teamId: 1, lastMessageAt: -1, _id: -1 });
conversationSchema.index({ assigneeId: 1, lastMessageAt: -1, _id: -1 });
// The inbox filtered by channel alone (an admin's "SMS" view).
conversationSchema.index({ channels: 1, lastMessageAt: -1, _id: -1 });
conversationSchema.index({ patientId: 1, openedAt: -1 });
// A patient's conversations, most recent first (patient search, the patient page).
conversationSchema.index({ patientId: 1, lastMessageAt: -1 });
// The inbox filtered by priority alone.
conversationSchema.index({ priority: 1, lastMessageAt: -1, _id: -1 });
// The assignment sweep: unassigned open conversations, longest waiting first.
conversationSchema.index({ status: 1, assigneeId: 1, waitingSince: 1 });

const attachmentSchema = new Schema(
  { nameEnc: String, contentType: String, size: Number, ref: String, contentId: String, unavailable: String },
  { _id: false },
);

const messageSchema = new Schema<MessageDoc>(
  {
    _id: String,
    conversationId: String,
    patientId: String,
    seq: Number,
    seqKey: String,
    providerKey: String,
    providerMessageId: { type: String, default: null },
    direction: String,
    channel: String,
    kind: String,
    bodyEnc: String,
    attachments: { type: [attachmentSchema], default: [] },
    author: { type: { type: String }, agentId: { type: String, default: null } },
    clientId: { type: String, default: null },
    channelReason: { type: String, default: null },
    recipientIdentityId: { type: String, default: null },
    senderIdentityId: { type: String, default: null },
    senderTrust: { type: String, default: null },
    senderUnauthenticated: { type: String, default: null },
    originalEnc: { type: String, default: null },
    receptionNote: { type: String, default: null },
    emailMessageId: { type: String, default: null },
    fromNumber: { type: String, default: null },
    delivery: {
      status: String,
      history: { type: [{ status: String, at: Date, errorCode: String, _id: false }], default: [] },
      error: { type: { code: String, message: String, retryable: Boolean, suggestion: String }, default: null, _id: false },
      eventIds: { type: [String], default: undefined },
    },
    fallback: { type: { of: String, next: String, tried: [String], _id: false }, default: null },
    outboxDueAt: { type: Date, default: null },
    fallbackDueAt: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    createdAt: Date,
  },
  { ...options, collection: 'messages' },
);
messageSchema.index({ providerKey: 1 }, { unique: true });
messageSchema.index({ seqKey: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, seq: 1 });
messageSchema.index({ outboxDueAt: 1 });
messageSchema.index({ fallbackDueAt: 1 });
messageSchema.index({ providerMessageId: 1 });
messageSchema.index({ emailMessageId: 1 });
messageSchema.index({ senderIdentityId: 1 });
messageSchema.index({ recipientIdentityId: 1 });
messageSchema.index({ patientId: 1, createdAt: -1 });
// Media imports to resume: files not marked unavailable still pointing at the provider (a prefix regex on https://).
messageSchema.index({ 'attachments.unavailable': 1, 'attachments.ref': 1 });

const agentSchema = new Schema<AgentDoc>(
  {
    _id: String,
    email: String,
    name: String,
    role: String,
    teamIds: [String],
    passwordHash: String,
    totpSecretEnc: { type: String, default: null },
    totpEnabledAt: { type: Date, default: null },
    totpLastStep: { type: Number, default: null },
    totpPendingSecretEnc: { type: String, default: null },
    disabledAt: { type: Date, default: null },
    createdAt: Date,
    status: { type: String, default: 'offline' },
    statusAt: { type: Date, default: null },
    languages: { type: [String], default: [] },
    skills: { type: [String], default: [] },
  },
  { ...options, collection: 'agents' },
);
agentSchema.index({ email: 1 }, { unique: true });

const teamSchema = new Schema<TeamDoc>(
  {
    _id: String,
    name: String,
    createdAt: Date,
    hours: { type: Schema.Types.Mixed, default: null },
    routing: { type: { mode: String, maxOpenPerAgent: Number, escalateAfterMinutes: Number, _id: false }, default: null },
    lastAssignedAt: { type: Schema.Types.Mixed, default: null },
    department: { type: { label: String, smsKey: String, _id: false }, default: null },
  },
  { ...options, collection: 'teams' },
);

const sessionSchema = new Schema<SessionDoc>(
  {
    _id: String,
    agentId: String,
    refreshHash: String,
    expiresAt: Date,
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
    createdAt: Date,
    lastRefreshAt: Date,
    lastActivityAt: Date,
    retiredRefreshHashes: { type: [String], default: [] },
  },
  { ...options, collection: 'sessions' },
);
sessionSchema.index({ agentId: 1, revokedAt: 1, lastActivityAt: -1 });

const loginThrottleSchema = new Schema<LoginThrottleDoc>(
  { _id: String, failures: Number, lockedUntil: { type: Date, default: null }, lastFailureAt: Date },
  { ...options, collection: 'login_throttle' },
);

const devOutboxSchema = new Schema<DevOutboxDoc>(
  { _id: String, channel: String, messageId: String, requestEnc: String, createdAt: Date },
  { ...options, collection: 'dev_outbox' },
);
devOutboxSchema.index({ createdAt: -1, _id: -1 });
devOutboxSchema.index({ channel: 1, createdAt: -1, _id: -1 });

const auditEventSchema = new Schema<AuditEventDoc>(
  {
    _id: Number,
    at: Date,
    action: String,
    actorId: { type: String, default: null },
    actorRole: { type: String, default: null },
    sessionId: { type: String, default: null },
    via: String,
    ip: { type: String, default: null },
    patientId: { type: String, default: null },
    conversationId: { type: String, default: null },
    outcome: String,
    flagged: Boolean,
    reason: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
    prevHash: String,
    hash: String,
    keyId: { type: String, default: null },
  },
  { ...options, collection: 'audit_events' },
);
auditEventSchema.index({ at: -1 });
auditEventSchema.index({ patientId: 1, at: -1 });
auditEventSchema.index({ actorId: 1, at: -1 });
// The audit viewer: newest first (_id is the entry's number) by actor, action or conversation.
auditEventSchema.index({ actorId: 1, _id: -1 });
auditEventSchema.index({ action: 1, _id: -1 });
auditEventSchema.index({ conversationId: 1, _id: -1 });

const accessGrantSchema = new Schema<AccessGrantDoc>(
  { _id: String, sessionId: String, agentId: String, conversationId: String, reason: String, createdAt: Date, expiresAt: Date },
  { ...options, collection: 'access_grants' },
);
accessGrantSchema.index({ sessionId: 1, conversationId: 1, expiresAt: -1 });

const attachmentBlobSchema = new Schema<AttachmentBlobDoc>(
  { _id: String, contentType: String, size: Number, dataEnc: String, nameEnc: { type: String, default: null }, uploadedBy: { type: String, default: null }, pendingSince: { type: Date, default: null }, createdAt: Date },
  { ...options, collection: 'attachment_blobs' },
);
// The housekeeping sweep of uploads no message claimed.
attachmentBlobSchema.index({ pendingSince: 1 });

const verificationChallengeSchema = new Schema<VerificationChallengeDoc>(
  {
    _id: String, channel: String, targetKey: String, targetValueEnc: String, codeHash: String,
    attempts: Number, consentWording: String, expiresAt: Date, createdAt: Date,
  },
  { ...options, collection: 'verification_challenges' },
);

const cannedResponseSchema = new Schema<CannedResponseDoc>(
  { _id: String, teamId: String, shortcut: String, title: String, body: String, createdBy: String, createdAt: Date },
  { ...options, collection: 'canned_responses' },
);
cannedResponseSchema.index({ teamId: 1 });

const hubSettingSchema = new Schema<HubSettingDoc>(
  { _id: String, value: { type: Schema.Types.Mixed, default: {} }, updatedAt: Date },
  { ...options, collection: 'hub_settings' },
);

const rateLimitSchema = new Schema<RateLimitDoc>({ _id: String, hits: [Date], rev: Number, count: Number, expiresAt: { type: Date, default: null } }, { ...options, collection: 'rate_limits' });
rateLimitSchema.index({ expiresAt: 1 });

const identitySuggestionSchema = new Schema<IdentitySuggestionDoc>(
  {
    _id: String,
    patientIds: [String],
    identityId: { type: String, default: null },
    evidence: String,
    occurrences: { type: Number, default: 1 },
    createdAt: Date,
    lastSeenAt: Date,
    resolvedAt: { type: Date, default: null },
    resolvedBy: { type: String, default: null },
    resolution: { type: String, default: null },
  },
  { ...options, collection: 'identity_suggestions' },
);
identitySuggestionSchema.index({ resolvedAt: 1, lastSeenAt: -1 });

// Unique by `_id` (`mrn:<key>`); see patient-claims.ts.
const patientClaimSchema = new Schema<PatientClaimDoc>({ _id: String, patientId: String, at: Date }, { ...options, collection: 'patient_claims' });

// Satisfaction surveys (server/csat/): one per resolve, claimed with a lease on dueAt like the outbox.
const csatSurveySchema = new Schema<CsatSurveyDoc>(
  {
    _id: String,
    conversationId: String,
    patientId: String,
    teamId: String,
    reopenCount: Number,
    channel: String,
    language: String,
    status: String,
    dueAt: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    skipReason: { type: String, default: null },
    resolvedAt: Date,
    sentAt: { type: Date, default: null },
    expiresAt: { type: Date, default: null },
    messageId: { type: String, default: null },
    answeredAt: { type: Date, default: null },
    answerChannel: { type: String, default: null },
    answerMessageId: { type: String, default: null },
    score: { type: Number, default: null },
    commentEnc: { type: String, default: null },
    hasComment: { type: Boolean, default: false },
    createdAt: Date,
  },
  { ...options, collection: 'csat_surveys' },
);
// The survey worker: due ones, earliest first.
csatSurveySchema.index({ dueAt: 1 });
// The comments report: all teams (admins), or the supervisor's teams; newest first.
csatSurveySchema.index({ hasComment: 1, answeredAt: -1 });
csatSurveySchema.index({ teamId: 1, hasComment: 1, answeredAt: -1 });

// Contact-center figures (server/reports/): a facts document per conversation, buckets per hour and per day.
const kpiConversationSchema = new Schema<KpiConversationDoc>(
  {
    _id: String,
    rev: Number,
    moments: { type: Schema.Types.Mixed, default: () => [] },
    applied: { type: [String], default: [] },
    fcrDueAt: { type: Date, default: null },
    firstResponse: { type: Schema.Types.Mixed, default: null },
    updatedAt: Date,
  },
  { ...options, collection: 'kpi_conversations' },
);
// First-contact resolutions decided by time: the ones due.
kpiConversationSchema.index({ fcrDueAt: 1 });

const kpiBucketFields = {
  _id: String, period: Date, teamId: String, channel: String, agentId: String,
  conversations: Number, webchats: Number, abandoned: Number, fcrDecided: Number, fcrResolved: Number,
  csatResponses: Number, csatSum: Number, csatSatisfied: Number,
  firstResponse: Schema.Types.Mixed, response: Schema.Types.Mixed, queue: Schema.Types.Mixed, handle: Schema.Types.Mixed,
};
const kpiHourlySchema = new Schema<KpiBucketDoc>(kpiBucketFields, { ...options, collection: 'kpi_hourly' });
const kpiDailySchema = new Schema<KpiBucketDoc>(kpiBucketFields, { ...options, collection: 'kpi_daily' });
// A report: one agent key (an agent, or * for all), the teams it may see, a range of periods.
for (const schema of [kpiHourlySchema, kpiDailySchema]) {
  schema.index({ agentId: 1, teamId: 1, period: 1 });
  schema.index({ agentId: 1, period: 1 });
}

// Outreach (server/outreach/): the clinic's templates, scheduled messages, outgoing webhook calls.
const messageTemplateSchema = new Schema<MessageTemplateDoc>(
  {
    _id: String, kind: String, description: String, bodies: Schema.Types.Mixed, phiFreeBodies: Schema.Types.Mixed, subjects: Schema.Types.Mixed,
    expectsReply: Boolean, updatedBy: String, updatedAt: Date,
  },
  { ...options, collection: 'message_templates' },
);
const scheduledMessageSchema = new Schema<ScheduledMessageDoc>(
  {
    _id: String, patientId: String, teamId: String, kind: String, template: { type: String, default: null }, language: String,
    requestedChannel: String, bodyEnc: String, subject: { type: String, default: null }, phiFree: Boolean, sendAt: Date, timeZone: String,
    urgent: Boolean, expectsReply: Boolean, externalRef: { type: String, default: null }, status: String, statusChangedAt: Date,
    dueAt: { type: Date, default: null }, deferredUntil: { type: Date, default: null }, attempts: { type: Number, default: 0 },
    reason: { type: String, default: null }, channel: { type: String, default: null }, conversationId: { type: String, default: null },
    messageId: { type: String, default: null }, sentAt: { type: Date, default: null }, replyUntil: { type: Date, default: null },
    reply: { type: new Schema({ messageId: String, at: Date, channel: String }, { _id: false }), default: null },
    createdBy: String, withdrawnBy: { type: String, default: null }, createdAt: Date,
  },
  { ...options, collection: 'scheduled_messages' },
);
// The worker: due ones, earliest first.
scheduledMessageSchema.index({ dueAt: 1 });
// A patient's scheduled messages, by send time.
scheduledMessageSchema.index({ patientId: 1, sendAt: 1 });
// The scheduling system's feed: changes since, of one status (or all), in the teams it may see.
scheduledMessageSchema.index({ status: 1, statusChangedAt: 1, _id: 1 });
scheduledMessageSchema.index({ statusChangedAt: 1, _id: 1 });
scheduledMessageSchema.index({ teamId: 1, status: 1, statusChangedAt: 1, _id: 1 });
scheduledMessageSchema.index({ teamId: 1, statusChangedAt: 1, _id: 1 });
const webhookDeliverySchema = new Schema<WebhookDeliveryDoc>(
  {
    _id: String, event: String, payload: String, status: String, dueAt: { type: Date, default: null }, attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null }, createdAt: Date, deliveredAt: { type: Date, default: null },
  },
  { ...options, collection: 'webhook_deliveries' },
);
webhookDeliverySchema.index({ dueAt: 1 });

// Sending numbers' reputation (server/delivery/number-health.ts): a flag per number, counters per number and UTC hour.
const smsNumberSchema = new Schema<SmsNumberDoc>(
  { _id: String, flaggedAt: { type: Date, default: null }, flagReason: { type: String, default: null }, restoredAt: { type: Date, default: null }, restoredBy: { type: String, default: null }, updatedAt: Date },
  { ...options, collection: 'sms_numbers' },
);
const smsNumberStatsSchema = new Schema<SmsNumberStatsDoc>(
  {
    _id: String, number: String, hour: Date,
    sent: Number, delivered: Number, undelivered: Number, failed: Number, e30007: Number, e30003: Number, e30005: Number, e30006: Number, optOuts: Number,
  },
  { ...options, collection: 'sms_number_stats' },
);
// A window of one or all numbers: equality on the number(s), a range of hours.
smsNumberStatsSchema.index({ number: 1, hour: 1 });

export interface Models {
  Patient: Model<PatientDoc>;
  Identity: Model<IdentityDoc>;
  Conversation: Model<ConversationDoc>;
  Message: Model<MessageDoc>;
  Agent: Model<AgentDoc>;
  Team: Model<TeamDoc>;
  Session: Model<SessionDoc>;
  LoginThrottle: Model<LoginThrottleDoc>;
  DevOutbox: Model<DevOutboxDoc>;
  AuditEvent: Model<AuditEventDoc>;
  AccessGrant: Model<AccessGrantDoc>;
  AttachmentBlob: Model<AttachmentBlobDoc>;
  VerificationChallenge: Model<VerificationChallengeDoc>;
  RateLimit: Model<RateLimitDoc>;
  CannedResponse: Model<CannedResponseDoc>;
  HubSetting: Model<HubSettingDoc>;
  IdentitySuggestion: Model<IdentitySuggestionDoc>;
  PatientClaim: Model<PatientClaimDoc>;
  CsatSurvey: Model<CsatSurveyDoc>;
  MessageTemplate: Model<MessageTemplateDoc>;
  ScheduledMessage: Model<ScheduledMessageDoc>;
  WebhookDelivery: Model<WebhookDeliveryDoc>;
  KpiConversation: Model<KpiConversationDoc>;
  KpiHourly: Model<KpiBucketDoc>;
  KpiDaily: Model<KpiBucketDoc>;
  SmsNumber: Model<SmsNumberDoc>;
  SmsNumberStats: Model<SmsNumberStatsDoc>;
}

export function bindModels(connection: Connection): Models {
  return {
    Patient: connection.model<PatientDoc>('Patient', patientSchema),
    Identity: connection.model<IdentityDoc>('Identity', identitySchema),
    Conversation: connection.model<ConversationDoc>('Conversation', conversationSchema),
    Message: connection.model<MessageDoc>('Message', messageSchema),
    Agent: connection.model<AgentDoc>('Agent', agentSchema),
    Team: connection.model<TeamDoc>('Team', teamSchema),
    Session: connection.model<SessionDoc>('Session', sessionSchema),
    LoginThrottle: connection.model<LoginThrottleDoc>('LoginThrottle', loginThrottleSchema),
    DevOutbox: connection.model<DevOutboxDoc>('DevOutbox', devOutboxSchema),
    AuditEvent: connection.model<AuditEventDoc>('AuditEvent', auditEventSchema),
    AccessGrant: connection.model<AccessGrantDoc>('AccessGrant', accessGrantSchema),
    AttachmentBlob: connection.model<AttachmentBlobDoc>('AttachmentBlob', attachmentBlobSchema),
    VerificationChallenge: connection.model<VerificationChallengeDoc>('VerificationChallenge', verificationChallengeSchema),
    RateLimit: connection.model<RateLimitDoc>('RateLimit', rateLimitSchema),
    CannedResponse: connection.model<CannedResponseDoc>('CannedResponse', cannedResponseSchema),
    HubSetting: connection.model<HubSettingDoc>('HubSetting', hubSettingSchema),
    IdentitySuggestion: connection.model<IdentitySuggestionDoc>('IdentitySuggestion', identitySuggestionSchema),
    PatientClaim: connection.model<PatientClaimDoc>('PatientClaim', patientClaimSchema),
    KpiConversation: connection.model<KpiConversationDoc>('KpiConversation', kpiConversationSchema),
    KpiHourly: connection.model<KpiBucketDoc>('KpiHourly', kpiHourlySchema),
    KpiDaily: connection.model<KpiBucketDoc>('KpiDaily', kpiDailySchema),
    SmsNumber: connection.model<SmsNumberDoc>('SmsNumber', smsNumberSchema),
    SmsNumberStats: connection.model<SmsNumberStatsDoc>('SmsNumberStats', smsNumberStatsSchema),
    CsatSurvey: connection.model<CsatSurveyDoc>('CsatSurvey', csatSurveySchema),
    MessageTemplate: connection.model<MessageTemplateDoc>('MessageTemplate', messageTemplateSchema),
    ScheduledMessage: connection.model<ScheduledMessageDoc>('ScheduledMessage', scheduledMessageSchema),
    WebhookDelivery: connection.model<WebhookDeliveryDoc>('WebhookDelivery', webhookDeliverySchema),
  };
}

/** Creates collections and indexes; idempotent, run at every start. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models) as Model<unknown>[]) {
    await model.createCollection().catch((error: { code?: number }) => {
      if (error.code !== 48) throw error; // 48: NamespaceExists
    });
    await model.createIndexes();
  }
}

/**
 * True for a duplicate-key error: E11000 from MongoDB, and from FerretDB on an
 * insert. FerretDB 1.24 on SQLite answers a unique-index violation by an
 * *update* with InternalError (code 1) naming SQLite's "UNIQUE constraint
 * failed" (measured: a seqKey taken while a merge moves messages).
 */
export function isDuplicateKeyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errmsg } = error as { code?: unknown; errmsg?: unknown };
  return code === 11000 || (code === 1 && typeof errmsg === 'string' && errmsg.includes('UNIQUE constraint failed'));
}
