/**
 * The patient widget's protocol: the /widget Socket.IO namespace and the
 * shapes of /api/widget/*. Shared by the hub and client-widget/ (type-only
 * imports, so nothing of the server is bundled into the widget).
 *
 * A visitor is a browser that opened the widget: a signed visitor token (kept
 * in the browser) names a `web` identity, which points at a patient. Until the
 * visitor proves a phone or email by a one-time code, or the host page proves
 * the patient by a portal identity hash, that patient is the visitor's own and
 * holds only what was written in the widget.
 */

export type WidgetLanguage = 'en' | 'es' | 'it';
export const WIDGET_LANGUAGES: readonly WidgetLanguage[] = ['en', 'es', 'it'];

/** A message as the patient sees it: no notes, no system events, no agent ids or routing reasons. */
export interface WidgetMessage {
  id: string;
  conversationId: string;
  seq: number;
  /** inbound: written by the patient; outbound: written by the clinic. */
  direction: 'inbound' | 'outbound';
  channel: 'sms' | 'email' | 'webchat';
  body: string;
  /** Download with GET /api/widget/messages/:id/attachments/:index and the visitor token as Bearer. */
  attachments: { name: string; contentType: string; size: number }[];
  author: 'patient' | 'clinic';
  /** The id the widget gave a message it sent (dedupes resends after a dropped connection). */
  clientId: string | null;
  status: 'received' | 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed';
  createdAt: string;
}

export interface WidgetSession {
  visitorId: string;
  /** A fresh visitor token: store it in place of the old one. */
  token: string;
  /** True once the visitor proved who they are; then the whole thread is shown, all channels. */
  linked: boolean;
  linkedBy: 'phone' | 'email' | 'portal' | null;
  /** The conversation the widget shows; null before the first message. */
  conversationId: string | null;
  lastSeq: number;
  name: string | null;
  /** Unverified contact details from the pre-chat form, to prefill "continue by …" (never used to send). */
  prefill: { phone: string | null; email: string | null };
}

/** A satisfaction survey for the chat the visitor is in (after the clinic resolved it): stars 1-5 and an optional comment. */
export interface WidgetCsatRequest {
  surveyId: string;
  conversationId: string;
  /** The patient's language as the hub knows it (the widget shows its own strings in its own language). */
  language: WidgetLanguage;
  maxCommentLength: number;
}

export type WidgetAckError = { ok: false; error: { code: string; message: string; field?: string } };
export type WidgetAck<T> = (answer: ({ ok: true } & T) | WidgetAckError) => void;

export interface WidgetServerToClientEvents {
  /** Sent on connect and again whenever the visitor is linked or moved to another conversation. */
  session: (session: WidgetSession) => void;
  'message:created': (message: WidgetMessage) => void;
  /** Delivery status changed (ticks). */
  'message:updated': (message: WidgetMessage) => void;
  'agent:typing': (payload: { isTyping: boolean }) => void;
  /** The visitor token was revoked (the patient pressed "end chat" elsewhere); forget it. */
  'session:ended': (payload: { reason: string }) => void;
  /** The clinic resolved the chat: "How did we do?" (again on reconnect while it waits for an answer, up to 24 h). */
  'csat:request': (request: WidgetCsatRequest) => void;
}

export interface WidgetClientToServerEvents {
  /** Idempotent on clientId: resending after a dropped connection stores the message once. */
  'message:send': (
    payload: { clientId: string; body: string; attachmentIds?: string[] },
    ack: WidgetAck<{ message: WidgetMessage }>,
  ) => void;
  /** The current conversation's messages after a seq, oldest first. */
  'messages:since': (
    query: { afterSeq: number; limit?: number },
    ack: WidgetAck<{ conversationId: string | null; items: WidgetMessage[]; hasMore: boolean }>,
  ) => void;
  /** The patient has seen the clinic's messages up to this seq (read ticks for agents). */
  'messages:seen': (payload: { upToSeq: number }) => void;
  typing: (payload: { isTyping: boolean }) => void;
  /** Sends a one-time code to a phone (by SMS) or an email address. */
  'verify:start': (
    payload: { channel: 'sms' | 'email'; address: string; consent: boolean; language?: WidgetLanguage },
    ack: WidgetAck<{ expiresAt: string; sentTo: string }>,
  ) => void;
  /** Checks the code; on success the visitor is linked and a new `session` follows. */
  'verify:confirm': (payload: { code: string }, ack: WidgetAck<{ session: WidgetSession }>) => void;
  /** Ends the visitor's session everywhere (shared computers): the token stops working. */
  'session:end': (ack: WidgetAck<Record<never, never>>) => void;
  /** Answers the survey of `csat:request` (once): a score 1-5 and an optional comment (at most maxCommentLength). */
  'csat:answer': (payload: { score: number; comment?: string; surveyId?: string }, ack: WidgetAck<Record<never, never>>) => void;
}

/** GET /api/widget/config?lang=xx */
export interface WidgetConfig {
  clinicName: string;
  /** Outside configured business hours. */
  away: boolean;
  /** When agents are back, if known (ISO). */
  nextOpenAt: string | null;
  attachments: { maxBytes: number; contentTypes: string[]; maxPerMessage: number };
  /** The consent wording shown beside each checkbox, per language; the hub stores exactly this text with the consent. */
  consentWording: Record<WidgetLanguage, { sms: string; email: string }>;
  maxBodyLength: number;
  /** Departments the patient may pick in the pre-chat form (teams offered as departments); empty: no choice. */
  departments: { id: string; label: string }[];
}

/** POST /api/widget/visitors */
export interface WidgetVisitorRequest {
  name: string;
  phone?: string;
  email?: string;
  consent?: { sms?: boolean; email?: boolean };
  language?: WidgetLanguage;
  /** The department picked in the pre-chat form (an id from WidgetConfig.departments): the chat goes to its team. */
  department?: string;
  /** A logged-in portal's proof: HMAC-SHA256(WIDGET_IDENTITY_SECRET, `${patientId}.${issuedAt}`), hex; issuedAt in Unix seconds. */
  portal?: { patientId: string; issuedAt: number; hash: string };
}

/** 201 answer of POST /api/widget/visitors */
export interface WidgetVisitorResponse {
  token: string;
  session: WidgetSession;
}

/** 201 answer of POST /api/widget/attachments (raw body, Content-Type = file type, X-File-Name = encodeURIComponent(name)). */
export interface WidgetAttachmentResponse {
  attachmentId: string;
  name: string;
  contentType: string;
  size: number;
}
