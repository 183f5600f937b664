/**
 * The append-only audit trail (45 CFR 164.312(b)): every read and write of
 * PHI and every security event, each entry carrying the hash of the one
 * before it, so editing or deleting an entry breaks the chain.
 *
 * Entries are numbered by `_id` (1, 2, 3 …) and appended with an insert: the
 * unique `_id` makes two writers (two nodes) unable to extend the chain from
 * the same entry; in this process appends are queued, so the tail read once
 * stays right until another node appends (then a duplicate key re-reads it).
 *
 * The chain is keyed: each entry's hash is an HMAC-SHA256 with an audit key
 * that lives outside the database (AUDIT_CHAIN_KEY; a rotation adds a key
 * and keeps the old ones for verification), so someone who can write to the
 * database cannot rewrite an entry and recompute the chain. Entries written
 * before the chain was keyed carry plain SHA-256 and no key id; they are
 * accepted only before the first keyed entry, and a chain must end with a
 * keyed one (every start of the hub appends one), so truncating the keyed
 * part or rewriting everything as "legacy" is detected too.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Models } from '../db/models.ts';
import { isDuplicateKeyError } from '../db/models.ts';
import type { AuditEventDoc } from '../db/documents.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../timeline/timeline-context.ts';

export type AuditAction =
  | 'login'
  | 'login.failed'
  | 'login.locked'
  | 'logout'
  | 'token.refresh'
  | 'token.reuse'
  | 'session.revoked'
  | 'agent.create'
  | 'agent.disable'
  | 'agent.update'
  | 'team.update'
  | 'conversation.list'
  | 'conversation.read'
  | 'conversation.update'
  | 'messages.read'
  | 'message.create'
  | 'note.create'
  | 'patient.read'
  | 'patient.update'
  | 'patient.search'
  | 'patient.create'
  | 'patient.import'
  | 'realtime.subscribe'
  | 'break_glass'
  | 'audit.read'
  | 'audit.export'
  | 'inbound.ingest'
  | 'patient.merge'
  | 'identity.verify'
  | 'identity.detach'
  | 'identity.share'
  | 'identity.suggestions.read'
  | 'widget.link.refused'
  | 'widget.visitor.create'
  | 'widget.messages.read'
  | 'widget.verification.send'
  | 'widget.verification.check'
  | 'widget.session.end'
  | 'keys.rotate'
  | 'hub.start'
  | 'totp.setup'
  | 'totp.enable'
  | 'totp.disable'
  | 'csat.answer'
  | 'csat.comments.read'
  | 'scheduled.create'
  | 'scheduled.read'
  | 'scheduled.withdraw'
  | 'scheduled.feed'
  | 'reminder.reply'
  | 'template.update'
  | 'template.preview'
  | 'numbers.read'
  | 'number.flag'
  | 'number.restore';

export interface AuditInput {
  action: AuditAction;
  actor?: { agentId: string; role: string; sessionId?: string } | null;
  via: 'rest' | 'socket' | 'system' | 'webhook' | 'cli' | 'widget';
  ip?: string | null;
  patientId?: string | null;
  conversationId?: string | null;
  outcome?: 'success' | 'denied' | 'failure';
  /** Break-glass and other exceptional access. */
  flagged?: boolean;
  reason?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

const GENESIS = '0'.repeat(64);

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private tail: { seq: number; hash: string } | undefined;

  constructor(
    private readonly models: Models,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** The audit keys; the first signs new entries. */
    private readonly keys: readonly AuditKey[],
  ) {
    if (keys.length === 0) throw new Error('the audit chain needs a key (AUDIT_CHAIN_KEY)');
  }

  /** Appends one entry; resolves once it is stored. */
  record(input: AuditInput): Promise<AuditEventDoc> {
    const next = this.queue.then(() => this.append(input));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async append(input: AuditInput): Promise<AuditEventDoc> {
    for (let attempt = 0; attempt < 20; attempt++) {
      this.tail ??= await this.readTail();
      const entry = sealEntry(
        {
          _id: this.tail.seq + 1,
          at: this.clock(),
          action: input.action,
          actorId: input.actor?.agentId ?? null,
          actorRole: input.actor?.role ?? null,
          sessionId: input.actor?.sessionId ?? null,
          via: input.via,
          ip: input.ip ?? null,
          patientId: input.patientId ?? null,
          conversationId: input.conversationId ?? null,
          outcome: input.outcome ?? 'success',
          flagged: input.flagged ?? false,
          reason: input.reason ?? null,
          details: input.details ?? {},
        },
        this.tail.hash,
        this.keys[0]!,
      );
      try {
        await this.models.AuditEvent.collection.insertOne(entry as never);
        this.tail = { seq: entry._id, hash: entry.hash };
        return entry;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        this.tail = undefined; // another node appended; re-read the tail
      }
    }
    this.logger.error({ action: input.action }, 'could not append to the audit log');
    throw new Error('could not append to the audit log');
  }

  private async readTail(): Promise<{ seq: number; hash: string }> {
    const last = await this.models.AuditEvent.findOne().sort({ _id: -1 }).lean();
    return last ? { seq: last._id, hash: last.hash } : { seq: 0, hash: GENESIS };
  }
}

export interface AuditKey {
  id: string;
  key: Buffer;
}

type Unsealed = Omit<AuditEventDoc, 'prevHash' | 'hash' | 'keyId'>;

/** Every field and the previous hash, in a fixed order. */
function canonicalEntry(entry: Unsealed, prevHash: string): string {
  return JSON.stringify([
    entry._id, new Date(entry.at).toISOString(), entry.action, entry.actorId, entry.actorRole, entry.sessionId, entry.via, entry.ip,
    entry.patientId, entry.conversationId, entry.outcome, entry.flagged, entry.reason,
    Object.keys(entry.details).sort().map((k) => [k, entry.details[k]]), prevHash,
  ]);
}

/** The keyed hash of an entry (HMAC-SHA256). */
export function hashEntry(entry: Unsealed, prevHash: string, key: AuditKey): string {
  return createHmac('sha256', key.key).update(canonicalEntry(entry, prevHash)).digest('hex');
}

/** How entries were hashed before the chain was keyed (still verified, only before the first keyed entry). */
export function legacyHashEntry(entry: Unsealed, prevHash: string): string {
  return createHash('sha256').update(canonicalEntry(entry, prevHash)).digest('hex');
}

function sealEntry(entry: Unsealed, prevHash: string, key: AuditKey): AuditEventDoc {
  return { ...entry, prevHash, hash: hashEntry(entry, prevHash, key), keyId: key.id };
}

export interface ChainReport {
  ok: boolean;
  checked: number;
  firstBrokenAt: number | null;
  problem: string | null;
}

/** Walks the whole chain in order; reports the first entry that does not fit. */
export async function verifyAuditChain(models: Models, keys: readonly AuditKey[], batchSize = 1000): Promise<ChainReport> {
  const byId = new Map(keys.map((k) => [k.id, k]));
  let prevHash = GENESIS;
  let expected = 1;
  let checked = 0;
  let keyed = false;
  for (;;) {
    const batch = await models.AuditEvent.find({ _id: { $gte: expected } }).sort({ _id: 1 }).limit(batchSize).lean();
    if (batch.length === 0) {
      if (checked > 0 && !keyed) return { ok: false, checked, firstBrokenAt: expected - 1, problem: 'the chain does not end with an entry signed with an audit key' };
      return { ok: true, checked, firstBrokenAt: null, problem: null };
    }
    for (const entry of batch) {
      if (entry._id !== expected) return { ok: false, checked, firstBrokenAt: expected, problem: `entry ${expected} is missing` };
      if (entry.prevHash !== prevHash) return { ok: false, checked, firstBrokenAt: entry._id, problem: `entry ${entry._id} does not point at entry ${expected - 1}` };
      const { hash, prevHash: _ignored, keyId, ...rest } = entry;
      if (keyId) {
        const key = byId.get(keyId);
        if (!key) return { ok: false, checked, firstBrokenAt: entry._id, problem: `entry ${entry._id} is signed with an audit key this hub does not have ("${keyId}")` };
        if (hashEntry(rest, prevHash, key) !== hash) return { ok: false, checked, firstBrokenAt: entry._id, problem: `entry ${entry._id} was altered` };
        keyed = true;
      } else {
        if (keyed) return { ok: false, checked, firstBrokenAt: entry._id, problem: `entry ${entry._id} is not signed with an audit key` };
        if (legacyHashEntry(rest, prevHash) !== hash) return { ok: false, checked, firstBrokenAt: entry._id, problem: `entry ${entry._id} was altered` };
      }
      prevHash = hash;
      expected++;
      checked++;
    }
  }
}
