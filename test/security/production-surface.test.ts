/** What a production hub exposes, and what one network may try. */
import { expect } from 'chai';
import { ADMIN, startTestHub } from '../support/test-hub.ts';

describe('security: production surface and password spraying', () => {
  it('serves no sandbox routes in production, even without provider credentials', async () => {
    const t = await startTestHub({
      label: 'sec-prod',
      env: {
        NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://hub.example.org', WIDGET_ALLOWED_ORIGINS: 'https://www.example-clinic.org',
        ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'true', PHI_ENCRYPTION_KEY: `p1:${Buffer.alloc(32, 7).toString('base64')}`,
        AUDIT_CHAIN_KEY: `audit1:${Buffer.alloc(32, 5).toString('base64')}`,
      },
    });
    try {
      const admin = await t.admin();
      for (const [method, path] of [['get', '/api/dev/outbox'], ['post', '/api/dev/inbound']] as const) {
        const res = method === 'get' ? await t.api.get(path, admin.token) : await t.api.post(path, { channel: 'sms', from: '+12125550100', body: 'x' }, admin.token);
        expect(res.status, path).to.equal(404);
      }
      const doc = (await t.api.get('/api/openapi.json')).body as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/dev/'))).to.deep.equal([]);
    } finally {
      await t.close();
    }
  });

  it('stops one network trying many accounts before any single account locks', async () => {
    const t = await startTestHub({ label: 'sec-spray', env: { LOGIN_FAILURES_PER_IP_PER_HOUR: '5' } });
    try {
      t.clock.toNextWindow(3600_000);
      for (let i = 0; i < 5; i++) {
        const res = await t.api.post('/api/auth/login', { email: `user${i}@clinic.example`, password: 'Winter2026!' });
        expect(res.status).to.equal(401);
      }
      const blocked = await t.api.post('/api/auth/login', { email: ADMIN.email, password: ADMIN.password });
      expect(blocked.status).to.equal(429);
      expect(blocked.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
      expect(blocked.body.error.message).to.match(/from this network/);
      expect(Number(blocked.headers.get('retry-after'))).to.be.greaterThan(0);
      t.clock.advance(3600_000);
      expect((await t.api.post('/api/auth/login', { email: ADMIN.email, password: ADMIN.password })).status).to.equal(200);
    } finally {
      await t.close();
    }
  });
});
