/**
 * What the timeline tells the contact-center figures (server/reports/): the
 * moments a KPI is made of, as they are stored. Implementations must be
 * idempotent per conversation and moment (a provider retry, a second node, a
 * replayed event count once) and must never throw into the caller: a figure
 * missed here is recovered by `npm run kpis:rebuild`, a message is never
 * refused because of it.
 */
import type { ChannelId } from '../../channels/channel-id.ts';

export type CsatScore = 1 | 2 | 3 | 4 | 5;

export interface CsatAnswer {
  conversationId: string;
  /** The channel the survey was answered on. */
  channel: ChannelId;
  score: CsatScore;
  /** Whether a comment came with it (the comment itself is PHI and stays in the timeline). */
  hasComment: boolean;
  at: Date;
}

export interface KpiSink {
  /** A patient answered a satisfaction survey (server/csat/). */
  csatAnswered(answer: CsatAnswer): Promise<void>;
}
