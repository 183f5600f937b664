/**
 * The live inbox: Socket.IO namespace /agents on the hub (same origin). The
 * handshake sends the current access token (renewed first when it is about
 * to expire); after every reconnect the app catches up (`onConnect`), and
 * `session:ended` (automatic logoff, logout elsewhere) sends the agent to
 * the login screen.
 */
import { io, type Socket } from 'socket.io-client';
import type { AgentClientToServerEvents, AgentServerToClientEvents, HubStatus } from '../../server/realtime/events.ts';
import type { Api } from './api.ts';
import type { MessageRecord } from './types.ts';

export type AgentSocket = Socket<AgentServerToClientEvents, AgentClientToServerEvents>;

export interface RealtimeHandlers {
  /** Connected (first time or again): catch up on what was missed. */
  onConnect(again: boolean): void;
  onStatus(status: 'connecting' | 'online' | 'offline'): void;
  onSessionEnded(reason: string): void;
  /** The hub's database went away ('degraded') or came back ('ok'). */
  onHubStatus(state: HubStatus['state']): void;
}

const ACK_TIMEOUT_MS = 10_000;
/** How soon a handshake the hub could not answer (its database away) is tried again. */
const DATABASE_RETRY_MS = 3000;

export class Realtime {
  readonly socket: AgentSocket;
  private connectedBefore = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: Api,
    handlers: RealtimeHandlers,
  ) {
    this.socket = io('/agents', {
      auth: (cb) => {
        // A renewal that failed for a passing reason (the hub's database away) leaves the current token to try.
        void this.api.freshToken().then((token) => cb({ token: token ?? this.api.accessToken ?? '' }));
      },
      transports: ['websocket', 'polling'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    handlers.onStatus('connecting');
    this.socket.on('connect', () => {
      handlers.onStatus('online');
      // The handshake needed the database: it answers (the hub says so right after if it is still degraded).
      handlers.onHubStatus('ok');
      handlers.onConnect(this.connectedBefore);
      this.connectedBefore = true;
    });
    this.socket.on('disconnect', (reason) => {
      if (this.closed) return;
      handlers.onStatus('offline');
      // The hub closed it on purpose (session ended): it tells us why first, with session:ended.
      if (reason === 'io server disconnect') this.socket.connect();
    });
    this.socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      if (this.closed) return;
      handlers.onStatus('offline');
      const code = error.data?.code;
      if (code === 'DATABASE_UNAVAILABLE') {
        // Not a session problem: the hub cannot check it now. A refused handshake is not retried by socket.io.
        handlers.onHubStatus('degraded');
        this.connectLater();
      } else if (code === 'TOKEN_EXPIRED') {
        // A renewal the hub could not answer now (not a session that ended: that shows the login screen) is tried again.
        void this.api.renew().then(
          () => this.socket.connect(),
          (failure: unknown) => {
            if ((failure as { code?: string }).code === 'DATABASE_UNAVAILABLE') handlers.onHubStatus('degraded');
            if (this.api.current) this.connectLater();
          },
        );
      } else if (code === 'SESSION_REVOKED' || code === 'SESSION_ENDED' || code === 'UNAUTHENTICATED') {
        handlers.onSessionEnded(error.data?.message ?? 'Your session has ended; log in again');
      }
    });
    this.socket.on('hub:status', ({ state }) => handlers.onHubStatus(state));
    this.socket.on('session:ended', ({ reason }) => {
      this.closed = true;
      handlers.onSessionEnded(describeEnd(reason));
    });
  }

  /** Connects again a little later: socket.io does not retry a handshake the hub refused. */
  private connectLater(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, DATABASE_RETRY_MS);
  }

  join(conversationId: string): Promise<number | null> {
    return new Promise((resolve) => {
      if (!this.socket.connected) return resolve(null);
      this.socket.timeout(ACK_TIMEOUT_MS).emit('conversation:join', conversationId, (err, answer) => {
        resolve(!err && answer?.ok ? answer.lastSeq : null);
      });
    });
  }

  leave(conversationId: string): void {
    if (this.socket.connected) this.socket.emit('conversation:leave', conversationId);
  }

  /** Messages after a seq, through the socket (does not count as the agent's activity). */
  since(conversationId: string, afterSeq: number): Promise<MessageRecord[] | null> {
    return new Promise((resolve) => {
      if (!this.socket.connected) return resolve(null);
      this.socket.timeout(ACK_TIMEOUT_MS).emit('messages:since', { conversationId, afterSeq, limit: 500 }, (err, answer) => {
        resolve(!err && answer?.ok ? answer.items : null);
      });
    });
  }

  typing(conversationId: string, isTyping: boolean): void {
    if (this.socket.connected) this.socket.emit('typing', { conversationId, isTyping });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}

function describeEnd(reason: string): string {
  switch (reason) {
    case 'logout':
      return 'You logged out (here or in another tab).';
    case 'agent_disabled':
    case 'account_disabled':
      return 'Your account was disabled by an administrator.';
    case 'idle_timeout':
      return 'You were logged out after a period of inactivity. Log in again: your unsent replies are kept.';
    default:
      return 'Your session has ended. Log in again: your unsent replies are kept.';
  }
}
