/**
 * Patient search keeps PHI sealed at rest: after registering a patient,
 * recording consent, writing to them and searching by every key, no clear
 * value is anywhere in the embedded store's files (SQLite databases and
 * their write-ahead logs), read as bytes.
 */
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testDatabaseDir } from '../../support/embedded-db.ts';
import { startTestHub, type Session, type TestHub } from '../../support/test-hub.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))));
  return nested.flat();
}

describe('patient search keeps PHI out of the database files', () => {
  let t: TestHub;
  let agent: Session;

  before(async function () {
    if (!testDatabaseDir()) this.skip(); // MONGODB_URI: no files of ours to read
    t = await startTestHub({ label: 'phi-at-rest' });
    // A control: agent names are stored in clear, so the files are readable as text.
    agent = await t.agent({ name: 'Controlla Visiblename', teamIds: ['front-desk'] });
  });
  after(() => t?.close());

  it('stores no clear name, phone, email, date of birth or MRN, nor any query, after registering and searching', async () => {
    const created = await t.api.post('/api/patients', {
      name: 'Zelda Quixote-Marigold', dateOfBirth: '11/05/1979', mrn: 'zq-440021', phone: '+1 (415) 555-0199', email: 'Zelda.QM@example.org',
    }, agent.token);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    expect((await t.api.post(`/api/patients/${id}/consents`, { channel: 'sms', status: 'opted_in', method: 'verbal', wording: 'I agree to receive texts from the clinic.' }, agent.token)).status).to.equal(201);
    for (const q of ['Zelda Quixote-Marigold', 'quix', 'marigold zel', '(415) 555-0199', '415.555.0199', 'zelda.qm@example.org', '1979-11-05', '11/05/1979', 'ZQ-440021']) {
      const res = await t.api.get(`/api/patients?q=${encodeURIComponent(q)}`, agent.token);
      expect(res.body.items.map((p: { id: string }) => p.id), q).to.deep.equal([id]);
    }
    await t.hub.settled();

    // Every file of the store (all test databases, their -wal and -shm, FerretDB's state).
    const files = await filesUnder(testDatabaseDir()!);
    const mine = files.filter((f) => f.includes(t.databaseName));
    expect(mine.length, 'the test database’s own files').to.be.greaterThan(0);
    const all = Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
    const own = Buffer.concat(await Promise.all(mine.map((f) => readFile(f))));
    expect(own.includes('Controlla Visiblename'), 'control value in clear').to.equal(true);
    const clear = [
      'Zelda Quixote', 'Quixote', 'quixote', 'Marigold', 'marigold', '4155550199', '555-0199', '555.0199',
      'Zelda.QM', 'zelda.qm', 'qm@example.org', '1979-11-05', '11/05/1979', 'ZQ-440021', 'zq-440021',
    ];
    for (const value of clear) {
      for (const encoding of ['utf8', 'utf16le'] as const) expect(all.includes(Buffer.from(value, encoding)), `${value} (${encoding})`).to.equal(false);
    }
    // Short values could turn up by chance in megabytes of ciphertext: looked for in this database's files only.
    for (const value of ['Zelda', 'zelda', 'ZELDA', '440021']) expect(own.includes(value), value).to.equal(false);
  });
});
