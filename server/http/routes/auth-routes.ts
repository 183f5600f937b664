import { z } from 'zod';
import type { HubServices } from '../../hub-services.ts';
import { Reply, defineRoute } from '../route.ts';

const loginAnswer = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number(),
  agent: z.object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(['admin', 'supervisor', 'agent']), teamIds: z.array(z.string()) }),
});

export function authRoutes(hub: HubServices) {
  return [
    defineRoute({
      method: 'post', path: '/api/auth/login', tag: 'auth', auth: 'public',
      summary: 'Log in with email and password; returns a 15-minute access token and a refresh token',
      body: z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(256) }),
      responses: { 200: { description: 'Logged in', schema: loginAnswer } },
      handler: async ({ body }) => hub.auth.login(body.email, body.password),
    }),
    defineRoute({
      method: 'post', path: '/api/auth/refresh', tag: 'auth', auth: 'public',
      summary: 'Trade a refresh token for new tokens; the old refresh token stops working',
      body: z.object({ refreshToken: z.string().min(1).max(200) }),
      responses: { 200: { description: 'New tokens', schema: loginAnswer } },
      handler: async ({ body }) => hub.auth.refresh(body.refreshToken),
    }),
    defineRoute({
      method: 'post', path: '/api/auth/logout', tag: 'auth', auth: 'agent',
      summary: 'End this session: its access and refresh tokens stop working',
      responses: { 204: { description: 'Logged out' } },
      handler: async ({ actor }) => {
        await hub.auth.logout(actor);
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
