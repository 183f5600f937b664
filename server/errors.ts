/**
 * The catalogue of errors the hub answers with. Each has a stable code that
 * clients and tests rely on, an HTTP status, and a message a person can act on.
 * Serialized as `{error: {code, message, field?}}`; DUPLICATE_PATIENT adds
 * `duplicates` beside `error` (DuplicatePatientError).
 */
export const ERROR_CATALOGUE = {
  INVALID_INPUT: 400,
  INVALID_PHONE_NUMBER: 400,
  INVALID_CURSOR: 400,
  CONSENT_REQUIRED: 400,
  CODE_INCORRECT: 400,
  CODE_EXPIRED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TOTP_REQUIRED: 401,
  TOKEN_EXPIRED: 401,
  SESSION_REVOKED: 401,
  SESSION_ENDED: 401,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONSENT_MISSING: 409,
  NO_IDENTITY_FOR_CHANNEL: 409,
  IDENTITY_NOT_VERIFIED: 409,
  NO_REACHABLE_CHANNEL: 409,
  CONVERSATION_RESOLVED: 409,
  CONFLICT: 409,
  DUPLICATE_PATIENT: 409,
  OPTED_OUT_BY_PATIENT: 409,
  LINK_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_ATTEMPTS: 429,
  DATABASE_UNAVAILABLE: 503,
  DATABASE_BUSY: 503,
  PROVIDER_UNAVAILABLE: 502,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.details.field ? { field: this.details.field } : {}) } };
  }
}

export interface DuplicatePatient {
  /** null (and name null) when the duplicate is a patient the caller may not see. */
  id: string | null;
  name: string | null;
  reason: 'phone' | 'email' | 'mrn' | 'name_and_date_of_birth';
}

/** A new patient (or an edit) that matches existing ones: 409 with the matches, so the agent opens the right record. */
export class DuplicatePatientError extends AppError {
  constructor(
    message: string,
    readonly duplicates: DuplicatePatient[],
  ) {
    super('DUPLICATE_PATIENT', message);
  }

  override toJSON() {
    return { ...super.toJSON(), duplicates: this.duplicates };
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

/**
 * Access refused, answered exactly like an unknown id (404): the answer must
 * not tell an outsider that a conversation or patient exists. Still recorded
 * as a denied access in the audit trail.
 */
export class HiddenFromActor extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** True for a refusal the audit trail records as denied (a 403, or a 404 that hides a refusal). */
export const isDeniedAccess = (error: unknown): boolean => error instanceof HiddenFromActor || (error instanceof AppError && error.code === 'FORBIDDEN');
export const forbidden = (why = 'You do not have access to this resource') => new AppError('FORBIDDEN', why);
