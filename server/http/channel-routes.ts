/**
 * A channel's webhooks (channels/contract.ts ChannelRoute) as the hub's
 * routes: public (each checks its provider's signature itself), listed in the
 * OpenAPI document, with the body parsed the way the channel asked for.
 */
import express from 'express';
import { ChannelError, type ChannelRoute } from '../../channels/contract.ts';
import { databaseUnavailable } from '../db/database-health.ts';
import { AppError } from '../errors.ts';
import { defineRoute, type Route } from './route.ts';

const ERROR_CODES = { invalid_input: 'INVALID_INPUT', forbidden: 'FORBIDDEN', payload_too_large: 'PAYLOAD_TOO_LARGE' } as const;

/** What a webhook needs to know of the database: whether it answers now. */
export interface DatabaseAvailability {
  readonly available: boolean;
}

/**
 * While the database is known to be down, every webhook is answered 503 (with Retry-After) at once, before
 * anything is read or checked: nothing could be stored, and the provider retries (SendGrid for days, Twilio
 * briefly). Retries are stored once (inbound by provider id, status events by event id).
 */
export function channelRoute(route: ChannelRoute, options: { database?: DatabaseAvailability } = {}): Route {
  const { database } = options;
  return defineRoute({
    method: route.method,
    path: route.path,
    summary: route.summary,
    tag: 'webhooks',
    auth: 'public',
    ...(route.body ? { body: route.body } : {}),
    responses: route.responses,
    handler: async ({ req, res, body }) => {
      if (database && !database.available) {
        // A streamed body (Inbound Parse) is still arriving: drain it so the connection stays usable.
        req.resume();
        throw databaseUnavailable();
      }
      try {
        return await route.handler({ req, res, body });
      } catch (error) {
        if (error instanceof ChannelError) throw new AppError(ERROR_CODES[error.kind], error.message, error.field ? { field: error.field } : {});
        throw error;
      }
    },
  });
}

/** The body parser each channel route asked for ('stream' routes read the request themselves). */
export function channelBodyParsers(app: express.Express, routes: readonly ChannelRoute[]): void {
  for (const route of routes) {
    // Twilio posts a few dozen fields; SendGrid's event batches run to megabytes.
    if (route.bodyParsing === 'form') app.use(route.path, express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 200 }));
    // Raw bytes: a signature covers the body exactly as sent.
    if (route.bodyParsing === 'raw') app.use(route.path, express.raw({ type: () => true, limit: '10mb' }));
  }
}
