/** A refused Socket.IO handshake: the client's connect_error gets the message and `data: {code, message}`. */
import { AppError } from '../errors.ts';

export function handshakeError(error: unknown, fallback = 'The connection could not be authenticated'): Error {
  const appError = error instanceof AppError ? error : new AppError('UNAUTHENTICATED', fallback);
  const refused = new Error(appError.message) as Error & { data: unknown };
  refused.data = { code: appError.code, message: appError.message };
  return refused;
}
