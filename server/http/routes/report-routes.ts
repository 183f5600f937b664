/**
 * The contact-center figures (server/reports/): supervisors for their own
 * teams, admins for all; agents are refused. JSON, or CSV for a spreadsheet.
 * Answered from the buckets the timeline keeps up to date, never from the
 * messages.
 */
import { z } from 'zod';
import { CHANNEL_IDS } from '../../../channels/channel-id.ts';
import type { Actor } from '../../access/access-policy.ts';
import { AppError, forbidden, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { dayStart } from '../../reports/kpi-periods.ts';
import type { KpiRecorder } from '../../reports/kpi-recorder.ts';
import { KPI_CSV_COLUMNS, kpiCsv, kpiReport, kpiReportSchema, type KpiQuery } from '../../reports/kpi-report.ts';
import { defineRoute } from '../route.ts';

const DAY_MS = 24 * 3600_000;
/** The longest range per granularity: 31 days of hours (744 periods), 366 days of days. */
export const MAX_RANGE_DAYS = { hour: 31, day: 366 } as const;
const DEFAULT_RANGE_DAYS = 7;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 instant with its zone, or a date (the start of that day in the clinic's time zone). */
function instant(timeZone: string) {
  return z.string().trim().transform((text, ctx) => {
    const date = DATE_ONLY.exec(text);
    if (date) {
      const [, y, m, d] = date.map(Number) as [number, number, number, number];
      const utc = Date.UTC(y, m - 1, d);
      const day = new Date(utc);
      if (day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d) return new Date(dayStart(utc + 12 * 3600_000, timeZone));
    } else if (DATE_TIME.test(text)) {
      const t = Date.parse(text);
      if (Number.isFinite(t)) return new Date(t);
    }
    ctx.addIssue({ code: 'custom', message: 'must be a date (YYYY-MM-DD, the clinic’s day) or an ISO 8601 date-time with Z or an offset' });
    return z.NEVER;
  });
}

function querySchema(timeZone: string) {
  return z.object({
    from: instant(timeZone).optional().describe('Start (inclusive; the period holding it is the first). Default: 7 days before `to`'),
    to: instant(timeZone).optional().describe('End (exclusive: periods starting before it). Default: now'),
    team: z.string().regex(/^[a-z0-9-]{2,40}$/, 'a team id').optional(),
    agent: z.string().min(1).max(100).optional(),
    channel: z.enum(CHANNEL_IDS).optional().describe('The channel the conversation started on'),
    granularity: z.enum(['hour', 'day']).default('day').describe(`hour (at most ${MAX_RANGE_DAYS.hour} days) or day (at most ${MAX_RANGE_DAYS.day} days, in CLINIC_TIMEZONE)`),
  });
}

type ReportQuery = z.infer<ReturnType<typeof querySchema>>;

export function reportRoutes(hub: HubServices, kpis: KpiRecorder) {
  const { models } = hub.db;
  const timeZone = hub.config.clinicTimeZone;
  const query = querySchema(timeZone);

  /** Who may see what, and the range checked: the report's query. */
  async function resolve(actor: Actor, q: ReportQuery): Promise<KpiQuery> {
    if (actor.role !== 'admin' && actor.role !== 'supervisor') throw forbidden('Only supervisors and administrators see the contact-center figures');
    const to = q.to ?? hub.timeline.clock();
    const from = q.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
    if (from.getTime() >= to.getTime()) throw new AppError('INVALID_INPUT', 'to: must be later than from', { field: 'to' });
    const longest = MAX_RANGE_DAYS[q.granularity];
    if (to.getTime() - from.getTime() > longest * DAY_MS) {
      throw new AppError('INVALID_INPUT', `to: at most ${longest} days after from with granularity ${q.granularity}`, { field: 'to' });
    }
    let teamIds: readonly string[] | null = actor.role === 'admin' ? null : actor.teamIds;
    if (q.team !== undefined) {
      // Teams are no secret (GET /api/teams): another team's figures are refused, as the live queue and the CSAT comments refuse them.
      if (actor.role !== 'admin' && !actor.teamIds.includes(q.team)) throw forbidden('You see the figures of your own teams only');
      if (!(await models.Team.exists({ _id: q.team }))) throw notFound('Team');
      teamIds = [q.team];
    }
    if (q.agent !== undefined) {
      const agent = await models.Agent.findById(q.agent, { teamIds: 1 }).lean();
      if (!agent) throw notFound('Agent');
      if (actor.role !== 'admin' && !agent.teamIds.some((t) => actor.teamIds.includes(t))) throw forbidden('That agent is in none of your teams');
    }
    // First-contact resolutions whose 7 days have ended are decided before counting.
    await kpis.decideDue();
    return { from, to, granularity: q.granularity, teamIds, agentId: q.agent ?? null, channel: q.channel ?? null };
  }

  return [
    defineRoute({
      method: 'get', path: '/api/reports/kpis', tag: 'reports', auth: 'agent',
      summary: 'Contact-center figures per hour or day: conversations, first response, response, queue and handle times (median, p90), abandonment, first-contact resolution, satisfaction (supervisors: their teams; admins: all)',
      query,
      responses: {
        200: { description: 'One item per period (empty ones included) and the totals; null where there is no data', schema: kpiReportSchema },
        403: { description: 'Agents do not see the figures; supervisors see their own teams’ (and their agents’) only' },
        404: { description: 'Unknown team or agent' },
      },
      handler: async ({ query: q, actor }) => kpiReport(models, await resolve(actor, q), timeZone),
    }),
    defineRoute({
      method: 'get', path: '/api/reports/kpis.csv', tag: 'reports', auth: 'agent',
      summary: `The same figures as CSV: one row per period, then a row "total"; columns ${KPI_CSV_COLUMNS.join(', ')}`,
      query,
      responses: { 200: { description: 'text/csv; charset=utf-8' }, 403: { description: 'Agents do not see the figures; supervisors see their own teams’ only' }, 404: { description: 'Unknown team or agent' } },
      handler: async ({ query: q, actor, res }) => {
        const report = await kpiReport(models, await resolve(actor, q), timeZone);
        res.status(200).type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="carethread-kpis.csv"').send(kpiCsv(report));
        return undefined;
      },
    }),
  ];
}
