/**
 * SMS over Twilio. Until the Twilio transport lands (issue 5) only sandbox
 * mode exists: the request Twilio would receive (its form fields) is recorded
 * in the dev outbox under a Twilio-shaped sid (`SM` + 32 hex digits).
 */
import { randomBytes } from 'node:crypto';
import type { ChannelAdapter, SandboxOutbox } from '../contract.ts';

export interface SmsAdapterConfig {
  accountSid?: string | undefined;
  fromNumber?: string | undefined;
  messagingServiceSid?: string | undefined;
  publicBaseUrl: string;
}

export function createSmsAdapter(config: SmsAdapterConfig, outbox: SandboxOutbox): ChannelAdapter {
  if (config.accountSid) {
    throw new Error('TWILIO_ACCOUNT_SID is set, but the live Twilio transport is not built yet (issue 5); unset it to run SMS in sandbox mode');
  }
  return {
    id: 'sms',
    label: 'SMS',
    async send(envelope) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      await outbox.record({
        id: sid,
        channel: 'sms',
        messageId: envelope.messageId,
        request: {
          To: envelope.to,
          ...(config.messagingServiceSid ? { MessagingServiceSid: config.messagingServiceSid } : { From: config.fromNumber ?? '+15005550006' }),
          Body: envelope.body,
          StatusCallback: `${config.publicBaseUrl}/webhooks/twilio/status`,
        },
      });
      return { ok: true, providerMessageId: sid, status: 'sent' };
    },
  };
}
