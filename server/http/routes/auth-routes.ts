import { z } from 'zod';
import type { HubServices } from '../../hub-services.ts';
import { Reply, defineRoute } from '../route.ts';
import { TotpEnrolment } from '../../auth/totp.ts';

const loginAnswer = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
  agent: z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(['admin', 'supervisor', 'agent']), teamIds: z.array(z.string()) }),
});

export function authRoutes(hub: HubServices) {
  const totp = new TotpEnrolment(hub.db.models, hub.timeline.cipher, hub.timeline.clock, hub.config.clinicName, {
    audit: hub.audit,
    endOtherSessions: async (agentId, keepSessionId, reason) => {
      for (const sessionId of await hub.auth.revokeAllFor(agentId, reason, keepSessionId)) hub.realtime.endSession(sessionId, reason);
    },
  });
  const code = z.string().regex(/^\d{6}$/, 'the 6-digit code from your authenticator app');
  return [
    defineRoute({
      method: 'post', path: '/api/auth/login', tag: 'auth', auth: 'public',
      summary: 'Log in with email and password; returns a 15-minute access token and a refresh token',
      body: z.object({
        email: z.string().min(1).max(320),
        password: z.string().min(1).max(256),
        totp: z.string().regex(/^\d{6}$/, 'the 6-digit code from your authenticator app').optional(),
      }),
      responses: { 200: { description: 'Logged in', schema: loginAnswer } },
      handler: async ({ body, ip }) => hub.auth.login(body.email, body.password, { ip, via: 'rest', totp: body.totp }),
    }),
    defineRoute({
      method: 'post', path: '/api/auth/refresh', tag: 'auth', auth: 'public',
      summary: 'Trade a refresh token for new tokens; the old refresh token stops working',
      body: z.object({ refreshToken: z.string().min(1).max(200) }),
      responses: { 200: { description: 'New tokens', schema: loginAnswer } },
      handler: async ({ body, ip }) => hub.auth.refresh(body.refreshToken, { ip, via: 'rest' }),
    }),
    defineRoute({
      method: 'post', path: '/api/auth/logout', tag: 'auth', auth: 'agent',
      summary: 'End this session: its access and refresh tokens stop working',
      responses: { 204: { description: 'Logged out' } },
      handler: async ({ actor, ip }) => {
        await hub.auth.logout(actor, { ip, via: 'rest' });
        hub.realtime.endSession(actor.sessionId, 'logout');
        return new Reply(204);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/auth/totp/setup', tag: 'auth', auth: 'agent',
      summary: 'Start enrolling an authenticator app (second factor): your password, and a current code if one is on; confirm with /api/auth/totp/enable',
      body: z.object({ password: z.string().min(1).max(256), code: code.optional() }),
      responses: { 200: { description: 'The secret and an otpauth:// URI for a QR code' } },
      handler: async ({ actor, body, ip }) => totp.begin(actor, body, ip),
    }),
    defineRoute({
      method: 'post', path: '/api/auth/totp/disable', tag: 'auth', auth: 'agent',
      summary: 'Turn the second factor off: your password and a current code; your other sessions end',
      body: z.object({ password: z.string().min(1).max(256), code }),
      responses: { 204: { description: 'Second factor off' } },
      handler: async ({ actor, body, ip }) => {
        await totp.disable(actor, body, ip);
        return new Reply(204);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/auth/totp/enable', tag: 'auth', auth: 'agent',
      summary: 'Confirm enrolment with a current code; from then on login needs a code',
      body: z.object({ code }),
      responses: { 204: { description: 'Second factor on; your other sessions end' } },
      handler: async ({ actor, body, ip }) => {
        await totp.confirm(actor, body.code, ip);
        return new Reply(204);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/auth/me', tag: 'auth', auth: 'agent',
      summary: 'The logged-in agent',
      responses: { 200: { description: 'The agent' } },
      handler: async ({ actor }) => {
        const agent = await hub.db.models.Agent.findById(actor.agentId).lean().orFail();
        return { id: agent._id, email: agent.email, name: agent.name, role: agent.role, teamIds: agent.teamIds };
      },
    }),
  ];
}
