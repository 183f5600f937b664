/** Words the inbox shows for the hub's codes, and dates. */
import type { ChannelId, MessageRecord, Unavailability } from './types.ts';

export const CHANNELS: ChannelId[] = ['sms', 'email', 'webchat'];

export function channelLabel(channel: string): string {
  switch (channel) {
    case 'sms':
      return 'SMS';
    case 'email':
      return 'Email';
    case 'webchat':
      return 'Web chat';
    case 'internal':
      return 'Internal';
    default:
      return channel;
  }
}

/** The badge of a message: its channel, or vCard for a contact card. */
export function messageBadge(message: Pick<MessageRecord, 'channel' | 'kind'>): string {
  return message.kind === 'vcard' ? 'vCard' : channelLabel(message.channel);
}

/** Why "auto" picks a channel, completing "Auto: SMS — …". */
export function autoReason(reason: string, channel: string | null): string {
  switch (reason) {
    case 'widget_connected':
      return 'the patient has the web chat open';
    case 'last_inbound_channel':
      return `patient last wrote by ${channel ? channelLabel(channel) : 'this channel'}`;
    case 'preferred_channel':
      return 'the patient’s preferred channel';
    case 'only_reachable_channel':
      return 'the only channel that reaches the patient now';
    case 'widget_offline_only_channel':
      return 'web chat only: the patient sees it when they come back';
    case 'requested_by_agent':
      return 'chosen by the agent';
    default:
      return reason;
  }
}

/** Why an outbound message went where it went (shown under the message). */
export function channelReasonLabel(reason: string | null, channel: string): string | null {
  if (!reason) return null;
  if (reason === 'requested_by_agent') return `${channelLabel(channel)} chosen by the agent`;
  if (reason === 'related_contact') return `${channelLabel(channel)} to a guardian or caregiver, chosen by the agent`;
  if (reason === 'automatic_contact_card') return `${channelLabel(channel)}, sent automatically: the clinic's contact card for a first contact`;
  if (reason === 'automatic_contact_card_update') return `${channelLabel(channel)}, sent automatically: the clinic's contact card changed`;
  if (reason === 'sms_help_keyword') return `${channelLabel(channel)}, answered automatically: the patient texted HELP`;
  if (reason === 'triage_safety_reply') return `${channelLabel(channel)}, sent automatically: safety instructions for a possible emergency`;
  if (reason === 'after_hours_reply') return `${channelLabel(channel)}, sent automatically: the team is closed now`;
  if (reason === 'department_menu') return `${channelLabel(channel)}, sent automatically: the choice of departments`;
  if (reason === 'fallback') return `${channelLabel(channel)}, sent automatically: the clinic's fallback channel, the first one did not deliver`;
  if (reason === 'faq_answer') return `${channelLabel(channel)}, answered automatically from the clinic's answers to common questions`;
  return `Auto: ${autoReason(reason, channel)}`;
}

export function unavailableLabel(why: Unavailability, channel: ChannelId, detail?: string | null): string {
  switch (why) {
    case 'undeliverable':
      return detail ?? (channel === 'email' ? 'the email address bounced' : 'the number cannot receive texts');
    case 'no_verified_identity':
      return channel === 'sms' ? 'no verified phone number' : channel === 'email' ? 'no verified email address' : 'no web chat visitor';
    case 'identity_not_verified':
      return channel === 'sms'
        ? 'the number is not verified (given or shared): verify it in the patient panel first'
        : 'the address is not verified (replied in a thread, given or shared): verify it in the patient panel first';
    case 'no_consent':
      return 'no consent';
    case 'opted_out':
      return 'patient opted out';
    default:
      return why;
  }
}

const DELIVERY: Record<string, string> = {
  received: 'Received',
  queued: 'Queued',
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  undelivered: 'Undelivered',
  failed: 'Failed',
};

export function deliveryLabel(status: string): string | null {
  return DELIVERY[status] ?? null;
}

export function isDeliveryProblem(status: string): boolean {
  return status === 'failed' || status === 'undelivered';
}

export function consentLabel(status: string): string {
  return status === 'opted_in' ? 'Opted in' : status === 'opted_out' ? 'Opted out' : 'Unknown';
}

export function identityKindLabel(kind: string): string {
  switch (kind) {
    case 'phone':
      return 'Phone';
    case 'email':
      return 'Email';
    case 'web':
      return 'Web chat visitor';
    case 'portal':
      return 'Patient portal';
    default:
      return kind;
  }
}

export function priorityLabel(priority: string): string {
  return priority.charAt(0).toUpperCase() + priority.slice(1);
}

export function statusLabel(status: string): string {
  return status === 'open' ? 'Open' : status === 'pending' ? 'Pending' : status === 'resolved' ? 'Resolved' : status;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "14:05" today, "Mar 3" before. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFormat.format(d) : dayFormat.format(d);
}

export function fullTime(iso: string | null | undefined): string {
  return iso ? fullFormat.format(new Date(iso)) : '';
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** "waiting 12 min" (from the conversation's waitingSince), "waiting 2 h 5 min" past an hour. */
export function waitingLabel(minutes: number): string {
  if (minutes < 1) return 'waiting <1 min';
  if (minutes < 60) return `waiting ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `waiting ${hours} h${rest ? ` ${rest} min` : ''}`;
}

export const AGENT_STATUSES = ['online', 'away', 'offline'] as const;

export function agentStatusLabel(status: string): string {
  return status === 'online' ? 'Online' : status === 'away' ? 'Away' : status === 'offline' ? 'Offline' : status;
}

export const ROUTING_MODES = ['manual', 'round_robin', 'least_busy'] as const;

export function routingModeLabel(mode: string): string {
  switch (mode) {
    case 'manual':
      return 'Manual (agents pick conversations)';
    case 'round_robin':
      return 'Round robin';
    case 'least_busy':
      return 'Least busy agent';
    default:
      return mode;
  }
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export function weekdayLabel(day: string): string {
  const names: Record<string, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };
  return names[day] ?? day;
}
