/**
 * Database commands per operation against a budget (bench/command-counts.ts):
 * each command is a round trip on MongoDB and a scan of a collection on the
 * embedded FerretDB, so a change that adds commands to a hot path fails here
 * and has to raise the budget on purpose. Counts of commands, not time:
 * the same on any machine.
 */
import { expect } from 'chai';
import nock from 'nock';
import { budgeted, countCommandsPerOperation, summarizeCommands } from '../../../bench/command-counts.ts';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('database commands per operation (budget)', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({
      label: 'command-budget',
      monitorCommands: true,
      deliveryPollMs: 600_000,
      env: { TWILIO_ACCOUNT_SID: 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b', TWILIO_FROM_NUMBER: '+15555550100', PUBLIC_BASE_URL: 'https://hub.example.com' },
    });
  });
  after(() => {
    nock.cleanAll();
    return t.close();
  });

  it('keeps an inbound SMS, a reply, a status callback and an inbox page within their budgets', async () => {
    const counts = await countCommandsPerOperation({ hub: t.hub, url: t.url, adminToken: (await t.admin()).token });
    const over = counts
      .filter((c) => budgeted(c.commands) > c.budget)
      .map((c) => `${c.operation}: ${budgeted(c.commands)} commands, budget ${c.budget}\n    ${summarizeCommands(c.commands)}`);
    expect(over, `over budget:\n  ${over.join('\n  ')}`).to.deep.equal([]);
    expect(counts.every((c) => c.commands.length > 0), 'every operation reached the database').to.equal(true);
  });
});
