/** Turns every failure into `{error: {code, message, field?}}` with the right status. */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const appError = asAppError(error);
    if (appError) {
      if (appError.details.retryAfterSeconds) res.set('Retry-After', String(appError.details.retryAfterSeconds));
      res.status(appError.status).json(appError.toJSON());
      return;
    }
    logger.error({ err: error, method: req.method, path: req.route?.path ?? 'unknown' }, 'request failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Something went wrong on our side; it has been logged' } });
  };
}

function asAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  const e = error as { type?: string; name?: string; status?: number };
  if (e?.type === 'entity.parse.failed') return new AppError('INVALID_INPUT', 'The request body is not valid JSON', { field: 'body' });
  if (e?.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (e?.name === 'MongoServerSelectionError' || e?.name === 'MongoNetworkError' || e?.name === 'MongoNotConnectedError') {
    return new AppError('DATABASE_UNAVAILABLE', 'The database is not answering; try again shortly');
  }
  return null;
}
