/** Every channel's adapter, by id. A channel missing here is a type error. */
import type { ChannelId } from './channel-id.ts';
import type { ChannelAdapter, SandboxOutbox } from './contract.ts';
import { createEmailAdapter, type EmailAdapterConfig } from './email/email-adapter.ts';
import { createSmsAdapter, type SmsAdapterConfig, type SmsAdapterHooks } from './sms/sms-adapter.ts';
import { createWebchatAdapter } from './webchat/webchat-adapter.ts';

export interface ChannelsConfig {
  sms: SmsAdapterConfig;
  email: EmailAdapterConfig;
}

export interface ChannelHooks {
  sms: SmsAdapterHooks;
}

export function createChannelAdapters(config: ChannelsConfig, outbox: SandboxOutbox, hooks: ChannelHooks): Record<ChannelId, ChannelAdapter> {
  return {
    sms: createSmsAdapter(config.sms, outbox, hooks.sms),
    email: createEmailAdapter(config.email, outbox),
    webchat: createWebchatAdapter(),
  };
}
