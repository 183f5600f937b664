/**
 * A conversation's messages by seq: `after` N for catching up (ascending,
 * what a reconnecting client asks), or the page `before` N for scrolling back.
 */
import type { MessageDoc } from '../db/documents.ts';
import { toMessageRecord, type MessageRecord } from './records.ts';
import type { TimelineContext } from './timeline-context.ts';

export interface HistoryQuery {
  after?: number | undefined;
  before?: number | undefined;
  limit: number;
}

export async function listMessages(
  ctx: TimelineContext,
  conversationId: string,
  query: HistoryQuery,
): Promise<{ items: MessageRecord[]; nextCursor: string | null }> {
  const { Message } = ctx.models;
  let docs: MessageDoc[];
  let nextCursor: string | null = null;
  if (query.after !== undefined) {
    docs = await Message.find({ conversationId, seq: { $gt: query.after ?? 0 } }).sort({ seq: 1 }).limit(query.limit + 1).lean();
    if (docs.length > query.limit) {
      docs = docs.slice(0, query.limit);
      nextCursor = String(docs[docs.length - 1]!.seq);
    }
  } else {
    const filter = query.before !== undefined ? { conversationId, seq: { $lt: query.before } } : { conversationId };
    docs = await Message.find(filter).sort({ seq: -1 }).limit(query.limit + 1).lean();
    if (docs.length > query.limit) {
      docs = docs.slice(0, query.limit);
      nextCursor = String(docs[docs.length - 1]!.seq);
    }
    docs.reverse();
  }
  return { items: docs.map((d) => toMessageRecord(d, ctx.cipher)), nextCursor };
}
