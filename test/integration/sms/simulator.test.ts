import { expect } from 'chai';
import { runScript } from '../../support/run-script.ts';
import { startTestHub, TEST_ENV } from '../../support/test-hub.ts';

describe('npm run simulate -- sms', () => {
  it('posts a correctly signed inbound SMS that a running hub stores', async () => {
    const t = await startTestHub({ label: 'simulate' });
    const env = { ...TEST_ENV, PUBLIC_BASE_URL: t.config.publicBaseUrl, PORT: String(new URL(t.url).port) };
    try {
      const run = await runScript('scripts/simulate.ts', env, ['sms']);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('--from and --body are required');
      const ok = await runScript('scripts/simulate.ts', env, ['sms', '--from', '(415) 555-1601', '--body', 'Simulated patient here']);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.match(/hub answered 200 for SM[0-9a-f]{32}/);
      const admin = await t.admin();
      const inbox = (await t.api.get('/api/conversations?channel=sms', admin.token)).body.items;
      expect(inbox.map((c: { preview: { body: string } }) => c.preview.body)).to.include('Simulated patient here');
    } finally {
      await t.close();
    }
  });
});
