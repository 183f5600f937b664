/**
 * The public shapes of stored documents: what REST answers and socket events
 * carry. Sealed PHI is opened here and nowhere else on the way out.
 */
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { ConversationDoc, MessageDoc, PatientDoc, IdentityDoc } from '../db/documents.ts';
import { isVerified, TRUST_LABELS, trustOf } from './identity/identity-trust.ts';

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
    /** Channel fallback: the message this one stands in for, and the one sent instead of this one. */
    fallback: doc.fallback ? { of: doc.fallback.of ?? null, next: doc.fallback.next && doc.fallback.next !== 'none' ? doc.fallback.next : null } : null,
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
    dateOfBirth: open(cipher, doc.dateOfBirthEnc),
    mrn: open(cipher, doc.mrnEnc),
    /** Teams that registered the patient (see access-policy.ts); empty for patients who wrote first. */
    teamIds: doc.teamIds ?? [],
    preferences: doc.preferences,
    consent: Object.fromEntries(
      Object.entries(doc.consent).map(([channel, c]) => [channel, { status: c.status, at: iso(c.at), source: c.source ?? null, capturedBy: c.capturedBy ?? null }]),
    ),
    consentHistory: (doc.consentHistory ?? []).map((h) => ({ ...h, at: iso(h.at) })),
    identities: identities.map((i) => toIdentityRecord(i, cipher)),
    /** Typed into the web chat's pre-chat form: shown as unverified, never used to send until proven by a code. */
    unverifiedContacts: (doc.claimedContacts ?? []).map((c) => ({ kind: c.kind, value: cipher.decrypt(c.valueEnc), at: iso(c.at) })),
    conversationCount: doc.conversationCount,
    createdAt: iso(doc.createdAt)!,
  };
}

/** Who a patient is, in one line (duplicate warnings). */
export function toPatientSummary(doc: Pick<PatientDoc, '_id' | 'nameEnc' | 'dateOfBirthEnc'>, cipher: PhiCipher) {
  return { id: doc._id, name: open(cipher, doc.nameEnc), dateOfBirth: open(cipher, doc.dateOfBirthEnc) };
}

export type PatientSearchRecord = ReturnType<typeof toPatientSearchRecord>;

/**
 * A search result: enough to pick the right patient, contacts masked. The
 * conversations are those the searching agent may see.
 */
export function toPatientSearchRecord(doc: PatientDoc, identities: IdentityDoc[], conversations: ConversationDoc[], cipher: PhiCipher) {
  const own = identities.filter((i) => !i.relation);
  const phone = preferredContact(own, 'phone');
  const email = preferredContact(own, 'email');
  const lastContact = Math.max(0, ...conversations.map((c) => new Date(c.lastMessageAt).getTime()));
  return {
    id: doc._id,
    name: open(cipher, doc.nameEnc),
    maskedPhone: phone ? maskPhone(cipher.decrypt(phone.valueEnc)) : null,
    maskedEmail: email ? maskEmail(cipher.decrypt(email.valueEnc)) : null,
    dateOfBirth: open(cipher, doc.dateOfBirthEnc),
    mrn: open(cipher, doc.mrnEnc),
    lastContactAt: lastContact > 0 ? new Date(lastContact).toISOString() : null,
    openConversations: conversations
      .filter((c) => c.status !== 'resolved')
      .map((c) => ({
        id: c._id, status: c.status, teamId: c.teamId, assigneeId: c.assigneeId ?? null, channels: c.channels,
        lastInboundChannel: c.lastInboundChannel ?? null, lastMessageAt: iso(c.lastMessageAt),
      })),
    teamIds: doc.teamIds ?? [],
    createdAt: iso(doc.createdAt),
  };
}

/** The patient's own address to show: a verified one first, then the most recently seen. */
function preferredContact(identities: IdentityDoc[], kind: 'phone' | 'email'): IdentityDoc | undefined {
  return identities
    .filter((i) => i.kind === kind)
    .sort((a, b) => Number(isVerified(b)) - Number(isVerified(a)) || new Date(b.lastSeenAt).getTime() - new Date(a.lastSeenAt).getTime())[0];
}

/** "+14155550100" -> "•••• 0100". */
export function maskPhone(e164: string): string {
  return `•••• ${e164.slice(-4)}`;
}

/** "dana@example.org" -> "d•••@example.org". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${Array.from(email.slice(0, at))[0] ?? ''}•••${email.slice(at)}`;
}
