/** The channels a patient can be reached on. Adding one is a type error until the registry has it. */
export const CHANNEL_IDS = ['sms', 'email', 'webchat'] as const;
export type ChannelId = (typeof CHANNEL_IDS)[number];

/** Which identity kind a channel addresses. */
export const IDENTITY_KIND_OF: Record<ChannelId, 'phone' | 'email' | 'web'> = {
  sms: 'phone',
  email: 'email',
  webchat: 'web',
};
