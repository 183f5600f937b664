/** The SMS channel (Twilio): its adapter and its webhooks, on the hub's ports. */
import twilio from 'twilio';
import type { Channel, HubPorts, SandboxOutbox } from '../contract.ts';
import { createSmsAdapter, type SmsAdapterConfig } from './sms-adapter.ts';
import { smsWebhookRoutes, type SmsWebhookConfig } from './twilio-webhooks.ts';

export type SmsChannelConfig = SmsAdapterConfig & SmsWebhookConfig;

export function createSmsChannel(config: SmsChannelConfig, ports: HubPorts, outbox: SandboxOutbox): Channel {
  // The sandbox signs its callbacks with the auth token, as Twilio does: they pass the same check as real ones.
  const simulateStatusCallback = async (statusCallback: string, params: Record<string, string>, delayMs = 0) => {
    const path = statusCallback.slice(config.publicBaseUrl.length);
    const post = () => {
      const signature = twilio.getExpectedTwilioSignature(config.authToken, statusCallback, params);
      return ports.postWebhook(path, {
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
