/**
 * Pages the on-call people (TRIAGE_PAGE_SMS, TRIAGE_PAGE_EMAIL) when triage
 * flags a conversation: the category and a link to it in the inbox, never
 * anything the patient wrote or who they are. Sent straight through the
 * channel adapters (the sandbox records them), outside any patient's thread;
 * a failure is logged and retried a few times, never blocks the patient's reply.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelAdapter } from '../../channels/contract.ts';
import type { Logger } from '../logger.ts';
import type { TriagePager } from './inbound-routing.ts';

const ATTEMPTS = 3;

export function createTriagePager(options: {
  adapters: { sms: ChannelAdapter; email: ChannelAdapter };
  sms: readonly string[];
  email: readonly string[];
  clinicName: string;
  publicBaseUrl: string;
  logger: Logger;
  startWork(what: string, work: () => Promise<void>): void;
}): TriagePager {
  return {
    page(conversationId, category) {
      const link = `${options.publicBaseUrl}/inbox/#/conversations/${encodeURIComponent(conversationId)}`;
      const body = `${options.clinicName}: urgent patient message (${category.replace(/_/g, ' ')}). Open it in CareThread: ${link}`;
      const targets = [...options.sms.map((to) => ({ channel: 'sms' as const, to })), ...options.email.map((to) => ({ channel: 'email' as const, to }))];
      for (const [index, target] of targets.entries()) {
        options.startWork('triage page', async () => {
          for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            const outcome = await options.adapters[target.channel].send({
              messageId: `page-${conversationId}-${index}-${randomBytes(4).toString('hex')}`,
              conversationId,
              channel: target.channel,
              to: target.to,
              body,
              ...(target.channel === 'email' ? { subject: `Urgent patient message (${category.replace(/_/g, ' ')})` } : {}),
            });
            if (outcome.ok) return;
            options.logger.warn({ conversationId, channel: target.channel, code: outcome.error.code, attempt }, 'triage page not sent');
            if (!outcome.error.retryable) return;
          }
        });
      }
    },
  };
}
