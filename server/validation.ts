/** Input checked with zod at the edge (REST and sockets alike): the first problem becomes a 400 naming its field. */
import type { ZodType } from 'zod';
import { AppError } from './errors.ts';

export function parseInput<T>(schema: ZodType<T>, value: unknown, where: 'path' | 'query' | 'body' | 'payload'): T {
  const result = schema.safeParse(where === 'body' || where === 'payload' ? (value ?? {}) : value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // Query and path parameters are flat: name the parameter, not an index inside it.
  const path = where === 'query' || where === 'path' ? issue.path.slice(0, 1) : issue.path;
  const field = path.map(String).join('.') || where;
  throw new AppError('INVALID_INPUT', `${field}: ${issue.message}`, { field });
}
