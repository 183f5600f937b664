/**
 * The public shapes of stored documents: what REST answers and socket events
 * carry. Sealed PHI is opened here and nowhere else on the way out.
 */
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { ConversationDoc, MessageDoc, PatientDoc, IdentityDoc } from '../db/documents.ts';
import { TRUST_LABELS, trustOf } from './identity/identity-trust.ts';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
const open = (cipher: PhiCipher, sealed: string | null | undefined) => (sealed ? cipher.decrypt(sealed) : null);

export type MessageRecord = ReturnType<typeof toMessageRecord>;
export type ConversationRecord = ReturnType<typeof toConversationRecord>;
export type PatientRecord = ReturnType<typeof toPatientRecord>;

export function toMessageRecord(doc: MessageDoc, cipher: PhiCipher) {
  return {
    id: doc._id,
    conversationId: doc.conversationId,
    patientId: doc.patientId,
    seq: doc.seq,
    direction: doc.direction,
    channel: doc.channel,
    kind: doc.kind,
    body: open(cipher, doc.bodyEnc) ?? '',
    attachments: doc.attachments.map((a) => ({
      name: open(cipher, a.nameEnc),
      contentType: a.contentType,
      size: a.size,
      inline: Boolean(a.contentId),
      /** null when the file is kept by the hub; 'importing' while fetched from the provider; else why it could not be kept. */
      unavailable: a.unavailable ?? (a.ref.startsWith('blob:') ? null : 'importing'),
    })),
    author: { type: doc.author.type, agentId: doc.author.agentId ?? null },
    clientId: doc.clientId ?? null,
    channelReason: doc.channelReason ?? null,
    providerMessageId: doc.providerMessageId ?? null,
    /** Inbound email: the whole message as received can be opened (GET …/messages/:id/original). */
    hasOriginal: Boolean(doc.originalEnc),
    receptionNote: doc.receptionNote ?? null,
    /** Inbound only: who sent it and how far that is proven (agents see anything short of verified). */
    sender: doc.direction === 'inbound' ? senderOf(doc) : null,
    delivery: {
      status: doc.delivery.status,
      error: doc.delivery.error ?? null,
      history: doc.delivery.history.map((h) => ({ status: h.status, at: iso(h.at), errorCode: h.errorCode ?? null })),
    },
    createdAt: iso(doc.createdAt)!,
  };
}

export function toConversationRecord(doc: ConversationDoc, cipher: PhiCipher) {
  return {
    id: doc._id,
    patientId: doc.patientId,
    patientName: open(cipher, doc.patientNameEnc),
    /** The phone or email it started from: a label when the patient gave no name. */
    patientContact: open(cipher, doc.patientContactEnc),
    status: doc.status,
    assigneeId: doc.assigneeId ?? null,
    teamId: doc.teamId,
    priority: doc.priority,
    subject: doc.subject ?? null,
    channels: doc.channels,
    lastInboundChannel: doc.lastInboundChannel ?? null,
    lastMessageAt: iso(doc.lastMessageAt)!,
    lastSeq: doc.lastSeq,
    preview: { body: open(cipher, doc.previewEnc), direction: doc.previewDirection ?? null },
    unreadCount: doc.unreadCount,
    messageCount: doc.messageCount,
    openedAt: iso(doc.openedAt)!,
    firstResponseAt: iso(doc.firstResponseAt),
    /** An emergency or crisis signal (category, label for agents, when), until the conversation is resolved. */
    triage: doc.triage && doc.status !== 'resolved' ? { category: doc.triage.category, label: doc.triage.label, at: iso(doc.triage.at) } : null,
    /** Since when it waits for an agent (open and unassigned); null once someone has it. */
    waitingSince: doc.assigneeId ? null : iso(doc.waitingSince),
    possibleOptOut: doc.possibleOptOut ? { messageId: doc.possibleOptOut.messageId, channel: doc.possibleOptOut.channel, at: iso(doc.possibleOptOut.at) } : null,
    assignedAt: iso(doc.assignedAt),
    resolvedAt: iso(doc.resolvedAt),
    reopenedAt: iso(doc.reopenedAt),
    reopenCount: doc.reopenCount,
  };
}

export type IdentityRecord = ReturnType<typeof toIdentityRecord>;

export function toIdentityRecord(i: IdentityDoc, cipher: PhiCipher) {
  const trust = trustOf(i);
  return {
    id: i._id,
    kind: i.kind,
    value: cipher.decrypt(i.valueEnc),
    trust,
    trustLabel: TRUST_LABELS[trust],
    evidence: i.trustEvidence ?? null,
    verified: trust === 'verified',
    shared: Boolean(i.sharedAt),
    /** A related contact (guardian, caregiver), not the patient; with their own name and consent. */
    relation: i.relation ?? null,
    contactName: i.contactNameEnc ? cipher.decrypt(i.contactNameEnc) : null,
    contactConsent: i.relation ? { status: i.contactConsent?.status ?? 'unknown', at: iso(i.contactConsent?.at), source: i.contactConsent?.source ?? null } : null,
    undeliverable: Boolean(i.undeliverableAt),
    lastSeenAt: iso(i.lastSeenAt),
  };
}

function senderOf(doc: MessageDoc) {
  const trust = doc.senderTrust ?? null;
  const authenticated = !doc.senderUnauthenticated;
  const verified = authenticated && (trust === null || trust === 'verified');
  return {
    identityId: doc.senderIdentityId ?? null,
    trust,
    authenticated,
    verified,
    /** What the inbox shows beside a message whose sender is not proven. */
    note: !authenticated ? 'Sender not verified: this email failed sender authentication (SPF/DKIM)' : verified ? null : `Sender ${TRUST_LABELS[trust!]}`,
  };
}

export function toPatientRecord(doc: PatientDoc, identities: IdentityDoc[], cipher: PhiCipher) {
  return {
    id: doc._id,
    name: open(cipher, doc.nameEnc),
    preferences: doc.preferences,
    consent: Object.fromEntries(
      Object.entries(doc.consent).map(([channel, c]) => [channel, { status: c.status, at: iso(c.at), source: c.source ?? null }]),
    ),
    consentHistory: (doc.consentHistory ?? []).map((h) => ({ ...h, at: iso(h.at) })),
    identities: identities.map((i) => toIdentityRecord(i, cipher)),
    /** Typed into the web chat's pre-chat form: shown as unverified, never used to send until proven by a code. */
    unverifiedContacts: (doc.claimedContacts ?? []).map((c) => ({ kind: c.kind, value: cipher.decrypt(c.valueEnc), at: iso(c.at) })),
    conversationCount: doc.conversationCount,
    createdAt: iso(doc.createdAt)!,
  };
}
