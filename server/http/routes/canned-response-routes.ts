/**
 * Canned responses: each team's small library of saved replies, which agents
 * insert in the inbox by typing "/" and a shortcut. Agents read their teams'
 * library; supervisors keep their own teams' and admins every team's.
 * They hold no PHI (templates, not messages).
 */
import { z } from 'zod';
import type { Actor } from '../../access/access-policy.ts';
import type { CannedResponseDoc } from '../../db/documents.ts';
import { isDuplicateKeyError } from '../../db/models.ts';
import { AppError, forbidden, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { Reply, defineRoute } from '../route.ts';

const shape = z.object({ id: z.string(), teamId: z.string(), shortcut: z.string(), title: z.string(), body: z.string() });
const toRecord = (d: CannedResponseDoc) => ({ id: d._id, teamId: d.teamId, shortcut: d.shortcut, title: d.title, body: d.body });

function mayEdit(actor: Actor, teamId: string): boolean {
  return actor.role === 'admin' || (actor.role === 'supervisor' && actor.teamIds.includes(teamId));
}

export function cannedResponseRoutes(hub: HubServices) {
  const { models } = hub.db;
  return [
    defineRoute({
      method: 'get', path: '/api/canned-responses', tag: 'agents', auth: 'agent',
      summary: 'The saved replies of the agent’s teams (admins: every team’s), by shortcut',
      responses: { 200: { description: 'Canned responses', schema: z.object({ items: z.array(shape) }) } },
      handler: async ({ actor }) => {
        const docs = await models.CannedResponse.find(actor.role === 'admin' ? {} : { teamId: { $in: actor.teamIds } }).lean();
        docs.sort((a, b) => a.shortcut.localeCompare(b.shortcut) || a.teamId.localeCompare(b.teamId));
        return { items: docs.map(toRecord) };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/canned-responses', tag: 'agents', auth: 'agent',
      summary: 'Add a saved reply to a team (its supervisors and admins)',
      body: z.object({
        teamId: z.string().min(1).max(100),
        shortcut: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and -, up to 32'),
        title: z.string().trim().min(1).max(100),
        body: z.string().trim().min(1).max(1600),
      }),
      responses: { 201: { description: 'The saved reply', schema: shape } },
      handler: async ({ actor, body }) => {
        if (!mayEdit(actor, body.teamId)) throw forbidden('Only the team’s supervisors and admins can change its saved replies');
        if (!(await models.Team.findById(body.teamId).lean())) throw new AppError('INVALID_INPUT', 'teamId: no such team', { field: 'teamId' });
        const doc: CannedResponseDoc = { _id: `${body.teamId}:${body.shortcut}`, ...body, createdBy: actor.agentId, createdAt: hub.timeline.clock() };
        try {
          await models.CannedResponse.create(doc);
        } catch (error) {
          if (isDuplicateKeyError(error)) throw new AppError('CONFLICT', `shortcut: the team already has "/${body.shortcut}"`, { field: 'shortcut' });
          throw error;
        }
        return new Reply(201, toRecord(doc));
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/canned-responses/:id', tag: 'agents', auth: 'agent',
      summary: 'Remove a saved reply',
      params: z.object({ id: z.string().min(1).max(140) }),
      responses: { 204: { description: 'Removed' } },
      handler: async ({ actor, params }) => {
        const doc = await models.CannedResponse.findById(params.id).lean();
        if (!doc) throw notFound('Saved reply');
        if (!mayEdit(actor, doc.teamId)) throw forbidden('Only the team’s supervisors and admins can change its saved replies');
        await models.CannedResponse.deleteOne({ _id: params.id });
        return new Reply(204);
      },
    }),
  ];
}
