import { expect } from 'chai';
import { startTestHub, type TestHub } from '../../support/test-hub.ts';

describe('HIPAA transmission security headers', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'headers', env: { CORS_ALLOWED_ORIGINS: 'https://portal.clinic.example' } });
  });
  after(() => t.close());

  it('sends HSTS and a strict Content-Security-Policy', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("default-src 'self'").and.include("script-src 'self'").and.include("frame-ancestors 'none'").and.include("object-src 'none'");
    expect(csp).not.to.include('unsafe-inline');
  });

  it('answers CORS only for listed origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/api/conversations`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    const allowed = await preflight('https://portal.clinic.example');
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://portal.clinic.example');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
  });
});
