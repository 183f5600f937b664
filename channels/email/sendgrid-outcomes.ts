/**
 * SendGrid's bounce and dropped events in words for agents: what happened and
 * the next step. The provider's free-text `reason` is never shown (it can
 * quote the address); only its fixed labels, `type`, `bounce_classification`
 * and the enhanced status code (RFC 3463, e.g. 5.1.1) shape the text.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import type { SendFailure } from '../contract.ts';

/** A provider failure in words for agents: what happened and the next step. Never PHI. */
export type DeliveryFailureText = Required<Pick<SendFailure, 'code' | 'message' | 'suggestion' | 'retryable' | 'providerCode'>>;

export interface SendGridFailureEvent {
  event: string;
  type?: string;
  reason?: string;
  status?: string;
  bounce_classification?: string;
}

type FailureEntry = Omit<DeliveryFailureText, 'providerCode'> & {
  /** Why email is unavailable for this address until someone acts; none for passing failures. */
  unavailable?: string;
};

const CHECK_ADDRESS = 'Check the address with the patient, or use another channel';
const LATER = 'Try again later or use another channel';

/** bounce, type "bounce": the receiving server refused for good. */
const HARD_BOUNCE: FailureEntry = { code: 'EMAIL_BOUNCED', message: 'The email address bounced', suggestion: 'Check the address with the patient', retryable: false, unavailable: 'the email address bounced' };
/** bounce, type "blocked": refused this time, e.g. the server was busy or distrusted the sender. */
const BLOCKED: FailureEntry = { code: 'EMAIL_BLOCKED', message: 'The receiving mail server refused the message this time', suggestion: LATER, retryable: true };

/** bounce_classification values, lowercased ("Technical Failure" in the Bounces API). */
const CLASSIFIED: Record<string, FailureEntry> = {
  'invalid address': { code: 'EMAIL_INVALID_ADDRESS', message: 'The email address does not exist', suggestion: CHECK_ADDRESS, retryable: false, unavailable: 'the email address does not exist' },
  'mailbox unavailable': { code: 'EMAIL_MAILBOX_UNAVAILABLE', message: 'The mailbox is full or disabled', suggestion: 'Try again in a few days, or ask the patient for another address', retryable: true },
  technical: { code: 'EMAIL_TECHNICAL', message: "A technical problem at the patient's mail server", suggestion: LATER, retryable: true },
  'technical failure': { code: 'EMAIL_TECHNICAL', message: "A technical problem at the patient's mail server", suggestion: LATER, retryable: true },
  content: { code: 'EMAIL_CONTENT_REFUSED', message: "The patient's mail server refused the message's content", suggestion: 'Review the wording, links and attachments, or use another channel', retryable: false },
  reputation: { code: 'EMAIL_SENDER_REPUTATION', message: "The patient's mail server distrusts the clinic's sending domain", suggestion: 'Use another channel; tell an administrator if it keeps happening', retryable: false },
  'frequency or volume too high': { code: 'EMAIL_RATE_LIMITED', message: "The patient's mail server is limiting how much mail it accepts from the clinic", suggestion: LATER, retryable: true },
};

/** Enhanced status codes (RFC 3463) that say the address itself is wrong, for bounces without a classification. */
const BAD_ADDRESS_STATUS = /^5\.1\.(?:1|2|3|10)$/;

/** dropped: SendGrid did not send at all; `reason` is one of these labels, lowercased. */
const DROPPED: Record<string, FailureEntry> = {
  'bounced address': { code: 'EMAIL_DROPPED_BOUNCED', message: 'Not sent: this address bounced before, so SendGrid no longer sends to it', suggestion: CHECK_ADDRESS, retryable: false, unavailable: 'the email address bounced before' },
  'unsubscribed address': { code: 'EMAIL_DROPPED_UNSUBSCRIBED', message: "Not sent: the patient unsubscribed from the clinic's email", suggestion: 'Only the patient can resubscribe; use another channel meanwhile', retryable: false, unavailable: 'the patient unsubscribed from email' },
  'spam reporting address': { code: 'EMAIL_DROPPED_SPAM_REPORT', message: "Not sent: the patient marked an earlier email from the clinic as spam", suggestion: 'Use another channel', retryable: false, unavailable: "the patient reported the clinic's email as spam" },
  invalid: { code: 'EMAIL_DROPPED_INVALID', message: 'Not sent: the email address is not valid', suggestion: 'Check the address with the patient', retryable: false, unavailable: 'the email address is not valid' },
  'invalid smtpapi header': { code: 'EMAIL_DROPPED_INVALID_HEADER', message: 'Not sent: the hub built a message SendGrid could not accept', suggestion: "Tell an administrator; the patient's address is not the problem", retryable: false },
};
const DROPPED_OTHER: FailureEntry = { code: 'EMAIL_DROPPED', message: 'Not sent: SendGrid dropped the message', suggestion: 'Use another channel; tell an administrator if it keeps happening', retryable: false };

const ALL: FailureEntry[] = [HARD_BOUNCE, BLOCKED, ...Object.values(CLASSIFIED), ...Object.values(DROPPED), DROPPED_OTHER];

/**
 * A bounce or dropped event in words for agents; null for anything else
 * (deferred is SendGrid still trying, not a failure). A classification, or a
 * bad-address status, refines the bounce's type; an Unclassified or unknown
 * one keeps the type's text.
 */
export function describeSendGridFailure(event: SendGridFailureEvent): DeliveryFailureText | null {
  if (event.event === 'bounce') {
    const type = event.type?.trim().toLowerCase() === 'blocked' ? 'blocked' : 'bounce';
    const status = event.status?.trim() ?? '';
    const classified = CLASSIFIED[event.bounce_classification?.trim().toLowerCase() ?? ''];
    const entry = classified ?? (BAD_ADDRESS_STATUS.test(status) ? CLASSIFIED['invalid address']! : type === 'blocked' ? BLOCKED : HARD_BOUNCE);
    // Only a well-formed enhanced status is echoed: the field is free text in principle.
    return text(entry, /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) ? `${type} ${status}` : type);
  }
  if (event.event === 'dropped') {
    const label = event.reason?.trim().toLowerCase() ?? '';
    const entry = DROPPED[label];
    return entry ? text(entry, `dropped: ${label}`) : text(DROPPED_OTHER, 'dropped');
  }
  return null;
}

/** Why email is unavailable for an address after this failure (our code), for the reply-channel picker; null if it is not. */
export function unavailableReasonFor(code: string): string | null {
  return ALL.find((entry) => entry.code === code)?.unavailable ?? null;
}

function text(entry: FailureEntry, providerCode: string): DeliveryFailureText {
  const { unavailable: _, ...words } = entry;
  return { ...words, providerCode };
}
