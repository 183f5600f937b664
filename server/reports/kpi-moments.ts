/**
 * Which stored messages and conversation states are moments of the figures.
 * Shared by the live recorder (from the timeline's events) and the rebuild
 * (from the stored documents), so both see the same moments.
 */
import type { ChannelId } from '../../channels/channel-id.ts';
import type { KpiMoment } from './kpi-documents.ts';

export interface MessageLike {
  id: string;
  direction: string;
  kind: string;
  channel: string;
  channelReason?: string | null;
  /** A copy the delivery fallback sent on another channel names the message it stands in for. */
  fallback?: { of?: string | null } | null;
  author: { type: string; agentId: string | null };
  createdAt: Date | string;
}

export interface ConversationLike {
  teamId: string;
  assigneeId: string | null;
  status: string;
  assignedAt: Date | string | null;
  resolvedAt: Date | string | null;
  reopenedAt: Date | string | null;
}

/**
 * A patient's own message (not mail a machine wrote, not a system event), or
 * an agent's reply to the patient. Notes, system events, the hub's automatic
 * texts (triage safety replies, after-hours answers, FAQ answers, menus:
 * author `system`) and a message re-sent on another channel by the delivery
 * fallback are never a response.
 */
export function momentOfMessage(message: MessageLike, teamId: string): KpiMoment | null {
  const at = new Date(message.createdAt);
  if (message.channel === 'internal') return null;
  const channel = message.channel as ChannelId;
  if (message.direction === 'inbound' && message.author.type === 'patient' && message.kind !== 'automatic_reply' && message.kind !== 'event') {
    return { id: message.id, kind: 'patient', at, teamId, channel };
  }
  if (message.direction === 'outbound' && message.author.type === 'agent' && message.author.agentId && message.channelReason !== 'fallback' && !message.fallback?.of) {
    return { id: message.id, kind: 'reply', at, teamId, agentId: message.author.agentId, channel };
  }
  return null;
}

/** The assignment, resolution and reopening a conversation's state shows (each identified by its time). */
export function momentsOfConversation(c: ConversationLike): KpiMoment[] {
  const moments: KpiMoment[] = [];
  if (c.assigneeId && c.assignedAt) {
    const at = new Date(c.assignedAt);
    moments.push({ id: `assigned:${at.toISOString()}:${c.assigneeId}`, kind: 'assigned', at, teamId: c.teamId, agentId: c.assigneeId });
  }
  if (c.status === 'resolved' && c.resolvedAt) {
    const at = new Date(c.resolvedAt);
    moments.push({ id: `resolved:${at.toISOString()}`, kind: 'resolved', at, teamId: c.teamId, agentId: c.assigneeId ?? null });
  }
  if (c.reopenedAt) {
    const at = new Date(c.reopenedAt);
    moments.push({ id: `reopened:${at.toISOString()}`, kind: 'reopened', at, teamId: c.teamId });
  }
  return moments;
}

/** What of a conversation's state makes moments: an event with the same signature adds nothing. */
export function stateSignature(c: ConversationLike): string {
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : '');
  return [c.teamId, c.assigneeId ?? '', iso(c.assignedAt), c.status, iso(c.resolvedAt), iso(c.reopenedAt)].join('|');
}
