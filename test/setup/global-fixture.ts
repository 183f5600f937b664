/** Mocha global fixture: the shared test database, and no network beyond loopback. */
import nock from 'nock';
import { startTestDatabase, stopTestDatabase } from '../support/embedded-db.ts';

export async function mochaGlobalSetup(): Promise<void> {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));
  await startTestDatabase();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestDatabase();
}
