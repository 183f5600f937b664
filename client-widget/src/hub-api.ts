/** The hub's REST endpoints for the widget (/api/widget/*). No cookies: the visitor token travels as a Bearer header. */
import type {
  WidgetAttachmentResponse,
  WidgetConfig,
  WidgetLanguage,
  WidgetVisitorRequest,
  WidgetVisitorResponse,
} from '../../server/realtime/widget-events.ts';

/** A failed request: `status` 0 means the hub could not be reached. */
export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class HubApi {
  constructor(readonly origin: string) {}

  config(lang: WidgetLanguage): Promise<WidgetConfig> {
    return this.request<WidgetConfig>(`/api/widget/config?lang=${lang}`, { method: 'GET' });
  }

  createVisitor(body: WidgetVisitorRequest): Promise<WidgetVisitorResponse> {
    return this.request<WidgetVisitorResponse>('/api/widget/visitors', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  uploadAttachment(token: string, file: File): Promise<WidgetAttachmentResponse> {
    return this.request<WidgetAttachmentResponse>('/api/widget/attachments', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': file.type || 'application/octet-stream',
        'X-File-Name': encodeURIComponent(file.name),
      },
      body: file,
    });
  }

  async downloadAttachment(token: string, messageId: string, index: number): Promise<Blob> {
    const res = await this.send(`/api/widget/messages/${encodeURIComponent(messageId)}/attachments/${index}`, {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}` },
    });
    return res.blob();
  }

  private async request<T>(path: string, init: RequestInit): Promise<T> {
    const res = await this.send(path, init);
    return (await res.json()) as T;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.origin + path, { ...init, mode: 'cors', credentials: 'omit', cache: 'no-store' });
    } catch (err) {
      throw new HubError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    if (res.ok) return res;
    let code = `HTTP_${res.status}`;
    let message = `HTTP ${res.status}`;
    let field: string | undefined;
    try {
      const body = (await res.json()) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
      if (typeof body.error?.code === 'string') code = body.error.code;
      if (typeof body.error?.message === 'string') message = body.error.message;
      if (typeof body.error?.field === 'string') field = body.error.field;
    } catch {
      // not the hub's error shape (a proxy's page): keep the status
    }
    throw new HubError(res.status, code, readableError(message, field), field);
  }
}

/** The hub's message without its leading field name ("code: that code is not right" -> "That code is not right"). */
export function readableError(message: string, field?: string): string {
  const text = field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What to tell the patient about a failed request: the hub's own message, or a plain one when the hub did not say. */
export function errorText(err: unknown, t: { networkError: string; genericError: string }): string {
  if (!(err instanceof HubError)) return t.genericError;
  if (err.status === 0) return t.networkError;
  return err.code.startsWith('HTTP_') ? t.genericError : err.message;
}
