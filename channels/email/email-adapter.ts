/**
 * Email over SendGrid, through `@sendgrid/mail`. Without SENDGRID_API_KEY it
 * runs in sandbox mode: the exact mail/send JSON the SDK would post is
 * recorded in the dev outbox. Every mail threads: a stable Message-ID per
 * message, In-Reply-To/References to the conversation's earlier mail, and a
 * per-conversation Reply-To that cannot be guessed.
 */
import { randomBytes } from 'node:crypto';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import { Mail } from '@sendgrid/helpers/classes/index.js';
import type { ChannelAdapter, OutboundEnvelope, SandboxOutbox, SendFailure } from '../contract.ts';
import { foldHeaderText } from './header-text.ts';
import { sandboxEmailBehaviour } from './sandbox-recipients.ts';

/** An Event Webhook event as the sandbox simulates it (SendGrid's field names). */
export type SandboxEmailEvent = Record<string, string | number | boolean>;

export interface EmailAdapterConfig {
  apiKey?: string | undefined;
  fromEmail: string;
  clinicName: string;
  /** Sandbox: how long the slow test address waits before "delivered" (SANDBOX_SLOW_DELIVERY_SECONDS). */
  sandboxSlowDeliveryMs: number;
  /**
   * OUTBOX_SEND_TIMEOUT_SECONDS: how long one mail/send may wait for SendGrid (the client's request timeout; default 15 s;
   * @sendgrid/client sets none by itself). The outbox lease is at least twice this.
   */
  sendTimeoutMs?: number | undefined;
}

const DEFAULT_SEND_TIMEOUT_MS = 15_000;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Plain text as safe HTML: escaped, paragraphs and line breaks kept. */
function textToHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

function mailFor(config: EmailAdapterConfig, envelope: OutboundEnvelope): MailDataRequired {
  const thread = envelope.email;
  return {
    to: envelope.to,
    from: { email: config.fromEmail, name: config.clinicName },
    ...(thread ? { replyTo: { email: thread.replyTo, name: config.clinicName } } : {}),
    // The last point before SendGrid turns it into a header: whatever the caller passed, it leaves as one line.
    subject: foldHeaderText(envelope.subject ?? thread?.subject ?? '') || foldHeaderText(`A message from ${config.clinicName}`),
    text: envelope.body,
    html: textToHtml(envelope.body),
    headers: {
      ...(thread ? { 'Message-ID': thread.messageIdHeader } : {}),
      ...(thread?.inReplyTo ? { 'In-Reply-To': thread.inReplyTo } : {}),
      ...(thread?.references.length ? { References: thread.references.join(' ') } : {}),
    },
    customArgs: { carethread_message_id: envelope.messageId },
    ...(envelope.attachments?.length
      ? { attachments: envelope.attachments.map((a) => ({ content: a.content.toString('base64'), filename: a.name, type: a.contentType, disposition: 'attachment' })) }
      : {}),
  };
}

/** Errors of the HTTP client itself (no answer from SendGrid): refused, reset, timed out, name lookup failed. */
const NETWORK_CODE = /^(E[A-Z_]{2,30}|ERR_[A-Z_]{2,40})$/;
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_CANCELED']);
const RETRY_SUGGESTION = 'Nothing to do yet: the hub sends it again shortly';

/**
 * SendGrid errors as outcomes. Transient ones are retried: no answer at all
 * (a network error or a timeout: @sendgrid/client passes axios's error on, its
 * `code` a string such as ECONNRESET), HTTP 429 (rate limit) and 5xx. The rest
 * are refusals an agent can read. A timeout is ambiguous: SendGrid may have
 * accepted the mail before the answer was lost (README "Delivery: the outbox").
 */
export function mapSendGridError(error: unknown): SendFailure {
  const e = error as { code?: number | string; response?: { body?: { errors?: { message?: string; field?: string }[] } } };
  // A ResponseError carries the HTTP status in `code`; a network error its errno-like name.
  const status = typeof e.code === 'number' ? e.code : undefined;
  if (status === undefined) {
    const networkCode = typeof e.code === 'string' && NETWORK_CODE.test(e.code) ? e.code : 'NETWORK';
    const timedOut = TIMEOUT_CODES.has(networkCode);
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: timedOut ? 'SendGrid did not answer in time' : 'SendGrid could not be reached',
      suggestion: RETRY_SUGGESTION,
      retryable: true,
      providerCode: networkCode,
    };
  }
  const first = e.response?.body?.errors?.[0];
  if (status === 429 || status >= 500) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: status === 429 ? 'SendGrid is limiting how fast the clinic sends' : 'SendGrid is busy or unavailable',
      suggestion: RETRY_SUGGESTION,
      retryable: true,
      providerCode: `HTTP_${status}`,
    };
  }
  if (status === 401 || status === 403) {
    return { code: 'PROVIDER_AUTH', message: 'SendGrid refused our API key; check SENDGRID_API_KEY and its permissions', retryable: false, providerCode: `HTTP_${status}` };
  }
  if (status === 413) return { code: 'TOO_LARGE', message: 'The email is too large for SendGrid (30 MB)', retryable: false, providerCode: 'HTTP_413' };
  return {
    code: 'PROVIDER_REFUSED',
    message: first?.message ? `SendGrid refused the email: ${first.message}${first.field ? ` (${first.field})` : ''}` : `SendGrid refused the email (HTTP ${status})`,
    retryable: false,
    providerCode: `HTTP_${status}`,
  };
}

export function createEmailAdapter(
  config: EmailAdapterConfig,
  outbox: SandboxOutbox,
  /** Sandbox mode: posts events, signed, to the hub's own Event Webhook. */
  simulateEvents?: (events: SandboxEmailEvent[], delayMs?: number) => Promise<void>,
): ChannelAdapter {
  if (config.apiKey) {
    const client = new MailService();
    client.setApiKey(config.apiKey);
    // Retries are the outbox's job; the timeout bounds each call, so a hung SendGrid cannot outlast the lease.
    client.setTimeout(config.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
    return {
      id: 'email',
      label: 'Email',
      async send(envelope) {
        try {
          const [response] = await client.send(mailFor(config, envelope));
          const id = String((response.headers as Record<string, unknown>)['x-message-id'] ?? '');
          return { ok: true, providerMessageId: id || `sendgrid:${envelope.messageId}`, status: 'sent' };
        } catch (error) {
          return { ok: false, error: mapSendGridError(error) };
        }
      },
    };
  }
  return {
    id: 'email',
    label: 'Email',
    async send(envelope) {
      const behaviour = sandboxEmailBehaviour(envelope.to);
      if (behaviour.kind === 'unavailable') return { ok: false, error: mapSendGridError({ code: 503 }) };
      const id = randomBytes(16).toString('base64url');
      await outbox.record({ id, channel: 'email', messageId: envelope.messageId, request: Mail.create(mailFor(config, envelope)).toJSON() as unknown as Record<string, unknown> });
      const event = (name: string, extra: SandboxEmailEvent = {}): SandboxEmailEvent => ({
        email: envelope.to, event: name, sg_message_id: `${id}.sandbox`, carethread_message_id: envelope.messageId, ...extra,
      });
      return {
        ok: true,
        providerMessageId: id,
        status: 'sent',
        ...(simulateEvents && behaviour.kind !== 'quiet'
          ? {
              afterRecorded: async () => {
                if (behaviour.kind === 'bounce') {
                  return simulateEvents([event('bounce', { type: behaviour.type, status: behaviour.status, bounce_classification: behaviour.classification, reason: `${behaviour.status} sandbox ${behaviour.type}` })]);
                }
                if (behaviour.kind === 'dropped') return simulateEvents([event('dropped', { reason: behaviour.reason })]);
                if (behaviour.kind === 'slow') return simulateEvents([event('delivered')], config.sandboxSlowDeliveryMs);
                return simulateEvents([event('delivered')]);
              },
            }
          : {}),
      };
    },
  };
}
