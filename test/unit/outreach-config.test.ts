import { expect } from 'chai';
import { loadConfig } from '../../server/config.ts';
import { configProblems as problems } from '../support/config-problems.ts';
import { TEST_ENV } from '../support/test-hub.ts';

describe('outreach settings (OUTREACH_URGENT_KINDS, REMINDER_REPLY_WINDOW_HOURS, OUTBOUND_WEBHOOK_*)', () => {
  it('defaults: no urgent kind, replies read for 72 hours, no webhook (empty values as in .env.example)', () => {
    const config = loadConfig({ ...TEST_ENV, OUTBOUND_WEBHOOK_URL: '', OUTBOUND_WEBHOOK_SECRET: '', OUTREACH_URGENT_KINDS: '' });
    expect(config.outreach).to.deep.equal({ urgentKinds: [], replyWindowMs: 72 * 3600_000 });
    expect(config.outboundWebhook).to.equal(null);
  });

  it('refuses a webhook that would carry patient events in the clear, or unsigned, and names bad kinds', () => {
    expect(problems({ OUTBOUND_WEBHOOK_URL: 'http://scheduling.example.org/hook', OUTBOUND_WEBHOOK_SECRET: 'k'.repeat(40) })).to.deep.equal([
      'OUTBOUND_WEBHOOK_URL: must be https (plain http only to this machine: localhost, 127.0.0.1, ::1)',
    ]);
    expect(problems({ OUTBOUND_WEBHOOK_URL: 'https://scheduling.example.org/hook' })[0]).to.match(/^OUTBOUND_WEBHOOK_SECRET: required with OUTBOUND_WEBHOOK_URL/);
    expect(problems({ OUTBOUND_WEBHOOK_URL: 'https://scheduling.example.org/hook', OUTBOUND_WEBHOOK_SECRET: 'short' })[0]).to.match(/^OUTBOUND_WEBHOOK_SECRET: at least 32 characters/);
    expect(problems({ OUTREACH_URGENT_KINDS: 'results_ready,everything' })[0]).to.match(/^OUTREACH_URGENT_KINDS\b.*kinds are reminder, follow_up, results_ready/);
    expect(loadConfig({ ...TEST_ENV, OUTBOUND_WEBHOOK_URL: 'http://127.0.0.1:9000/hook', OUTBOUND_WEBHOOK_SECRET: 'k'.repeat(40) }).outboundWebhook).to.deep.equal({
      url: 'http://127.0.0.1:9000/hook', secret: 'k'.repeat(40),
    });
  });
});
