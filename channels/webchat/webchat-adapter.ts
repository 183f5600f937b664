/**
 * Web chat. The patient's widget gets every message of its thread live over
 * the /widget namespace as the timeline stores it (and catches up by seq), so
 * "sending" is marking the message sent; the widget's `messages:seen` marks
 * it read (server/realtime/widget-namespace.ts).
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
