/**
 * The hub's REST API for agents. Same origin, no cookies: the access token
 * (15 minutes) travels as a Bearer header and stays in memory; it is renewed
 * with the refresh token a minute before it expires, or when a request
 * answers 401 TOKEN_EXPIRED. Refresh tokens work once, so renewals are
 * single-flight. When the session ends (automatic logoff, logout elsewhere,
 * account disabled) `onSessionEnded` runs and the app shows the login screen.
 */
import { savedSession } from './storage.ts';
import type { AgentSummary, LoginAnswer } from './types.ts';
import type { PreviewRequest, ScheduledMessage, ScheduleRequest, TemplateCatalogue, TemplatePreview } from './outreach.ts';

/** A failed request: `status` 0 means the hub could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** The whole answer, for errors that carry more than `error` (DUPLICATE_PATIENT's `duplicates`). */
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const ENDED_CODES = new Set(['SESSION_REVOKED', 'SESSION_ENDED', 'UNAUTHENTICATED']);
const RENEW_BEFORE_MS = 60_000;

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Local time (ms) at which the access token expires. */
  expiresAt: number;
  agent: AgentSummary;
}

export interface UploadedFile {
  attachmentId: string;
  name: string;
  contentType: string;
  size: number;
}

export class Api {
  private session: Session | null = null;
  private refreshing: Promise<Session> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called once when the session ends without the agent logging out here. */
  onSessionEnded: (message: string) => void = () => {};

  get current(): Session | null {
    return this.session;
  }

  get accessToken(): string | null {
    return this.session?.accessToken ?? null;
  }

  async login(email: string, password: string, totp?: string): Promise<Session> {
    const answer = await this.raw<LoginAnswer>('POST', '/api/auth/login', { email, password, ...(totp ? { totp } : {}) });
    return this.adopt(answer);
  }

  /** Resumes the session saved in this tab (after a reload), if it is still alive. */
  async resume(): Promise<Session | null> {
    const saved = savedSession.get();
    if (!saved) return null;
    try {
      const answer = await this.raw<LoginAnswer>('POST', '/api/auth/refresh', { refreshToken: saved.refreshToken });
      return this.adopt(answer);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) savedSession.set(null);
      return null;
    }
  }

  async logout(): Promise<void> {
    const had = this.session;
    this.forget();
    if (had) {
      await fetch('/api/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${had.accessToken}` }, credentials: 'omit' }).catch(() => undefined);
    }
  }

  /** Forgets the tokens (the session ended on the hub, or the agent logged out). */
  forget(): void {
    this.session = null;
    this.refreshing = null;
    clearTimeout(this.renewTimer);
    savedSession.set(null);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  // --- scheduled messages (issue #22) ---

  /** The message templates (the clinic's and the built-in ones), and whether the PHI-free variants are sent. */
  templates(): Promise<TemplateCatalogue> {
    return this.get<TemplateCatalogue>('/api/templates');
  }
  /** The exact text a template (or a body) becomes for the patient, with its SMS segments; a 400 names a missing variable. */
  previewTemplate(request: PreviewRequest): Promise<TemplatePreview> {
    return this.post<TemplatePreview>('/api/templates/preview', request);
  }
  /** The patient's scheduled messages, every status, soonest first. */
  async scheduledMessages(patientId: string): Promise<ScheduledMessage[]> {
    return (await this.get<{ items: ScheduledMessage[] }>(`/api/patients/${encodeURIComponent(patientId)}/scheduled-messages`)).items;
  }
  scheduleMessage(patientId: string, request: ScheduleRequest): Promise<ScheduledMessage> {
    return this.post<ScheduledMessage>(`/api/patients/${encodeURIComponent(patientId)}/scheduled-messages`, request);
  }
  /** Withdraws one that has not gone out (409 once it has). */
  withdrawScheduled(patientId: string, scheduledId: string): Promise<ScheduledMessage> {
    return this.delete<ScheduledMessage>(`/api/patients/${encodeURIComponent(patientId)}/scheduled-messages/${encodeURIComponent(scheduledId)}`);
  }

  /** An authenticated download (attachments): the file as a Blob. */
  async blob(path: string): Promise<Blob> {
    const res = await this.authorized('GET', path);
    return res.blob();
  }

  /** Uploads a file for a reply (POST /api/attachments: raw body, its type, its name URL-encoded). */
  async upload(file: File): Promise<UploadedFile> {
    const token = await this.freshToken();
    if (!token) throw new ApiError(401, 'SESSION_ENDED', 'You are logged out');
    let res: Response;
    try {
      res = await fetch('/api/attachments', {
        method: 'POST',
        credentials: 'omit',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': file.type || 'application/octet-stream', 'X-File-Name': encodeURIComponent(file.name) },
        body: file,
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The hub cannot be reached; check the connection and try again');
    }
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as UploadedFile;
  }

  /** A token good for at least a minute more (renewing it first if needed), for the socket handshake. */
  async freshToken(): Promise<string | null> {
    if (!this.session) return null;
    if (this.session.expiresAt - Date.now() < RENEW_BEFORE_MS) {
      try {
        await this.renew();
      } catch {
        return null;
      }
    }
    return this.session?.accessToken ?? null;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.authorized(method, path, body);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async authorized(method: string, path: string, body?: unknown): Promise<Response> {
    let session = this.session;
    if (!session) throw new ApiError(401, 'SESSION_ENDED', 'You are logged out');
    if (session.expiresAt - Date.now() < RENEW_BEFORE_MS / 2) session = await this.renew();
    let res = await send(method, path, body, session.accessToken);
    if (res.status === 401) {
      const error = await errorOf(res);
      if (error.code === 'TOKEN_EXPIRED') {
        session = await this.renew();
        res = await send(method, path, body, session.accessToken);
        if (res.ok) return res;
        throw this.noticeEnd(await errorOf(res));
      }
      throw this.noticeEnd(error);
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  /** Trades the refresh token for new tokens, once at a time. */
  renew(): Promise<Session> {
    const session = this.session;
    if (!session) return Promise.reject(new ApiError(401, 'SESSION_ENDED', 'You are logged out'));
    this.refreshing ??= this.raw<LoginAnswer>('POST', '/api/auth/refresh', { refreshToken: session.refreshToken })
      .then((answer) => (this.session === session ? this.adopt(answer) : Promise.reject(new ApiError(401, 'SESSION_ENDED', 'You are logged out'))))
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401 && this.session === session) throw this.noticeEnd(error);
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private noticeEnd(error: ApiError): ApiError {
    if (error.status === 401 && (ENDED_CODES.has(error.code) || error.code === 'TOKEN_EXPIRED') && this.session) {
      this.forget();
      this.onSessionEnded(error.message);
    }
    return error;
  }

  private adopt(answer: LoginAnswer): Session {
    const session: Session = {
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      expiresAt: Date.now() + answer.expiresIn * 1000,
      agent: answer.agent,
    };
    this.session = session;
    savedSession.set({ refreshToken: session.refreshToken, agentId: session.agent.id });
    clearTimeout(this.renewTimer);
    // Renewing does not count as activity on the hub, so it never defeats automatic logoff.
    this.renewTimer = setTimeout(() => void this.renew().catch(() => undefined), Math.max(5_000, answer.expiresIn * 1000 - RENEW_BEFORE_MS));
    return session;
  }

  private async raw<T>(method: string, path: string, body: unknown): Promise<T> {
    const res = await send(method, path, body, null);
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }
}

async function send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', 'The hub cannot be reached; check the connection and try again');
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `The hub answered ${res.status}`;
  let field: string | undefined;
  let data: unknown;
  try {
    const body = (await res.clone().json()) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    data = body;
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    if (typeof body.error?.field === 'string') field = body.error.field;
  } catch {
    // not the hub's error shape (a proxy's page): keep the status
  }
  return new ApiError(res.status, code, message, field, data);
}

/** A message a person can read for any failure. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
