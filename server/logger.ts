/**
 * pino, JSON, with every field that can carry PHI or a secret redacted.
 * Code logs ids and counts, never bodies, names, phones or emails; the
 * redaction list is the safety net for the day someone forgets.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACTED_KEYS = [
  'body', 'text', 'html', 'subject', 'name', 'displayName', 'firstName', 'lastName',
  'phone', 'email', 'from', 'to', 'address', 'value', 'dateOfBirth', 'mrn', 'q', 'password', 'token',
  'accessToken', 'refreshToken', 'authorization', 'cookie', 'secret',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  paths.push('req.headers.authorization', 'req.headers.cookie', 'req.headers["x-twilio-signature"]');
  return pino(
    {
      level: options.level,
      redact: { paths, censor: '[redacted]' },
      base: { service: 'carethread' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
