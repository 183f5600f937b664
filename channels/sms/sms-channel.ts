/** The SMS channel (Twilio): its adapter and its webhooks, on the hub's ports. */
import twilio from 'twilio';
import type { Channel, HubPorts, SandboxOutbox } from '../contract.ts';
import { createSmsAdapter, type SmsAdapterConfig } from './sms-adapter.ts';
import { smsWebhookRoutes, type SmsWebhookConfig } from './twilio-webhooks.ts';

export type SmsChannelConfig = SmsAdapterConfig & SmsWebhookConfig;

const STATUS_PATH = '/webhooks/twilio/status';

export function createSmsChannel(config: SmsChannelConfig, ports: HubPorts, outbox: SandboxOutbox): Channel {
  // The sandbox signs its callbacks with the auth token, as Twilio does: they pass the same check as real ones.
  const simulateStatusCallback = async (params: Record<string, string>, delayMs = 0) => {
    const post = () => {
      const signature = twilio.getExpectedTwilioSignature(config.authToken, `${config.publicBaseUrl}${STATUS_PATH}`, params);
      return ports.postWebhook(STATUS_PATH, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      });
    };
    if (delayMs > 0) ports.later(delayMs, 'sandbox sms status callback', post);
    else await post();
  };
  return {
    adapter: createSmsAdapter(config, outbox, { simulateStatusCallback }),
    routes: smsWebhookRoutes(config, ports),
  };
}
