/**
 * `npm run kpis:rebuild`: recomputes the figures from the timeline.
 *
 * For each conversation (messages read once, in conversation and seq order):
 * the patient messages and agent replies are read again from the messages;
 * the moments the timeline does not keep (assignments, resolutions and
 * reopenings with their agent and team, whether a web chat was still open at
 * its first answer, satisfaction answers) are kept from its facts document,
 * and the latest assignment, resolution and reopening are taken from the
 * conversation as well (in case the live recorder missed them). A moment the
 * facts knew keeps the team it was counted for; a message it missed counts
 * for the conversation's team now. Then the same function as live
 * (kpi-contributions.ts) gives what each conversation contributes, the facts
 * documents are rewritten, and the bucket collections are dropped and written
 * again. Running it twice gives the same result.
 */
import type { Model } from 'mongoose';
import type { Models } from '../db/models.ts';
import type { MessageDoc } from '../db/documents.ts';
import { openMillisBetween, type TeamHours } from '../routing/business-hours.ts';
import { teamHoursOf } from '../routing/team-settings.ts';
import { bucketWrites, toBucketDocument, type BucketWrite } from './kpi-buckets.ts';
import { contributionKey, contributionsOf, fcrDueAt, firstResponseSpan, mergeMoments } from './kpi-contributions.ts';
import type { KpiBucketDoc, KpiConversationDoc, KpiMoment } from './kpi-documents.ts';
import { momentOfMessage, momentsOfConversation } from './kpi-moments.ts';

export interface RebuildOptions {
  defaultHours: TeamHours | null;
  timeZone: string;
  now: Date;
}

export interface RebuildReport {
  conversations: number;
  hourlyBuckets: number;
  dailyBuckets: number;
  /** Facts of conversations that no longer exist (merged away), removed. */
  removed: number;
}

/** Moments only the facts document knows. */
const JOURNAL_KINDS = new Set<KpiMoment['kind']>(['assigned', 'resolved', 'reopened', 'widget', 'csat']);
const PARALLEL = 16;

export async function rebuildKpis(models: Models, options: RebuildOptions): Promise<RebuildReport> {
  const hours = new Map<string, TeamHours | null>();
  for (const team of await models.Team.find({}, { hours: 1 }).lean()) hours.set(team._id, teamHoursOf(team, options.defaultHours));
  const hoursOf = (teamId: string) => (hours.has(teamId) ? hours.get(teamId)! : options.defaultHours);

  const hourly = new Map<string, BucketWrite>();
  const daily = new Map<string, BucketWrite>();
  const visited = new Set<string>();

  const rebuildOne = async (conversationId: string, messages: MessageDoc[]) => {
    visited.add(conversationId);
    const [conversation, facts] = await Promise.all([
      models.Conversation.findById(conversationId, { teamId: 1, assigneeId: 1, status: 1, assignedAt: 1, resolvedAt: 1, reopenedAt: 1 }).lean(),
      models.KpiConversation.findById(conversationId).lean(),
    ]);
    if (!conversation) return;
    const known = new Map((facts?.moments ?? []).map((m) => [m.id, m]));
    const moments: KpiMoment[] = [...known.values()].filter((m) => JOURNAL_KINDS.has(m.kind));
    for (const message of messages) {
      const moment = momentOfMessage({ ...message, id: message._id }, conversation.teamId);
      if (moment) moments.push(known.get(moment.id) ?? moment);
    }
    const all = mergeMoments(mergeMoments([], moments), momentsOfConversation(conversation));
    const span = firstResponseSpan(all);
    const firstResponse = span ? { key: span.key, seconds: openMillisBetween(hoursOf(span.teamId), span.from, span.to) / 1000 } : null;
    const applied = contributionsOf(all, options.now, firstResponse?.seconds ?? null).map(contributionKey);
    const doc: KpiConversationDoc = {
      _id: conversationId, rev: (facts?.rev ?? 0) + 1, moments: all, applied, fcrDueAt: fcrDueAt(all, options.now), firstResponse, updatedAt: options.now,
    };
    await models.KpiConversation.replaceOne({ _id: conversationId }, doc, { upsert: true });
    const writes = bucketWrites(applied.map((key) => ({ key, sign: 1 as const })), options.timeZone);
    accumulate(hourly, writes.hourly);
    accumulate(daily, writes.daily);
  };

  // Every message once, grouped by conversation.
  let batch: Promise<void>[] = [];
  let current: { id: string; messages: MessageDoc[] } | null = null;
  const flush = async (force: boolean) => {
    if (current) batch.push(rebuildOne(current.id, current.messages));
    current = null;
    if (batch.length >= PARALLEL || force) {
      await Promise.all(batch);
      batch = [];
    }
  };
  const cursor = models.Message.find({}, { conversationId: 1, seq: 1, direction: 1, kind: 1, channel: 1, channelReason: 1, fallback: 1, author: 1, createdAt: 1 })
    .sort({ conversationId: 1, seq: 1 })
    .lean()
    .cursor();
  for await (const message of cursor as AsyncIterable<MessageDoc>) {
    if (current && current.id !== message.conversationId) await flush(false);
    current ??= { id: message.conversationId, messages: [] };
    current.messages.push(message);
  }
  await flush(true);

  // Facts of conversations that are gone (folded into another by a merge).
  let removed = 0;
  for await (const facts of models.KpiConversation.find({}, { _id: 1 }).sort({ _id: 1 }).lean().cursor() as AsyncIterable<{ _id: string }>) {
    if (visited.has(facts._id)) continue;
    removed += (await models.KpiConversation.deleteOne({ _id: facts._id })).deletedCount;
  }

  await replaceCollection(models.KpiHourly, [...hourly.values()]);
  await replaceCollection(models.KpiDaily, [...daily.values()]);
  return { conversations: visited.size, hourlyBuckets: hourly.size, dailyBuckets: daily.size, removed };
}

function accumulate(into: Map<string, BucketWrite>, writes: BucketWrite[]): void {
  for (const w of writes) {
    const existing = into.get(w._id);
    if (!existing) into.set(w._id, { ...w, inc: { ...w.inc } });
    else for (const [field, n] of Object.entries(w.inc)) existing.inc[field] = (existing.inc[field] ?? 0) + n;
  }
}

/** Drops a bucket collection and writes it whole again, with its indexes. */
async function replaceCollection(model: Model<KpiBucketDoc>, writes: BucketWrite[]): Promise<void> {
  await model.collection.drop().catch((error: { code?: number }) => {
    if (error.code !== 26) throw error; // 26: NamespaceNotFound
  });
  await model.createCollection().catch((error: { code?: number }) => {
    if (error.code !== 48) throw error; // 48: NamespaceExists
  });
  await model.createIndexes();
  for (let i = 0; i < writes.length; i += 1000) {
    await model.collection.insertMany(writes.slice(i, i + 1000).map(toBucketDocument) as never[], { ordered: false });
  }
}
