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
import { advanceDeliveryStatus } from '../../server/delivery/delivery-status.ts';
import type { DeliveryStatus } from '../../server/db/documents.ts';
import { AppError } from '../../server/errors.ts';
import { defineRoute, type Route } from '../../server/http/route.ts';
import { recordConsent } from '../../server/timeline/consent.ts';
import { markIdentityUndeliverable } from '../../server/timeline/ingest/resolve-identity.ts';
import type { TimelineContext } from '../../server/timeline/timeline-context.ts';

export interface SendGridEventDeps {
  timeline: TimelineContext;
  /** Base64 DER verification key from SendGrid's Mail Settings; unset = every post refused. */
  publicKey: string | undefined;
}

const MAX_SKEW_SECONDS = 600;
const STATUS: Record<string, DeliveryStatus> = { processed: 'sent', delivered: 'delivered', open: 'read', bounce: 'undelivered', dropped: 'failed' };
const OPT_OUT = new Set(['unsubscribe', 'group_unsubscribe', 'spamreport']);

interface SendGridEvent {
  event?: string;
  email?: string;
  carethread_message_id?: string;
  reason?: string;
  status?: string;
  type?: string;
}

export function sendGridEventRoutes(deps: SendGridEventDeps): Route[] {
  const verifier = new EventWebhook();
  const key = deps.publicKey ? verifier.convertPublicKeyToECDSA(deps.publicKey) : undefined;
  return [
    defineRoute({
      method: 'post', path: '/webhooks/sendgrid/events', tag: 'webhooks', auth: 'public',
      summary: 'SendGrid Event Webhook (ECDSA-signed JSON array, up to thousands of events per post)',
      responses: { 200: { description: 'Accepted: {processed, ignored}' }, 403: { description: 'Signature missing, wrong or stale' } },
      handler: async ({ req }) => {
        const raw = verify(deps, req, verifier, key);
        let events: unknown;
        try {
          events = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new AppError('INVALID_INPUT', 'body: not a JSON array of events', { field: 'body' });
        }
        if (!Array.isArray(events)) throw new AppError('INVALID_INPUT', 'body: not a JSON array of events', { field: 'body' });
        let processed = 0;
        for (const event of events as SendGridEvent[]) if (await applyEvent(deps.timeline, event)) processed++;
        return { processed, ignored: events.length - processed };
      },
    }),
  ];
}

function verify(deps: SendGridEventDeps, req: Request, verifier: EventWebhook, key: ReturnType<EventWebhook['convertPublicKeyToECDSA']> | undefined): Buffer {
  const signature = req.get('x-twilio-email-event-webhook-signature');
  const timestamp = req.get('x-twilio-email-event-webhook-timestamp');
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const skew = Math.abs(deps.timeline.clock().getTime() / 1000 - Number(timestamp));
  if (!key || !signature || !timestamp || !(skew <= MAX_SKEW_SECONDS) || !verifier.verifySignature(key, raw, signature, timestamp)) {
    deps.timeline.logger.warn({ path: req.path }, 'SendGrid event post refused: bad, stale or missing signature');
    throw new AppError('FORBIDDEN', 'The event signature is missing, wrong or stale');
  }
  return raw;
}

async function applyEvent(ctx: TimelineContext, event: SendGridEvent): Promise<boolean> {
  const messageId = event.carethread_message_id;
  if (typeof messageId !== 'string' || !event.event) return false;
  const message = await ctx.models.Message.findById(messageId, { patientId: 1, recipientIdentityId: 1, channel: 1 }).lean();
  if (!message || message.channel !== 'email') return false;
  const status = STATUS[event.event];
  if (status) {
    const failed = status === 'undelivered' || status === 'failed';
    await advanceDeliveryStatus(ctx, messageId, status, {
      ...(failed ? { error: { code: `EMAIL_${event.event.toUpperCase()}`, message: event.reason ?? 'The mail server refused the email', retryable: false }, errorCode: event.status ?? event.event } : {}),
    });
    if (failed && message.recipientIdentityId) await markIdentityUndeliverable(ctx, message.recipientIdentityId);
  }
  if (OPT_OUT.has(event.event)) await recordConsent(ctx, message.patientId, 'email', 'opted_out', `sendgrid_${event.event}`);
  return Boolean(status) || OPT_OUT.has(event.event);
}
