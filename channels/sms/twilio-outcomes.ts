/**
 * Twilio's words mapped to ours: message statuses to DeliveryStatus, API
 * errors to outcomes an agent can act on. Nothing Twilio-specific leaves
 * this folder.
 * https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
 */
import type { SendFailure } from '../contract.ts';

export type MappedStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed';

const STATUS: Record<string, MappedStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
  partially_delivered: 'delivered',
};

export function mapTwilioStatus(status: string): MappedStatus | null {
  return STATUS[status.toLowerCase()] ?? null;
}

/** A provider failure in words for agents: what happened and the next step. Never PHI. */
export type DeliveryFailureText = Required<Pick<SendFailure, 'code' | 'message' | 'suggestion' | 'retryable' | 'providerCode'>>;

type FailureEntry = Omit<DeliveryFailureText, 'providerCode'> & {
  /** Why SMS is unavailable for this number until someone acts; none for passing or content failures. */
  unavailable?: string;
};

const OTHER_CHANNEL = 'Call the patient, or use email or web chat';
const ADMIN_FIX = "An administrator must fix the clinic's SMS number registration with Twilio; use email or web chat meanwhile";

/**
 * Twilio error codes (status callbacks' ErrorCode, or create-time API errors)
 * in our words. `retryable`: the same message may go through if sent later.
 * https://www.twilio.com/docs/api/errors/30003 (same URL per code)
 */
const TWILIO_FAILURES: Record<string, FailureEntry> = {
  '30003': { code: 'SMS_HANDSET_UNREACHABLE', message: 'The phone is off or out of signal', suggestion: 'Twilio has stopped trying: send again later, or use another channel', retryable: true },
  '30004': { code: 'SMS_BLOCKED', message: 'The recipient or their carrier blocks messages from this number', suggestion: OTHER_CHANNEL, retryable: false, unavailable: "the number blocks the clinic's texts" },
  '30005': { code: 'SMS_UNKNOWN_NUMBER', message: 'The number does not exist', suggestion: 'Check the number with the patient', retryable: false, unavailable: 'the number does not exist' },
  '30006': { code: 'SMS_LANDLINE', message: 'A landline or unreachable carrier', suggestion: OTHER_CHANNEL, retryable: false, unavailable: 'the number is a landline or its carrier is unreachable' },
  '30007': { code: 'SMS_CARRIER_FILTERED', message: 'Filtered by the carrier as spam', suggestion: 'Try email or web chat; review the wording and any links', retryable: false },
  '30001': { code: 'SMS_QUEUE_OVERFLOW', message: "Twilio's queue for the clinic's SMS number overflowed before the text went out", suggestion: 'Send again later; an administrator can add numbers to the Messaging Service', retryable: true },
  '30008': { code: 'SMS_CARRIER_ERROR', message: 'Unknown carrier error', suggestion: 'Send again later; if it keeps failing, use another channel', retryable: true },
  '21610': { code: 'SMS_OPTED_OUT', message: 'The patient replied STOP to this number', suggestion: "Only the patient can undo this, by texting START to the clinic's number; use another channel meanwhile", retryable: false, unavailable: 'the patient replied STOP' },
  '21614': { code: 'SMS_NOT_MOBILE', message: 'Not a mobile number: it cannot receive SMS', suggestion: OTHER_CHANNEL, retryable: false, unavailable: 'the number cannot receive texts' },
  '21211': { code: 'SMS_INVALID_NUMBER', message: 'Not a valid phone number for SMS', suggestion: 'Check the number with the patient', retryable: false, unavailable: 'the number is not valid' },
  '21408': { code: 'SMS_COUNTRY_NOT_ENABLED', message: "The clinic's SMS account may not send to this number's country", suggestion: "Use another channel; an administrator can enable the country in Twilio's geo permissions", retryable: false, unavailable: "the number's country is not enabled for SMS" },
  // Not in our sourced list: kept from the earlier mapping of create-time errors.
  '21612': { code: 'SMS_NOT_REACHABLE', message: 'This number cannot be reached from our SMS number', suggestion: OTHER_CHANNEL, retryable: false, unavailable: "the number cannot be reached from the clinic's SMS number" },
  '30032': { code: 'SMS_SENDER_NOT_REGISTERED', message: "The clinic's toll-free number is not verified, so carriers refuse its texts", suggestion: ADMIN_FIX, retryable: false, unavailable: "the clinic's SMS number is not registered" },
  '30034': { code: 'SMS_SENDER_NOT_REGISTERED', message: "The clinic's number is not registered for business texting (10DLC), so carriers refuse its texts", suggestion: ADMIN_FIX, retryable: false, unavailable: "the clinic's SMS number is not registered" },
};

const UNKNOWN_FAILURE: FailureEntry = { code: 'SMS_UNDELIVERED', message: 'The carrier did not deliver the message', suggestion: 'Try again later or use another channel; tell an administrator if it keeps happening', retryable: false };

/** A Twilio error code (or none) in words for agents; unknown codes get a generic text. */
export function describeTwilioFailure(code: string | undefined): DeliveryFailureText {
  // Twilio codes are short numbers; anything else is not echoed (it could be PHI).
  const providerCode = code && /^\d{1,6}$/.test(code.trim()) ? code.trim() : 'UNKNOWN';
  const { unavailable: _, ...text } = TWILIO_FAILURES[providerCode] ?? UNKNOWN_FAILURE;
  return { ...text, providerCode };
}

/** Why SMS is unavailable for a number after this failure (Twilio code or ours), for the reply-channel picker; null if it is not. */
export function unavailableReasonFor(code: string): string | null {
  const entry = TWILIO_FAILURES[code] ?? Object.values(TWILIO_FAILURES).find((f) => f.code === code);
  return entry?.unavailable ?? null;
}

/** Carrier error codes on undelivered/failed callbacks, in words for agents. */
export const TWILIO_DELIVERY_ERRORS: Record<string, string> = Object.fromEntries(
  Object.entries(TWILIO_FAILURES).map(([code, entry]) => [code, entry.message]),
);

/**
 * Create-time Twilio codes that mean "not now" rather than "not this message":
 * the same request may succeed later, so the outbox retries them with backoff.
 * https://www.twilio.com/docs/api/errors/20429 (same URL per code)
 */
const TRANSIENT_CREATE_CODES: Record<number, string> = {
  // Too many concurrent API requests; Twilio never processes a request it answers 429, so a retry cannot duplicate it.
  20429: 'Twilio is limiting how fast the clinic sends',
  20500: 'Twilio had an internal error',
  20503: 'Twilio is temporarily unavailable',
  // The sender's queue is full (hours of messages waiting); it drains at the number's throughput.
  21611: "The clinic's SMS number has too many messages waiting at Twilio",
};

/** Errors of the HTTP client itself (no answer from Twilio): refused, reset, timed out, name lookup failed. */
const NETWORK_CODE = /^(E[A-Z_]{2,30}|ERR_[A-Z_]{2,40})$/;
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_CANCELED']);

const RETRY_SUGGESTION = 'Nothing to do yet: the hub sends it again shortly';

/**
 * A failed messages.create (twilio-node RestException or a network error) as an
 * outcome. Known codes take the catalogue's texts; `code` and `retryable` are
 * the outcome's own. Transient failures (no answer, a timeout, HTTP 429 or
 * 5xx, the codes above) are PROVIDER_UNAVAILABLE and retryable; everything
 * else is final and says why.
 *
 * A timeout or a reset connection is the one ambiguous case: Twilio may have
 * accepted the message before the answer was lost, so the retry can deliver
 * it twice (README "Delivery: the outbox": the at-least-once window).
 */
export function mapTwilioError(error: unknown): SendFailure {
  const e = error as { status?: number; code?: number | string; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const networkCode = typeof e.code === 'string' && NETWORK_CODE.test(e.code) ? e.code : undefined;
  const numericCode = typeof e.code === 'number' ? e.code : undefined;
  const providerCode = numericCode !== undefined ? String(numericCode) : networkCode ?? (status ? `HTTP_${status}` : 'NETWORK');
  const known = TWILIO_FAILURES[providerCode];
  const words = known
    ? { message: known.message, suggestion: known.suggestion }
    : { message: `Twilio refused the message (${providerCode})`, suggestion: 'Use another channel; tell an administrator if it keeps happening' };
  switch (numericCode) {
    case 21211:
      return { code: 'INVALID_NUMBER', ...words, retryable: false, providerCode };
    case 21610:
      return { code: 'RECIPIENT_OPTED_OUT', ...words, retryable: false, providerCode, recipientOptedOut: true };
    case 21408:
    case 21612:
      return { code: 'NOT_REACHABLE', ...words, retryable: false, providerCode };
  }
  if (numericCode !== undefined && TRANSIENT_CREATE_CODES[numericCode]) {
    return { code: 'PROVIDER_UNAVAILABLE', message: TRANSIENT_CREATE_CODES[numericCode]!, suggestion: RETRY_SUGGESTION, retryable: true, providerCode };
  }
  if (status === undefined) {
    const timedOut = networkCode !== undefined && TIMEOUT_CODES.has(networkCode);
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: timedOut ? 'Twilio did not answer in time' : 'Twilio could not be reached',
      suggestion: RETRY_SUGGESTION,
      retryable: true,
      providerCode,
    };
  }
  if (status === 429 || status >= 500) {
    return { code: 'PROVIDER_UNAVAILABLE', message: 'Twilio is busy or unavailable', suggestion: RETRY_SUGGESTION, retryable: true, providerCode };
  }
  return { code: 'PROVIDER_REFUSED', ...words, retryable: false, providerCode };
}
