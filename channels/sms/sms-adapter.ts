/**
 * SMS over Twilio, through the official SDK. Without TWILIO_ACCOUNT_SID it
 * runs in sandbox mode: the request Twilio would receive (its form fields) is
 * recorded in the dev outbox under a Twilio-shaped sid (`SM` + 32 hex), and a
 * "delivered" status callback is simulated through the same handler real
 * callbacks go through.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { ChannelAdapter, OutboundEnvelope, SandboxOutbox } from '../contract.ts';
import { mapTwilioError, mapTwilioStatus } from './twilio-outcomes.ts';

export interface SmsAdapterConfig {
  accountSid?: string | undefined;
  authToken: string;
  fromNumber?: string | undefined;
  messagingServiceSid?: string | undefined;
  publicBaseUrl: string;
}

export interface SmsAdapterHooks {
  /** Sandbox mode: deliver a status callback (Twilio's form fields) to the hub's own handler. */
  simulateStatusCallback(params: Record<string, string>): Promise<void>;
}

/** The form fields of messages.create, as Twilio receives them. */
function createRequest(config: SmsAdapterConfig, envelope: OutboundEnvelope) {
  return {
    to: envelope.to,
    ...(config.messagingServiceSid ? { messagingServiceSid: config.messagingServiceSid } : { from: config.fromNumber ?? '+15005550006' }),
    body: envelope.body,
    ...(envelope.mediaUrls?.length ? { mediaUrl: envelope.mediaUrls } : {}),
    statusCallback: `${config.publicBaseUrl}/webhooks/twilio/status`,
  };
}

/**
 * MMS media stay at Twilio; agents fetch them through the hub, which adds the
 * account's credentials (never exposed) and only ever calls api.twilio.com.
 */
async function fetchTwilioMedia(config: SmsAdapterConfig, ref: string) {
  const url = new URL(ref);
  if (url.protocol !== 'https:' || url.hostname !== 'api.twilio.com') return null;
  const auth = config.accountSid ? { authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}` } : undefined;
  const res = await fetch(url, { headers: auth, redirect: 'follow' });
  if (!res.ok || !res.body) return null;
  return { contentType: res.headers.get('content-type') ?? 'application/octet-stream', body: res.body };
}

export function createSmsAdapter(config: SmsAdapterConfig, outbox: SandboxOutbox, hooks: SmsAdapterHooks): ChannelAdapter {
  if (config.accountSid) {
    if (!config.fromNumber && !config.messagingServiceSid) {
      throw new Error('TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required when TWILIO_ACCOUNT_SID is set');
    }
    // Retries are the outbox's job (with backoff and a lease), not the SDK's. No keep-alive: a
    // connection per message costs one TLS handshake at clinic volumes, and kept-alive sockets with
    // the SDK's socket timeout never completed under HTTP interception in our tests.
    const client = twilio(config.accountSid, config.authToken, { autoRetry: false, httpClient: new twilio.RequestClient({ keepAlive: false }) });
    return {
      id: 'sms',
      label: 'SMS',
      fetchAttachment: (ref) => fetchTwilioMedia(config, ref),
      async send(envelope) {
        try {
          const message = await client.messages.create(createRequest(config, envelope));
          return { ok: true, providerMessageId: message.sid, status: mapTwilioStatus(message.status) === 'sent' ? 'sent' : 'queued' };
        } catch (error) {
          return { ok: false, error: mapTwilioError(error) };
        }
      },
    };
  }
  return {
    id: 'sms',
    label: 'SMS',
    fetchAttachment: (ref) => fetchTwilioMedia(config, ref),
    async send(envelope) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const request = createRequest(config, envelope);
      await outbox.record({
        id: sid,
        channel: 'sms',
        messageId: envelope.messageId,
        request: {
          To: request.to,
          ...('messagingServiceSid' in request ? { MessagingServiceSid: request.messagingServiceSid } : { From: request.from }),
          Body: request.body,
          ...(request.mediaUrl ? { MediaUrl: request.mediaUrl } : {}),
          StatusCallback: request.statusCallback,
        },
      });
      return {
        ok: true,
        providerMessageId: sid,
        status: 'sent',
        afterRecorded: () =>
          hooks.simulateStatusCallback({ MessageSid: sid, SmsSid: sid, MessageStatus: 'delivered', SmsStatus: 'delivered', To: request.to, ApiVersion: '2010-04-01' }),
      };
    },
  };
}
