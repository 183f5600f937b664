/**
 * Email over SendGrid. Until the SendGrid transport lands (issue 6) only
 * sandbox mode exists: the mail/send JSON SendGrid would receive is recorded
 * in the dev outbox, with custom_args carrying our message id.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelAdapter, SandboxOutbox } from '../contract.ts';

export interface EmailAdapterConfig {
  apiKey?: string | undefined;
  fromEmail: string;
  clinicName: string;
}

export function createEmailAdapter(config: EmailAdapterConfig, outbox: SandboxOutbox): ChannelAdapter {
  if (config.apiKey) {
    throw new Error('SENDGRID_API_KEY is set, but the live SendGrid transport is not built yet (issue 6); unset it to run email in sandbox mode');
  }
  return {
    id: 'email',
    label: 'Email',
    async send(envelope) {
      const id = randomBytes(16).toString('base64url');
      await outbox.record({
        id,
        channel: 'email',
        messageId: envelope.messageId,
        request: {
          personalizations: [{ to: [{ email: envelope.to }] }],
          from: { email: config.fromEmail, name: config.clinicName },
          subject: envelope.subject ?? `A message from ${config.clinicName}`,
          content: [{ type: 'text/plain', value: envelope.body }],
          custom_args: { carethread_message_id: envelope.messageId },
        },
      });
      return { ok: true, providerMessageId: id, status: 'sent' };
    },
  };
}
