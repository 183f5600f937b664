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
import { ChannelError, type ChannelRoute, type HubPorts, type NormalizedInbound } from '../contract.ts';
import { classifySmsKeyword, looksLikeOptOutRequest } from './keywords.ts';
import { describeTwilioFailure, mapTwilioStatus, unavailableReasonFor } from './twilio-outcomes.ts';

export interface SmsWebhookConfig {
  authToken: string;
  publicBaseUrl: string;
  /** The reply to HELP: who the clinic is, how to reach it, how to stop. */
  helpText: string;
  /**
   * Twilio's Advanced Opt-Out answers STOP, START and HELP itself: the hub then
   * only records the consent change and never answers a keyword (the patient
   * would get two answers). Off: the hub answers HELP itself.
   */
  advancedOptOut: boolean;
}

const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
type Form = z.infer<typeof formBody>;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const SID = /^(SM|MM)[0-9a-f]{32}$/;
/** Carrier errors that are the number's, not one text's: 30005 unknown number, 30006 landline. */
const NUMBER_FAILURES = new Set(['30005', '30006']);

export function smsWebhookRoutes(config: SmsWebhookConfig, ports: HubPorts): ChannelRoute[] {
  return [
    {
      method: 'post', path: '/webhooks/twilio/sms', bodyParsing: 'form', body: formBody,
      summary: 'Twilio inbound SMS/MMS (form-encoded, X-Twilio-Signature verified); answers TwiML once stored',
      responses: { 200: { description: 'TwiML (empty, or the HELP reply)' }, 403: { description: 'Signature missing or wrong; nothing stored' } },
      handler: async ({ req, res, body }) => {
        verifySignature(config, ports, req, body as Form);
        const reply = await receiveSms(config, ports, flatten(body as Form));
        res.status(200).type('text/xml').send(reply ? twimlMessage(reply) : EMPTY_TWIML);
        return undefined;
      },
    },
    {
      method: 'post', path: '/webhooks/twilio/status', bodyParsing: 'form', body: formBody,
      summary: 'Twilio status callbacks (signed, query included): `?m=` is our message id, as the hub put it in StatusCallback; delivery status only moves forward; an unknown message is accepted and logged',
      responses: { 200: { description: 'Accepted' }, 403: { description: 'Signature missing or wrong' } },
      handler: async ({ req, res, body }) => {
        verifySignature(config, ports, req, body as Form);
        const m = req.query.m;
        await applyTwilioStatus(ports, flatten(body as Form), typeof m === 'string' ? m : undefined);
        res.status(200).type('text/xml').send(EMPTY_TWIML);
        return undefined;
      },
    },
  ];
}

function verifySignature(config: SmsWebhookConfig, ports: HubPorts, req: Request, params: Form): void {
  const signature = req.get('x-twilio-signature');
  const url = `${config.publicBaseUrl}${req.originalUrl}`;
  if (!signature || !twilio.validateRequest(config.authToken, signature, url, params)) {
    ports.logger.warn({ path: req.path }, 'Twilio webhook refused: bad or missing signature');
    throw new ChannelError('forbidden', 'X-Twilio-Signature is missing or does not match');
  }
}

function flatten(form: Form): Record<string, string> {
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
}

/** Stores an inbound SMS/MMS and applies consent keywords; returns the text to answer with, if any. */
async function receiveSms(config: SmsWebhookConfig, ports: HubPorts, f: Record<string, string>): Promise<string | null> {
  if (!SID.test(f.MessageSid ?? '')) throw new ChannelError('invalid_input', 'MessageSid: missing or not a Twilio message sid', 'MessageSid');
  if (!f.From) throw new ChannelError('invalid_input', 'From: missing', 'From');
  const keyword = classifySmsKeyword(f.Body ?? '', f.OptOutType);
  const numMedia = Math.min(Number(f.NumMedia ?? 0) || 0, 10);
  const inbound: NormalizedInbound = {
    channel: 'sms',
    from: { kind: 'phone', value: f.From },
    providerKey: `twilio:${f.MessageSid}`,
    providerMessageId: f.MessageSid!,
    body: f.Body ?? '',
    // Media stay at Twilio until the hub has imported them (in the background, with the account's credentials).
    attachments: Array.from({ length: numMedia }, (_, i) => ({
      name: `media-${i + 1}`,
      contentType: f[`MediaContentType${i}`] ?? 'application/octet-stream',
      size: 0,
      ref: f[`MediaUrl${i}`] ?? '',
    })).filter((a) => a.ref.startsWith('https://')),
    impliesConsent: keyword === null,
    ...(keyword === null && looksLikeOptOutRequest(f.Body ?? '') ? { possibleOptOut: true } : {}),
    // The clinic number texted: the patient's sticky sender if they have none (the hub decides).
    ...(f.To ? { to: f.To } : {}),
  };
  // A retry (duplicate) applies the keyword again: the first try may have stopped between storing and consent.
  const stored = await ports.ingest(inbound);
  // STOP from a guardian's number opts out the guardian, not the patient.
  const source = `sms_keyword:${(f.OptOutType || f.Body || '').trim().toUpperCase().slice(0, 20)}`;
  if (keyword === 'opt_out' || keyword === 'opt_in') {
    await ports.recordConsent({
      patientId: stored.patientId, identityId: stored.senderIdentityId, channel: 'sms', status: keyword === 'opt_out' ? 'opted_out' : 'opted_in', source,
      // Counted against the number once: not again when Twilio retries the webhook.
      ...(f.To && !stored.duplicate ? { receivedOn: f.To } : {}),
    });
  }
  if (keyword !== 'help' || !answersHelp(config, f)) return null;
  // The HELP answer goes back in the TwiML response; the thread shows it as sent (once per inbound message).
  await ports.recordAnswer(stored, { body: config.helpText, providerKey: `twilio-help:${f.MessageSid}`, reason: 'sms_help_keyword' });
  return config.helpText;
}

/** Twilio answered the keyword itself when it labelled it (OptOutType) or handles keywords for the account. */
const answersHelp = (config: SmsWebhookConfig, f: Record<string, string>) => !config.advancedOptOut && !f.OptOutType;

/** Our message ids (an ObjectId, or "m" and 24 hex digits for a keyed one), as the adapter puts them in the StatusCallback URL. */
const MESSAGE_ID = /^m?[a-f0-9]{24}$/;

/** A status callback's effect; sandbox mode calls it directly with the same fields Twilio posts. */
export async function applyTwilioStatus(ports: HubPorts, f: Record<string, string>, messageId?: string): Promise<void> {
  const sid = f.MessageSid ?? f.SmsSid ?? '';
  const twilioStatus = (f.MessageStatus ?? f.SmsStatus ?? '').toLowerCase();
  const status = mapTwilioStatus(twilioStatus);
  if (!SID.test(sid) || !status) return;
  const errorCode = f.ErrorCode || undefined;
  const failed = status === 'failed' || status === 'undelivered';
  const receipt = await ports.applyDelivery({
    // Our id from the signed StatusCallback URL when it has one (messages sent since it does); Twilio's sid otherwise.
    message: messageId && MESSAGE_ID.test(messageId) ? { id: messageId } : { providerMessageId: sid },
    channel: 'sms',
    status,
    // Twilio may post the same status twice; the pair is the event.
    eventId: `twilio:${sid}:${twilioStatus}`,
    ...(failed ? { failure: describeTwilioFailure(errorCode) } : {}),
    // A landline or a number that does not exist will not take the next text either.
    ...(failed && errorCode && NUMBER_FAILURES.has(errorCode) ? { recipientUndeliverable: unavailableReasonFor(errorCode) ?? 'the number cannot receive texts' } : {}),
  });
  if (!receipt.known) ports.logger.warn({ messageSid: sid, status }, 'status callback for a message we did not send; ignored');
  if (receipt.duplicate || !receipt.patientId) return;
  if (errorCode === '21610') {
    await ports.recordConsent({ patientId: receipt.patientId, identityId: receipt.recipientIdentityId, channel: 'sms', status: 'opted_out', source: 'twilio_error_21610' });
  }
}

function twimlMessage(text: string): string {
  const response = new twilio.twiml.MessagingResponse();
  response.message(text);
  return response.toString();
}
