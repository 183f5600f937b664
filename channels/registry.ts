/**
 * Every channel, by id: one line each. A channel is one folder that depends
 * only on contract.ts; a ChannelId missing here is a type error.
 */
import type { ChannelId } from './channel-id.ts';
import type { Channel, HubPorts, SandboxOutbox } from './contract.ts';
import { createEmailChannel, type EmailChannelConfig } from './email/email-channel.ts';
import { createSmsChannel, type SmsChannelConfig } from './sms/sms-channel.ts';
import { createWebchatChannel } from './webchat/webchat-adapter.ts';

export interface ChannelsConfig {
  sms: SmsChannelConfig;
  email: EmailChannelConfig;
}

export function createChannels(config: ChannelsConfig, ports: HubPorts, outbox: SandboxOutbox): Record<ChannelId, Channel> {
  return {
    sms: createSmsChannel(config.sms, ports, outbox),
    email: createEmailChannel(config.email, ports, outbox),
    webchat: createWebchatChannel(),
  };
}
