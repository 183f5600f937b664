/**
 * Keeps the contact-center figures live: it listens to the timeline's events
 * (a message stored, a conversation changed; server/hub.ts adds it to the
 * audiences) and to satisfaction answers (KpiSink), turns them into moments
 * (kpi-moments.ts), and for each conversation, one at a time in this process:
 *
 * 1. adds the moments not seen yet to its facts document (`kpi_conversations`),
 *    with a write conditional on the revision it read (two nodes: the loser
 *    reads again and adds its moments to the winner's);
 * 2. computes what the conversation contributes now (kpi-contributions.ts)
 *    and writes the difference to the hour and day buckets with `$inc`.
 *
 * A moment seen twice (a provider's retry, an event on two nodes, a replay)
 * adds nothing. The work runs in the background: a failure is logged (ids
 * only) and never reaches a webhook or a request. A crash between step 1 and
 * step 2 loses that difference from the buckets (never counts it twice);
 * `npm run kpis:rebuild` recomputes them.
 */
import { AsyncResource } from 'node:async_hooks';
import { isDuplicateKeyError } from '../db/models.ts';
import { openMillisBetween, type TeamHours } from '../routing/business-hours.ts';
import { teamHoursOf } from '../routing/team-settings.ts';
import type { ConversationRecord, MessageRecord } from '../timeline/records.ts';
import type { TimelineContext, TimelineEvents } from '../timeline/timeline-context.ts';
import { bucketWrites, type BucketWrite } from './kpi-buckets.ts';
import {
  abandonmentDecidedBy,
  contributionKey,
  contributionsOf,
  differenceOf,
  fcrDueAt,
  firstResponseSpan,
  mergeMoments,
} from './kpi-contributions.ts';
import type { KpiConversationDoc, KpiMoment } from './kpi-documents.ts';
import { momentOfMessage, momentsOfConversation, stateSignature } from './kpi-moments.ts';
import type { CsatAnswer, KpiSink } from './kpi-sink.ts';
import type { Models } from '../db/models.ts';
import type { DocumentLocks } from '../db/document-locks.ts';

export interface KpiRecorderOptions {
  /** The clinic's hours for teams without their own (null: always open). */
  defaultHours: TeamHours | null;
  /** CLINIC_TIMEZONE: the clinic's days. */
  timeZone: string;
  /** Runs work in the background (the hub's BackgroundWork: `settled()` waits for it, `close()` lets it finish). */
  startWork(what: string, work: () => Promise<unknown>): void;
}

interface Update {
  moments: KpiMoment[];
  /** For asking whether the patient's web chat is open (abandonment). */
  patientId?: string;
  /** Compute again even without a new moment (a first-contact resolution due by time). */
  recompute?: boolean;
  /** The conversation was folded into another: it contributes nothing any more. */
  drop?: boolean;
}

/** Compare-and-set attempts on one facts document (only writers on several nodes at once retry). */
const MAX_ATTEMPTS = 20;

export class KpiRecorder implements TimelineEvents, KpiSink {
  private readonly chains = new Map<string, Promise<void>>();
  /** Runs the work outside the lock scope of whoever emitted the event. */
  private readonly detached = new AsyncResource('kpi-recorder');
  /** Conversation states already turned into moments here (events that change nothing else are skipped). */
  private readonly signatures = new BoundedMap<string, string>(5000);
  /** The facts documents this process wrote last: a stale one only costs a retry (every write is conditional on `rev`). */
  private readonly cache = new BoundedMap<string, KpiConversationDoc>(2000);
  private deciding: Promise<void> | null = null;

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: KpiRecorderOptions,
  ) {}

  messageCreated(message: MessageRecord, conversation: ConversationRecord): void {
    const moment = momentOfMessage(message, conversation.teamId);
    const state = this.newState(conversation);
    if (!moment && state.length === 0) return;
    void this.enqueue(conversation.id, { moments: [...(moment ? [moment] : []), ...state], patientId: conversation.patientId });
  }

  messageUpdated(): void {}

  conversationUpdated(conversation: ConversationRecord): void {
    const state = this.newState(conversation);
    if (state.length > 0) void this.enqueue(conversation.id, { moments: state, patientId: conversation.patientId });
  }

  conversationMerged(fromConversationId: string, into: ConversationRecord): void {
    void this.enqueue(fromConversationId, { moments: [], drop: true });
    this.conversationUpdated(into);
  }

  async csatAnswered(answer: CsatAnswer): Promise<void> {
    try {
      const conversation = await this.ctx().models.Conversation.findById(answer.conversationId, { teamId: 1, assigneeId: 1, patientId: 1 }).lean();
      if (!conversation) return;
      const at = new Date(answer.at);
      await this.enqueue(answer.conversationId, {
        moments: [{ id: `csat:${at.toISOString()}`, kind: 'csat', at, teamId: conversation.teamId, agentId: conversation.assigneeId ?? null, score: answer.score }],
      });
    } catch (error) {
      this.failed(answer.conversationId, error);
    }
  }

  /**
   * Decides the first-contact resolutions whose 7 days have ended (resolved,
   * not reopened): the report asks first, so its answer is current. One run
   * at a time per process.
   */
  decideDue(): Promise<void> {
    this.deciding ??= (async () => {
      const ctx = this.ctx();
      for (let round = 0; round < 100; round++) {
        const due = await ctx.models.KpiConversation.find({ fcrDueAt: { $lte: ctx.clock() } }, { _id: 1 }).limit(500).lean();
        await Promise.all(due.map((d) => this.enqueue(d._id, { moments: [], recompute: true })));
        if (due.length < 500) return;
      }
    })().finally(() => {
      this.deciding = null;
    });
    return this.deciding;
  }

  /** The state moments of a conversation record, unless this process already took them from that same state. */
  private newState(conversation: ConversationRecord): KpiMoment[] {
    const signature = stateSignature(conversation);
    if (this.signatures.get(conversation.id) === signature) return [];
    this.signatures.set(conversation.id, signature);
    return momentsOfConversation(conversation);
  }

  /** Work on one conversation runs in order, in the background; the promise never rejects. */
  private enqueue(conversationId: string, update: Update): Promise<void> {
    const previous = this.chains.get(conversationId) ?? Promise.resolve();
    const link = previous
      .then(() => this.detached.runInAsyncScope(() => this.apply(conversationId, update)))
      .catch((error: unknown) => this.failed(conversationId, error));
    this.chains.set(conversationId, link);
    void link.finally(() => {
      if (this.chains.get(conversationId) === link) this.chains.delete(conversationId);
    });
    this.options.startWork('contact-center figures', () => link);
    return link;
  }

  private failed(conversationId: string, error: unknown): void {
    // Ids and the error's kind only: never a body, a name or an address.
    const kind = error instanceof Error ? `${error.name}${(error as { code?: unknown }).code !== undefined ? ` ${String((error as { code?: unknown }).code)}` : ''}` : typeof error;
    this.ctx().logger.warn({ conversationId, error: kind }, 'contact-center figures not updated for a conversation (npm run kpis:rebuild recovers them)');
  }

  private async apply(conversationId: string, update: Update): Promise<void> {
    const ctx = this.ctx();
    const changes = await ctx.locks.run(`kpiconversation:${conversationId}`, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const facts = this.cache.get(conversationId) ?? (await ctx.models.KpiConversation.findById(conversationId).lean());
        if (update.drop) {
          this.cache.delete(conversationId);
          if (!facts) return [];
          const gone = await ctx.models.KpiConversation.deleteOne({ _id: conversationId, rev: facts.rev });
          if (gone.deletedCount !== 1) continue;
          return differenceOf(facts.applied, []);
        }
        const known = facts?.moments ?? [];
        let moments = mergeMoments(known, update.moments);
        const added = moments.length !== known.length;
        if (!added && !(update.recompute && facts)) return [];
        moments = await this.observeWebChat(moments, known, update.patientId);
        const now = ctx.clock();
        const firstResponse = await this.firstResponseOf(moments, facts?.firstResponse ?? null);
        const next = {
          moments,
          applied: contributionsOf(moments, now, firstResponse?.seconds ?? null).map(contributionKey),
          fcrDueAt: fcrDueAt(moments, now),
          firstResponse,
          updatedAt: now,
        };
        if (!facts) {
          try {
            await ctx.models.KpiConversation.create({ _id: conversationId, rev: 1, ...next });
          } catch (error) {
            if (!isDuplicateKeyError(error)) throw error;
            continue; // Another node wrote it first: add to theirs.
          }
          this.cache.set(conversationId, { _id: conversationId, rev: 1, ...next });
        } else {
          const written = await ctx.models.KpiConversation.updateOne({ _id: conversationId, rev: facts.rev }, { $set: next, $inc: { rev: 1 } });
          if (written.matchedCount !== 1) {
            this.cache.delete(conversationId);
            continue;
          }
          this.cache.set(conversationId, { ...facts, ...next, rev: facts.rev + 1 });
        }
        return differenceOf(facts?.applied ?? [], next.applied);
      }
      throw new Error(`facts of conversation ${conversationId} kept changing`);
    });
    if (changes.length > 0) await writeBuckets(ctx.models, ctx.locks, bucketWrites(changes, this.options.timeZone));
  }

  /**
   * A web chat is abandoned when the patient had left before any agent
   * answered: asked once, when the answer (or a resolution without one)
   * arrives, of every node (is one of the patient's widgets connected?).
   */
  private async observeWebChat(moments: KpiMoment[], known: readonly KpiMoment[], patientId: string | undefined): Promise<KpiMoment[]> {
    const decider = abandonmentDecidedBy(moments);
    if (!decider || !patientId || moments.some((m) => m.kind === 'widget') || known.some((m) => m.id === decider.id)) return moments;
    const open = await this.ctx().isWidgetConnected(patientId);
    return mergeMoments(moments, [{ id: 'widget', kind: 'widget', at: new Date(decider.at), open }]);
  }

  private async firstResponseOf(moments: KpiMoment[], known: KpiConversationDoc['firstResponse']): Promise<{ key: string; seconds: number } | null> {
    const span = firstResponseSpan(moments);
    if (!span) return null;
    if (known?.key === span.key) return known;
    const team = await this.ctx().models.Team.findById(span.teamId, { hours: 1 }).lean();
    return { key: span.key, seconds: openMillisBetween(teamHoursOf(team, this.options.defaultHours), span.from, span.to) / 1000 };
  }
}

/**
 * One bulk write per collection. On FerretDB (updates not isolated) this
 * process's bucket writes go one at a time; on MongoDB each `$inc` is atomic
 * and the lock does not wait. Two first upserts of one bucket on two nodes:
 * the loser's duplicate-key error is retried as an update.
 */
export async function writeBuckets(models: Models, locks: DocumentLocks, writes: { hourly: BucketWrite[]; daily: BucketWrite[] }): Promise<void> {
  await locks.run('kpibuckets:write', async () => {
    for (const [model, list] of [[models.KpiHourly, writes.hourly], [models.KpiDaily, writes.daily]] as const) {
      let pending = list;
      for (let attempt = 0; pending.length > 0 && attempt < 3; attempt++) {
        try {
          await model.collection.bulkWrite(pending.map(toUpsert) as never, { ordered: false });
          pending = [];
        } catch (error) {
          const failed = (error as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
          if (!failed || failed.some((e) => !isDuplicateKeyError(e) && e.code !== 11000)) throw error;
          pending = failed.map((e) => pending[e.index]!);
        }
      }
    }
  });
}

function toUpsert(w: BucketWrite) {
  return {
    updateOne: {
      filter: { _id: w._id },
      update: { $inc: w.inc, $setOnInsert: { period: w.period, teamId: w.teamId, channel: w.channel, agentId: w.agentId } },
      upsert: true,
    },
  };
}

/** A Map that forgets its oldest entries past a size. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}
