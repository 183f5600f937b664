import { z } from 'zod';
import { createAgent, newAgentSchema } from '../../auth/agent-directory.ts';
import type { HubServices } from '../../hub-services.ts';
import { Reply, defineRoute } from '../route.ts';
import { AppError, notFound } from '../../errors.ts';
import { agentRecord } from './routing-routes.ts';

const agentShape = z.object({
  id: z.string(), email: z.string(), name: z.string(), role: z.string(), teamIds: z.array(z.string()),
  status: z.enum(['online', 'away', 'offline']), languages: z.array(z.string()), skills: z.array(z.string()),
});

export function agentRoutes(hub: HubServices) {
  const { models } = hub.db;
  return [
    defineRoute({
      method: 'get', path: '/api/agents', tag: 'agents', auth: 'agent',
      summary: 'Active agents (for assignment)',
      responses: { 200: { description: 'Agents', schema: z.object({ items: z.array(agentShape) }) } },
      handler: async () => {
        const agents = await models.Agent.find({ disabledAt: null }).sort({ name: 1 }).lean();
        return { items: agents.map(agentRecord) };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/agents', tag: 'agents', auth: 'admin', audit: 'agent.create',
      summary: 'Create an agent account (admins only)',
      // RFC 5321: at most 64 characters before the @ (z.email() does not count them). Belongs in newAgentSchema, for the CLI too.
      body: newAgentSchema.refine((agent) => agent.email.split('@')[0]!.length <= 64, { path: ['email'], message: 'at most 64 characters before the @' }),
      responses: { 201: { description: 'The agent', schema: agentShape } },
      handler: async ({ body }) => {
        const a = await createAgent(models, body, hub.timeline.clock());
        return new Reply(201, agentRecord(a));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/teams', tag: 'agents', auth: 'agent',
      summary: 'Teams',
      responses: { 200: { description: 'Teams' } },
      handler: async () => ({ items: (await models.Team.find().sort({ name: 1 }).lean()).map((t) => ({ id: t._id, name: t.name, department: t.department ?? null })) }),
    }),
    defineRoute({
      method: 'post', path: '/api/teams', tag: 'agents', auth: 'admin',
      summary: 'Create a team (admins only)',
      body: z.object({ id: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lowercase letters, digits and -'), name: z.string().trim().min(1).max(80) }),
      responses: { 201: { description: 'The team' } },
      handler: async ({ body }) => {
        await models.Team.updateOne({ _id: body.id }, { $setOnInsert: { name: body.name, createdAt: hub.timeline.clock() } }, { upsert: true });
        return new Reply(201, { id: body.id, name: body.name });
      },
    }),
    defineRoute({
      method: 'post', path: '/api/agents/:id/disable', tag: 'agents', auth: 'admin', audit: 'agent.disable',
      summary: 'Disable an agent: every session ends and their sockets close at once (admins only)',
      params: z.object({ id: z.string().min(1).max(100) }),
      responses: { 204: { description: 'Disabled' } },
      handler: async ({ params, actor }) => {
        if (params.id === actor.agentId) throw new AppError('CONFLICT', 'You cannot disable your own account');
        const updated = await models.Agent.updateOne({ _id: params.id }, { $set: { disabledAt: hub.timeline.clock() } });
        if (updated.matchedCount === 0) throw notFound('Agent');
        await hub.auth.revokeAllFor(params.id, 'agent_disabled');
        hub.realtime.endAgent(params.id, 'agent_disabled');
        return new Reply(204);
      },
    }),
  ];
}
