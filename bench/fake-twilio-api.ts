/**
 * Twilio for a hub in its own process: its API (messages.create) answered by
 * the bench, and its webhooks signed as Twilio signs them.
 *
 * The twilio SDK has no base-URL setting (TWILIO_EDGE/TWILIO_REGION only pick
 * another *.twilio.com host), but its RequestClient tunnels through
 * `HTTP_PROXY` and Node trusts `NODE_EXTRA_CA_CERTS`. So the hub process gets
 * both (`env`): it opens a CONNECT tunnel to this loopback proxy, which ends
 * the TLS itself with a throwaway certificate for api.twilio.com (made with
 * openssl, trusted by that hub process only) and answers like Twilio. Nothing
 * leaves the machine; any other host is refused. The hub's code is unchanged:
 * same SDK, same TLS handshake per message (it sends without keep-alive).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import twilio from 'twilio';
import { BENCH_ENV } from './bench-env.ts';

export const BENCH_TWILIO_ENV = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_FROM_NUMBER: '+15555550100',
  PUBLIC_BASE_URL: 'https://hub.bench.example',
} as const;

export const twilioSid = (prefix = 'SM') => `${prefix}${randomBytes(16).toString('hex')}`;

/** What the fake API received: when (performance.now() of the bench process) and the form fields. */
export interface ApiRequest {
  at: number;
  form: Record<string, string>;
  /** The answer's HTTP status. */
  status: number;
  sid: string | null;
}

/** How to answer one messages.create: `attempt` counts the requests with the same To + Body so far (1 = first). */
export type Answer = (form: Record<string, string>, attempt: number) => { status: 201; twilioStatus: 'queued' | 'sent' } | { status: 429 | 500 | 503 };

export interface FakeTwilioApi {
  /** For startHubProcess: credentials, the proxy and the certificate. */
  env: Record<string, string>;
  requests: ApiRequest[];
  answer: Answer;
  /** Resolves once `n` requests were answered 201 (or rejects after `timeoutMs`). */
  waitForAccepted(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const run = promisify(execFile);

export async function startFakeTwilioApi(answer: Answer = () => ({ status: 201, twilioStatus: 'queued' })): Promise<FakeTwilioApi> {
  const dir = await mkdtemp(join(tmpdir(), 'carethread-bench-twilio-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=api.twilio.com', '-addext', 'subjectAltName=DNS:api.twilio.com', '-keyout', keyFile, '-out', certFile,
  ]);
  const requests: ApiRequest[] = [];
  const attempts = new Map<string, number>();
  let accepted = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const api: FakeTwilioApi = {
    env: {},
    requests,
    answer,
    waitForAccepted(n, timeoutMs) {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${accepted} of ${n} messages reached the fake Twilio API within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    close: async () => {},
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20404, message: 'not found', status: 404 }));
        return;
      }
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      const key = `${form.To}\n${form.Body}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const outcome = api.answer(form, attempt);
      if (outcome.status !== 201) {
        requests.push({ at, form, status: outcome.status, sid: null });
        const code = outcome.status === 429 ? 20429 : outcome.status === 503 ? 20503 : 20500;
        res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message: 'bench: try again', more_info: '', status: outcome.status }));
        return;
      }
      const sid = twilioSid();
      requests.push({ at, form, status: 201, sid });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({
        sid, account_sid: match[1], to: form.To, from: form.From ?? null, body: form.Body, status: outcome.twilioStatus,
        num_segments: '1', direction: 'outbound-api', api_version: '2010-04-01', date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${match[1]}/Messages/${sid}.json`,
      }));
      accepted++;
      for (const w of waiters.filter((w) => accepted >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  };

  const tls = createHttpsServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, handle);
  const sockets = new Set<Socket>();
  const proxy = createHttpServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (req.url !== 'api.twilio.com:443') {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    tls.emit('connection', socket);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  api.env = { ...BENCH_TWILIO_ENV, HTTP_PROXY: `http://127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: certFile };
  api.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    tls.close();
    await rm(dir, { recursive: true, force: true });
  };
  return api;
}

/** POSTs form fields to a Twilio webhook of a hub on BENCH_ENV + BENCH_TWILIO_ENV, signed as Twilio signs them; returns the HTTP status. */
export async function postTwilioWebhook(hubUrl: string, path: string, params: Record<string, string>): Promise<number> {
  const signature = twilio.getExpectedTwilioSignature(BENCH_ENV.TWILIO_AUTH_TOKEN!, `${BENCH_TWILIO_ENV.PUBLIC_BASE_URL}${path}`, params);
  const res = await fetch(`${hubUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  await res.arrayBuffer();
  return res.status;
}

/** An inbound SMS as Twilio posts it (its fields; no real person's data). */
export function inboundSmsForm(from: string, body: string, sid = twilioSid()): Record<string, string> {
  return {
    AccountSid: BENCH_TWILIO_ENV.TWILIO_ACCOUNT_SID, MessageSid: sid, SmsSid: sid, SmsMessageSid: sid, From: from, To: BENCH_TWILIO_ENV.TWILIO_FROM_NUMBER,
    Body: body, NumMedia: '0', NumSegments: '1', ApiVersion: '2010-04-01', SmsStatus: 'received',
  };
}

/** A status callback as Twilio posts it. */
export function statusCallbackForm(sid: string, status: 'sent' | 'delivered'): Record<string, string> {
  return { MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, AccountSid: BENCH_TWILIO_ENV.TWILIO_ACCOUNT_SID, ApiVersion: '2010-04-01' };
}
