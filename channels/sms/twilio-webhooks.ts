/**
 * Twilio's webhooks: inbound SMS/MMS and delivery status callbacks. Each is
 * verified with the SDK's own X-Twilio-Signature check against
 * PUBLIC_BASE_URL + path before anything is read from it; a bad signature
 * gets 403 and stores nothing. The answer is given only after the message is
 * stored, so a database failure (5xx) makes Twilio retry.
 * https://www.twilio.com/docs/usage/security
 */
import type { Request } from 'express';
import twilio from 'twilio';
import { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import { defineRoute, type Route } from '../../server/http/route.ts';
import { advanceDeliveryByProviderId } from '../../server/delivery/delivery-status.ts';
import { appendMessage } from '../../server/timeline/append-message.ts';
import { recordAddressConsent } from '../../server/timeline/identity/related-contacts.ts';
import { ingestInbound } from '../../server/timeline/ingest/ingest-inbound.ts';
import { toConversationRecord, toMessageRecord } from '../../server/timeline/records.ts';
import type { TimelineContext } from '../../server/timeline/timeline-context.ts';
import type { NormalizedInbound } from '../contract.ts';
import { classifySmsKeyword } from './keywords.ts';
import { mapTwilioStatus, TWILIO_DELIVERY_ERRORS } from './twilio-outcomes.ts';

export interface SmsWebhookDeps {
  timeline: TimelineContext;
  authToken: string;
  publicBaseUrl: string;
  /** The reply to HELP: who the clinic is, how to reach it, how to stop. */
  helpText: string;
}

const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
type Form = z.infer<typeof formBody>;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const SID = /^(SM|MM)[0-9a-f]{32}$/;

export function smsWebhookRoutes(deps: SmsWebhookDeps): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/webhooks/twilio/sms', tag: 'webhooks', auth: 'public',
      summary: 'Twilio inbound SMS/MMS (form-encoded, X-Twilio-Signature verified); answers TwiML once stored',
      body: formBody,
      responses: { 200: { description: 'TwiML (empty, or the HELP reply)' }, 403: { description: 'Signature missing or wrong; nothing stored' } },
      handler: async ({ req, res, body }) => {
        verifySignature(deps, req, body);
        const reply = await receiveSms(deps, body);
        res.status(200).type('text/xml').send(reply ? twimlMessage(reply) : EMPTY_TWIML);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post', path: '/webhooks/twilio/status', tag: 'webhooks', auth: 'public',
      summary: 'Twilio status callbacks (signed): delivery status only moves forward; unknown MessageSid is accepted and logged',
      body: formBody,
      responses: { 200: { description: 'Accepted' }, 403: { description: 'Signature missing or wrong' } },
      handler: async ({ req, res, body }) => {
        verifySignature(deps, req, body);
        await applyTwilioStatus(deps, flatten(body));
        res.status(200).type('text/xml').send(EMPTY_TWIML);
        return undefined;
      },
    }),
  ];
}

function verifySignature(deps: SmsWebhookDeps, req: Request, params: Form): void {
  const signature = req.get('x-twilio-signature');
  const url = `${deps.publicBaseUrl}${req.originalUrl}`;
  if (!signature || !twilio.validateRequest(deps.authToken, signature, url, params)) {
    deps.timeline.logger.warn({ path: req.path }, 'Twilio webhook refused: bad or missing signature');
    throw new AppError('FORBIDDEN', 'X-Twilio-Signature is missing or does not match');
  }
}

function flatten(form: Form): Record<string, string> {
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
}

/** Stores an inbound SMS/MMS and applies consent keywords; returns the text to answer with, if any. */
async function receiveSms(deps: SmsWebhookDeps, form: Form): Promise<string | null> {
  const f = flatten(form);
  if (!SID.test(f.MessageSid ?? '')) throw new AppError('INVALID_INPUT', 'MessageSid: missing or not a Twilio message sid', { field: 'MessageSid' });
  if (!f.From) throw new AppError('INVALID_INPUT', 'From: missing', { field: 'From' });
  const keyword = classifySmsKeyword(f.Body ?? '', f.OptOutType);
  const numMedia = Math.min(Number(f.NumMedia ?? 0) || 0, 10);
  const inbound: NormalizedInbound = {
    channel: 'sms',
    from: { kind: 'phone', value: f.From },
    providerKey: `twilio:${f.MessageSid}`,
    providerMessageId: f.MessageSid!,
    body: f.Body ?? '',
    attachments: Array.from({ length: numMedia }, (_, i) => ({
      name: `media-${i + 1}`,
      contentType: f[`MediaContentType${i}`] ?? 'application/octet-stream',
      size: 0,
      ref: f[`MediaUrl${i}`] ?? '',
    })).filter((a) => a.ref.startsWith('https://')),
    impliesConsent: keyword === null,
  };
  const stored = await ingestInbound(deps.timeline, inbound);
  // STOP from a guardian's number opts out the guardian, not the patient (related-contacts.ts).
  const sender = stored.message.sender?.identityId;
  if (keyword === 'opt_out') await recordAddressConsent(deps.timeline, stored.patientId, sender, 'sms', 'opted_out', `sms_keyword:${(f.OptOutType || f.Body || '').trim().toUpperCase()}`);
  if (keyword === 'opt_in') await recordAddressConsent(deps.timeline, stored.patientId, sender, 'sms', 'opted_in', `sms_keyword:${(f.OptOutType || f.Body || '').trim().toUpperCase()}`);
  if (keyword !== 'help') return null;
  // The HELP answer goes back in the TwiML response; the thread shows it as sent.
  const conversation = await deps.timeline.models.Conversation.findById(stored.conversation.id).lean().orFail();
  const help = await appendMessage(deps.timeline, conversation, {
    direction: 'outbound', channel: 'sms', body: deps.helpText, author: { type: 'system', agentId: null },
    providerKey: `twilio-help:${f.MessageSid}`, channelReason: 'sms_help_keyword', deliveryStatus: 'sent',
  });
  if (!help.duplicate) deps.timeline.events.messageCreated(toMessageRecord(help.message, deps.timeline.cipher), toConversationRecord(help.conversation, deps.timeline.cipher));
  return deps.helpText;
}

/** A status callback's effect; sandbox mode calls it directly with the same fields Twilio posts. */
export async function applyTwilioStatus(deps: Pick<SmsWebhookDeps, 'timeline'>, f: Record<string, string>): Promise<void> {
  const sid = f.MessageSid ?? f.SmsSid ?? '';
  const status = mapTwilioStatus(f.MessageStatus ?? f.SmsStatus ?? '');
  if (!SID.test(sid) || !status) return;
  const errorCode = f.ErrorCode || undefined;
  const { known, updated } = await advanceDeliveryByProviderId(deps.timeline, sid, status, errorCode, errorCode ? TWILIO_DELIVERY_ERRORS[errorCode] : undefined);
  if (!known) deps.timeline.logger.warn({ messageSid: sid, status }, 'status callback for a message we did not send; ignored');
  if (!updated) return;
  if (errorCode === '21610') await recordAddressConsent(deps.timeline, updated.patientId, updated.recipientIdentityId, 'sms', 'opted_out', 'twilio_error_21610');
}

function twimlMessage(text: string): string {
  const response = new twilio.twiml.MessagingResponse();
  response.message(text);
  return response.toString();
}
