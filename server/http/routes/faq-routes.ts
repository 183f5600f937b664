/**
 * FAQ entries: each team's published answers to common questions, suggested
 * to agents while they type and, after hours, sent to a patient whose question
 * clearly matches one marked autoAnswer (server/routing/faq.ts). Agents read
 * their teams' entries; supervisors keep their own teams' and admins every
 * team's. Entries hold no PHI; the suggestion query may (a reply draft), so it
 * is never stored or logged.
 */
import { z } from 'zod';
import { loadConversationFor, type Actor } from '../../access/access-policy.ts';
import { AppError, forbidden, HiddenFromActor, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { FAQ_LANGUAGES, faqEntryPatchSchema, faqEntrySchema, SUGGEST_MAX, type FaqEntry, type FaqEntryRecord } from '../../routing/faq.ts';
import type { FaqStore } from '../../routing/faq-store.ts';
import { Reply, defineRoute } from '../route.ts';

const shape = z.object({
  id: z.string(), teamId: z.string(), language: z.enum(FAQ_LANGUAGES), questions: z.array(z.string()), answer: z.string(),
  published: z.boolean(), autoAnswer: z.boolean(), updatedAt: z.string(),
});
const toRecord = (e: FaqEntry): FaqEntryRecord => ({ ...e, updatedAt: e.updatedAt.toISOString() });
const idParams = z.object({ id: z.string().min(1).max(100) });
const teamId = z.string().min(1).max(100);

const mayRead = (actor: Actor, teamId: string) => actor.role === 'admin' || actor.teamIds.includes(teamId);
const mayEdit = (actor: Actor, teamId: string) => actor.role === 'admin' || (actor.role === 'supervisor' && actor.teamIds.includes(teamId));
const EDITORS_ONLY = 'Only the team’s supervisors and admins can change its FAQ';

export function faqRoutes(hub: HubServices, store: FaqStore) {
  const { models } = hub.db;
  /** Another team's entry is answered like an unknown one. */
  const loadToEdit = async (actor: Actor, id: string) => {
    const entry = await store.get(id);
    if (!entry) throw notFound('FAQ entry');
    if (!mayRead(actor, entry.teamId)) throw new HiddenFromActor('FAQ entry');
    if (!mayEdit(actor, entry.teamId)) throw forbidden(EDITORS_ONLY);
    return entry;
  };
  return [
    defineRoute({
      method: 'get', path: '/api/faq', tag: 'faq', auth: 'agent',
      summary: 'The FAQ entries of the agent’s teams (admins: every team’s), or of one of them',
      query: z.object({ teamId: teamId.optional() }),
      responses: { 200: { description: 'FAQ entries, drafts included', schema: z.object({ items: z.array(shape) }) } },
      handler: async ({ actor, query }) => {
        if (query.teamId !== undefined && !mayRead(actor, query.teamId)) throw forbidden('You can read the FAQ of your own teams only');
        const teams = query.teamId ?? (actor.role === 'admin' ? undefined : actor.teamIds);
        return { items: (await store.list(teams)).map(toRecord) };
      },
    }),
    defineRoute({
      method: 'get', path: '/api/faq/suggest', tag: 'faq', auth: 'agent', audit: 'conversation.read',
      summary: 'Published FAQ answers close to a reply being typed, for the conversation’s team, best first',
      query: z.object({
        q: z.string().trim().min(1, 'must not be empty').max(2000),
        conversationId: z.string().min(1).max(100),
        language: z.enum(FAQ_LANGUAGES).optional(),
        limit: z.coerce.number().int().min(1).max(SUGGEST_MAX).default(5),
      }),
      responses: {
        200: {
          description: 'Suggestions (score 0..1)',
          schema: z.object({ items: z.array(z.object({ id: z.string(), question: z.string(), answer: z.string(), score: z.number() })) }),
        },
      },
      handler: async ({ actor, query, scope }) => {
        const conversation = await loadConversationFor(models, actor, query.conversationId, scope, hub.timeline.clock());
        const matcher = await store.matcher();
        const items = matcher.suggest(query.q, { teamId: conversation.teamId, limit: query.limit, ...(query.language ? { language: query.language } : {}) });
        scope.details = { suggestions: items.length };
        return { items };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/faq', tag: 'faq', auth: 'agent',
      summary: 'Add a FAQ entry to a team (its supervisors and admins)',
      body: faqEntrySchema,
      responses: { 201: { description: 'The FAQ entry', schema: shape } },
      handler: async ({ actor, body }) => {
        if (!mayEdit(actor, body.teamId)) throw forbidden(EDITORS_ONLY);
        if (!(await models.Team.findById(body.teamId).lean())) throw new AppError('INVALID_INPUT', 'teamId: no such team', { field: 'teamId' });
        return new Reply(201, toRecord(await store.create(body, actor.agentId)));
      },
    }),
    defineRoute({
      method: 'patch', path: '/api/faq/:id', tag: 'faq', auth: 'agent',
      summary: 'Change a FAQ entry (its team’s supervisors and admins); the team stays',
      params: idParams,
      body: faqEntryPatchSchema,
      responses: { 200: { description: 'The FAQ entry', schema: shape } },
      handler: async ({ actor, params, body }) => {
        await loadToEdit(actor, params.id);
        const entry = await store.update(params.id, body, actor.agentId);
        if (!entry) throw notFound('FAQ entry');
        return toRecord(entry);
      },
    }),
    defineRoute({
      method: 'delete', path: '/api/faq/:id', tag: 'faq', auth: 'agent',
      summary: 'Remove a FAQ entry (its team’s supervisors and admins)',
      params: idParams,
      responses: { 204: { description: 'Removed' } },
      handler: async ({ actor, params }) => {
        await loadToEdit(actor, params.id);
        await store.remove(params.id);
        return new Reply(204);
      },
    }),
  ];
}
