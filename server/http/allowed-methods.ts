/**
 * Which methods a path supports, from the route declarations, as the OpenAPI
 * document says them: a concrete path wins over a template it also matches
 * (`/api/conversations/counts` is not `/api/conversations/:id`). Express's
 * own answer to OPTIONS unions every pattern that matches, and a method a
 * path does not serve would otherwise fall through to 404.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors.ts';
import type { Route } from './route.ts';

const MATCHED = Symbol('matched route paths');
type Matching = Request & { [MATCHED]?: string[] };

export function allowedMethods(routes: readonly Route[]) {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = methodsByPath.get(route.path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    // Express answers HEAD with the GET route.
    if (route.method === 'get') methods.add('HEAD');
    methodsByPath.set(route.path, methods);
  }
  const matcher = express.Router();
  for (const path of methodsByPath.keys()) {
    matcher.all(path, (req: Matching, _res: Response, next: NextFunction) => {
      req[MATCHED]!.push(path);
      next();
    });
  }

  /** The Allow value for this request's path, or null when no route has it; path decoding errors go to `next`. */
  const allowFor = (req: Request, res: Response, next: NextFunction, then: (allow: string | null) => void) => {
    const matching = req as Matching;
    matching[MATCHED] = [];
    matcher(req, res, (error?: unknown) => {
      const paths = matching[MATCHED]!;
      delete matching[MATCHED];
      if (error) return next(error);
      const concrete = paths.filter((p) => !p.includes(':'));
      const methods = new Set((concrete.length ? concrete : paths).flatMap((p) => [...methodsByPath.get(p)!]));
      then(methods.size ? [...methods].join(', ') : null);
    });
  };

  return {
    /** Before the routes: OPTIONS that CORS did not answer (no or an unlisted Origin) gets 204 and Allow. */
    options(req: Request, res: Response, next: NextFunction): void {
      if (req.method !== 'OPTIONS') return next();
      allowFor(req, res, next, (allow) => (allow ? void res.set('Allow', allow).status(204).end() : next()));
    },
    /** After the routes: a path the hub serves, asked with a method it does not serve there, is 405 with Allow, not 404. */
    notAllowed(req: Request, res: Response, next: NextFunction): void {
      allowFor(req, res, next, (allow) => {
        if (!allow) return next();
        res.set('Allow', allow);
        next(new AppError('METHOD_NOT_ALLOWED', `${req.method} is not supported on ${req.path}; use ${allow}`));
      });
    },
  };
}
