/**
 * Web chat. The patient's widget gets every message of its thread live over
 * the /widget namespace as the timeline stores it (and catches up by seq), so
 * "sending" is marking the message sent; the widget's `messages:seen` marks
 * it read (server/realtime/widget-namespace.ts).
 */
import type { Channel, ChannelAdapter } from '../contract.ts';

export function createWebchatAdapter(): ChannelAdapter {
  return {
    id: 'webchat',
    label: 'Web chat',
    async send(envelope) {
      return { ok: true, providerMessageId: `webchat:${envelope.messageId}`, status: 'sent' };
    },
  };
}

/** The widget's routes and socket live in the hub (server/widget, server/realtime): the widget is the hub's own client. */
export function createWebchatChannel(): Channel {
  return { adapter: createWebchatAdapter(), routes: [] };
}
