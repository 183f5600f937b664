/**
 * The one contract between the hub and its channels. A channel folder knows
 * its provider (verify, parse, normalize, send, map outcomes) and imports
 * nothing from server/: it speaks NormalizedInbound, OutboundEnvelope and
 * SendOutcome, and reaches the timeline only through the HubPorts the hub
 * hands it (server/channel-ports.ts implements them). Providers' words
 * (Twilio statuses, SendGrid events) never leak past a channel's folder.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ChannelId } from './channel-id.ts';

export type { ChannelId };

/** Where a message stands with its provider; only ever moves forward (failed/undelivered are final). */
export type DeliveryStatus = 'received' | 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed' | 'none';

/** What an adapter hands the timeline for every inbound message. */
export interface NormalizedInbound {
  channel: ChannelId;
  /** The sender as the channel saw it; the timeline normalizes it. */
  from: { kind: 'phone' | 'email' | 'web'; value: string };
  /** Unique per provider message, e.g. `twilio:SM…`; retries of it are stored once. */
  providerKey: string;
  providerMessageId?: string;
  body: string;
  /** The web chat widget's own id for a message it sent (shown back to it to replace the pending bubble). */
  clientId?: string;
  displayName?: string;
  subject?: string;
  attachments?: InboundAttachment[];
  /**
   * Mail a machine wrote (RFC 3834 auto-replies, out-of-office, bulk): stored as
   * an automatic-reply event, never as the patient's message (no unread, no
   * preview, no reopening, no preferred-channel change, not a patient response).
   */
  isAutomated?: boolean;
  /** A consent keyword (STOP, START) is not consent to be answered; default true. */
  impliesConsent?: boolean;
  /**
   * Whether the channel authenticated the sender; default true (Twilio's signed
   * webhook carries the carrier's number, the widget its visitor token). Email:
   * true only with SPF or DKIM aligned with the From domain. An unauthenticated
   * message is stored, marked, and never verifies, links or reopens anything.
   */
  authentication?: { authenticated: boolean; reason: string };
  /**
   * The whole message as received, before reply stripping (sealed like every
   * body): agents open it when stripping hid too much. `html` is sanitised.
   */
  original?: { text?: string; html?: string };
  /** Something the channel could not do exactly (e.g. an unknown charset), said on the message for agents. */
  receptionNote?: string;
  /** The sender asked to stop in words that are not a keyword ("stop texting me"): flagged for an agent, consent unchanged. */
  possibleOptOut?: boolean;
  /** The clinic's address it was sent to (SMS: the number the patient texted, Twilio's `To`, E.164). */
  to?: string;
}

export interface InboundAttachment {
  name: string;
  contentType: string;
  size: number;
  /**
   * `blob:<id>` when the channel stored the bytes (ports.files.store), or the
   * provider's URL: the hub then imports it in the background with the
   * adapter's fetchAttachment and stores it sealed.
   */
  ref: string;
  /** An inline part of an HTML email (its Content-ID, without angle brackets). */
  contentId?: string;
}

/** One outbound message, addressed, ready for a provider. */
export interface OutboundEnvelope {
  messageId: string;
  conversationId: string;
  channel: ChannelId;
  /** E.164 phone, lowercased email or web visitor id. */
  to: string;
  /** SMS: the clinic number to send from (the patient's sticky sender, chosen by the hub); absent: the channel's default. */
  from?: string;
  body: string;
  subject?: string;
  /** Public URLs of media to attach (MMS). */
  mediaUrls?: string[];
  /** Files to attach (email). */
  attachments?: { name: string; contentType: string; content: Buffer }[];
  /** Email threading, worked out by the hub from the conversation. */
  email?: {
    /** This message's own Message-ID header, `<id@domain>`. */
    messageIdHeader: string;
    inReplyTo?: string;
    references: string[];
    /** The conversation's reply address (plus-addressed, signed). */
    replyTo: string;
    subject: string;
  };
}

export type OutboundStatus = 'sent' | 'delivered' | 'queued';

export interface SendFailure {
  code: string;
  message: string;
  retryable: boolean;
  /** The provider's own code (e.g. Twilio 21610), for support. */
  providerCode?: string;
  /** The next step for the agent ("filtered by the carrier as spam: try email or web chat"). */
  suggestion?: string;
  /** The provider says the patient unsubscribed: record the opt-out. */
  recipientOptedOut?: boolean;
}

export type SendOutcome =
  | {
      ok: true;
      providerMessageId: string;
      status: OutboundStatus;
      /** Sandbox transports: run once the provider id is stored (e.g. a simulated delivery callback). */
      afterRecorded?: () => Promise<void>;
    }
  | { ok: false; error: SendFailure };

export interface ChannelAdapter {
  readonly id: ChannelId;
  /** Human label for agents ("SMS", "Email", "Web chat"). */
  readonly label: string;
  send(envelope: OutboundEnvelope): Promise<SendOutcome>;
  /**
   * Fetches an inbound attachment from the provider by its URL, adding the
   * provider's credentials. A failure says whether trying again may help.
   */
  fetchAttachment?(ref: string): Promise<FetchedAttachment>;
  /** Deletes the provider's copy once the hub holds the file sealed (HIPAA deployments keep no PHI at the provider). */
  deleteAttachment?(ref: string): Promise<void>;
}

export type FetchedAttachment =
  | { ok: true; contentType: string; data: Buffer }
  | { ok: false; retryable: boolean; reason: string };

/** A channel as the registry hands it to the hub: its adapter and the webhooks it serves. */
export interface Channel {
  readonly adapter: ChannelAdapter;
  readonly routes: readonly ChannelRoute[];
}

/**
 * A webhook a channel serves. The hub mounts it publicly (the channel checks
 * the provider's signature itself) and lists it in the OpenAPI document.
 * Bodies arrive as the hub parsed them for the path (see `bodyParsing`).
 */
export interface ChannelRoute {
  method: 'get' | 'post';
  path: string;
  summary: string;
  /** 'form': urlencoded fields; 'raw': the exact bytes (signatures cover them); 'stream': the handler reads the request itself. */
  bodyParsing: 'form' | 'raw' | 'stream';
  body?: z.ZodType;
  responses: Record<number, { description: string }>;
  /** Answers JSON with what it returns, or answers itself through `res` and returns undefined. */
  handler(input: { req: Request; res: Response; body: unknown }): Promise<unknown>;
}

/** Refusals a webhook answers with; the hub turns them into its error shape and status. */
export class ChannelError extends Error {
  constructor(
    readonly kind: 'invalid_input' | 'forbidden' | 'payload_too_large',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** What the hub did with an inbound message. */
export interface IngestReceipt {
  patientId: string;
  conversationId: string;
  messageId: string;
  /** The identity the message came from (a related contact's own, when it was theirs). */
  senderIdentityId: string | null;
  /** The provider re-posted a message already stored: nothing changed. */
  duplicate: boolean;
}

/** A provider's word about an outbound message. */
export interface DeliveryUpdate {
  /** Our message id (SendGrid's custom arg) or the provider's (Twilio's sid). */
  message: { id: string } | { providerMessageId: string };
  channel: ChannelId;
  /** Omitted for events that change no status (an unsubscribe). */
  status?: DeliveryStatus;
  failure?: SendFailure;
  /** The provider's id for this event: an event applied once is never applied again (re-posted batches). */
  eventId?: string;
  /**
   * The address itself cannot receive (a hard bounce, a landline), in words
   * for agents ("the email address bounced"): replies skip it until the
   * patient writes from it again, and the channel picker says why.
   */
  recipientUndeliverable?: string;
}

export interface DeliveryReceipt {
  /** False for a message the hub never sent (or on another channel). */
  known: boolean;
  /** The event was applied before (its eventId is remembered): nothing changed. */
  duplicate: boolean;
  /** False when the event was a duplicate or its status would go backwards. */
  applied: boolean;
  /** Set when known, so a consent change can follow. */
  patientId?: string;
  recipientIdentityId?: string | null;
}

export interface ConsentChange {
  patientId: string;
  /** The address it came from: a related contact's consent is their own, never the patient's. */
  identityId: string | null | undefined;
  channel: ChannelId;
  status: 'opted_in' | 'opted_out';
  /** Why, for the consent history (e.g. `sms_keyword:STOP`, `sendgrid_unsubscribe`). */
  source: string;
  /**
   * A keyword text's first delivery (not a provider's retry): the clinic number it was sent to, so an opt-out
   * counts once against that number's reputation.
   */
  receivedOn?: string;
}

/** Anything that may tie an inbound email to a thread; the hub only trusts references it issued. */
export interface ThreadReference {
  recipients: string[];
  messageIds: string[];
}

export type StoredFile =
  | { ok: true; attachment: InboundAttachment }
  | { ok: false; name: string; contentType: string; why: string };

/** A pino-compatible logger subset. Never log PHI (bodies, names, numbers, addresses). */
export interface ChannelLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** What the hub offers a channel. Everything a channel does to the timeline goes through these. */
export interface HubPorts {
  readonly logger: ChannelLogger;
  now(): Date;
  /** Stores an inbound message once per providerKey (resolve identity, thread, consent, publish). */
  ingest(message: NormalizedInbound): Promise<IngestReceipt>;
  /** Records an answer the channel already gave in its webhook response (e.g. the HELP text in TwiML) as sent in the thread. */
  recordAnswer(to: IngestReceipt, answer: { body: string; providerKey: string; reason: string }): Promise<void>;
  applyDelivery(update: DeliveryUpdate): Promise<DeliveryReceipt>;
  recordConsent(change: ConsentChange): Promise<void>;
  /** The patient an inbound email belongs to, by the hub's own signed reply address or Message-IDs only. */
  findThread(reference: ThreadReference): Promise<{ patientId: string } | null>;
  /** A sender who wrote into a patient's thread: recorded as a threaded, unverified identity of that patient. */
  linkThreadedSender(patientId: string, from: NormalizedInbound['from']): Promise<void>;
  /** Sets the conversation's subject when it has none yet (the first email's). */
  setSubjectIfNone(conversationId: string, subject: string): Promise<void>;
  /**
   * Sandbox transports only: hands a simulated provider webhook (signed by the
   * channel as the provider signs) to the hub's own handler over loopback HTTP,
   * so simulated callbacks take exactly the path real ones take.
   */
  postWebhook(path: string, request: { headers: Record<string, string>; body: string }): Promise<void>;
  /** Runs work later in the background (a sandbox's slow delivery); dropped when the hub closes. */
  later(delayMs: number, what: string, task: () => Promise<void>): void;
  files: {
    readonly maxBytes: number;
    accepts(contentType: string): boolean;
    canonicalType(contentType: string): string;
    /** A file name safe to show agents (no bidi or control characters, no path). */
    displayName(name: string): string;
    /** Sniffs the bytes against the declared type, names the file safely and stores it sealed; a refusal says why. */
    store(file: { name: string; declaredType: string; data: Buffer }): Promise<StoredFile>;
  };
}

/** Where sandbox transports record what would have been sent (GET /api/dev/outbox). */
export interface SandboxOutbox {
  record(entry: { id: string; channel: ChannelId; messageId: string; request: Record<string, unknown> }): Promise<void>;
}
