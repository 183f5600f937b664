/**
 * The live queue (server/reports/live-queue.ts) over REST: supervisors see
 * their teams, admins every team; agents are refused. The same figures are
 * pushed to them as `queue:stats` on /agents.
 */
import { z } from 'zod';
import type { HubServices } from '../../hub-services.ts';
import { forbidden, notFound } from '../../errors.ts';
import type { LiveQueue, TeamSelection } from '../../reports/live-queue.ts';
import { defineRoute } from '../route.ts';

export function reportQueueRoutes(hub: HubServices, queue: LiveQueue) {
  const { models } = hub.db;
  return [
    defineRoute({
      method: 'get', path: '/api/reports/queue', tag: 'reports', auth: 'agent',
      summary: "Each team's live queue: conversations waiting for an agent, the longest wait, agents online, busy and away (supervisors: their teams; admins: all)",
      query: z.object({ team: z.string().min(1).max(100).optional() }),
      responses: {
        200: {
          description:
            '{items: [{teamId, teamName, waiting, longestWaitSeconds, oldestWaitingSince, agents: {online, busy, away}, at}], nextCursor: null}. ' +
            'waiting: open conversations nobody is assigned to; busy: Online at the team’s capacity of open conversations; only connected agents count',
        },
      },
      handler: async ({ query, actor }) => {
        if (actor.role === 'agent') throw forbidden('The live queue is for supervisors and administrators');
        let teams: TeamSelection;
        if (query.team !== undefined) {
          if (actor.role !== 'admin' && !actor.teamIds.includes(query.team)) throw forbidden('You supervise other teams');
          teams = new Set([query.team]);
        } else {
          teams = actor.role === 'admin' ? 'all' : new Set(actor.teamIds);
        }
        const items = await queue.snapshot(teams);
        if (query.team !== undefined && items.length === 0 && !(await models.Team.exists({ _id: query.team }))) throw notFound('Team');
        return { items, nextCursor: null };
      },
    }),
  ];
}
