/** A patient's web chat from Node: starts a chat over REST, connects to /widget, reads one-time codes from the sandbox outbox. */
import { io as connectSocket, type Socket } from 'socket.io-client';
import type {
  WidgetClientToServerEvents,
  WidgetServerToClientEvents,
  WidgetSession,
  WidgetVisitorRequest,
} from '../../server/realtime/widget-events.ts';
import { connected, nextEvent, waitFor, type TestHub } from './test-hub.ts';

export type WidgetSocket = Socket<WidgetServerToClientEvents, WidgetClientToServerEvents>;

export interface TestVisitor {
  token: string;
  session: WidgetSession;
  socket: WidgetSocket;
  /** Emits with an ack and resolves with the answer. */
  call<T = any>(event: string, payload?: unknown): Promise<T>;
}

export async function startVisitor(t: TestHub, request: Partial<WidgetVisitorRequest> = {}): Promise<TestVisitor> {
  const res = await t.api.post('/api/widget/visitors', { name: 'Web Visitor', ...request });
  if (res.status !== 201) throw new Error(`visitor not created: ${res.status} ${JSON.stringify(res.body)}`);
  return connectVisitor(t, res.body.token as string);
}

export async function connectVisitor(t: TestHub, token: string, headers: Record<string, string> = {}): Promise<TestVisitor> {
  const socket: WidgetSocket = connectSocket(`${t.url}/widget`, {
    auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers,
  });
  const firstSession = nextEvent<WidgetSession>(socket, 'session');
  await connected(socket);
  const session = await firstSession;
  return {
    token: session.token,
    session,
    socket,
    call: (event, payload) =>
      new Promise((resolve) => {
        if (payload === undefined) (socket.emit as (e: string, ack: (a: unknown) => void) => void)(event, resolve as (a: unknown) => void);
        else (socket.emit as (e: string, p: unknown, ack: (a: unknown) => void) => void)(event, payload, resolve as (a: unknown) => void);
      }),
  };
}

let clientIds = 0;
export const newClientId = () => `client-${Date.now().toString(36)}-${++clientIds}`;

/** The newest one-time code the sandbox sent to this phone (SMS) or address (email). */
export async function codeSentTo(t: TestHub, channel: 'sms' | 'email', address: string, after = new Date(0)): Promise<string> {
  const admin = await t.admin();
  return waitFor(async () => {
    const items = (await t.api.get(`/api/dev/outbox?channel=${channel}&limit=50`, admin.token)).body.items as { request: any; createdAt: string }[];
    for (const item of items) {
      if (new Date(item.createdAt) < after) continue;
      const to = channel === 'sms' ? item.request.To : item.request.personalizations?.[0]?.to?.[0]?.email;
      const text = channel === 'sms' ? item.request.Body : item.request.content?.[0]?.value;
      const code = /\b(\d{6})\b/.exec(String(text))?.[1];
      if (to === address && code && /verification|verifica/i.test(String(text))) return code;
    }
    return null;
  });
}
