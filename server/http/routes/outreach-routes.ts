/**
 * Outreach: scheduled messages and their templates (server/outreach/).
 *
 * - /api/patients/:id/scheduled-messages: schedule, list, withdraw (agents
 *   who may see the patient; audited, the body is PHI);
 * - /api/scheduled-messages?status=&since=: the clinic's scheduling system
 *   polls answers (supervisors for their teams, admins for all);
 * - /api/templates: read by agents, written by supervisors and admins;
 *   /api/templates/preview: what one patient would receive, with the SMS
 *   segment count, exactly as scheduling renders it.
 */
import { z } from 'zod';
import { loadPatientFor } from '../../access/access-policy.ts';
import type { ScheduledStatus } from '../../db/documents.ts';
import { AppError, forbidden } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { knownTimeZone } from '../../outreach/quiet-hours.ts';
import { feedRecordSchema, scheduledRecordSchema, scheduleInputSchema, type ScheduledMessages } from '../../outreach/scheduled/scheduled-messages.ts';
import { SCHEDULED_KINDS } from '../../outreach/templates/default-templates.ts';
import { smsFacts, templateInputSchema, TEMPLATE_NAME, type MessageTemplates } from '../../outreach/templates/message-templates.ts';
import { TEMPLATE_VARIABLES } from '../../outreach/templates/template-text.ts';
import { defineRoute, Reply } from '../route.ts';

const STATUSES = ['scheduled', 'sent', 'confirmed', 'cancelled', 'reschedule_requested', 'withdrawn', 'skipped', 'failed'] as const satisfies readonly ScheduledStatus[];
const patientParams = z.object({ id: z.string().min(1).max(100) });
const nameParams = z.object({ name: z.string().regex(TEMPLATE_NAME, 'lowercase letters, digits, _ and -, up to 48') });

export function outreachRoutes(hub: HubServices, scheduled: ScheduledMessages, templates: MessageTemplates) {
  const { timeline, config } = hub;
  return [
    defineRoute({
      method: 'post', path: '/api/patients/:id/scheduled-messages', tag: 'outreach', auth: 'agent', audit: 'scheduled.create',
      summary: 'Schedule a reminder, results-ready notice or follow-up for the patient (from a template, or a body)',
      params: patientParams,
      body: scheduleInputSchema,
      responses: { 201: { description: 'The scheduled message', schema: scheduledRecordSchema } },
      handler: async ({ actor, params, body, scope }) => {
        scope.patientId = params.id;
        return new Reply(201, await scheduled.schedule(actor, params.id, body));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/patients/:id/scheduled-messages', tag: 'outreach', auth: 'agent', audit: 'scheduled.read',
      summary: 'The patient’s scheduled messages, every status, soonest first',
      params: patientParams,
      responses: { 200: { description: 'Scheduled messages', schema: z.object({ items: z.array(scheduledRecordSchema) }) } },
      handler: async ({ actor, params, scope }) => {
        scope.patientId = params.id;
        return { items: await scheduled.listForPatient(actor, params.id) };
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/patients/:id/scheduled-messages/:scheduledId', tag: 'outreach', auth: 'agent', audit: 'scheduled.withdraw',
      summary: 'Withdraw a scheduled message that has not gone out (409 once it has)',
      params: z.object({ id: z.string().min(1).max(100), scheduledId: z.string().min(1).max(100) }),
      responses: { 200: { description: 'The withdrawn message', schema: scheduledRecordSchema } },
      handler: async ({ actor, params, scope }) => {
        scope.patientId = params.id;
        return scheduled.withdraw(actor, params.id, params.scheduledId);
      },
    }),
    defineRoute({
      method: 'get', path: '/api/scheduled-messages', tag: 'outreach', auth: 'agent', audit: 'scheduled.feed',
      summary: 'Scheduled messages whose status changed after `since` (e.g. status=confirmed), oldest change first, without their text: the scheduling system’s feed',
      query: z.object({
        status: z.enum(STATUSES).optional(),
        since: z.iso.datetime({ offset: true, error: 'an ISO 8601 instant, e.g. 2027-03-15T00:00:00Z' }).optional(),
        cursor: z.string().min(1).max(200).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      responses: { 200: { description: 'Changes, and the cursor of the next page (null: none yet)', schema: z.object({ items: z.array(feedRecordSchema), next: z.string().nullable() }) } },
      handler: async ({ actor, query }) =>
        scheduled.feed(actor, { status: query.status, since: query.since ? new Date(query.since) : undefined, cursor: query.cursor, limit: query.limit }),
    }),
    defineRoute({
      method: 'get', path: '/api/templates', tag: 'outreach', auth: 'agent',
      summary: 'The message templates (the clinic’s and the built-in ones) and the variables they may use',
      responses: { 200: { description: 'Templates' } },
      handler: async () => ({
        items: await templates.list(),
        variables: Object.entries(TEMPLATE_VARIABLES).map(([name, v]) => ({ name, phiFree: v.phiFree, description: v.description })),
        phiSafeNotifications: config.phiSafeNotifications,
      }),
    }),
    defineRoute({
      method: 'put', path: '/api/templates/:name', tag: 'outreach', auth: 'agent', audit: 'template.update',
      summary: 'Save a template (supervisors and admins); unknown variables are a 400 naming them',
      params: nameParams,
      body: templateInputSchema,
      responses: { 200: { description: 'The template' } },
      handler: async ({ actor, params, body }) => {
        if (actor.role !== 'admin' && actor.role !== 'supervisor') throw forbidden('Only supervisors and administrators edit templates');
        return templates.save(params.name, body, actor.agentId, timeline.clock());
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/templates/:name', tag: 'outreach', auth: 'agent', audit: 'template.update',
      summary: 'Delete the clinic’s template (a built-in one of that name comes back)',
      params: nameParams,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        if (actor.role !== 'admin' && actor.role !== 'supervisor') throw forbidden('Only supervisors and administrators edit templates');
        await templates.remove(params.name);
        return new Reply(204);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/templates/preview', tag: 'outreach', auth: 'agent', audit: 'template.preview',
      summary: 'What a template (or a body) becomes for one patient, with the SMS segment count',
      body: z
        .object({
          patientId: z.string().min(1).max(100),
          template: z.string().min(1).max(48).optional(),
          body: z.string().trim().min(1).max(1600).optional(),
          kind: z.enum(SCHEDULED_KINDS).default('reminder'),
          variables: scheduleInputSchema.shape.variables,
        })
        .strict(),
      responses: {
        200: {
          description: 'The text as the patient would get it ({{link}} as a link of the real length)',
          schema: z.object({
            template: z.string().nullable(), language: z.string(), phiFree: z.boolean(), body: z.string(), subject: z.string().nullable(),
            sms: z.object({ segments: z.number(), encoding: z.string(), characters: z.number(), tooLong: z.boolean() }),
          }),
        },
      },
      handler: async ({ actor, body, scope }) => {
        const patient = await loadPatientFor(timeline.models, actor, body.patientId, scope);
        if (body.template === undefined && body.body === undefined) throw new AppError('INVALID_INPUT', 'template: give a template name or a body', { field: 'template' });
        const rendered = await templates.render({
          template: body.template, body: body.body, kind: body.kind, given: body.variables,
          patientName: patient.nameEnc ? timeline.cipher.decrypt(patient.nameEnc) : null, patientLanguage: patient.preferences?.language,
          timeZone: knownTimeZone(patient.preferences?.timezone) ?? config.clinicTimeZone,
        });
        // A link as the hub will make it, so the segment count is the real one.
        const sampleLink = scheduled.sampleLink(patient);
        const text = rendered.body.split('{{link}}').join(sampleLink);
        return { template: rendered.template, language: rendered.language, phiFree: rendered.phiFree, body: text, subject: rendered.subject, sms: smsFacts(rendered.body, sampleLink) };
      },
    }),
  ];
}
