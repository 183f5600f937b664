/**
 * Sliding-window rate limits kept in the database (so a restart does not
 * reset them): one document per key with the times of its recent hits.
 */
import { AppError } from '../errors.ts';
import type { DocumentLocks } from './document-locks.ts';
import { isDuplicateKeyError, type Models } from './models.ts';

export interface RateLimit {
  limit: number;
  windowMs: number;
  /** Says what was limited, e.g. "verification codes for this address". */
  what: string;
}

/**
 * Counts one hit in a fixed window (one atomic `$inc` on `<key>@<window>`,
 * cheap enough for per-IP and global ceilings hit on every request), or
 * throws RATE_LIMITED with the wait until the window ends.
 */
export async function consumeWindowCount(models: Models, key: string, rule: RateLimit, now: Date): Promise<void> {
  const { count, endsAt } = await countInWindow(models, key, rule.windowMs, now);
  if (count > rule.limit) {
    const seconds = Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000));
    const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
    throw new AppError('RATE_LIMITED', `Too many ${rule.what}; try again in ${wait}`, { retryAfterSeconds: seconds });
  }
}

/** Counts one hit in the current fixed window of `key`; returns the count with it and when the window ends. */
export async function countInWindow(models: Models, key: string, windowMs: number, now: Date): Promise<{ count: number; endsAt: number }> {
  const window = Math.floor(now.getTime() / windowMs);
  const endsAt = (window + 1) * windowMs;
  const doc = await models.RateLimit.findOneAndUpdate(
    { _id: `${key}@${window}` },
    { $inc: { count: 1 }, $setOnInsert: { expiresAt: new Date(endsAt) } },
    { upsert: true, returnDocument: 'after', lean: true },
  );
  return { count: doc?.count ?? 0, endsAt };
}

/** How many hits the current fixed window of `key` holds, without counting one. */
export async function windowCount(models: Models, key: string, windowMs: number, now: Date): Promise<{ count: number; endsAt: number }> {
  const window = Math.floor(now.getTime() / windowMs);
  const doc = await models.RateLimit.findById(`${key}@${window}`).lean();
  return { count: doc?.count ?? 0, endsAt: (window + 1) * windowMs };
}

/** Removes the documents of windows that have ended. */
export async function sweepRateLimits(models: Models, now: Date): Promise<number> {
  const result = await models.RateLimit.deleteMany({ expiresAt: { $lt: now } });
  return result.deletedCount;
}

/** Compare-and-set attempts before a contended key is answered as limited (only several nodes hitting one key at once retry). */
const MAX_SLIDING_ATTEMPTS = 10;

/**
 * Counts one hit for `key`, or throws RATE_LIMITED (with the wait) when the window is full.
 *
 * The hits are read, trimmed and written back: the write applies only if the
 * document is still at the revision that was read (`rev`), and a new key is an
 * insert on its `_id`, so two nodes can never both take the last free hit; the
 * loser reads again and decides again.
 */
export function consumeRateLimit(models: Models, locks: DocumentLocks, key: string, rule: RateLimit, now: Date): Promise<void> {
  return locks.run(`rate:${key}`, async () => {
    for (let attempt = 0; attempt < MAX_SLIDING_ATTEMPTS; attempt++) {
      const doc = await models.RateLimit.findById(key).lean();
      const recent = (doc?.hits ?? []).map((h) => new Date(h)).filter((h) => now.getTime() - h.getTime() < rule.windowMs);
      if (recent.length >= rule.limit) throw limited(rule, recent[0]!.getTime() + rule.windowMs - now.getTime());
      if (!doc) {
        try {
          await models.RateLimit.create({ _id: key, hits: [...recent, now], rev: 1 });
          return;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          continue; // another node created it first: count against its hits
        }
      }
      const written = await models.RateLimit.updateOne({ _id: key, rev: doc.rev ?? null }, { $set: { hits: [...recent, now] }, $inc: { rev: 1 } });
      if (written.matchedCount === 1) return;
    }
    throw limited(rule, 60_000);
  });
}

function limited(rule: RateLimit, waitMs: number): AppError {
  const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
  return new AppError('RATE_LIMITED', `Too many ${rule.what}; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, {
    retryAfterSeconds: Math.ceil(waitMs / 1000),
  });
}
