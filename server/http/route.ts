/**
 * A route is declared once, with its zod schemas; the express router and the
 * OpenAPI document are both built from the same declarations, so the document
 * cannot drift from what the hub serves.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Actor, AuditScope } from '../access/access-policy.ts';
import type { AuditAction } from '../audit/audit-log.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type RouteAuth = 'public' | 'agent' | 'admin';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  ip: string;
  /** Filled in by what the handler touches (loadConversationFor does it); becomes the audit entry. */
  scope: AuditScope;
  req: Request;
  res: Response;
}

/** What a handler returns: a JSON body (answered with 200), or a Reply for another status. */
export type RouteResult = unknown;

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Express syntax (`/api/conversations/:id`); OpenAPI gets `{id}`. */
  path: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Documented answers besides errors; the first is the success status. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Routes that read or write PHI name their audit action; each call (and each refusal) is recorded. */
  audit?: AuditAction;
  /** Whether this call counts as the agent's activity for the idle logoff (default: every authenticated call does). */
  touchesSession?: (req: Request) => boolean;
  /** Only registered when this returns true (e.g. sandbox-only routes). */
  enabled?: () => boolean;
  handler(input: RouteInput<P, Q, B>): Promise<RouteResult>;
}

/** Declares a route with full type inference from its schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(route: Route<P, Q, B>): Route {
  return route as unknown as Route;
}

export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}
