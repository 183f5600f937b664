/**
 * Every uniqueness the product relies on, proven on the store the tests run
 * on (embedded FerretDB on SQLite unless MONGODB_URI is set). FerretDB on
 * SQLite builds no index on nested fields or arrays, so each of these is `_id`
 * or a top-level field; this file fails if the store stops enforcing one.
 */
import { expect } from 'chai';
import { connectDatabase, type Database } from '../../../server/db/connect.ts';
import { testDatabaseUri, uniqueDatabaseName } from '../../support/embedded-db.ts';

async function expectDuplicateKey(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    expect((error as { code?: number }).code, String(error)).to.equal(11000);
    return;
  }
  expect.fail('the store accepted a duplicate');
}

const message = (over: Record<string, unknown>) => ({
  conversationId: 'c1', patientId: 'p1', seq: 1, seqKey: 'c1:1', providerKey: 'twilio:SM1', direction: 'inbound',
  channel: 'sms', kind: 'text', bodyEnc: 'x', attachments: [], author: { type: 'patient', agentId: null },
  delivery: { status: 'received', history: [], error: null }, outboxDueAt: null, attempts: 0, createdAt: new Date(), ...over,
});

describe('uniqueness enforced by the store', () => {
  let db: Database;
  before(async () => {
    db = await connectDatabase(testDatabaseUri(), uniqueDatabaseName('uniqueness'));
  });
  after(() => db.close());

  it('asks the store what it guarantees and serializes writes only where updates are not isolated', () => {
    const caps = db.capabilities;
    if (process.env.MONGODB_URI) {
      expect(caps.engine).to.equal('mongodb');
      expect(db.locks.serialize).to.equal(false);
    } else {
      expect(caps).to.include({ engine: 'ferretdb', isolatedUpdates: false, indexedReads: false });
      expect(caps.version).to.match(/^v1\./);
      expect(db.locks.serialize).to.equal(true);
    }
  });

  it('creates every unique index the product declares', async () => {
    const uniqueKeys = async (collection: string) =>
      (await db.connection.db!.collection(collection).indexes()).filter((i) => i.unique).map((i) => Object.keys(i.key).join(','));
    expect(await uniqueKeys('messages')).to.include.members(['providerKey', 'seqKey']);
    expect(await uniqueKeys('agents')).to.include.members(['email']);
  });

  it('stores a provider message once: a second providerKey is refused', async () => {
    await db.models.Message.collection.insertOne(message({ _id: 'm1' }) as never);
    await expectDuplicateKey(() => db.models.Message.collection.insertOne(message({ _id: 'm2', seq: 2, seqKey: 'c1:2' }) as never));
  });

  it('gives each seq of a conversation to one message: a second seqKey is refused', async () => {
    await expectDuplicateKey(() => db.models.Message.collection.insertOne(message({ _id: 'm3', providerKey: 'twilio:SM3' }) as never));
    // The same seq in another conversation is fine.
    await db.models.Message.collection.insertOne(message({ _id: 'm4', conversationId: 'c2', seqKey: 'c2:1', providerKey: 'twilio:SM4' }) as never);
  });

  it('keys identities by kind and blind index in _id: a second one is refused', async () => {
    const identity = { kind: 'phone', patientId: 'p1', valueEnc: 'x', verifiedAt: null, lastSeenAt: new Date(), createdAt: new Date() };
    await db.models.Identity.collection.insertOne({ _id: 'phone:abc', ...identity } as never);
    await expectDuplicateKey(() => db.models.Identity.collection.insertOne({ _id: 'phone:abc', ...identity, patientId: 'p2' } as never));
  });

  it('refuses a second agent with the same email', async () => {
    const agent = { name: 'A', role: 'agent', teamIds: [], passwordHash: 'x', disabledAt: null, createdAt: new Date() };
    await db.models.Agent.collection.insertOne({ _id: 'a1', email: 'a@x.org', ...agent } as never);
    await expectDuplicateKey(() => db.models.Agent.collection.insertOne({ _id: 'a2', email: 'a@x.org', ...agent } as never));
  });

  it('enforces _id on upserts racing for the same new document', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        db.models.Patient.collection.findOneAndUpdate({ _id: 'race' as never }, { $setOnInsert: { winner: i } }, { upsert: true, returnDocument: 'after' }),
      ),
    );
    expect(await db.models.Patient.collection.countDocuments({ _id: 'race' as never })).to.equal(1);
    // Losers either see the winner's document or get E11000 (then retry); none creates a second one.
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code?: number }).code).to.equal(11000);
  });
});
