import { expect } from 'chai';
import { loadConfig } from '../../../server/config.ts';
import { configProblems as problems } from '../../support/config-problems.ts';
import { TEST_ENV } from '../../support/test-hub.ts';

describe('outbox settings (OUTBOX_*)', () => {
  it('defaults: 6 attempts, a 60 s lease, a 15 s provider timeout, retries at most 5 minutes apart', () => {
    expect(loadConfig(TEST_ENV).outbox).to.deep.equal({ maxAttempts: 6, leaseMs: 60_000, sendTimeoutMs: 15_000, backoffMaxMs: 300_000 });
    expect(loadConfig({ ...TEST_ENV, OUTBOX_MAX_ATTEMPTS: '3', OUTBOX_LEASE_SECONDS: '10', OUTBOX_SEND_TIMEOUT_SECONDS: '5', OUTBOX_BACKOFF_MAX_SECONDS: '60' }).outbox)
      .to.deep.equal({ maxAttempts: 3, leaseMs: 10_000, sendTimeoutMs: 5000, backoffMaxMs: 60_000 });
  });

  it('refuses a lease shorter than twice the provider timeout, saying why', () => {
    const found = problems({ OUTBOX_LEASE_SECONDS: '20', OUTBOX_SEND_TIMEOUT_SECONDS: '15' });
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^OUTBOX_LEASE_SECONDS: must be at least twice OUTBOX_SEND_TIMEOUT_SECONDS \(15 s\), so 30 or more: .*sent a second time/);
  });

  it('names each malformed setting', () => {
    const found = problems({ OUTBOX_MAX_ATTEMPTS: '0', OUTBOX_LEASE_SECONDS: 'soon', OUTBOX_SEND_TIMEOUT_SECONDS: '2.5', OUTBOX_BACKOFF_MAX_SECONDS: '100000' });
    expect(found.find((p) => p.startsWith('OUTBOX_MAX_ATTEMPTS:'))).to.equal('OUTBOX_MAX_ATTEMPTS: must be at least 1');
    expect(found.find((p) => p.startsWith('OUTBOX_LEASE_SECONDS:'))).to.equal('OUTBOX_LEASE_SECONDS: must be a whole number');
    expect(found.find((p) => p.startsWith('OUTBOX_SEND_TIMEOUT_SECONDS:'))).to.equal('OUTBOX_SEND_TIMEOUT_SECONDS: must be a whole number');
    expect(found.find((p) => p.startsWith('OUTBOX_BACKOFF_MAX_SECONDS:'))).to.equal('OUTBOX_BACKOFF_MAX_SECONDS: must be at most 86400 (a day)');
  });
});
