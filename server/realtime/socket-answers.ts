/**
 * How both Socket.IO namespaces answer: a refused handshake (the client's
 * connect_error gets the message and `data: {code, message}`), and acks of
 * `{ok: true, ...}` or `{ok: false, error: {code, message, field?}}`, the
 * REST error shape; unexpected failures are logged and answered generically.
 */
import { storeFailure } from '../db/database-health.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export type SocketAckError = { ok: false; error: { code: string; message: string; field?: string } };

export function handshakeError(error: unknown, fallback = 'The connection could not be authenticated'): Error {
  // A database outage is not a bad token: the client must wait and retry, not send the agent to the login screen.
  const appError = error instanceof AppError ? error : (storeFailure(error) ?? new AppError('UNAUTHENTICATED', fallback));
  const refused = new Error(appError.message) as Error & { data: unknown };
  refused.data = { code: appError.code, message: appError.message };
  return refused;
}

/** Runs a handler and answers its ack (a client that sent no ack gets nothing). */
export function answerAck<T extends object>(ack: unknown, work: () => Promise<T>, logger: Logger): void {
  if (typeof ack !== 'function') return;
  work().then(
    (result) => ack({ ok: true, ...result }),
    (failure: unknown) => {
      const error = storeFailure(failure) ?? failure;
      if (!(error instanceof AppError)) logger.error({ err: error }, 'socket handler failed');
      const answer: SocketAckError =
        error instanceof AppError
          ? { ok: false, error: { code: error.code, message: error.message, ...(error.details.field ? { field: error.details.field } : {}) } }
          : { ok: false, error: { code: 'INTERNAL', message: 'Something went wrong on our side; try again' } };
      ack(answer);
    },
  );
}
