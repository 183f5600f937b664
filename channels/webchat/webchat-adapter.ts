/**
 * Web chat. The patient's widget reads its timeline from the hub, so "sending"
 * is marking the message sent; the widget acknowledges delivery (issue 7).
 */
import type { ChannelAdapter } from '../contract.ts';

export function createWebchatAdapter(): ChannelAdapter {
  return {
    id: 'webchat',
    label: 'Web chat',
    async send(envelope) {
      return { ok: true, providerMessageId: `webchat:${envelope.messageId}`, status: 'sent' };
    },
  };
}
