/**
 * SendGrid's Event Webhook: a JSON array of events, signed with ECDSA
 * (P-256/SHA-256 over timestamp + raw body). The signature is checked with
 * `@sendgrid/eventwebhook` on the exact bytes before anything is parsed; a
 * wrong or stale one gets 403. Events map to our delivery statuses (never
 * backwards) and consent; events for messages we do not know are accepted
 * and ignored. https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import { EventWebhook } from '@sendgrid/eventwebhook';
import type { Request } from 'express';
import { ChannelError, type ChannelRoute, type DeliveryStatus, type HubPorts } from '../contract.ts';
import { describeSendGridFailure, unavailableReasonFor } from './sendgrid-outcomes.ts';

export interface SendGridEventConfig {
  /** Base64 DER verification keys (SENDGRID_EVENT_PUBLIC_KEY; the sandbox's own); none = every post refused. */
  publicKeys: string[];
}

const MAX_SKEW_SECONDS = 600;
const STATUS: Record<string, DeliveryStatus> = { processed: 'sent', delivered: 'delivered', open: 'read', bounce: 'undelivered', dropped: 'failed' };
const OPT_OUT = new Set(['unsubscribe', 'group_unsubscribe', 'spamreport']);
/** Failures that are the address's, not one mail's: replies stop going there until the patient writes from it. */
const ADDRESS_FAILURES = new Set(['EMAIL_BOUNCED', 'EMAIL_INVALID_ADDRESS', 'EMAIL_DROPPED_BOUNCED', 'EMAIL_DROPPED_INVALID']);

interface SendGridEvent {
  event?: string;
  email?: string;
  sg_event_id?: string;
  sg_machine_open?: boolean;
  carethread_message_id?: string;
  reason?: string;
  status?: string;
  type?: string;
  bounce_classification?: string;
}

export function sendGridEventRoutes(config: SendGridEventConfig, ports: HubPorts): ChannelRoute[] {
  const verifier = new EventWebhook();
  const keys = config.publicKeys.map((key) => verifier.convertPublicKeyToECDSA(key));
  return [
    {
      method: 'post', path: '/webhooks/sendgrid/events', bodyParsing: 'raw',
      summary: 'SendGrid Event Webhook (ECDSA-signed JSON array, up to thousands of events per post)',
      responses: { 200: { description: 'Accepted: {processed, ignored}' }, 403: { description: 'Signature missing, wrong or stale' } },
      handler: async ({ req }) => {
        const raw = verify(ports, req, verifier, keys);
        let events: unknown;
        try {
          events = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new ChannelError('invalid_input', 'body: not a JSON array of events', 'body');
        }
        if (!Array.isArray(events)) throw new ChannelError('invalid_input', 'body: not a JSON array of events', 'body');
        let processed = 0;
        for (const event of events as SendGridEvent[]) if (event && typeof event === 'object' && (await applyEvent(ports, event))) processed++;
        return { processed, ignored: events.length - processed };
      },
    },
  ];
}

function verify(ports: HubPorts, req: Request, verifier: EventWebhook, keys: ReturnType<EventWebhook['convertPublicKeyToECDSA']>[]): Buffer {
  const signature = req.get('x-twilio-email-event-webhook-signature');
  const timestamp = req.get('x-twilio-email-event-webhook-timestamp');
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const skew = Math.abs(ports.now().getTime() / 1000 - Number(timestamp));
  if (!signature || !timestamp || !(skew <= MAX_SKEW_SECONDS) || !keys.some((key) => verifier.verifySignature(key, raw, signature, timestamp))) {
    ports.logger.warn({ path: req.path }, 'SendGrid event post refused: bad, stale or missing signature');
    throw new ChannelError('forbidden', 'The event signature is missing, wrong or stale');
  }
  return raw;
}

/** Applies one event once (by sg_event_id); true when it was about a message of ours and new. */
export async function applyEvent(ports: HubPorts, event: SendGridEvent): Promise<boolean> {
  const messageId = event.carethread_message_id;
  if (typeof messageId !== 'string' || typeof event.event !== 'string') return false;
  // Apple Mail Privacy Protection opens every mail on the patient's behalf: that is no sign they read it.
  const status = event.event === 'open' && event.sg_machine_open === true ? undefined : STATUS[event.event];
  const optOut = OPT_OUT.has(event.event);
  if (!status && !optOut) return false;
  const failed = status === 'undelivered' || status === 'failed';
  const failure = failed ? describeSendGridFailure({ ...event, event: event.event }) : null;
  const receipt = await ports.applyDelivery({
    message: { id: messageId },
    channel: 'email',
    ...(status ? { status } : {}),
    ...(typeof event.sg_event_id === 'string' && event.sg_event_id ? { eventId: `sendgrid:${event.sg_event_id.slice(0, 100)}` } : {}),
    ...(failure ? { failure } : {}),
    // Only when the address is at fault (a hard bounce, an invalid address), not a server that blocked one mail.
    ...(failure && ADDRESS_FAILURES.has(failure.code) ? { recipientUndeliverable: unavailableReasonFor(failure.code) ?? 'the email address bounced' } : {}),
  });
  if (!receipt.known || receipt.duplicate || !receipt.patientId) return false;
  if (optOut) {
    await ports.recordConsent({ patientId: receipt.patientId, identityId: receipt.recipientIdentityId, channel: 'email', status: 'opted_out', source: `sendgrid_${event.event}` });
  }
  return true;
}
