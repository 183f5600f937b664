/** Mounts declared routes on express: authentication, zod validation, the handler, its answer. */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Actor, AuditScope } from '../access/access-policy.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { AppError, forbidden, isDeniedAccess } from '../errors.ts';
import { Reply, type Route } from './route.ts';
import { parseInput } from '../validation.ts';

export function mountRoutes(routes: Route[], auth: AuthService, audit: AuditLog): express.Router {
  const router = express.Router();
  for (const route of routes) {
    router[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
      const scope: AuditScope = {};
      let actor: Actor | undefined;
      const record = (outcome: 'success' | 'denied') =>
        route.audit && actor ? audit.record({ action: route.audit, actor, via: 'rest', ip: req.ip ?? null, outcome, ...scope }) : undefined;
      try {
        actor = route.auth === 'public' ? undefined : await authenticateRequest(req, auth, route.touchesSession?.(req) ?? true);
        if (route.auth === 'admin' && actor?.role !== 'admin') throw forbidden('Only administrators can do this');
        const result = await route.handler({
          params: route.params ? parseInput(route.params, req.params, 'path') : undefined,
          query: route.query ? parseInput(route.query, req.query, 'query') : undefined,
          body: route.body ? parseInput(route.body, req.body, 'body') : undefined,
          actor: actor as Actor,
          ip: req.ip ?? '',
          scope,
          req,
          res,
        });
        await record('success');
        if (res.headersSent) return;
        if (result instanceof Reply) {
          res.set(result.headers).status(result.status);
          if (result.body === undefined) res.end();
          else res.json(result.body);
        } else {
          res.status(200).json(result);
        }
      } catch (error) {
        if (isDeniedAccess(error)) await record('denied')?.catch(() => undefined);
        next(error);
      }
    });
  }
  return router;
}

async function authenticateRequest(req: Request, auth: AuthService, touch: boolean): Promise<Actor> {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError('UNAUTHENTICATED', 'Send the access token as "Authorization: Bearer <token>"');
  return auth.authenticate(match[1]!, { touch });
}
