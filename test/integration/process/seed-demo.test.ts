import { expect } from 'chai';
import { connectDatabase } from '../../../server/db/connect.ts';
import { testDatabaseUri, uniqueDatabaseName } from '../../support/embedded-db.ts';
import { runScript } from '../../support/run-script.ts';
import { startTestHub, TEST_ENV } from '../../support/test-hub.ts';

describe('npm run seed:demo', () => {
  it('fills a populated inbox across channels, and a second run adds nothing', async () => {
    const databaseName = uniqueDatabaseName('seed');
    const env = { ...TEST_ENV, MONGODB_URI: testDatabaseUri(), MONGODB_DATABASE: databaseName };
    const first = await runScript('scripts/seed-demo.ts', env);
    expect(first.code, first.stderr).to.equal(0);
    const db = await connectDatabase(testDatabaseUri(), databaseName);
    const counts = async () => [await db.models.Patient.countDocuments(), await db.models.Conversation.countDocuments(), await db.models.Message.countDocuments()];
    try {
      const after = await counts();
      expect(after[0]).to.be.at.least(5);
      const channels = new Set((await db.models.Conversation.find().lean()).flatMap((c) => c.channels));
      expect([...channels]).to.have.members(['sms', 'email', 'webchat']);
      const second = await runScript('scripts/seed-demo.ts', env);
      expect(second.code, second.stderr).to.equal(0);
      expect(await counts()).to.deep.equal(after);
      // Seeding printed no patient's contact details.
      expect(first.stdout + first.stderr).not.to.match(/555[-.\s]?01\d\d|@example\.(org|com)/);
    } finally {
      await db.close();
    }
    const t = await startTestHub({ label: 'seed', databaseName });
    try {
      const alex = await t.login('alex.agent@carethread.local', 'demo-password-123');
      const inbox = await t.api.get('/api/conversations', alex.token);
      expect(inbox.body.items.length).to.be.at.least(3);
    } finally {
      await t.close();
    }
  });
});
