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

/** Carrier error codes on undelivered/failed callbacks, in words for agents. */
export const TWILIO_DELIVERY_ERRORS: Record<string, string> = {
  '30003': 'The phone is off or out of signal',
  '30004': 'The recipient or their carrier blocks messages from this number',
  '30005': 'The number does not exist',
  '30006': 'A landline or unreachable carrier',
  '30007': 'Filtered by the carrier as spam',
  '30008': 'Unknown carrier error',
  '21610': 'The patient replied STOP to this number',
};

/** A failed messages.create (twilio-node RestException or a network error) as an outcome. */
export function mapTwilioError(error: unknown): SendFailure {
  const e = error as { status?: number; code?: number; message?: string };
  const code = e.code ? String(e.code) : e.status ? `HTTP_${e.status}` : 'NETWORK';
  switch (e.code) {
    case 21211:
      return { code: 'INVALID_NUMBER', message: 'Not a valid phone number for SMS', retryable: false, providerCode: code };
    case 21610:
      return { code: 'RECIPIENT_OPTED_OUT', message: 'The patient has opted out of SMS (replied STOP)', retryable: false, providerCode: code, recipientOptedOut: true };
    case 21408:
    case 21612:
      return { code: 'NOT_REACHABLE', message: 'This number cannot be reached from our SMS number', retryable: false, providerCode: code };
  }
  if (e.status === 429 || (e.status !== undefined && e.status >= 500) || e.status === undefined) {
    return { code: 'PROVIDER_UNAVAILABLE', message: 'Twilio is busy or unreachable; will retry', retryable: true, providerCode: code };
  }
  return { code: 'PROVIDER_REFUSED', message: `Twilio refused the message (${code})`, retryable: false, providerCode: code };
}
