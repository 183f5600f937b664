/**
 * Satisfaction surveys over HTTP (server/csat/):
 * - GET /csat/:token, the email survey's page (public; the signed token is the
 *   only credential and names a survey, not a patient): the form, or a note
 *   that it was answered (200), has closed (410) or is not valid (404), never
 *   saying more;
 * - POST /csat/:token records {score 1-5, comment? ≤ 1000} once: a page for
 *   the browser's form post, JSON for an API client (Content-Type or Accept
 *   application/json); a second answer is 409 ("thank you, already answered");
 * - GET /api/reports/csat/comments: recent comments with their score, for the
 *   supervisor dashboard (supervisors: their teams; admins: all), audited as
 *   PHI access.
 */
import express, { type Request } from 'express';
import { z } from 'zod';
import type { CsatSurveys } from '../../csat/csat-surveys.ts';
import { csatAnswerSchema } from '../../csat/csat-surveys.ts';
import { csatFormPage, csatMessagePage } from '../../csat/csat-page.ts';
import { PAGE_STRINGS } from '../../csat/csat-texts.ts';
import { AppError } from '../../errors.ts';
import { defineRoute, Reply } from '../route.ts';

/** The form posts url-encoded; API clients JSON. Small: a score and 1,000 characters. */
export const csatBodyParsers = [express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' })];

// A genuine token is about 150 characters; the bound keeps a fuzzer's huge path under Node's header limit (else a 431, not our 400).
const tokenParams = z.object({ token: z.string().min(1).max(600) });
/** A date (that whole day) or an instant. */
const when = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

const wantsJson = (req: Request) => Boolean(req.is('application/json')) || req.accepts(['html', 'json']) === 'json';

export function csatRoutes(csat: CsatSurveys, clinicName: string) {
  const html = (res: import('express').Response, status: number, body: string) => {
    res.status(status).type('html').set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' }).send(body);
    return undefined;
  };
  return [
    defineRoute({
      method: 'get', path: '/csat/:token', tag: 'patients', auth: 'public',
      summary: 'The email satisfaction survey: a small page with the rating form (no PHI; 404 when the link is not valid, 410 when it has closed)',
      params: tokenParams,
      responses: { 200: { description: 'HTML page' }, 404: { description: 'Altered or unknown link' }, 410: { description: 'The survey has closed (7 days)' } },
      handler: async ({ params, res }) => {
        const link = await csat.linkState(params.token);
        switch (link.state) {
          case 'open':
            return html(res, 200, csatFormPage(link.language, clinicName, params.token));
          case 'answered':
            return html(res, 200, csatMessagePage(link.language, clinicName, 'already'));
          case 'expired':
            return html(res, 410, csatMessagePage(link.language, clinicName, 'expired'));
          default:
            return html(res, 404, csatMessagePage(link.language, clinicName, 'invalid'));
        }
      },
    }),
    defineRoute({
      method: 'post', path: '/csat/:token', tag: 'patients', auth: 'public',
      summary: 'Answer the email satisfaction survey once: {score: 1-5, comment?: at most 1000 characters} (form or JSON)',
      params: tokenParams,
      // Checked by the handler, so the browser's form gets its answer as a page.
      body: z.looseObject({ score: z.union([z.string(), z.number()]).optional(), comment: z.string().optional() }),
      responses: {
        200: { description: 'Recorded (a thank-you page, or {status: "answered", score})' },
        400: { description: 'No score from 1 to 5, or a comment over 1000 characters' },
        404: { description: 'Altered or unknown link' },
        409: { description: 'Answered already' },
        410: { description: 'The survey has closed' },
      },
      handler: async ({ params, body, req, res }) => {
        const json = wantsJson(req);
        const link = await csat.linkState(params.token);
        const refuse = (status: number, kind: 'already' | 'expired' | 'invalid', error: AppError) =>
          json ? new Reply(status, error.toJSON()) : html(res, status, csatMessagePage(link.language, clinicName, kind));
        if (link.state === 'invalid') return refuse(404, 'invalid', new AppError('NOT_FOUND', 'This survey link is not valid'));
        if (link.state === 'expired') return refuse(410, 'expired', new AppError('LINK_EXPIRED', 'This survey has closed'));
        if (link.state === 'answered') return refuse(409, 'already', new AppError('CONFLICT', 'This survey was answered already: thank you'));
        const parsed = csatAnswerSchema.safeParse({ score: body.score === '' ? undefined : body.score, comment: body.comment });
        if (!parsed.success) {
          const field = parsed.error.issues[0]!.path[0] === 'comment' ? 'comment' : 'score';
          const t = PAGE_STRINGS[link.language];
          if (json) throw new AppError('INVALID_INPUT', `${field}: ${parsed.error.issues[0]!.message}`, { field });
          const score = Number(body.score);
          return html(res, 400, csatFormPage(link.language, clinicName, params.token, {
            score: Number.isInteger(score) ? score : undefined,
            comment: typeof body.comment === 'string' ? body.comment : undefined,
            error: { field, message: field === 'comment' ? t.commentTooLong : t.chooseScore },
          }));
        }
        const result = await csat.answerFromLink(params.token, parsed.data);
        if (!result.recorded) {
          if (result.state === 'expired') return refuse(410, 'expired', new AppError('LINK_EXPIRED', 'This survey has closed'));
          if (result.state === 'invalid') return refuse(404, 'invalid', new AppError('NOT_FOUND', 'This survey link is not valid'));
          return refuse(409, 'already', new AppError('CONFLICT', 'This survey was answered already: thank you'));
        }
        if (json) return { status: 'answered', score: parsed.data.score };
        return html(res, 200, csatMessagePage(link.language, clinicName, 'thanks'));
      },
    }),
    defineRoute({
      method: 'get', path: '/api/reports/csat/comments', tag: 'reports', auth: 'agent', audit: 'csat.comments.read',
      summary: 'Recent satisfaction survey comments with their score (supervisors: their teams; admins: all); newest first',
      query: z.object({
        from: when.optional(),
        to: when.optional(),
        team: z.string().trim().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.iso.datetime({ offset: true }).optional(),
      }),
      responses: {
        200: {
          description: '{items: [{conversationId, teamId, channel, score, comment, at}], nextCursor}',
          schema: z.object({
            items: z.array(z.object({ conversationId: z.string(), teamId: z.string(), channel: z.string(), score: z.number(), comment: z.string(), at: z.string() })),
            nextCursor: z.string().nullable(),
          }),
        },
      },
      handler: async ({ actor, query, scope }) => {
        const instant = (value: string | undefined, endOfDay: boolean) =>
          value === undefined ? undefined : value.length === 10 ? new Date(Date.parse(`${value}T00:00:00Z`) + (endOfDay ? 24 * 3600_000 : 0)) : new Date(value);
        const from = instant(query.from, false);
        const to = instant(query.to, true);
        if (from && to && from.getTime() >= to.getTime()) throw new AppError('INVALID_INPUT', 'from: must be before to', { field: 'from' });
        const page = await csat.comments(actor, { from, to, team: query.team, limit: query.limit, cursor: query.cursor ? new Date(query.cursor) : undefined });
        scope.details = { count: page.items.length, team: query.team ?? null };
        return page;
      },
    }),
  ];
}
