/**
 * The settings every bench's hub runs with: the shape of test/support/test-hub.ts's
 * TEST_ENV (not imported: bench/ stays independent of test/), throwaway keys,
 * and warn-level logs (per-message info logs would dominate the figures).
 */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'bench-jwt-secret-0123456789abcdefghijklmnop',
  PHI_ENCRYPTION_KEY: `b1:${Buffer.alloc(32, 7).toString('base64')}`,
  PHI_BLIND_INDEX_KEY: Buffer.alloc(32, 9).toString('base64'),
  AUDIT_CHAIN_KEY: `a1:${Buffer.alloc(32, 5).toString('base64')}`,
  TWILIO_AUTH_TOKEN: 'bench-twilio-auth-token-0123',
  SENDGRID_INBOUND_SECRET: 'bench-inbound-secret-0123',
  WIDGET_IDENTITY_SECRET: 'bench-widget-identity-secret-0123456789abcd',
  BOOTSTRAP_ADMIN_EMAIL: 'admin@bench.local',
  BOOTSTRAP_ADMIN_PASSWORD: 'admin-password-123',
  LOG_LEVEL: 'warn',
};
