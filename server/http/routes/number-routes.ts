/**
 * The clinic's texting numbers and their reputation (server/delivery/number-health.ts):
 * admins and supervisors read the figures (supervisors watch delivery for
 * their teams, and the figures hold no PHI); only admins put a flagged number
 * back in the pool. Both are audited.
 */
import { z } from 'zod';
import { AppError, forbidden, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { hintFor, type NumberHealth } from '../../delivery/number-health.ts';
import { defineRoute } from '../route.ts';

const figures = {
  sent: z.number(), delivered: z.number(), undelivered: z.number(), failed: z.number(),
  deliveryRate: z.number().nullable(),
  filtered30007: z.number(),
  unreachable: z.object({ '30003': z.number(), '30005': z.number(), '30006': z.number() }),
  optOuts: z.number(), optOutsPer1000: z.number().nullable(),
};
const item = z.object({
  number: z.string(),
  role: z.enum(['sender', 'inbound_only']),
  inPool: z.boolean(),
  flagged: z.object({ at: z.string(), reason: z.string() }).nullable(),
  window: z.object({ from: z.string(), to: z.string() }),
  ...figures,
  patientsAssigned: z.number(),
  hint: z.string().nullable(),
});

export interface NumberRouteDeps {
  health: NumberHealth;
  /** The sending pool (TWILIO_FROM_NUMBER, TWILIO_FROM_NUMBERS) and the card's inbound-only numbers. */
  senders: readonly string[];
  inboundOnly: readonly string[];
}

export function numberRoutes(hub: HubServices, deps: NumberRouteDeps) {
  const { models } = hub.db;
  const { health, senders } = deps;
  const inboundOnly = deps.inboundOnly.filter((n) => !senders.includes(n));
  const settings = hub.config.numberHealth;
  return [
    defineRoute({
      method: 'get', path: '/api/numbers/health', tag: 'numbers', auth: 'agent', audit: 'numbers.read',
      summary: 'Each clinic number’s delivery figures over the rolling window, whether it is flagged, and what to do (admins and supervisors)',
      responses: { 200: { description: 'The numbers', schema: z.object({ items: z.array(item) }) } },
      handler: async ({ actor }) => {
        if (actor.role === 'agent') throw forbidden('Only supervisors and administrators can see the numbers’ figures');
        const all = [...senders, ...inboundOnly];
        const window = health.window();
        const [standings, windowFigures, assigned] = await Promise.all([
          health.standings(all),
          health.figures(all),
          Promise.all(senders.map((n) => models.Patient.countDocuments({ 'smsSender.number': n }))),
        ]);
        return {
          items: all.map((number) => {
            const sender = senders.includes(number);
            const standing = standings.get(number);
            const { filteredPer1000: _, ...f } = windowFigures.get(number)!;
            return {
              number,
              role: sender ? ('sender' as const) : ('inbound_only' as const),
              inPool: sender && !standing?.flaggedAt,
              flagged: standing?.flaggedAt ? { at: new Date(standing.flaggedAt).toISOString(), reason: standing.flagReason ?? '' } : null,
              window: { from: window.from.toISOString(), to: window.to.toISOString() },
              ...f,
              patientsAssigned: sender ? assigned[senders.indexOf(number)]! : 0,
              hint: hintFor(windowFigures.get(number)!, settings),
            };
          }),
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/numbers/:number/restore', tag: 'numbers', auth: 'admin', audit: 'number.restore',
      summary: 'Put a flagged sending number back in the pool for new patients (admins)',
      params: z.object({ number: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +14155550100 (URL-encode the +)') }),
      responses: { 200: { description: 'Restored', schema: z.object({ number: z.string(), inPool: z.boolean() }) } },
      handler: async ({ actor, params, scope }) => {
        scope.details = { number: params.number };
        if (!senders.includes(params.number)) throw notFound('Sending number');
        if (!(await health.restore(params.number, actor.agentId))) throw new AppError('CONFLICT', 'number: this number is not flagged', { field: 'number' });
        return { number: params.number, inPool: true };
      },
    }),
  ];
}
