/** Turns every failure into `{error: {code, message, field?}}` with the right status. */
import type { NextFunction, Request, Response } from 'express';
import { storeFailure } from '../db/database-health.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      // A download failed mid-stream: the status is gone, so the only honest answer is a cut connection.
      logger.error({ err: error, method: req.method, path: req.route?.path ?? 'unknown' }, 'response failed after it started');
      res.destroy();
      return;
    }
    // An error says whether something exists; a handler may also have set caching headers for the answer it did not finish.
    res.removeHeader('ETag');
    res.set('Cache-Control', 'no-store');
    const appError = asAppError(error, req);
    if (appError) {
      if (appError.details.retryAfterSeconds) res.set('Retry-After', String(appError.details.retryAfterSeconds));
      res.status(appError.status).json(appError.toJSON());
      return;
    }
    logger.error({ err: error, method: req.method, path: req.route?.path ?? 'unknown' }, 'request failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Something went wrong on our side; it has been logged' } });
  };
}

/** Client errors raised by express and body-parser (http-errors with a 4xx status), by the status they carry. */
const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function asAppError(error: unknown, req: Request): AppError | null {
  if (error instanceof AppError) return error;
  const e = error as { type?: string; name?: string; status?: number; expose?: boolean; charset?: string; encoding?: string };
  if (e?.type === 'entity.parse.failed') return new AppError('INVALID_INPUT', 'The request body is not valid JSON', { field: 'body' });
  if (e?.type === 'entity.too.large' || e?.type === 'parameters.too.many') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (e?.type === 'charset.unsupported') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', `The request charset ${JSON.stringify(clip(e.charset ?? ''))} is not supported; send UTF-8`);
  }
  if (e?.type === 'encoding.unsupported') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', `The Content-Encoding ${JSON.stringify(clip(e.encoding ?? ''))} is not supported; send gzip, deflate, br or none`);
  }
  // The router decodes path parameters with decodeURIComponent and marks a failure 400.
  if (error instanceof URIError) {
    return new AppError('INVALID_INPUT', `The URL path ${JSON.stringify(clip(req.path))} is not valid percent-encoded UTF-8`, { field: 'path' });
  }
  // Refused, reset, no server to select, pool cleared: an outage is 503 with Retry-After on every route, never a 500;
  // so is a store too busy to take a write in time (the embedded store's SQLite lock).
  const store = storeFailure(error);
  if (store) return store;
  // Anything else the HTTP layer rejected as the client's fault (a corrupt gzip body, a wrong Content-Length): a 4xx, never a 500.
  if (e?.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError(CODE_FOR_STATUS[e.status] ?? 'INVALID_INPUT', 'The request could not be read: check its encoding, length and Content-Type');
  }
  return null;
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);
