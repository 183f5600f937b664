/**
 * What the widget keeps in the browser, under keys namespaced by the hub's
 * origin (`carethread:<hub>:…`): the visitor token, the portal identity hash
 * it was made for (if any), and the messages typed but not yet stored by the
 * hub (the offline queue). Falls back to memory when storage is blocked.
 */
import type { WidgetMessage } from '../../server/realtime/widget-events.ts';

export interface QueuedMessage {
  clientId: string;
  body: string;
  attachmentIds: string[];
  attachments: WidgetMessage['attachments'];
  createdAt: string;
}

function openStorage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  try {
    const storage = window.localStorage;
    const probe = 'carethread:probe';
    storage.setItem(probe, '1');
    storage.removeItem(probe);
    return storage;
  } catch {
    const memory = new Map<string, string>();
    return {
      getItem: (k) => memory.get(k) ?? null,
      setItem: (k, v) => void memory.set(k, v),
      removeItem: (k) => void memory.delete(k),
    };
  }
}

export class VisitorStore {
  private readonly storage = openStorage();
  readonly tokenKey: string;
  private readonly portalKey: string;
  private readonly queueKey: string;

  constructor(hubOrigin: string) {
    const prefix = `carethread:${hubOrigin}:`;
    this.tokenKey = `${prefix}token`;
    this.portalKey = `${prefix}portal`;
    this.queueKey = `${prefix}queue`;
  }

  get token(): string | null {
    return this.read(this.tokenKey);
  }

  /**
   * The portal patient the token was issued for (the id the page already shows in its
   * data-patient-id); null for a visitor who filled in the pre-chat form. Not the proof:
   * proofs carry a time and change on every page.
   */
  get portalPatientId(): string | null {
    return this.read(this.portalKey);
  }

  /** A new visitor (portalPatientId given: made from a portal identity). */
  startVisitor(token: string, portalPatientId: string | null): void {
    this.forget();
    this.write(this.tokenKey, token);
    if (portalPatientId) this.write(this.portalKey, portalPatientId);
  }

  /** The hub's fresh token for the same visitor. */
  renewToken(token: string): void {
    this.write(this.tokenKey, token);
  }

  /** Forgets the visitor: token, portal marker and unsent messages. */
  forget(): void {
    for (const key of [this.tokenKey, this.portalKey, this.queueKey]) {
      try {
        this.storage.removeItem(key);
      } catch {
        // storage went away: nothing left to forget
      }
    }
  }

  /** Unsent messages, oldest first (read afresh each time: another tab may have changed it). */
  queue(): QueuedMessage[] {
    try {
      const parsed: unknown = JSON.parse(this.read(this.queueKey) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((m): m is QueuedMessage => typeof m?.clientId === 'string' && typeof m.body === 'string') : [];
    } catch {
      return [];
    }
  }

  enqueue(message: QueuedMessage): void {
    this.writeQueue([...this.queue().filter((m) => m.clientId !== message.clientId), message]);
  }

  dequeue(clientId: string): void {
    const queue = this.queue();
    if (queue.some((m) => m.clientId === clientId)) this.writeQueue(queue.filter((m) => m.clientId !== clientId));
  }

  private writeQueue(queue: QueuedMessage[]): void {
    if (queue.length === 0) {
      try {
        this.storage.removeItem(this.queueKey);
      } catch {
        // ignore
      }
    } else this.write(this.queueKey, JSON.stringify(queue));
  }

  private read(key: string): string | null {
    try {
      return this.storage.getItem(key);
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): void {
    try {
      this.storage.setItem(key, value);
    } catch {
      // quota or blocked storage: the widget keeps working for this page view
    }
  }
}

/** A random id for a message the patient typed (crypto.randomUUID needs a secure context; the fallback does not). */
export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      // insecure context in some browsers
    }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
