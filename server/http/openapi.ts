/** The OpenAPI 3.1 document, generated from the route declarations. */
import { z } from 'zod';
import { ERROR_CATALOGUE } from '../errors.ts';
import type { Route } from './route.ts';

// Strict: the error body is exactly this, so the document says no other property appears.
const errorSchema = z.strictObject({
  error: z.strictObject({ code: z.enum(Object.keys(ERROR_CATALOGUE) as [string, ...string[]]), message: z.string(), field: z.string().optional() }),
});

export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12', ...(io === 'output' ? { override: openResponseObjects } : {}) }) as Record<string, unknown>;
}

/**
 * A response shape names the fields a client can rely on, not all the record
 * holds (a conversation has counters, timestamps, a preview…): zod would
 * document a plain object's output as closed (`additionalProperties: false`)
 * and so contradict every answer. Plain objects are documented open; a route
 * that means "exactly these fields" declares a z.strictObject, kept closed.
 */
function openResponseObjects(ctx: { zodSchema: unknown; jsonSchema: { additionalProperties?: unknown } }): void {
  const def = (ctx.zodSchema as { _zod: { def: { type: string; catchall?: unknown } } })._zod.def;
  if (def.type === 'object' && !def.catchall && ctx.jsonSchema.additionalProperties === false) delete ctx.jsonSchema.additionalProperties;
}

export function buildOpenApiDocument(routes: Route[], info: { version: string; serverUrl: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${toOpenApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(route.auth === 'public' ? { security: [] } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses: Object.fromEntries([
        ...Object.entries(route.responses).map(([status, r]) => [
          status,
          { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } } : {}) },
        ]),
        ['4XX', { description: 'The request was refused; see error.code', content: { 'application/json': { schema: jsonSchema(errorSchema, 'output') } } }],
      ]),
    };
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
    }
    paths[toOpenApiPath(route.path)] = { ...paths[toOpenApiPath(route.path)], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CareThread hub API',
      version: info.version,
      description: 'Omnichannel patient messaging hub. Agents authenticate with POST /api/auth/login and send the access token as a Bearer token.',
    },
    servers: [{ url: info.serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}
