/**
 * The embedded store too busy to take a write: FerretDB's SQLite gives up on a
 * write that waited 10 s for the database's write lock ("database is locked",
 * SQLITE_BUSY), as it did at 20,000 conversations under load. Here another
 * connection holds that lock (python3's sqlite3, BEGIN IMMEDIATE), so the
 * case is exact and not a matter of load. The webhook must be answered 503
 * with Retry-After (Twilio retries), never 500, and the retry once the lock is
 * gone stores the text once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect } from 'chai';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { testDatabaseDir } from '../../support/embedded-db.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

/** Holds the SQLite write lock of `file` until released. */
async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
  const script = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], isolation_level=None)',
    'c.execute("BEGIN IMMEDIATE")',
    'print("locked", flush=True)',
    'sys.stdin.read()',
    'c.execute("ROLLBACK")',
  ].join('\n');
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', script, file]);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`python3 exited ${code} before locking: ${stderr}`)));
  });
  return {
    async release() {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

describe('the embedded store too busy to write (SQLITE_BUSY)', function () {
  this.timeout(90_000);
  let t: TestHub;

  before(async function () {
    if (!testDatabaseDir()) this.skip(); // MONGODB_URI: no SQLite lock to hold
    t = await startTestHub({ label: 'store-busy' });
  });
  after(() => t?.close());

  it('answers a webhook that cannot write 503 with Retry-After, not 500, and stores its retry once', async () => {
    const text = inboundSms({ From: '+14155550931', Body: 'Is my prescription ready?' });
    // The hub's database exists (its indexes are built): lock its file.
    const lock = await holdWriteLock(join(testDatabaseDir()!, 'ferretdb', `${t.databaseName}.sqlite`));
    let refused: Awaited<ReturnType<typeof postTwilio>>;
    try {
      refused = await postTwilio(t, '/webhooks/twilio/sms', text);
    } finally {
      await lock.release();
    }
    expect(refused.status, refused.text).to.equal(503);
    expect(JSON.parse(refused.text).error.code).to.equal('DATABASE_BUSY');
    expect(Number(refused.retryAfter)).to.be.above(0);
    expect(t.logs.join('\n')).not.to.include('Is my prescription ready?');

    // Twilio's retry, the lock gone: stored, once.
    expect((await postTwilio(t, '/webhooks/twilio/sms', text)).status).to.equal(200);
    expect((await postTwilio(t, '/webhooks/twilio/sms', text)).status).to.equal(200);
    await t.hub.settled();
    expect(await t.hub.services.db.models.Message.countDocuments({ providerMessageId: text.MessageSid })).to.equal(1);
  });
});
