/**
 * FAQ entries in their own collection (`faq_entries`, `_id` an ObjectId's
 * hex), with the matcher built from the published ones and kept until a
 * write here (or a minute, for writes by another hub process).
 *
 * The model is bound to the hub's connection and its writes take the hub's
 * per-document locks, like every other model (serialized-models.ts). FAQ
 * entries hold no PHI.
 */
import { Schema, Types, type Model } from 'mongoose';
import type { Database } from '../db/connect.ts';
import { documentKey } from '../db/document-locks.ts';
import { serializeWrites } from '../db/serialized-models.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../timeline/timeline-context.ts';
import { parseInput } from '../validation.ts';
import {
  autoAnswerMessage, autoAnswerProblem, createFaqMatcher, faqEntryPatchSchema, faqEntrySchema,
  type FaqEntry, type FaqEntryInput, type FaqEntryPatch, type FaqMatcher,
} from './faq.ts';

/** A stored entry: an entry's fields (faq.ts), its id as `_id`, and who changed it when. */
export interface FaqEntryDoc extends Omit<FaqEntry, 'id' | 'updatedAt'> {
  _id: string;
  /** Bumped by every update: an update applies only to the revision it was checked against. */
  revision: number;
  createdBy: string;
  createdAt: Date;
  updatedBy: string;
  updatedAt: Date;
}

const MODEL_NAME = 'FaqEntry';
/** Another process's writes reach this one's matcher within this time. */
const MATCHER_MAX_AGE_MS = 60_000;

const faqEntrySchemaDb = new Schema<FaqEntryDoc>(
  {
    _id: String,
    teamId: String,
    language: String,
    questions: [String],
    answer: String,
    published: Boolean,
    autoAnswer: Boolean,
    revision: Number,
    createdBy: String,
    createdAt: Date,
    updatedBy: String,
    updatedAt: Date,
  },
  { versionKey: false, minimize: false, strict: 'throw', autoIndex: false, autoCreate: false, collection: 'faq_entries' },
);
faqEntrySchemaDb.index({ teamId: 1 });

/** Models whose writes already take the locks (a connection returns the same model to every store). */
const serialized = new WeakSet<Model<FaqEntryDoc>>();

const toEntry = (d: FaqEntryDoc): FaqEntry => ({
  id: d._id, teamId: d.teamId, language: d.language, questions: [...d.questions], answer: d.answer,
  published: d.published, autoAnswer: d.autoAnswer, updatedAt: new Date(d.updatedAt),
});

export class FaqStore {
  readonly model: Model<FaqEntryDoc>;
  private ready: Promise<void> | undefined;
  private cached: { matcher: Promise<FaqMatcher>; builtAt: number } | undefined;

  constructor(
    private readonly db: Pick<Database, 'connection' | 'locks'>,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.model = (db.connection.models[MODEL_NAME] as Model<FaqEntryDoc> | undefined) ?? db.connection.model<FaqEntryDoc>(MODEL_NAME, faqEntrySchemaDb);
    if (!serialized.has(this.model)) {
      serializeWrites(this.model, db.locks);
      serialized.add(this.model);
    }
  }

  /** Creates the collection and its index; idempotent (every method awaits it once). */
  ensureCollection(): Promise<void> {
    this.ready ??= (async () => {
      await this.model.createCollection().catch((error: { code?: number }) => {
        if (error.code !== 48) throw error; // 48: NamespaceExists
      });
      await this.model.createIndexes();
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Entries of one team, of several, or (no argument) all; by team, then first question. */
  async list(teamId?: string | readonly string[]): Promise<FaqEntry[]> {
    await this.ensureCollection();
    const filter = teamId === undefined ? {} : { teamId: typeof teamId === 'string' ? teamId : { $in: [...teamId] } };
    const docs = (await this.model.find(filter).lean()) as FaqEntryDoc[];
    return docs
      .map(toEntry)
      .sort((a, b) => a.teamId.localeCompare(b.teamId) || a.questions[0]!.localeCompare(b.questions[0]!) || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<FaqEntry | null> {
    await this.ensureCollection();
    const doc = (await this.model.findById(id).lean()) as FaqEntryDoc | null;
    return doc ? toEntry(doc) : null;
  }

  /** Validates like POST /api/faq (400 naming the field). */
  async create(input: FaqEntryInput, actorId: string): Promise<FaqEntry> {
    const valid = parseInput(faqEntrySchema, input, 'body');
    await this.ensureCollection();
    const now = this.clock();
    const doc: FaqEntryDoc = {
      _id: new Types.ObjectId().toHexString(), ...valid, revision: 1,
      createdBy: actorId, createdAt: now, updatedBy: actorId, updatedAt: now,
    };
    try {
      await this.model.create(doc);
    } finally {
      this.invalidate();
    }
    return toEntry(doc);
  }

  /**
   * Changes the given fields; null when there is no such entry. The merged
   * entry is checked again (turning autoAnswer on for an entry with a clinical
   * word fails on that word's field). 409 when it changed meanwhile elsewhere.
   */
  async update(id: string, patch: FaqEntryPatch, actorId: string): Promise<FaqEntry | null> {
    const parsed = parseInput(faqEntryPatchSchema, patch, 'body');
    const valid = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as FaqEntryPatch;
    await this.ensureCollection();
    // Read, check, write under the entry's lock (the write inside takes it again: locks are reentrant).
    return this.db.locks.run(documentKey(MODEL_NAME, id), async () => {
      const before = (await this.model.findById(id).lean()) as FaqEntryDoc | null;
      if (!before) return null;
      const merged = { ...before, ...valid };
      const problem = autoAnswerProblem(merged);
      if (problem) throw new AppError('INVALID_INPUT', `${problem.field}: ${autoAnswerMessage(problem.word)}`, { field: problem.field });
      try {
        const after = (await this.model.findOneAndUpdate(
          { _id: id, revision: before.revision },
          { $set: { ...valid, updatedBy: actorId, updatedAt: this.clock() }, $inc: { revision: 1 } },
          { returnDocument: 'after', lean: true },
        )) as FaqEntryDoc | null;
        if (!after) throw new AppError('CONFLICT', 'The FAQ entry changed meanwhile; reload it and try again');
        return toEntry(after);
      } finally {
        this.invalidate();
      }
    });
  }

  /** True when there was such an entry. */
  async remove(id: string): Promise<boolean> {
    await this.ensureCollection();
    try {
      return (await this.model.deleteOne({ _id: id })).deletedCount > 0;
    } finally {
      this.invalidate();
    }
  }

  /** The matcher over every published entry, rebuilt after a write here or once it is a minute old. */
  matcher(): Promise<FaqMatcher> {
    const now = this.clock().getTime();
    if (this.cached && now - this.cached.builtAt < MATCHER_MAX_AGE_MS && now >= this.cached.builtAt) return this.cached.matcher;
    const matcher = (async () => {
      await this.ensureCollection();
      const docs = (await this.model.find({ published: true }).lean()) as FaqEntryDoc[];
      return createFaqMatcher(docs.map(toEntry));
    })();
    const cached = { matcher, builtAt: now };
    this.cached = cached;
    // A failed build is not kept.
    matcher.catch(() => {
      if (this.cached === cached) this.cached = undefined;
    });
    return matcher;
  }

  private invalidate(): void {
    this.cached = undefined;
  }
}
