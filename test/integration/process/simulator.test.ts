import { expect } from 'chai';
import { runScript } from '../../support/run-script.ts';
import { startTestHub, TEST_ENV, waitFor } from '../../support/test-hub.ts';

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

describe('npm run simulate -- email', () => {
  it('posts an Inbound Parse email, and --reply-to-last threads it into the conversation the hub last wrote to', async () => {
    const t = await startTestHub({ label: 'simulate-email' });
    const env = { ...TEST_ENV, PUBLIC_BASE_URL: t.config.publicBaseUrl, PORT: String(new URL(t.url).port) };
    try {
      const first = await runScript('scripts/simulate.ts', env, ['email', '--from', 'sim@example.org', '--body', 'First email']);
      expect(first.code, first.stderr).to.equal(0);
      const admin = await t.admin();
      const conversation = ((await t.api.get('/api/conversations?channel=email', admin.token)).body.items as { id: string; preview: { body: string } }[]).find((c) => c.preview.body === 'First email')!;
      expect(conversation).to.exist;
      const reply = await t.api.post(`/api/conversations/${conversation.id}/messages`, { body: 'Our answer' }, admin.token);
      await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string }[]).some((e) => e.messageId === reply.body.id));
      await t.api.post(`/api/conversations/${conversation.id}/resolve`, undefined, admin.token);
      const second = await runScript('scripts/simulate.ts', env, ['email', '--from', 'sim@example.org', '--body', 'Thanks!', '--reply-to-last']);
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stdout).to.include('a reply to the last mail');
      const after = (await t.api.get(`/api/conversations/${conversation.id}`, admin.token)).body;
      expect(after.preview.body).to.equal('Thanks!');
      expect(after.status).to.equal('open');
    } finally {
      await t.close();
    }
  });
});
