/**
 * Mocha global fixture: the shared test database, no network beyond loopback,
 * and, after the last test, the check that every query the hub issued during
 * the run has an index that serves it on MongoDB (test/support/query-recorder.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import nock from 'nock';
import { startTestDatabase, stopTestDatabase } from '../support/embedded-db.ts';
import { checkQueryShapes } from '../support/query-recorder.ts';

export async function mochaGlobalSetup(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));
  await startTestDatabase();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestDatabase();
}

export const mochaHooks = {
  afterAll: function everyQueryTheHubIssuedHasAnIndexOnMongoDb() {
    const { unserved, lines } = checkQueryShapes();
    mkdirSync('test-output', { recursive: true });
    writeFileSync('test-output/query-shapes.txt', `${lines.join('\n')}\n`);
    if (unserved.length > 0) {
      throw new Error(
        `${unserved.length} query shape(s) the hub issued have no index that serves them on MongoDB (equality, then sort, then range; see server/db/query-shapes.ts).\n` +
          `Add an index in server/db/models.ts, or, for a small admin-managed collection, a reason in test/support/query-recorder.ts:\n  ${unserved.join('\n  ')}`,
      );
    }
  },
};
