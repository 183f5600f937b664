/** What the patient's widget is shown: their own and the clinic's messages, nothing internal. */
import type { MessageRecord } from '../timeline/records.ts';
import type { WidgetMessage } from '../realtime/widget-events.ts';

export function isVisibleToPatient(message: Pick<MessageRecord, 'direction' | 'channel'>): boolean {
  return (message.direction === 'inbound' || message.direction === 'outbound') && message.channel !== 'internal';
}

export function toWidgetMessage(message: MessageRecord): WidgetMessage {
  return {
    id: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
    direction: message.direction as WidgetMessage['direction'],
    channel: message.channel as WidgetMessage['channel'],
    body: message.body,
    attachments: message.attachments.map((a) => ({ name: a.name ?? 'file', contentType: a.contentType, size: a.size })),
    author: message.direction === 'inbound' ? 'patient' : 'clinic',
    clientId: message.direction === 'inbound' ? message.clientId : null,
    status: message.delivery.status === 'none' ? 'received' : message.delivery.status,
    createdAt: message.createdAt,
  };
}

/** "+14155550100" -> "•••• 0100"; "jane@example.org" -> "j•••@example.org". */
export function maskAddress(channel: 'sms' | 'email', value: string): string {
  if (channel === 'sms') return `•••• ${value.slice(-4)}`;
  const [local = '', domain = ''] = value.split('@');
  return `${local.slice(0, 1)}•••@${domain}`;
}
