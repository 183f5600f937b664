import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmbeddedFerretDb, type EmbeddedDatabase } from '../../../server/db/embedded/ferretdb-process.ts';
import { runScript } from '../../support/run-script.ts';
import { patientWrites, startTestHub, TEST_ENV, type TestHub } from '../../support/test-hub.ts';

/** Every byte the store wrote: the SQLite files of the embedded database. */
async function rawStore(dir: string): Promise<Buffer> {
  const files = await readdir(dir, { recursive: true });
  const parts = await Promise.all(files.map((f) => readFile(join(dir, f)).catch(() => Buffer.alloc(0))));
  return Buffer.concat(parts);
}

describe('HIPAA encryption at rest', () => {
  const BODY = 'Zebra-Quartz-4471 biopsy results question';
  const PHONE = '+14155550987';
  const NAME = 'Xanthippe Quillfeather';
  let dataDir: string;
  let db: EmbeddedDatabase;
  let t: TestHub;
  let conversationId: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'carethread-rest-'));
    db = await startEmbeddedFerretDb({ dataDir });
    t = await startTestHub({ label: 'rest', mongoUri: db.uri, databaseName: 'carethread' });
    const inbound = await patientWrites(t, { channel: 'sms', from: PHONE, body: BODY, displayName: NAME });
    conversationId = inbound.conversation.id;
    const admin = await t.admin();
    await t.api.post(`/api/conversations/${conversationId}/messages`, { body: `Reply about ${BODY}` }, admin.token);
    await t.hub.settled(); // the delivery worker has sent (and sealed in the outbox) the reply
  });
  after(async () => {
    await t.close();
    await db.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes no message body, phone number or patient name in clear text to the database files', async () => {
    await t.hub.services.db.connection.db!.admin().command({ ping: 1 });
    const raw = await rawStore(join(dataDir, 'ferretdb'));
    expect(raw.length).to.be.greaterThan(10_000);
    for (const secret of [BODY, 'Zebra-Quartz-4471', PHONE, '4155550987', NAME]) {
      expect(raw.includes(Buffer.from(secret)), secret).to.equal(false);
    }
  });

  it('still shows agents the words and the number', async () => {
    const admin = await t.admin();
    const messages = await t.api.get(`/api/conversations/${conversationId}/messages`, admin.token);
    expect(messages.body.items[0].body).to.equal(BODY);
    const conversation = (await t.api.get(`/api/conversations/${conversationId}`, admin.token)).body;
    expect(conversation.patientName).to.equal(NAME);
    const patient = (await t.api.get(`/api/patients/${conversation.patientId}`, admin.token)).body;
    expect(patient.identities[0].value).to.equal(PHONE);
  });

  it('re-encrypts everything under a new key with `npm run keys:rotate`, after which the old key can go', async () => {
    const oldKey = TEST_ENV.PHI_ENCRYPTION_KEY!;
    const newKey = `t2:${Buffer.alloc(32, 42).toString('base64')}`;
    const env = { ...TEST_ENV, MONGODB_URI: db.uri, MONGODB_DATABASE: 'carethread', PHI_ENCRYPTION_KEY: `${newKey},${oldKey}` };
    const run = await runScript('scripts/rotate-keys.ts', env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/re-encrypted \d+ of \d+ documents under key "t2"/);
    const models = t.hub.services.db.models;
    const sealed = [
      ...(await models.Message.find().lean()).map((m) => m.bodyEnc),
      ...(await models.Identity.find().lean()).map((i) => i.valueEnc),
      ...(await models.Patient.find().lean()).map((p) => p.nameEnc),
      ...(await models.Conversation.find().lean()).flatMap((c) => [c.previewEnc, c.patientNameEnc]),
    ].filter((v): v is string => Boolean(v));
    expect(sealed.length).to.be.greaterThan(4);
    expect(sealed.every((v) => v.startsWith('v1.t2.'))).to.equal(true);

    // A hub holding only the new key reads everything.
    const onlyNew = await startTestHub({ label: 'rest-new', mongoUri: db.uri, databaseName: 'carethread', env: { PHI_ENCRYPTION_KEY: newKey } });
    try {
      const admin = await onlyNew.admin();
      const messages = await onlyNew.api.get(`/api/conversations/${conversationId}/messages`, admin.token);
      expect(messages.body.items[0].body).to.equal(BODY);
      expect((await onlyNew.api.get('/api/audit?action=keys.rotate', admin.token)).body.items).to.have.length(1);
    } finally {
      await onlyNew.close();
    }
  });
});
