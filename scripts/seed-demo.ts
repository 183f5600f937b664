/**
 * `npm run seed:demo`: fills the hub's database with fictional demo data:
 * teams, three agents, six patients and their conversations on SMS, email and
 * web chat, with replies, a note, an assignment, a transfer, a priority and a
 * resolution. Uses the same database as `npm start` (the embedded FerretDB
 * under DATA_DIR unless MONGODB_URI is set); stop the hub first when it uses
 * the embedded database.
 *
 * Re-running is safe: inbound messages have stable provider keys (`demo:…`),
 * so they are stored once, and a conversation's agent steps only run when its
 * first inbound message was stored by this run. Prints counts and the demo
 * agents' credentials only, never message bodies, names, phones or emails of
 * patients.
 */
import type { ChannelAdapter } from '../channels/contract.ts';
import type { NormalizedInbound } from '../channels/contract.ts';
import type { Actor } from '../server/access/access-policy.ts';
import { createAgent, DEFAULT_TEAM, ensureTeam } from '../server/auth/agent-directory.ts';
import { ConfigError, loadConfig, type Config } from '../server/config.ts';
import type { AgentDoc, ConversationDoc, Role } from '../server/db/documents.ts';
import { startHubStore, type HubStore } from '../server/db/hub-store.ts';
import { AppError } from '../server/errors.ts';
import { buildHub, type Hub } from '../server/hub.ts';
import { createLogger } from '../server/logger.ts';
import { assignConversation, resolveConversation, setPriority } from '../server/timeline/conversation-actions.ts';
import { ingestInbound } from '../server/timeline/ingest/ingest-inbound.ts';
import { attachIdentity } from '../server/timeline/ingest/resolve-identity.ts';
import { addNote, sendReply } from '../server/timeline/reply/send-reply.ts';
import type { TimelineContext } from '../server/timeline/timeline-context.ts';

const DEMO_PASSWORD = 'demo-password-123';
const BILLING_TEAM = { id: 'billing', name: 'Billing' } as const;

const DEMO_AGENTS = {
  sam: { email: 'sam.supervisor@carethread.local', name: 'Sam Supervisor', role: 'supervisor', teamIds: [DEFAULT_TEAM.id, BILLING_TEAM.id] },
  alex: { email: 'alex.agent@carethread.local', name: 'Alex Agent', role: 'agent', teamIds: [DEFAULT_TEAM.id] },
  blair: { email: 'blair.billing@carethread.local', name: 'Blair Billing', role: 'agent', teamIds: [BILLING_TEAM.id] },
} as const satisfies Record<string, { email: string; name: string; role: Role; teamIds: string[] }>;
type DemoAgentKey = keyof typeof DEMO_AGENTS;

/**
 * The demo clock starts a couple of hours in the past and moves forward with
 * the story, so the inbox shows realistic "minutes ago" times. It never passes
 * the real time.
 */
const STORY_START_MINUTES_AGO = 150;
let storyOffsetMs = -STORY_START_MINUTES_AGO * 60_000;
const demoClock = () => new Date(Date.now() + Math.min(0, storyOffsetMs));
function minutesPass(minutes: number): void {
  storyOffsetMs += minutes * 60_000;
}

/** Demo replies must never reach a real provider: a channel that is not in sandbox mode gets this stand-in. */
function demoStandInAdapter(id: 'sms' | 'email'): ChannelAdapter {
  return {
    id,
    label: `${id} (demo stand-in)`,
    async send(envelope) {
      return { ok: true, providerMessageId: `demo:${envelope.messageId}`, status: 'sent' };
    },
  };
}

interface Counts {
  inboundStored: number;
  inboundAlreadyThere: number;
  newPatients: number;
  identitiesAttached: number;
  replies: number;
  notes: number;
  conversationChanges: number;
  conversationsSkipped: number;
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`seed:demo cannot start.\n${error.message}`);
      return 1;
    }
    throw error;
  }
  if (config.env === 'production') {
    console.error('seed:demo refuses to run with NODE_ENV=production: demo patients do not belong in a production database.');
    return 1;
  }

  // Hub logs are JSON lines with ids only; keep the seed's output to the summary.
  const logger = createLogger({ level: 'warn' });
  let store: HubStore | undefined;
  let hub: Hub | undefined;
  try {
    store = await startHubStore(config, (line) => console.log(`[seed:demo] ${line}`));
    const adapters: Partial<Record<'sms' | 'email', ChannelAdapter>> = {};
    if (!config.sandbox.sms) adapters.sms = demoStandInAdapter('sms');
    if (!config.sandbox.email) adapters.email = demoStandInAdapter('email');
    hub = await buildHub({ config, mongoUri: store.uri, logger, clock: demoClock, adapters });
    const ctx = hub.services.timeline;

    await ensureTeam(ctx.models, DEFAULT_TEAM.id, DEFAULT_TEAM.name, ctx.clock());
    await ensureTeam(ctx.models, BILLING_TEAM.id, BILLING_TEAM.name, ctx.clock());
    const agents = {} as Record<DemoAgentKey, { doc: AgentDoc; created: boolean }>;
    for (const key of Object.keys(DEMO_AGENTS) as DemoAgentKey[]) {
      agents[key] = await ensureAgent(ctx, DEMO_AGENTS[key]);
    }
    const actor = (key: DemoAgentKey): Actor => {
      const doc = agents[key].doc;
      return { agentId: doc._id, role: doc.role, teamIds: doc.teamIds, sessionId: 'seed' };
    };

    const counts: Counts = {
      inboundStored: 0, inboundAlreadyThere: 0, newPatients: 0, identitiesAttached: 0,
      replies: 0, notes: 0, conversationChanges: 0, conversationsSkipped: 0,
    };
    await seedConversations(ctx, actor, agents, counts);
    await waitForOutbox(ctx, 5000);

    const [patients, conversations, messages] = await Promise.all([
      ctx.models.Patient.countDocuments({}),
      ctx.models.Conversation.countDocuments({}),
      ctx.models.Message.countDocuments({}),
    ]);

    console.log('');
    console.log('Demo data ready.');
    console.log(`  inbound messages: ${counts.inboundStored} stored now, ${counts.inboundAlreadyThere} already there (not duplicated)`);
    console.log(`  new patients: ${counts.newPatients}; identities attached: ${counts.identitiesAttached}`);
    console.log(`  agent replies: ${counts.replies}; notes: ${counts.notes}; assignments/transfers/priority/resolutions: ${counts.conversationChanges}`);
    if (counts.conversationsSkipped) {
      console.log(`  agent steps skipped for ${counts.conversationsSkipped} conversation(s) seeded by an earlier run`);
    }
    console.log(`  database now holds ${patients} patients, ${conversations} conversations, ${messages} messages`);
    console.log('');
    console.log(`Demo agents (password for new accounts: ${DEMO_PASSWORD}):`);
    for (const key of Object.keys(DEMO_AGENTS) as DemoAgentKey[]) {
      const spec = DEMO_AGENTS[key];
      const note = agents[key].created ? 'created' : 'already existed, password unchanged';
      console.log(`  ${spec.role.padEnd(10)} ${spec.email.padEnd(34)} ${DEMO_PASSWORD}   teams: ${spec.teamIds.join(', ')} (${note})`);
    }
    console.log('');
    if (config.devSecretsFile) {
      console.log(`Administrator: ${config.bootstrapAdmin?.email ?? 'BOOTSTRAP_ADMIN_EMAIL'}; its password (BOOTSTRAP_ADMIN_PASSWORD) is in ${config.devSecretsFile}`);
    } else if (config.bootstrapAdmin) {
      console.log(`Administrator: ${config.bootstrapAdmin.email}; password as set in BOOTSTRAP_ADMIN_PASSWORD`);
    }
    console.log('Start the hub with `npm start` and sign in.');
    return 0;
  } catch (error) {
    console.error(`seed:demo failed: ${error instanceof AppError ? `${error.code}: ${error.message}` : (error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await hub?.close().catch((error) => console.error(`error while closing the hub: ${(error as Error).message}`));
    await store?.stop();
  }
}

async function ensureAgent(ctx: TimelineContext, spec: (typeof DEMO_AGENTS)[DemoAgentKey]): Promise<{ doc: AgentDoc; created: boolean }> {
  try {
    const doc = await createAgent(ctx.models, { ...spec, teamIds: [...spec.teamIds], password: DEMO_PASSWORD }, ctx.clock());
    return { doc, created: true };
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
    const doc = await ctx.models.Agent.findOne({ email: spec.email }).lean().orFail();
    return { doc, created: false };
  }
}

/** The story. Every inbound message is idempotent; the agent steps for a conversation run only when its first message is new. */
async function seedConversations(
  ctx: TimelineContext,
  actor: (key: DemoAgentKey) => Actor,
  agents: Record<DemoAgentKey, { doc: AgentDoc }>,
  counts: Counts,
): Promise<void> {
  const inbound = async (message: NormalizedInbound) => {
    const result = await ingestInbound(ctx, message);
    if (result.duplicate) counts.inboundAlreadyThere++;
    else counts.inboundStored++;
    if (result.newPatient) counts.newPatients++;
    minutesPass(3);
    return result;
  };
  const load = (conversationId: string): Promise<ConversationDoc> => ctx.models.Conversation.findById(conversationId).lean().orFail();
  const reply = async (who: DemoAgentKey, conversationId: string, clientId: string, body: string) => {
    // The client id makes the reply itself idempotent too (providerKey client:<agent>:<clientId>).
    await sendReply(ctx, actor(who), await load(conversationId), { body, channel: 'auto', clientId: `seed-${clientId}` });
    counts.replies++;
    minutesPass(4);
  };
  const change = async (step: (conversation: ConversationDoc) => Promise<unknown>, conversationId: string) => {
    await step(await load(conversationId));
    counts.conversationChanges++;
    minutesPass(1);
  };

  // 1. Maria writes by SMS, then (after the front desk records her email) by email: one open conversation, assigned to Alex.
  const maria1 = await inbound({
    channel: 'sms', from: { kind: 'phone', value: '+1 (415) 555-0101' }, providerKey: 'demo:maria-sms-1',
    displayName: 'Maria Alvarez', body: 'Hi, this is Maria. I need to move my Thursday 10am appointment, is anything free on Friday?',
  });
  await attachIdentity(ctx, maria1.patientId, { kind: 'email', value: 'maria.alvarez@example.org' }, { evidence: 'thread_reply' });
  if (!maria1.duplicate) counts.identitiesAttached++;
  const maria2 = await inbound({
    channel: 'email', from: { kind: 'email', value: 'maria.alvarez@example.org' }, providerKey: 'demo:maria-email-1',
    displayName: 'Maria Alvarez', subject: 'Rescheduling my appointment',
    body: 'Following up by email: Friday morning would work best for me. Thank you!',
  });
  if (maria2.conversation.id !== maria1.conversation.id) {
    throw new Error('the email from the attached address did not land in the same conversation as the SMS');
  }
  if (!maria1.duplicate) {
    await change((c) => assignConversation(ctx, actor('alex'), c, { assigneeId: agents.alex.doc._id }), maria1.conversation.id);
    await reply('alex', maria1.conversation.id, 'maria-1', 'Hi Maria, Friday at 9:30am is open with Dr. Patel. Shall I book it and cancel Thursday?');
    await inbound({
      channel: 'email', from: { kind: 'email', value: 'maria.alvarez@example.org' }, providerKey: 'demo:maria-email-2',
      subject: 'Re: Rescheduling my appointment', body: 'Yes please, 9:30 on Friday is perfect.',
    });
  } else counts.conversationsSkipped++;

  // 2. James asks for a refill by SMS: high priority, with an internal note.
  const james = await inbound({
    channel: 'sms', from: { kind: 'phone', value: '(415) 555-0102' }, providerKey: 'demo:james-sms-1',
    displayName: 'James Okafor', body: 'Hello, I am almost out of my blood pressure medication. Can I get a refill before the weekend?',
  });
  if (!james.duplicate) {
    await change((c) => setPriority(ctx, actor('alex'), c, 'high'), james.conversation.id);
    await addNote(ctx, actor('alex'), await load(james.conversation.id), 'Refill request: needs the prescriber to sign off before Friday. Flagged for the clinical team.');
    counts.notes++;
    minutesPass(2);
    await reply('alex', james.conversation.id, 'james-1', 'Thanks James, we have sent the refill request to your provider and will text you once it is approved.');
  } else counts.conversationsSkipped++;

  // 3. Priya writes about a bill by email: transferred to billing and assigned to Blair, who answers.
  const priya = await inbound({
    channel: 'email', from: { kind: 'email', value: 'priya.shah@example.org' }, providerKey: 'demo:priya-email-1',
    displayName: 'Priya Shah', subject: 'Question about a bill',
    body: 'I received a statement for my March visit, but I believe my insurance already covered it. Could someone check?',
  });
  if (!priya.duplicate) {
    await change((c) => assignConversation(ctx, actor('sam'), c, { teamId: BILLING_TEAM.id, assigneeId: agents.blair.doc._id }), priya.conversation.id);
    await reply('blair', priya.conversation.id, 'priya-1', 'Hi Priya, I am looking into your March statement with your insurer and will get back to you within two business days.');
  } else counts.conversationsSkipped++;

  // 4. Daniel asks about opening hours on the web chat: answered and resolved.
  const daniel = await inbound({
    channel: 'webchat', from: { kind: 'web', value: 'demo-visitor-daniel-0001' }, providerKey: 'demo:daniel-web-1',
    displayName: 'Daniel Kim', body: 'Are you open on Saturday mornings?',
  });
  if (!daniel.duplicate) {
    await reply('alex', daniel.conversation.id, 'daniel-1', 'Yes, we are open on Saturdays from 8am to noon.');
    await inbound({
      channel: 'webchat', from: { kind: 'web', value: 'demo-visitor-daniel-0001' }, providerKey: 'demo:daniel-web-2',
      body: 'Great, thanks!',
    });
    await change((c) => resolveConversation(ctx, actor('alex'), c), daniel.conversation.id);
  } else counts.conversationsSkipped++;

  // 5. Sofia texts a question nobody has picked up yet (open, unassigned, unread).
  await inbound({
    channel: 'sms', from: { kind: 'phone', value: '+14155550105' }, providerKey: 'demo:sofia-sms-1',
    displayName: 'Sofia Rossi', body: 'Is the clinic open on the Monday holiday?',
  });

  // 6. Ethan asks about insurance on the web chat (open, unassigned).
  await inbound({
    channel: 'webchat', from: { kind: 'web', value: 'demo-visitor-ethan-0002' }, providerKey: 'demo:ethan-web-1',
    displayName: 'Ethan Brooks', body: 'Hi! Do you accept Blue Shield PPO plans?',
  });
  await inbound({
    channel: 'webchat', from: { kind: 'web', value: 'demo-visitor-ethan-0002' }, providerKey: 'demo:ethan-web-2',
    body: 'Also, do I need a referral to see a dermatologist?',
  });
}

/** Gives the delivery worker a moment to hand the queued replies to the (sandbox) channels before the hub closes. */
async function waitForOutbox(ctx: TimelineContext, timeoutMs: number): Promise<void> {
  ctx.kickDelivery();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const due = await ctx.models.Message.countDocuments({ outboxDueAt: { $ne: null, $lte: ctx.clock() } });
    if (due === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

process.exit(await main());
