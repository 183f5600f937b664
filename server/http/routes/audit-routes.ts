/** The audit trail for administrators: query, export (itself audited), verify the hash chain. */
import { z } from 'zod';
import { verifyAuditChain } from '../../audit/audit-log.ts';
import type { AuditEventDoc } from '../../db/documents.ts';
import type { HubServices } from '../../hub-services.ts';
import { defineRoute } from '../route.ts';

const filters = z.object({
  actor: z.string().max(100).optional(),
  patient: z.string().max(100).optional(),
  conversation: z.string().max(100).optional(),
  action: z.string().regex(/^[a-z_.]{2,40}$/, 'an audit action such as messages.read').optional(),
  flagged: z.enum(['true', 'false']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

type Filters = z.infer<typeof filters>;

function toQuery(f: Filters): Record<string, unknown> {
  return {
    ...(f.actor ? { actorId: f.actor } : {}),
    ...(f.patient ? { patientId: f.patient } : {}),
    ...(f.conversation ? { conversationId: f.conversation } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.flagged ? { flagged: f.flagged === 'true' } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { $gte: new Date(f.from) } : {}), ...(f.to ? { $lte: new Date(f.to) } : {}) } } : {}),
  };
}

const toRecord = (e: AuditEventDoc) => ({ ...e, id: e._id, _id: undefined, at: new Date(e.at).toISOString() });

export function auditRoutes(hub: HubServices) {
  const { models } = hub.db;
  return [
    defineRoute({
      method: 'get', path: '/api/audit', tag: 'audit', auth: 'admin', audit: 'audit.read',
      summary: 'Audit entries, newest first (admins only); cursor is the id to continue below',
      query: filters.extend({ limit: z.coerce.number().int().min(1).max(500).default(100), cursor: z.coerce.number().int().min(1).optional() }),
      responses: { 200: { description: 'A page of audit entries' } },
      handler: async ({ query }) => {
        const q = { ...toQuery(query), ...(query.cursor ? { _id: { $lt: query.cursor } } : {}) };
        const entries = await models.AuditEvent.find(q).sort({ _id: -1 }).limit(query.limit + 1).lean();
        const page = entries.slice(0, query.limit);
        return { items: page.map(toRecord), nextCursor: entries.length > query.limit ? String(page[page.length - 1]!._id) : null };
      },
    }),
    defineRoute({
      method: 'get', path: '/api/audit/export', tag: 'audit', auth: 'admin',
      summary: 'Export matching audit entries as NDJSON, oldest first (admins only; the export is itself audited)',
      query: filters,
      responses: { 200: { description: 'application/x-ndjson, one entry per line' } },
      handler: async ({ query, res, actor, ip }) => {
        // Recorded before the first byte leaves, so no export goes unaudited.
        await hub.audit.record({ action: 'audit.export', actor, via: 'rest', ip, details: { filter: JSON.stringify(query) } });
        res.status(200).type('application/x-ndjson').set('Content-Disposition', 'attachment; filename="carethread-audit.ndjson"');
        for await (const entry of models.AuditEvent.find(toQuery(query)).sort({ _id: 1 }).lean().cursor()) {
          res.write(`${JSON.stringify(toRecord(entry as AuditEventDoc))}\n`);
        }
        res.end();
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/api/audit/verify', tag: 'audit', auth: 'admin', audit: 'audit.read',
      summary: 'Walk the hash chain and report the first entry that was altered, removed or reordered',
      responses: { 200: { description: '{ok, checked, firstBrokenAt, problem}' } },
      handler: async () => verifyAuditChain(models, hub.config.auditKeys),
    }),
  ];
}
