/**
 * Makes sure the browser the UI tests drive is here: Debian's chromium at
 * /usr/bin/chromium (playwright-core downloads no browser). Installs it with
 * apt-get when running as root (CI, fresh machines); otherwise says exactly
 * what to run. Run by `npm test` before the suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from '../test/support/browser.ts';

function chromiumVersion(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return null;
  try {
    return execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

let version = chromiumVersion();
if (!version) {
  if (process.getuid?.() !== 0) {
    console.error(`chromium is missing at ${CHROMIUM_PATH}; install it with: sudo apt-get update && sudo apt-get install -y chromium`);
    process.exit(1);
  }
  console.log('installing chromium from Debian (apt-get) for the browser tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  version = chromiumVersion();
  if (!version) {
    console.error(`apt-get finished but ${CHROMIUM_PATH} does not run`);
    process.exit(1);
  }
}
console.log(`browser for UI tests: ${version}`);
