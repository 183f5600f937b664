/** What the timeline's functions need, passed in rather than imported, so tests run them against the real store. */
import type { AuditLog } from '../audit/audit-log.ts';
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { DocumentLocks } from '../db/document-locks.ts';
import type { Models } from '../db/models.ts';
import type { Logger } from '../logger.ts';
import type { ConversationRecord, MessageRecord } from './records.ts';

export type Clock = () => Date;

/** Where the timeline announces what it stored; the realtime layer implements it. */
export interface TimelineEvents {
  messageCreated(message: MessageRecord, conversation: ConversationRecord): void;
  messageUpdated(message: MessageRecord, conversation: ConversationRecord): void;
  conversationUpdated(conversation: ConversationRecord): void;
  /** A conversation was folded into another (a web visitor proved to be a known patient); the first no longer exists. */
  conversationMerged(fromConversationId: string, into: ConversationRecord): void;
}

export interface TimelineContext {
  models: Models;
  /** Per-document serialization of updates (see document-locks.ts). */
  locks: DocumentLocks;
  cipher: PhiCipher;
  audit: AuditLog;
  clock: Clock;
  events: TimelineEvents;
  logger: Logger;
  settings: {
    defaultPhoneRegion: string;
    reopenWindowMs: number;
    defaultTeamId: string;
  };
  /** True while the patient has the web chat widget open on any hub node (the /widget namespace answers it; asking other nodes is async). */
  isWidgetConnected(patientId: string): boolean | Promise<boolean>;
  /** Wakes the delivery worker after a message is queued. */
  /** Tells the outbox to work now; with the id of a message just queued, it claims that one without looking for others. */
  kickDelivery(messageId?: string): void;
  /** An outbound message failed for good (server/delivery/delivery-fallback.ts offers it on another channel). */
  onDeliveryFailed?(message: import('../db/documents.ts').MessageDoc): void;
  /** The routing layer (server/routing/inbound-routing.ts): triage, after hours, assignment. */
  routeInbound?(inbound: {
    messageId: string;
    conversationId: string;
    opened: boolean;
    newPatient?: boolean;
    /** The message and its conversation as just written, when the caller has them (each saves routing a read). */
    stored?: { message: import('../db/documents.ts').MessageDoc; conversation: import('../db/documents.ts').ConversationDoc };
  }): Promise<void>;
  /** Imports a new message's provider-hosted attachments into the hub, in the background (media-import.ts). */
  importMedia?(messageId: string): void;
  /** The contact-center figures (server/reports/): told of the moments KPIs are made of. */
  kpis?: import('../reports/kpi-sink.ts').KpiSink;
  /** Satisfaction surveys (server/csat/): scheduled at a resolve; a text answering one is not a new request. */
  csat?: import('../csat/csat-surveys.ts').CsatTimelineHooks;
  /** Scheduled outreach (server/outreach/scheduled/): a short reply to a reminder is its answer, not a new request. */
  outreach?: import('../outreach/scheduled/scheduled-messages.ts').OutreachTimelineHooks;
  /** Sticky sender (server/delivery/sender-pool.ts): the clinic number each patient hears from. */
  smsSenders?: import('../delivery/sender-pool.ts').SenderPool;
  /** Told of every newly stored inbound message (e.g. to answer a first text with the clinic's card). */
  onInbound?(stored: { channel: string; patientId: string; conversationId: string; newPatient: boolean; impliesConsent: boolean }): void;
}
