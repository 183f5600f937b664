/**
 * The reference for bench/realtime.bench.ts: a bare Socket.IO server with
 * the hub's Socket.IO options (server/hub.ts: pingInterval 10 s, pingTimeout
 * 10 s, no served client) and nothing else. Every socket on /agents joins the
 * room the hub puts a front-desk agent in; `POST /emit` with
 * `{ event, payload }` emits that payload to the rooms the hub emits a
 * conversation's message to (its team and the admins), then answers 204.
 * Every socket on /widget joins a visitor and a patient room of its own and
 * gets a `session` event, as a widget socket on the hub does.
 *
 *   PORT=<port> node --import tsx bench/bare-socketio-server.ts   → prints `listening <port>`
 *
 * No authentication, no store: what is left is Socket.IO's own fan-out, the
 * floor the hub's is compared with. Stops on SIGTERM.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const TEAM_ROOM = 'team:front-desk';
const ADMINS_ROOM = 'role:admin';

const http = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/emit') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { event, payload } = JSON.parse(Buffer.concat(chunks).toString()) as { event: string; payload: unknown };
      io.of('/agents').to([TEAM_ROOM, ADMINS_ROOM]).emit(event, payload);
      res.writeHead(204).end();
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sockets: io.of('/agents').sockets.size }));
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(http, { serveClient: false, cors: { origin: true, methods: ['GET', 'POST'] }, pingInterval: 10_000, pingTimeout: 10_000 });
io.of('/agents').on('connection', (socket) => void socket.join(TEAM_ROOM));
// Like a widget socket (bench/widgets.bench.ts): its own visitor's and patient's rooms, and a session event once set up.
io.of('/widget').on('connection', (socket) => {
  void socket.join([`visitor:${socket.id}`, `patient:${socket.id}`]);
  socket.emit('session', { visitorId: socket.id, token: 'bare', linked: false, linkedBy: null, conversationId: null, lastSeq: 0, name: 'Bench Visitor', prefill: { phone: null, email: null } });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = http.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  void io.close();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
