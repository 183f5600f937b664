/** The email channel (SendGrid): its adapter, the Event Webhook and Inbound Parse, on the hub's ports. */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { Channel, HubPorts, SandboxOutbox } from '../contract.ts';
import { createEmailAdapter, type EmailAdapterConfig, type SandboxEmailEvent } from './email-adapter.ts';
import { inboundParseRoutes } from './inbound-parse.ts';
import { sendGridEventRoutes } from './sendgrid-events.ts';

export interface EmailChannelConfig extends EmailAdapterConfig {
  inboundSecret: string;
  eventPublicKey: string | undefined;
}

const EVENTS_PATH = '/webhooks/sendgrid/events';

export function createEmailChannel(config: EmailChannelConfig, ports: HubPorts, outbox: SandboxOutbox): Channel {
  const publicKeys = config.eventPublicKey ? [config.eventPublicKey] : [];
  let simulateEvents: ((events: SandboxEmailEvent[], delayMs?: number) => Promise<void>) | undefined;
  if (!config.apiKey) {
    // The sandbox signs its events with a key of its own (never leaves this process), as SendGrid signs with its own.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    publicKeys.push(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
    simulateEvents = async (events, delayMs = 0) => {
      const post = () => {
        const timestamp = String(Math.floor(ports.now().getTime() / 1000));
        const body = JSON.stringify(events.map((e) => ({ ...e, timestamp: Number(timestamp), sg_event_id: randomBytes(16).toString('base64url') })));
        const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
        return ports.postWebhook(EVENTS_PATH, {
          headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
          body,
        });
      };
      if (delayMs > 0) ports.later(delayMs, 'sandbox email events', post);
      else await post();
    };
  }
  return {
    adapter: createEmailAdapter(config, outbox, simulateEvents),
    routes: [...sendGridEventRoutes({ publicKeys }, ports), ...inboundParseRoutes({ secret: config.inboundSecret }, ports)],
  };
}
