/** Routing settings: a team's hours and assignment mode (admins), an agent's status, languages and skills. */
import { z } from 'zod';
import type { HubServices } from '../../hub-services.ts';
import { AppError, forbidden, notFound } from '../../errors.ts';
import { agentProfileSchema, routingSettingsSchema } from '../../routing/assignment-policy.ts';
import { describeNextOpening, isOpenAt, nextOpening, teamHoursSchema, toTeamHoursJson, type TeamHours } from '../../routing/business-hours.ts';
import { routingOf, teamHoursOf } from '../../routing/team-settings.ts';
import { defineRoute } from '../route.ts';

const teamParams = z.object({ id: z.string().min(1).max(100) });

export interface RoutingRouteDeps {
  defaultHours: TeamHours | null;
  /** Tells every inbox an agent's status changed. */
  announceStatus(agentId: string, status: 'online' | 'away' | 'offline'): void;
  /** Offers waiting conversations to an agent who just came online. */
  agentAvailable(): void;
}

export function routingRoutes(hub: HubServices, deps: RoutingRouteDeps) {
  const { models } = hub.db;
  const { clock } = hub.timeline;
  const loadTeam = async (id: string) => {
    const team = await models.Team.findById(id).lean();
    if (!team) throw notFound('Team');
    return team;
  };
  const hoursAnswer = (hours: TeamHours | null, own: boolean) => {
    const now = clock();
    if (!hours) return { own, hours: null, open: true, nextOpenAt: null };
    const open = isOpenAt(hours, now);
    const next = open ? null : nextOpening(hours, now);
    return { own, hours: toTeamHoursJson(hours), open, nextOpenAt: next?.toISOString() ?? null, ...(open ? {} : { reopens: describeNextOpening(hours, now, 'en') }) };
  };
  return [
    defineRoute({
      method: 'get', path: '/api/teams/:id/hours', tag: 'routing', auth: 'agent',
      summary: "A team's business hours (its own, or the clinic's default), and whether it is open now",
      params: teamParams,
      responses: { 200: { description: 'Hours: {own, hours: {timeZone, weekly, holidays} | null (always open), open, nextOpenAt}' } },
      handler: async ({ params }) => {
        const team = await loadTeam(params.id);
        return hoursAnswer(teamHoursOf(team, deps.defaultHours), Boolean(team.hours));
      },
    }),
    defineRoute({
      method: 'put', path: '/api/teams/:id/hours', tag: 'routing', auth: 'admin', audit: 'team.update',
      summary: "Set a team's business hours (admins): time zone, weekly hours, holidays; DST-safe",
      params: teamParams,
      body: teamHoursSchema,
      responses: { 200: { description: 'The hours as stored' } },
      handler: async ({ params, body, scope }) => {
        await loadTeam(params.id);
        const json = toTeamHoursJson(body);
        await models.Team.updateOne({ _id: params.id }, { $set: { hours: json } });
        scope.details = { teamId: params.id, hours: 'set' };
        return hoursAnswer(body, true);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/teams/:id/routing', tag: 'routing', auth: 'agent',
      summary: "How a team's new conversations find an agent: {mode, maxOpenPerAgent, escalateAfterMinutes}",
      params: teamParams,
      responses: { 200: { description: 'Routing settings', schema: routingSettingsSchema } },
      handler: async ({ params }) => routingOf(await loadTeam(params.id)),
    }),
    defineRoute({
      method: 'put', path: '/api/teams/:id/routing', tag: 'routing', auth: 'admin', audit: 'team.update',
      summary: "Set a team's routing (admins): manual, round_robin or least_busy; capacity per agent; minutes before supervisors are alerted",
      params: teamParams,
      body: routingSettingsSchema,
      responses: { 200: { description: 'Routing settings', schema: routingSettingsSchema } },
      handler: async ({ params, body, scope }) => {
        await loadTeam(params.id);
        await models.Team.updateOne({ _id: params.id }, { $set: { routing: body } });
        scope.details = { teamId: params.id, mode: body.mode };
        deps.agentAvailable();
        return routingOf({ routing: body });
      },
    }),
    defineRoute({
      method: 'put', path: '/api/teams/:id/department', tag: 'routing', auth: 'admin', audit: 'team.update',
      summary: 'Offer a team to patients as a department (the widget’s pre-chat choice, the SMS menu’s digit), or stop offering it (admins)',
      params: teamParams,
      body: z.union([
        z.object({ offered: z.literal(false) }),
        z.object({
          offered: z.literal(true),
          label: z.string().trim().min(1, 'must not be empty').max(60, 'at most 60 characters'),
          smsKey: z.string().regex(/^[1-9]$/, 'one digit, 1 to 9').nullable().default(null),
        }),
      ]),
      responses: { 200: { description: '{department: {label, smsKey} | null}' }, 409: { description: 'Another team has that SMS menu digit' } },
      handler: async ({ params, body, scope }) => {
        await loadTeam(params.id);
        const department = body.offered ? { label: body.label, smsKey: body.smsKey } : null;
        if (department?.smsKey) {
          const taken = (await models.Team.find({}, { department: 1 }).lean()).find((t) => t._id !== params.id && t.department?.smsKey === department.smsKey);
          if (taken) throw new AppError('CONFLICT', `SMS menu digit ${department.smsKey} is already the team ${taken._id}’s`, { field: 'smsKey' });
        }
        await models.Team.updateOne({ _id: params.id }, { $set: { department } });
        scope.details = { teamId: params.id, department: body.offered };
        return { department };
      },
    }),
    defineRoute({
      method: 'patch', path: '/api/agents/:id', tag: 'agents', auth: 'agent', audit: 'agent.update',
      summary: "An agent's status (their own; admins anyone's), languages and skills (admins and their supervisors)",
      params: z.object({ id: z.string().min(1).max(100) }),
      // The inbox sets an idle agent away by itself: that is no sign of activity, and must not put off the idle logoff.
      touchesSession: (req) => !(req.body && typeof req.body === 'object' && Object.keys(req.body).length === 1 && (req.body as { status?: unknown }).status === 'away'),
      body: agentProfileSchema,
      responses: { 200: { description: 'The agent' } },
      handler: async ({ params, body, actor, scope }) => {
        const agent = await models.Agent.findById(params.id).lean();
        if (!agent || agent.disabledAt) throw notFound('Agent');
        const self = agent._id === actor.agentId;
        const supervises = actor.role === 'supervisor' && agent.teamIds.some((t) => actor.teamIds.includes(t));
        if (body.status !== undefined && !self && actor.role !== 'admin') throw forbidden('Only the agent themselves (or an administrator) sets their status');
        if ((body.languages !== undefined || body.skills !== undefined) && !self && actor.role !== 'admin' && !supervises) {
          throw forbidden("Only administrators and the agent's supervisors change languages and skills");
        }
        if (body.skills !== undefined && self && actor.role === 'agent') throw forbidden("An agent's skills are set by a supervisor or an administrator");
        const now = clock();
        const set = {
          ...(body.status !== undefined ? { status: body.status, statusAt: now } : {}),
          ...(body.languages !== undefined ? { languages: body.languages } : {}),
          ...(body.skills !== undefined ? { skills: body.skills } : {}),
        };
        const updated = await models.Agent.findOneAndUpdate({ _id: agent._id }, { $set: set }, { returnDocument: 'after', lean: true });
        if (!updated) throw notFound('Agent');
        scope.details = { agentId: agent._id, ...(body.status ? { status: body.status } : {}) };
        if (body.status !== undefined) {
          deps.announceStatus(agent._id, body.status);
          if (body.status === 'online') deps.agentAvailable();
        }
        return agentRecord(updated);
      },
    }),
  ];
}

export function agentRecord(a: { _id: string; email: string; name: string; role: string; teamIds: string[]; status?: string; languages?: string[]; skills?: string[] }) {
  return { id: a._id, email: a.email, name: a.name, role: a.role, teamIds: a.teamIds, status: a.status ?? 'offline', languages: a.languages ?? [], skills: a.skills ?? [] };
}

