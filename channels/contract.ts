/**
 * The one contract every channel adapter satisfies. Providers' words
 * (Twilio statuses, SendGrid events) never leak past a channel's folder:
 * adapters speak NormalizedInbound, OutboundEnvelope and SendOutcome.
 */
import type { ChannelId } from './channel-id.ts';

export type { ChannelId };

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
  attachments?: { name: string; contentType: string; size: number; ref: string }[];
  /** Auto-replies and bounces must not reopen a resolved conversation. */
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
}

/** One outbound message, addressed, ready for a provider. */
export interface OutboundEnvelope {
  messageId: string;
  conversationId: string;
  channel: ChannelId;
  /** E.164 phone, lowercased email or web visitor id. */
  to: string;
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
  /** Fetches an inbound attachment by its stored reference, adding the provider's credentials. */
  fetchAttachment?(ref: string): Promise<{ contentType: string; body: ReadableStream<Uint8Array> } | null>;
}

/** Where sandbox transports record what would have been sent (GET /api/dev/outbox). */
export interface SandboxOutbox {
  record(entry: { id: string; channel: ChannelId; messageId: string; request: Record<string, unknown> }): Promise<void>;
}
