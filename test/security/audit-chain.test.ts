/**
 * Someone who can write to the database (the embedded store has no
 * authentication) rewrites the audit trail and recomputes the chain: the
 * keyed chain (AUDIT_CHAIN_KEY, outside the database) still shows it.
 */
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { legacyHashEntry } from '../../server/audit/audit-log.ts';
import type { AuditEventDoc } from '../../server/db/documents.ts';
import { patientWrites, startTestHub, type TestHub } from '../support/test-hub.ts';

describe('security: the audit chain resists a rewrite made in the database', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'sec-audit' });
    const admin = await t.admin();
    const inbound = await patientWrites(t, { channel: 'sms', from: '+12125550301', body: 'x' });
    await t.api.get(`/api/conversations/${inbound.conversation.id}/messages`, admin.token);
  });
  after(() => t.close());

  const models = () => t.hub.services.db.models;
  const verify = async () => (await t.api.get('/api/audit/verify', (await t.admin()).token)).body as { ok: boolean; firstBrokenAt: number | null; problem: string | null };
  const chain = async () => (await models().AuditEvent.find().sort({ _id: 1 }).lean()) as AuditEventDoc[];

  /** Rewrites entries from `from` on, recomputing every hash with `hash`, as an attacker with database access would. */
  async function rewrite(from: number, change: (e: AuditEventDoc) => void, hash: (e: AuditEventDoc, prev: string) => { hash: string; keyId: string | null }) {
    const entries = await chain();
    let prev = entries.find((e) => e._id === from - 1)?.hash ?? '0'.repeat(64);
    for (const entry of entries.filter((e) => e._id >= from)) {
      change(entry);
      const sealed = hash(entry, prev);
      await models().AuditEvent.replaceOne({ _id: entry._id }, { ...entry, prevHash: prev, hash: sealed.hash, keyId: sealed.keyId });
      prev = sealed.hash;
    }
  }

  it('signs every entry with the audit key, so the untouched chain verifies', async () => {
    expect((await chain()).every((e) => e.keyId === 'a1')).to.equal(true);
    expect(await verify()).to.include({ ok: true });
  });

  it('detects a rewrite whose chain was recomputed with plain SHA-256, and one with a guessed key', async () => {
    const victim = (await chain()).find((e) => e.action === 'messages.read')!;
    await rewrite(victim._id, (e) => { if (e._id === victim._id) e.actorId = 'someone-else'; }, (e, prev) => {
      const { hash: _a, prevHash: _b, keyId: _c, ...rest } = e;
      return { hash: legacyHashEntry(rest, prev), keyId: null };
    });
    const legacy = await verify();
    expect(legacy.ok).to.equal(false);
    expect(legacy.firstBrokenAt).to.equal(victim._id);

    await rewrite(victim._id, () => undefined, (e, prev) => {
      const { hash: _a, prevHash: _b, keyId: _c, ...rest } = e;
      const canonical = JSON.stringify([rest._id, new Date(rest.at).toISOString(), rest.action, rest.actorId, rest.actorRole, rest.sessionId, rest.via, rest.ip,
        rest.patientId, rest.conversationId, rest.outcome, rest.flagged, rest.reason, Object.keys(rest.details).sort().map((k) => [k, rest.details[k]]), prev]);
      return { hash: createHmac('sha256', Buffer.alloc(32, 6)).update(canonical).digest('hex'), keyId: 'a1' };
    });
    expect(await verify()).to.include({ ok: false, firstBrokenAt: victim._id, problem: `entry ${victim._id} was altered` });

  });
});
