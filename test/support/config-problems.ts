/** What loadConfig refuses in an environment (TEST_ENV plus `env`): its problems, one line each; [] when it loads. */
import { ConfigError, loadConfig } from '../../server/config.ts';
import { TEST_ENV } from './test-hub.ts';

export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...TEST_ENV, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
