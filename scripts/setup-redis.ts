/**
 * Makes sure the Redis the multi-node tests start is here: Debian's
 * redis-server (the tests run it themselves on a free loopback port, with no
 * persistence; nothing is left running). Installs it with apt-get when running
 * as root (CI, fresh machines); otherwise says exactly what to run. Run by
 * `npm test` before the suite.
 */
import { execFileSync } from 'node:child_process';
import { REDIS_SERVER_PATH, redisServerVersion } from '../test/support/redis-server.ts';

let version = redisServerVersion();
if (!version) {
  if (process.getuid?.() !== 0) {
    console.error(`redis-server is missing at ${REDIS_SERVER_PATH}; install it with: sudo apt-get update && sudo apt-get install -y redis-server`);
    process.exit(1);
  }
  console.log('installing redis-server from Debian (apt-get) for the multi-node tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'inherit', env });
  version = redisServerVersion();
  if (!version) {
    console.error(`apt-get finished but ${REDIS_SERVER_PATH} does not run`);
    process.exit(1);
  }
}
console.log(`redis for multi-node tests: ${version}`);
