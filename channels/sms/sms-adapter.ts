/**
 * SMS over Twilio, through the official SDK. Without TWILIO_ACCOUNT_SID it
 * runs in sandbox mode: the request Twilio would receive (its form fields) is
 * recorded in the dev outbox under a Twilio-shaped sid (`SM` + 32 hex), and
 * status callbacks are posted, signed as Twilio signs them, to the hub's own
 * /webhooks/twilio/status. Sandbox numbers can fail (sandbox-recipients.ts).
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { ChannelAdapter, FetchedAttachment, OutboundEnvelope, SandboxOutbox } from '../contract.ts';
import { sandboxSmsBehaviour } from './sandbox-recipients.ts';
import { mapTwilioError, mapTwilioStatus } from './twilio-outcomes.ts';

export interface SmsAdapterConfig {
  accountSid?: string | undefined;
  authToken: string;
  fromNumber?: string | undefined;
  messagingServiceSid?: string | undefined;
  publicBaseUrl: string;
  /** TWILIO_DELETE_MEDIA_AFTER_IMPORT: delete Twilio's copy of inbound media once the hub holds it sealed. */
  deleteMediaAfterImport?: boolean;
  /** Sandbox: how long the slow test number waits before "delivered" (SANDBOX_SLOW_DELIVERY_SECONDS). */
  sandboxSlowDeliveryMs: number;
  /**
   * OUTBOX_SEND_TIMEOUT_SECONDS: how long one API call may wait for Twilio (the SDK's request timeout; default 15 s).
   * The outbox lease is at least twice this, so a hung call ends while its message is still leased to this worker.
   */
  sendTimeoutMs?: number | undefined;
}

export const DEFAULT_SEND_TIMEOUT_MS = 15_000;

export interface SmsAdapterHooks {
  /** Sandbox mode: posts a status callback (Twilio's form fields) to the message's StatusCallback URL, signed as Twilio signs. */
  simulateStatusCallback(statusCallback: string, params: Record<string, string>, delayMs?: number): Promise<void>;
}



/**
 * The form fields of messages.create, as Twilio receives them. The hub's choice of number (`envelope.from`, the
 * patient's sticky sender) wins; with a Messaging Service it goes as From next to MessagingServiceSid (Twilio takes
 * both: the number must be in the service's sender pool). A Messaging Service without a number of ours leaves the
 * choice to Twilio (its own Sticky Sender feature).
 */
function createRequest(config: SmsAdapterConfig, envelope: OutboundEnvelope) {
  return {
    to: envelope.to,
    ...(config.messagingServiceSid ? { messagingServiceSid: config.messagingServiceSid } : {}),
    ...(envelope.from ? { from: envelope.from } : config.messagingServiceSid ? {} : { from: config.fromNumber ?? '+15005550006' }),
    body: envelope.body,
    ...(envelope.mediaUrls?.length ? { mediaUrl: envelope.mediaUrls } : {}),
    // Our message id rides in the (signed) URL: the callback finds its message by _id, not by Twilio's sid (an
    // index seek either way on MongoDB, but a scan of every message on the embedded store), and even when it
    // comes before the hub has recorded the sid.
    statusCallback: `${config.publicBaseUrl}/webhooks/twilio/status?m=${encodeURIComponent(envelope.messageId)}`,
  };
}

const MEDIA_TIMEOUT_MS = 30_000;

const isTwilioMediaUrl = (url: URL) => url.protocol === 'https:' && url.hostname === 'api.twilio.com';

/**
 * An MMS medium, fetched with the account's credentials (never exposed) from
 * api.twilio.com only. Twilio redirects to a short-lived signed storage URL;
 * the credentials are not sent there (fetch drops Authorization on a
 * cross-origin redirect).
 */
async function fetchTwilioMedia(config: SmsAdapterConfig, ref: string): Promise<FetchedAttachment> {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return { ok: false, retryable: false, reason: 'not a media URL' };
  }
  if (!isTwilioMediaUrl(url)) return { ok: false, retryable: false, reason: 'not a Twilio media URL' };
  const auth = config.accountSid ? { authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}` } : undefined;
  try {
    const res = await fetch(url, { headers: auth, redirect: 'follow', signal: AbortSignal.timeout(MEDIA_TIMEOUT_MS) });
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      return { ok: false, retryable, reason: res.status === 404 ? 'Twilio no longer has this file (404)' : `Twilio answered HTTP ${res.status}` };
    }
    return { ok: true, contentType: res.headers.get('content-type') ?? 'application/octet-stream', data: Buffer.from(await res.arrayBuffer()) };
  } catch {
    return { ok: false, retryable: true, reason: 'Twilio could not be reached' };
  }
}

/** Deletes Twilio's copy of a medium once the hub holds it (only with credentials; the sandbox has nothing to delete). */
async function deleteTwilioMedia(config: SmsAdapterConfig, ref: string): Promise<void> {
  const url = new URL(ref);
  if (!config.accountSid || !isTwilioMediaUrl(url)) return;
  const res = await fetch(url, {
    method: 'DELETE',
    headers: { authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}` },
    signal: AbortSignal.timeout(MEDIA_TIMEOUT_MS),
  });
  if (!res.ok && res.status !== 404) throw new Error(`Twilio answered HTTP ${res.status} to the media deletion`);
}

export function createSmsAdapter(config: SmsAdapterConfig, outbox: SandboxOutbox, hooks: SmsAdapterHooks): ChannelAdapter {
  if (config.accountSid) {
    if (!config.fromNumber && !config.messagingServiceSid) {
      throw new Error('TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required when TWILIO_ACCOUNT_SID is set');
    }
    // Retries are the outbox's job (with backoff and a lease), not the SDK's. No keep-alive: a
    // connection per message costs one TLS handshake at clinic volumes, and kept-alive sockets with
    // the SDK's socket timeout never completed under HTTP interception in our tests. The timeout
    // bounds each call (the SDK's default is 30 s), so a hung Twilio cannot outlast the lease.
    const httpClient = new twilio.RequestClient({ keepAlive: false, timeout: config.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS });
    const client = twilio(config.accountSid, config.authToken, { autoRetry: false, httpClient });
    return {
      id: 'sms',
      label: 'SMS',
      fetchAttachment: (ref) => fetchTwilioMedia(config, ref),
      ...(config.deleteMediaAfterImport ? { deleteAttachment: (ref: string) => deleteTwilioMedia(config, ref) } : {}),
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
      const behaviour = sandboxSmsBehaviour(envelope.to);
      if (behaviour.kind === 'refused') return { ok: false, error: mapTwilioError({ status: behaviour.status, code: behaviour.code }) };
      if (behaviour.kind === 'unavailable') return { ok: false, error: mapTwilioError({ status: 503 }) };
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const request = createRequest(config, envelope);
      await outbox.record({
        id: sid,
        channel: 'sms',
        messageId: envelope.messageId,
        request: {
          To: request.to,
          ...('messagingServiceSid' in request ? { MessagingServiceSid: request.messagingServiceSid } : {}),
          ...('from' in request ? { From: request.from } : {}),
          Body: request.body,
          ...(request.mediaUrl ? { MediaUrl: request.mediaUrl } : {}),
          StatusCallback: request.statusCallback,
        },
      });
      return {
        ok: true,
        providerMessageId: sid,
        status: 'sent',
        afterRecorded: async () => {
          const callback = (status: string, extra: Record<string, string> = {}) => ({
            MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, To: request.to, ApiVersion: '2010-04-01', ...extra,
          });
          if (behaviour.kind === 'silent') return;
          const post = (params: Record<string, string>, delayMs?: number) => hooks.simulateStatusCallback(request.statusCallback, params, delayMs);
          if (behaviour.kind === 'undelivered') return post(callback('undelivered', { ErrorCode: behaviour.errorCode }));
          if (behaviour.kind === 'slow') return post(callback('delivered'), config.sandboxSlowDeliveryMs);
          return post(callback('delivered'));
        },
      };
    },
  };
}
