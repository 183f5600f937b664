/**
 * The continuity rules for replies (ARCHITECTURE.md). `auto` picks, in order:
 * the web chat while the patient's widget is connected; the channel the
 * patient last wrote from; the patient's preferred channel; any other channel
 * the patient can be reached on. A channel is never used without a verified
 * identity for it or without consent. The reason is stored on the message.
 */
import { CHANNEL_IDS, type ChannelId } from '../../../channels/channel-id.ts';
import type { Consent } from '../../db/documents.ts';
import { AppError } from '../../errors.ts';

export type RequestedChannel = ChannelId | 'auto';

export type ChannelReason =
  | 'requested_by_agent'
  | 'widget_connected'
  | 'last_inbound_channel'
  | 'preferred_channel'
  | 'only_reachable_channel'
  | 'widget_offline_only_channel';

export type Unavailability = 'no_verified_identity' | 'identity_not_verified' | 'undeliverable' | 'no_consent' | 'opted_out';

export interface ReplyChannelFacts {
  consent: Record<ChannelId, Consent>;
  verifiedIdentity: Record<ChannelId, boolean>;
  /** The patient has an address there, but none verified (replied in a thread, given, or shared): PHI never goes to it. */
  unverifiedIdentity?: Record<ChannelId, boolean>;
  /** The patient's verified address there bounced (or the number cannot take texts): why, in words for agents. */
  undeliverable?: Partial<Record<ChannelId, string>>;
  widgetConnected: boolean;
  lastInboundChannel: ChannelId | null;
  preferredChannel: ChannelId | null;
}

/** Why a channel cannot carry a reply now, or null when it can. */
export function unavailability(facts: ReplyChannelFacts, channel: ChannelId): Unavailability | null {
  if (!facts.verifiedIdentity[channel]) {
    if (facts.unverifiedIdentity?.[channel]) return 'identity_not_verified';
    return facts.undeliverable?.[channel] ? 'undeliverable' : 'no_verified_identity';
  }
  const status = facts.consent[channel]?.status ?? 'unknown';
  if (status === 'opted_out') return 'opted_out';
  // Web chat is opened by the patient; texting and email need consent first.
  if (channel !== 'webchat' && status !== 'opted_in') return 'no_consent';
  return null;
}

export function chooseReplyChannel(facts: ReplyChannelFacts, requested: RequestedChannel): { channel: ChannelId; reason: ChannelReason } {
  if (requested !== 'auto') {
    const why = unavailability(facts, requested);
    if (why === 'undeliverable') {
      throw new AppError('NO_REACHABLE_CHANNEL', `The patient’s ${requested} address cannot receive: ${facts.undeliverable?.[requested] ?? 'it bounced'}`, { field: 'channel' });
    }
    if (why === 'no_verified_identity') {
      throw new AppError('NO_IDENTITY_FOR_CHANNEL', `The patient has no verified ${requested} address`, { field: 'channel' });
    }
    if (why === 'identity_not_verified') {
      throw new AppError('IDENTITY_NOT_VERIFIED', `The patient’s ${requested} address is not verified (it only replied in a thread, was given, or is shared); verify it in the patient panel first`, { field: 'channel' });
    }
    if (why) {
      throw new AppError('CONSENT_MISSING', `The patient has ${why === 'opted_out' ? 'opted out of' : 'not consented to'} ${requested} messages`, { field: 'channel' });
    }
    return { channel: requested, reason: 'requested_by_agent' };
  }
  // The web chat counts only while the widget is open; a closed widget would not show the reply until the patient returns.
  const usable = (c: ChannelId | null): c is ChannelId =>
    c !== null && unavailability(facts, c) === null && (c !== 'webchat' || facts.widgetConnected);
  if (usable('webchat')) return { channel: 'webchat', reason: 'widget_connected' };
  if (usable(facts.lastInboundChannel)) return { channel: facts.lastInboundChannel, reason: 'last_inbound_channel' };
  if (usable(facts.preferredChannel)) return { channel: facts.preferredChannel, reason: 'preferred_channel' };
  const other = CHANNEL_IDS.find(usable);
  if (other) return { channel: other, reason: 'only_reachable_channel' };
  // Nothing else reaches them: leave it in the chat, which they see when they come back.
  if (unavailability(facts, 'webchat') === null) return { channel: 'webchat', reason: 'widget_offline_only_channel' };
  throw new AppError('NO_REACHABLE_CHANNEL', 'The patient cannot be reached on any channel with consent right now', { field: 'channel' });
}
