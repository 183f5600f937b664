/**
 * buildHub wires the hub from its dependencies and returns it unstarted;
 * main.ts only reads config and listens. Tests build hubs on port 0 against
 * the real embedded database and close them after.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { apiCors, noStore, SECURITY_HEADERS, widgetCors } from './http/security-headers.ts';
import { Server as SocketServer } from 'socket.io';
import type { ChannelAdapter } from '../channels/contract.ts';
import { CHANNEL_IDS, type ChannelId } from '../channels/channel-id.ts';
import { createChannels } from '../channels/registry.ts';
import { ChannelPorts } from './channel-ports.ts';
import { channelBodyParsers, channelRoute } from './http/channel-routes.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuthService } from './auth/auth-service.ts';
import { bootstrapAdmin, DEFAULT_TEAM } from './auth/agent-directory.ts';
import type { Config } from './config.ts';
import { PhiCipher } from './crypto/phi-cipher.ts';
import { connectDatabase, type Database } from './db/connect.ts';
import { BackgroundWork } from './background-work.ts';
import { Housekeeping } from './housekeeping.ts';
import { DeliveryWorker } from './delivery/delivery-worker.ts';
import { emailThreadFor, ReplyAddresses } from './delivery/email-thread.ts';
import { phiSafeNotice, SecureMessageLinks } from './delivery/secure-message-links.ts';
import { secureLinkRoutes } from './http/routes/secure-link-routes.ts';
import { errorHandler, notFoundHandler } from './http/error-handler.ts';
import { allowedMethods } from './http/allowed-methods.ts';
import { mountRoutes } from './http/mount-routes.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { defineRoute, type Route } from './http/route.ts';
import { agentRoutes } from './http/routes/agent-routes.ts';
import { auditRoutes } from './http/routes/audit-routes.ts';
import { authRoutes } from './http/routes/auth-routes.ts';
import { composeRoutes, conversationRoutes } from './http/routes/conversation-routes.ts';
import { devRoutes } from './http/routes/dev-routes.ts';
import { healthRoutes } from './http/routes/health-routes.ts';
import { patientRoutes } from './http/routes/patient-routes.ts';
import { identityRoutes } from './http/routes/identity-routes.ts';
import type { HubServices } from './hub-services.ts';
import type { Logger } from './logger.ts';
import { AgentsRealtime } from './realtime/agents-namespace.ts';
import { broadcastTimelineEvents } from './realtime/timeline-broadcast.ts';
import { WidgetRealtime } from './realtime/widget-namespace.ts';
import { attachRedisFanout } from './realtime/redis-fanout.ts';
import { widgetRoutes } from './http/routes/widget-routes.ts';
import { widgetScript } from './http/widget-script.ts';
import { inboxAppRoutes } from './http/routes/inbox-app-routes.ts';
import { cannedResponseRoutes } from './http/routes/canned-response-routes.ts';
import { fileRoutes } from './http/routes/file-routes.ts';
import { MediaLinks } from './delivery/media-links.ts';
import { purposeKey } from './crypto/purpose-keys.ts';
import { outboundFiles } from './delivery/outbound-files.ts';
import { ContactCards } from './delivery/contact-cards.ts';
import { NumberHealth } from './delivery/number-health.ts';
import { SenderPool } from './delivery/sender-pool.ts';
import { numberRoutes } from './http/routes/number-routes.ts';
import { MAX_STORED_ATTACHMENT_BYTES } from './attachments/attachment-store.ts';
import { DEFAULT_MEDIA_IMPORT, MediaImport, type MediaImportOptions } from './attachments/media-import.ts';
import { InboundRouting } from './routing/inbound-routing.ts';
import { DeliveryFallback } from './delivery/delivery-fallback.ts';
import { clinicDefaultHours } from './routing/team-settings.ts';
import { createTriagePager } from './routing/triage-pager.ts';
import { routingRoutes } from './http/routes/routing-routes.ts';
import { reportRoutes } from './http/routes/report-routes.ts';
import { KpiRecorder } from './reports/kpi-recorder.ts';
import { reportQueueRoutes } from './http/routes/report-queue-routes.ts';
import { createLiveQueue } from './reports/live-queue.ts';
import { faqRoutes } from './http/routes/faq-routes.ts';
import { FaqStore } from './routing/faq-store.ts';
import { VerificationCodes } from './widget/verification-codes.ts';
import { CsatSurveys } from './csat/csat-surveys.ts';
import { CsatLinks } from './csat/csat-links.ts';
import { csatBodyParsers, csatRoutes } from './http/routes/csat-routes.ts';
import { VisitorTokens } from './widget/visitor-tokens.ts';
import { WidgetVisitors } from './widget/widget-visitors.ts';
import { AbuseLimits } from './widget/abuse-limits.ts';
import type { Clock, TimelineContext, TimelineEvents } from './timeline/timeline-context.ts';
import { outreachRoutes } from './http/routes/outreach-routes.ts';
import { OutboundWebhook } from './outreach/outbound-webhook.ts';
import { ScheduledMessages } from './outreach/scheduled/scheduled-messages.ts';
import { MessageTemplates } from './outreach/templates/message-templates.ts';

export const HUB_VERSION = '0.1.0';

export interface HubOptions {
  config: Config;
  mongoUri: string;
  logger: Logger;
  clock?: Clock;
  /** Replace channel adapters (e.g. to exercise delivery failures). Defaults to the registry's. */
  adapters?: Partial<Record<ChannelId, ChannelAdapter>>;
  deliveryPollMs?: number;
  /** Retries of provider media downloads (tests shorten the waits). */
  mediaImport?: MediaImportOptions;
  socketRevalidateMs?: number;
  /** Have the driver emit command events (tests record every query shape; benches count commands per operation). */
  monitorDatabaseCommands?: boolean;
}

export interface Hub {
  readonly services: HubServices;
  readonly httpServer: HttpServer;
  readonly routes: readonly Route[];
  /** Periodic clean-up (ended rate-limit windows, unclaimed uploads); `runOnce` for tests and operators. */
  readonly housekeeping: Housekeeping;
  /** The routing layer (triage, after hours, assignment); `sweep()` escalates long waits and offers waiting conversations. */
  readonly routing: InboundRouting;
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** Resolves when nothing is left to do now: no background task running, no message due for sending. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function buildHub(options: HubOptions): Promise<Hub> {
  const { config, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const db: Database = await connectDatabase(options.mongoUri, config.databaseName, { monitorCommands: options.monitorDatabaseCommands ?? false });
  const cipher = new PhiCipher(config.phiKeys, config.blindIndexKey);
  const locks = db.locks;
  const audit = new AuditLog(db.models, clock, logger, config.auditKeys);
  const auth = new AuthService(
    db.models,
    locks,
    {
      jwtSecret: config.jwtSecret,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      refreshTokenTtlMs: config.refreshTokenTtlMs,
      idleTimeoutMs: config.idleTimeoutMs,
      loginFailuresPerIpPerHour: config.loginFailuresPerIpPerHour,
    },
    clock,
    logger,
    audit,
    cipher,
  );

  const app = express();
  const httpServer = createServer(app);
  const widgetAccess = widgetCors(config.widget.allowedOrigins, new URL(config.publicBaseUrl).origin);
  // Transport-level CORS is open so a refused widget can read why; the /widget namespace checks the origin itself.
  // A dead connection (a phone that lost signal) is noticed within 20 s, not Socket.IO's default 45 s:
  // until then `auto` would still send replies to a web chat nobody sees.
  const io = new SocketServer(httpServer, { serveClient: false, cors: { origin: true, methods: ['GET', 'POST'] }, pingInterval: 10_000, pingTimeout: 10_000 });
  // Several nodes: rooms span them all through Redis (before any namespace exists); one node needs nothing.
  const fanout = config.redisUrl ? await attachRedisFanout(io, { url: config.redisUrl, logger }) : undefined;
  let timeline: TimelineContext | undefined;
  const realtime = new AgentsRealtime(io, auth, audit, () => timeline!, { revalidateEveryMs: options.socketRevalidateMs ?? 5000 });
  // Supervisors' live queue: figures at most once a second per node, pushed as queue:stats.
  const liveQueue = createLiveQueue({ models: db.models, clock, host: realtime, logger });
  // The database going away and coming back: said once in the log, and shown in every agent's inbox.
  db.health.onChange((status) => {
    if (status.state === 'degraded') logger.error({ reason: status.reason }, 'database unreachable: webhooks answer 503 until it is back');
    else {
      logger.info('database reachable again');
      worker?.kick();
    }
    realtime.hubStatus({ state: status.state, reason: status.reason, since: status.since.toISOString() });
  });
  let worker: DeliveryWorker | undefined;
  const background = new BackgroundWork(logger);
  const replyAddresses = new ReplyAddresses(`${config.sendgrid.inboundSecret}:reply`, config.sendgrid.inboundDomain);
  let listeningOn: string | null = null;
  // Several clinic numbers: each patient's sticky sender, and each number's reputation (server/delivery/).
  const numberHealth = new NumberHealth(() => timeline!, config.numberHealth, (flag) => realtime.numberFlagged(flag));
  const senders = new SenderPool(() => timeline!, config.twilio.fromNumbers, numberHealth);
  const clinicNumbers = new Set([...config.twilio.fromNumbers, ...(config.contactCard.settings?.inboundOnlyNumbers ?? [])]);
  const ports = new ChannelPorts(() => timeline!, {
    replyAddresses, background, selfUrl: () => listeningOn,
    numbers: { isClinicNumber: (n) => clinicNumbers.has(n), outcome: (n, status, code) => numberHealth.outcome(n, status, code), optOut: (n) => numberHealth.optOut(n) },
  });
  const channels = createChannels(
    {
      sms: { ...config.twilio, publicBaseUrl: config.publicBaseUrl, helpText: config.smsHelpText, sandboxSlowDeliveryMs: config.sandbox.slowDeliveryMs, sendTimeoutMs: config.outbox.sendTimeoutMs },
      email: {
        apiKey: config.sendgrid.apiKey, fromEmail: config.sendgrid.fromEmail, clinicName: config.clinicName,
        inboundSecret: config.sendgrid.inboundSecret, eventPublicKey: config.sendgrid.eventPublicKey, sandboxSlowDeliveryMs: config.sandbox.slowDeliveryMs,
        sendTimeoutMs: config.outbox.sendTimeoutMs,
      },
    },
    ports,
    {
      record: async (entry) => {
        await db.models.DevOutbox.create({
          _id: entry.id, channel: entry.channel, messageId: entry.messageId, requestEnc: cipher.encrypt(JSON.stringify(entry.request)), createdAt: clock(),
        });
      },
    },
  );
  const adapters = {
    ...(Object.fromEntries(CHANNEL_IDS.map((id) => [id, channels[id].adapter])) as Record<ChannelId, ChannelAdapter>),
    ...options.adapters,
  };
  const channelRoutes = CHANNEL_IDS.flatMap((id) => channels[id].routes);
  let widgetRealtime: WidgetRealtime | undefined;
  // Contact-center figures, kept live from the timeline's events (server/reports/).
  const kpis = new KpiRecorder(() => timeline!, { defaultHours: clinicDefaultHours(config), timeZone: config.clinicTimeZone, startWork: (what, work) => background.start(what, work) });
  const audiences: TimelineEvents[] = [realtime, kpis];
  timeline = {
    models: db.models,
    locks,
    cipher,
    audit,
    clock,
    events: broadcastTimelineEvents(audiences),
    logger,
    settings: { defaultPhoneRegion: config.defaultPhoneRegion, reopenWindowMs: config.reopenWindowMs, defaultTeamId: DEFAULT_TEAM.id },
    isWidgetConnected: async (patientId) => (await widgetRealtime?.isConnected(patientId)) ?? false,
    kickDelivery: (messageId) => worker?.kick(messageId),
    importMedia: (messageId) => mediaImport.schedule(messageId),
    routeInbound: (inbound) => routing.route(inbound),
    onDeliveryFailed: (message) => fallback.failed(message),
    kpis,
    ...(senders.enabled ? { smsSenders: senders } : {}),
    onInbound: (stored) => {
      if (stored.channel !== 'sms' || !stored.newPatient || !stored.impliesConsent) return;
      background.start('first-contact card', () => contactCards.onFirstSms(stored.conversationId));
    },
  };
  const defaultHours = clinicDefaultHours(config);
  const faq = new FaqStore(db, clock);
  const fallback = new DeliveryFallback(() => timeline!, {
    policy: config.deliveryFallback, afterMs: config.deliveryFallbackAfterMs, startWork: (what, work) => background.start(what, work),
  });
  const routing = new InboundRouting(() => timeline!, {
    clinicName: config.clinicName,
    faq: () => faq.matcher(),
    smsDepartmentMenu: config.smsDepartmentMenu,
    rules: config.triage.rules,
    urgentLine: config.contactCard.settings?.urgentLine ?? null,
    defaultHours,
    alerts: {
      triage: (conversation, match) =>
        realtime.triageAlert({ conversationId: conversation.id, teamId: conversation.teamId, category: match.category, label: match.label, at: clock().toISOString() }, config.triage.onCallTeamId),
      escalation: (conversation, waitedMinutes) =>
        realtime.escalation({ conversationId: conversation.id, teamId: conversation.teamId, waitedMinutes, at: clock().toISOString() }),
    },
    pager: createTriagePager({
      adapters, sms: config.triage.pageSms, email: config.triage.pageEmail, clinicName: config.clinicName, publicBaseUrl: config.publicBaseUrl, logger,
      startWork: (what, work) => background.start(what, work),
    }),
    // Set online, connected here, and active lately (an agent who stepped away is not given new patients).
    isAgentOnline: async (agentId) => {
      if (!(await realtime.isOnline(agentId))) return false;
      const session = await db.models.Session.findOne({ agentId, revokedAt: null }).sort({ lastActivityAt: -1 }).lean();
      return Boolean(session && clock().getTime() - new Date(session.lastActivityAt).getTime() <= config.agentAwayAfterMs);
    },
  });
  let routingSweep: NodeJS.Timeout | undefined;
  const mediaImport = new MediaImport(() => timeline!, adapters, (what, work) => background.start(what, work), options.mediaImport ?? DEFAULT_MEDIA_IMPORT);
  const contactCards = new ContactCards(timeline, config.contactCard.settings, {
    uidSeed: config.publicBaseUrl, onFirstSms: config.contactCard.onFirstSms, onChange: config.contactCard.onChange, senders: config.twilio.fromNumbers,
  });
  const housekeeping = new Housekeeping(timeline, { unattachedUploadMs: config.abuseLimits.unattachedUploadMs });
  const limits = new AbuseLimits(timeline, config.abuseLimits, `${config.jwtSecret}:ip-keys`);
  const visitors = new WidgetVisitors(timeline, new VisitorTokens(config.jwtSecret, clock), {
    identitySecret: config.widget.identitySecret,
    clinicName: config.clinicName,
    portalProofMaxAgeSeconds: config.widget.portalProofMaxAgeSeconds,
  }, limits);
  const codes = new VerificationCodes(timeline, adapters, { secret: config.jwtSecret, clinicName: config.clinicName }, limits);
  widgetRealtime = new WidgetRealtime(io, { visitors, codes, agents: realtime, limits, timeline: () => timeline!, originAllowed: widgetAccess.isAllowed });
  audiences.push(widgetRealtime);
  // Satisfaction surveys after a resolve (server/csat/): scheduled only with CSAT_SURVEYS on; answers always taken.
  const csat = new CsatSurveys(() => timeline!, {
    enabled: config.csat.enabled, clinicName: config.clinicName, clinicTimeZone: config.clinicTimeZone, clinicLanguage: config.clinicLanguage,
    quietHours: config.quietHours, intervalMs: config.csat.intervalMs, delayMs: config.csat.delayMs, triageRules: config.triage.rules,
  }, new CsatLinks(purposeKey(config.jwtSecret, 'csat-links'), config.publicBaseUrl, clock));
  csat.widget = { isConnected: (patientId) => widgetRealtime!.isConnected(patientId), request: (patientId, request) => widgetRealtime!.csatRequest(patientId, request) };
  timeline.csat = csat;
  widgetRealtime.csat = csat;
  const secureLinks = new SecureMessageLinks(purposeKey(config.jwtSecret, 'secure-message-links'), config.publicBaseUrl, config.secureLinkTtlMs, clock);
  // Scheduled outreach (server/outreach/): templates, reminders and their answers, the scheduling system's webhook.
  const templates = new MessageTemplates(db.models, { clinicName: config.clinicName, clinicLanguage: config.clinicLanguage, phiSafe: config.phiSafeNotifications });
  const outboundWebhook = new OutboundWebhook(() => timeline!, config.outboundWebhook);
  const scheduled = new ScheduledMessages(() => timeline!, {
    clinicName: config.clinicName, clinicTimeZone: config.clinicTimeZone, clinicLanguage: config.clinicLanguage, quietHours: config.quietHours,
    urgentKinds: config.outreach.urgentKinds, replyWindowMs: config.outreach.replyWindowMs,
  }, templates, outboundWebhook, (conversationId, patientId) => secureLinks.create(conversationId, patientId));
  timeline.outreach = scheduled;
  const mediaLinks = new MediaLinks(purposeKey(config.jwtSecret, 'media-links'), config.publicBaseUrl, clock);
  worker = new DeliveryWorker(timeline, adapters, {
    // Every message queued here kicks the worker, and every retry it schedules wakes it: the poll only finds what
    // another node queued or a stopped one left leased. On MongoDB it is an index seek, every second; on the
    // embedded store (one node, every read a scan of all messages: 0.3-1.4 s at 6,000 messages, measured by
    // `npm run bench -- inbound`) every 30 s is enough for a lease a restart left behind. OUTBOX_POLL_SECONDS overrides.
    pollIntervalMs: options.deliveryPollMs ?? config.outboxPollMs ?? (db.capabilities.indexedReads ? 1000 : 30_000),
    ...config.outbox, // lease, max attempts, provider timeout, longest retry wait (OUTBOX_*)
    // During a database outage every claim would fail: the worker waits, and is kicked when the database is back.
    paused: () => !db.health.available,
    fallbackDueAt: (message, channel) => fallback.dueAt(message, channel),
    ...(senders.enabled ? { smsSender: { from: (message) => senders.forMessage(message), sent: (number) => numberHealth.sent(number) } } : {}),
    extras: async (message, channel) => ({
      ...(channel === 'email' ? { email: await emailThreadFor(timeline!, message, replyAddresses, config.clinicName) } : {}),
      // With PHI-safe notifications only the notice leaves the hub: files too wait behind the secure chat (a contact card holds no PHI).
      ...(config.phiSafeNotifications && message.kind !== 'vcard' ? {} : await outboundFiles(timeline!, message, channel, mediaLinks)),
    }),
    ...(config.phiSafeNotifications
      ? {
          // The hub's own texts (safety and after-hours replies, HELP) hold no PHI by construction and must be read as
          // written: a safety reply behind a secure link would not tell the patient to call 911.
          content: (message, channel, body) =>
            channel === 'webchat' || message.author.type === 'system' ? { body } : phiSafeNotice(config.clinicName, secureLinks.create(message.conversationId, message.patientId)),
        }
      : {}),
  });

  const admin = await bootstrapAdmin(db.models, config.bootstrapAdmin, clock());
  if (admin) logger.info({ agentId: admin._id }, 'created the bootstrap administrator');

  const services: HubServices = { config, db, timeline, auth, audit, realtime, adapters };
  const routes: Route[] = [
    ...healthRoutes(services),
    ...authRoutes(services),
    ...conversationRoutes(services, contactCards),
    ...composeRoutes(),
    ...patientRoutes(services),
    ...identityRoutes(services),
    ...agentRoutes(services),
    ...auditRoutes(services),
    ...channelRoutes.map((route) => channelRoute(route, { database: db.health })),
    ...secureLinkRoutes(secureLinks, config.clinicName),
    ...csatRoutes(csat, config.clinicName),
    ...devRoutes(services),
    ...widgetRoutes(services, visitors, widgetScript(), limits),
    ...inboxAppRoutes(),
    ...cannedResponseRoutes(services),
    ...fileRoutes(services, mediaLinks),
    ...faqRoutes(services, faq),
    ...routingRoutes(services, {
      defaultHours,
      announceStatus: (agentId, status) => realtime.agentStatus(agentId, status),
      agentAvailable: () => {
        // A team's capacity or an agent's status changed: the live queue's busy and online too.
        liveQueue.changed();
        background.start('routing sweep', () => routing.sweep());
      },
    }),
    ...reportQueueRoutes(services, liveQueue),
    ...reportRoutes(services, kpis),
    ...outreachRoutes(services, scheduled, templates),
    ...numberRoutes(services, { health: numberHealth, senders: config.twilio.fromNumbers, inboundOnly: config.contactCard.settings?.inboundOnlyNumbers ?? [] }),
  ].filter((r) => r.enabled?.() ?? true);
  const openApiRoute = defineRoute({
    method: 'get', path: '/api/openapi.json', tag: 'meta', auth: 'public',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1' } },
    handler: async () => openApiDocument,
  });
  routes.push(openApiRoute);
  const openApiDocument = buildOpenApiDocument(routes, { version: HUB_VERSION, serverUrl: config.publicBaseUrl });

  app.disable('x-powered-by');
  // Express's automatic weak ETags would let a cache revalidate PHI; the built assets (/widget.js, /inbox/) set their own.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(helmet(SECURITY_HEADERS));
  app.use('/api', noStore);
  app.use('/api/widget', widgetAccess.cors, widgetAccess.guard);
  app.use(['/api/widget/attachments', '/api/attachments'], express.raw({ type: () => true, limit: MAX_STORED_ATTACHMENT_BYTES }));
  app.use('/api', apiCors(config.corsAllowedOrigins));
  app.use('/api', express.json({ limit: '1mb' }));
  channelBodyParsers(app, channelRoutes);
  app.use('/csat', ...csatBodyParsers);
  const methods = allowedMethods(routes);
  app.use(methods.options);
  app.use(mountRoutes(routes, auth, audit));
  app.use(methods.notAllowed);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    services,
    httpServer,
    routes,
    housekeeping,
    routing,
    async listen(port, host = '0.0.0.0') {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => resolve());
      });
      worker!.start();
      if (config.csat.enabled) csat.start(options.deliveryPollMs ?? 1000);
      scheduled.start(options.deliveryPollMs ?? 1000);
      // Overdue deliveries: a minute late at most (an index range on MongoDB, a scan of the messages on the embedded store).
      fallback.start(options.deliveryPollMs ?? Math.min(60_000, Math.max(1000, config.deliveryFallbackAfterMs / 4)));
      outboundWebhook.start(options.deliveryPollMs ?? 1000);
      // Every start signs an entry with the current audit key: the chain always ends with a keyed entry.
      await audit.record({ action: 'hub.start', via: 'system', details: { version: HUB_VERSION, auditKey: config.auditKeys[0]!.id } });
      background.start('contact card rollout', () => contactCards.rollOut());
      background.start('resume media imports', () => mediaImport.resumePending());
      housekeeping.start((what, work) => background.start(what, work));
      routingSweep = setInterval(() => background.start('routing sweep', () => routing.sweep()), 30_000);
      routingSweep.unref();
      const actual = (httpServer.address() as AddressInfo).port;
      listeningOn = `http://127.0.0.1:${actual}`;
      return { port: actual, url: `http://127.0.0.1:${actual}` };
    },
    async settled() {
      // Background work may queue messages, and sending them may start more: until both are quiet.
      for (;;) {
        await background.settled();
        await scheduled.idle();
        await worker!.idle();
        await outboundWebhook.idle();
        if (background.idle) return;
      }
    },
    async close() {
      housekeeping.stop();
      ports.stop();
      clearInterval(routingSweep);
      fallback.stop();
      await background.settled();
      await csat.stop();
      await scheduled.stop();
      await outboundWebhook.stop();
      await worker!.stop();
      realtime.stop();
      liveQueue.stop();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await fanout?.close();
      await db.close();
    },
  };
}
