/**
 * The /widget socket: authentication with the stored token, catch-up after
 * every `session` (messages:since, paged), and the offline queue, flushed
 * in order, one message at a time, only while connected; a message leaves
 * the queue only when the hub acknowledged it.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  WidgetAckError,
  WidgetClientToServerEvents,
  WidgetCsatRequest,
  WidgetLanguage,
  WidgetMessage,
  WidgetServerToClientEvents,
  WidgetSession,
} from '../../server/realtime/widget-events.ts';
import { readableError } from './hub-api.ts';
import type { QueuedMessage, VisitorStore } from './visitor-store.ts';

type WidgetSocket = Socket<WidgetServerToClientEvents, WidgetClientToServerEvents>;

export interface ConnectionHandlers {
  /** What the list shows now (to decide between a reset and a catch-up). */
  shown(): { conversationId: string | null; lastSeq: number };
  session(session: WidgetSession): void;
  /** The hub moved the visitor to another conversation: clear the list before the catch-up. */
  reset(conversationId: string | null): void;
  /** A message, new or updated; `live` is false for the first load of a conversation. */
  message(message: WidgetMessage, live: boolean): void;
  typing(isTyping: boolean): void;
  online(connected: boolean): void;
  /** The hub refused a queued message for good. */
  sendFailed(clientId: string, reason: string): void;
  /** The token no longer works (ended elsewhere, revoked, expired): forget it. */
  ended(): void;
  /** The host page's origin is not allowed: the widget goes away. */
  rejected(): void;
  /** The clinic resolved the chat: "How did we do?" */
  csatRequest(request: WidgetCsatRequest): void;
}

const ACK_TIMEOUT_MS = 15_000;
const PAGE_SIZE = 100;
/** Ack error codes worth retrying later (the message stays queued). */
const TRANSIENT = /RATE|LIMIT|UNAVAILABLE|TIMEOUT|INTERNAL|BUSY|RETRY/;
const ENDED = new Set(['UNAUTHENTICATED', 'SESSION_ENDED']);

export type Answer<T> = ({ ok: true } & T) | WidgetAckError;

export class Connection {
  private socket: WidgetSocket | null = null;
  private flushing = false;
  private readonly reconnectRetry = new Backoff();
  private readonly flushRetry = new Backoff();
  private catchUpRun = 0;
  private stopped = false;

  constructor(
    private readonly hubOrigin: string,
    private readonly store: VisitorStore,
    private readonly on: ConnectionHandlers,
  ) {}

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  start(): void {
    if (this.socket) return;
    this.stopped = false;
    const socket: WidgetSocket = io(`${this.hubOrigin}/widget`, {
      // A function, so every reconnect presents the newest token the hub gave.
      auth: (cb) => cb({ token: this.store.token ?? '' }),
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      forceNew: true,
    });
    this.socket = socket;

    socket.on('connect', () => {
      this.reconnectRetry.reset();
      this.on.online(true);
      void this.flush();
    });
    socket.on('disconnect', (reason) => {
      this.on.online(false);
      // The hub closed the socket: it does not come back by itself.
      if (reason === 'io server disconnect' && !this.stopped) this.reconnectRetry.schedule(() => socket.connect());
    });
    socket.on('connect_error', (err) => {
      const data = (err as { data?: { code?: unknown; message?: unknown } }).data;
      const code = typeof data?.code === 'string' ? data.code : '';
      if (ENDED.has(code)) {
        this.stop();
        this.on.ended();
        return;
      }
      if (code === 'ORIGIN_NOT_ALLOWED') {
        console.error(`CareThread widget: ${typeof data?.message === 'string' ? data.message : err.message}`);
        this.stop();
        this.on.rejected();
        return;
      }
      this.on.online(false);
      // Refused by the hub's middleware (not a network error): socket.io does not retry those.
      if (!socket.active) this.reconnectRetry.schedule(() => socket.connect());
    });

    socket.on('session', (session) => {
      this.store.renewToken(session.token);
      this.on.session(session);
      void this.catchUp(session.conversationId);
    });
    socket.on('message:created', (m) => this.receive(m, true));
    socket.on('message:updated', (m) => this.receive(m, false));
    socket.on('agent:typing', ({ isTyping }) => this.on.typing(isTyping));
    socket.on('csat:request', (request) => this.on.csatRequest(request));
    socket.on('session:ended', () => {
      this.stop();
      this.on.ended();
    });
  }

  stop(): void {
    this.stopped = true;
    this.reconnectRetry.cancel();
    this.flushRetry.cancel();
    this.catchUpRun++;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
  }

  /** Sends what is queued, oldest first; safe to call any time. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const socket = this.socket;
        const next = this.store.queue()[0];
        if (!next || !socket?.connected) return;
        const answer = await this.emitSend(socket, next);
        if (answer === null) {
          // No ack (timeout or dropped connection): try again later with the same clientId (the hub dedupes).
          if (this.socket === socket && socket.connected) this.flushRetry.schedule(() => void this.flush());
          return;
        }
        if (answer.ok) {
          this.flushRetry.reset();
          this.store.dequeue(next.clientId);
          this.receive(answer.message, true);
        } else if (ENDED.has(answer.error.code)) {
          this.stop();
          this.on.ended();
          return;
        } else if (TRANSIENT.test(answer.error.code)) {
          this.flushRetry.schedule(() => void this.flush());
          return;
        } else {
          this.store.dequeue(next.clientId);
          this.on.sendFailed(next.clientId, readableError(answer.error.message, answer.error.field));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  typing(isTyping: boolean): void {
    if (this.socket?.connected) this.socket.volatile.emit('typing', { isTyping });
  }

  seen(upToSeq: number): void {
    if (this.socket?.connected) this.socket.emit('messages:seen', { upToSeq });
  }

  /** verify:start; null when not connected or no answer came. */
  verifyStart(channel: 'sms' | 'email', address: string, language: WidgetLanguage): Promise<Answer<{ expiresAt: string; sentTo: string }> | null> {
    return this.ask((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit('verify:start', { channel, address, consent: true, language }, cb));
  }

  verifyConfirm(code: string): Promise<Answer<{ session: WidgetSession }> | null> {
    return this.ask((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit('verify:confirm', { code }, cb));
  }

  /** Answers the chat's satisfaction survey; null when not connected or no answer came. */
  csatAnswer(surveyId: string, score: number, comment: string): Promise<Answer<Record<never, never>> | null> {
    return this.ask((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit('csat:answer', { surveyId, score, ...(comment ? { comment } : {}) }, cb));
  }

  /** Ends the visitor's session on the hub (best effort: the caller forgets the token either way). */
  endSession(): Promise<unknown> {
    return this.ask((s, cb) => s.timeout(5000).emit('session:end', cb));
  }

  private ask<T>(emit: (socket: WidgetSocket, cb: (err: Error | null, answer: T) => void) => void): Promise<T | null> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve(null);
    return new Promise((resolve) => emit(socket, (err, answer) => resolve(err ? null : answer)));
  }

  private emitSend(socket: WidgetSocket, m: QueuedMessage): Promise<Answer<{ message: WidgetMessage }> | null> {
    const payload = { clientId: m.clientId, body: m.body, ...(m.attachmentIds.length ? { attachmentIds: m.attachmentIds } : {}) };
    return new Promise((resolve) => socket.timeout(ACK_TIMEOUT_MS).emit('message:send', payload, (err, answer) => resolve(err ? null : answer)));
  }

  /** A live message; `created` (new, or our own acknowledged) may reveal that the hub moved the visitor to a new conversation. */
  private receive(m: WidgetMessage, created: boolean): void {
    if (m.clientId) this.store.dequeue(m.clientId);
    const shown = this.on.shown().conversationId;
    if (shown !== null && m.conversationId !== shown) {
      // Another conversation (the last one was closed and a new one opened): show that one, from the start.
      if (created) void this.catchUp(m.conversationId, true);
      return;
    }
    this.on.message(m, true);
  }

  /** After a `session`: reset the list when the conversation changed, then load what is missing, page by page. */
  private async catchUp(conversationId: string | null, forceReset = false): Promise<void> {
    const run = ++this.catchUpRun;
    let shown = this.on.shown();
    if (forceReset || conversationId !== shown.conversationId) {
      this.on.reset(conversationId);
      shown = this.on.shown();
    }
    if (conversationId === null) return;
    const live = shown.lastSeq > 0;
    let afterSeq = shown.lastSeq;
    for (;;) {
      const answer = await this.ask<Answer<{ conversationId: string | null; items: WidgetMessage[]; hasMore: boolean }>>((s, cb) =>
        s.timeout(ACK_TIMEOUT_MS).emit('messages:since', { afterSeq, limit: PAGE_SIZE }, cb),
      );
      if (run !== this.catchUpRun || !answer || !answer.ok) return;
      if (answer.conversationId !== null && answer.conversationId !== this.on.shown().conversationId) {
        // The hub's current conversation is another one than announced: start over with it.
        void this.catchUp(answer.conversationId, true);
        return;
      }
      for (const m of answer.items) {
        if (m.clientId) this.store.dequeue(m.clientId);
        this.on.message(m, live);
        afterSeq = Math.max(afterSeq, m.seq);
      }
      if (!answer.hasMore || answer.items.length === 0) return;
    }
  }

}

/** Retries with a doubling delay (2 s to 60 s, with jitter). */
class Backoff {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delay = 2000;

  schedule(action: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(action, this.delay + Math.random() * 1000);
    this.delay = Math.min(this.delay * 2, 60_000);
  }

  cancel(): void {
    clearTimeout(this.timer);
  }

  reset(): void {
    this.delay = 2000;
  }
}
