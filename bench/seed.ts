/**
 * The shared bulk seeder: writes, directly and in batches of 1,000
 * (`insertMany` through the driver), the documents a hub that had served
 * these patients would have left, so a bench can start a hub
 * (`startHubProcess`, BENCH_ENV's keys) on a store of a realistic size
 * without sending every message through the API.
 *
 *   const seeded = await seedStore({ mongoUri, databaseName, conversations: 20_000, log });
 *   // seeded.patients: { id, phone }[]   (phone: E.164, for GET /api/patients?q=…)
 *   // seeded.conversationIds: string[]   (seeding order; conversation i belongs to patients[i % patients.length])
 *   // seeded.ms: seeding time (indexes created first, as production would insert)
 *   // seeded.counts: documents written per collection ({ teams, patients, identities, conversations, messages })
 *
 * seedStore({ mongoUri, databaseName, conversations, patients?, messagesPerConversation?, teams?, log?, now?, seed? })
 *   conversations            how many conversations
 *   patients                 default a quarter of the conversations (at least 1); conversation i → patient i % patients,
 *                            so each patient's latest conversation is the last one it gets
 *   messagesPerConversation  default 3 (seq 1..n, alternating inbound/outbound, the last one is the preview)
 *   teams                    default front-desk (the hub's DEFAULT_TEAM) 70 %, billing 20 %, nurses 10 %
 *   log                      progress lines (counts and times only: never PHI)
 *   now                      the instant the data is relative to (default: now, to the minute)
 *   seed                     PRNG seed (default 42)
 *
 * What is written (server/db/documents.ts shapes; fields a hub would set):
 * - teams (upserted by ensureTeam, as the hub does);
 * - patients: a sealed made-up name and its blind search keys (patientKeys), SMS consent opted_in (with a
 *   history entry), latestConversationId/conversationCount consistent with the conversations;
 * - identities: one verified phone per patient, `_id` = `phone:<blindIndex('phone', e164)>` (identityKey,
 *   built with newIdentityDoc from server/timeline/ingest/resolve-identity.ts), valueEnc sealed;
 * - conversations: the mix of bench/inbox-list.bench.ts — the patient's latest one open 60 % / pending 15 % /
 *   resolved 25 %, older ones resolved; teams by weight; assignees made-up agent ids (4 per team, not agents
 *   that can log in), 60 % of unresolved assigned; channels sms 45 %, email 25 %, webchat 15 %, sms+email 15 %;
 *   lastMessageAt spread over the last 30 days in whole minutes (ties happen, as the cursor's _id tiebreak
 *   must handle); sealed preview, patient name and contact; waitingSince null (no routing sweep work);
 * - messages: the fields appendMessage sets (seq, seqKey `<conversationId>:<seq>`, providerKey unique —
 *   `twilio:SM…` inbound SMS, `sendgrid:…`/`webchat:…` other inbound, `hub:<id>` outbound —, _id from
 *   messageIdFor, sealed body, delivery {status, history, error: null}, outboxDueAt null, attempts 0, createdAt).
 * Not written: agents (the hub creates its bootstrap admin; create others through the API or createAgent),
 * sessions, audit events, KPI documents, attachments.
 *
 * Deterministic: the same arguments give the same ids, phones, names, statuses and times (mulberry32);
 * only the ciphertexts differ (AES-GCM takes a random IV). Indexes are created first (connectDatabase runs
 * ensureIndexes from server/db/models.ts), so insert times include index maintenance.
 */
import { performance } from 'node:perf_hooks';
import type { Collection, Document } from 'mongodb';
import type { ChannelId } from '../channels/channel-id.ts';
import { DEFAULT_TEAM, ensureTeam } from '../server/auth/agent-directory.ts';
import { loadConfig } from '../server/config.ts';
import { PhiCipher } from '../server/crypto/phi-cipher.ts';
import { connectDatabase } from '../server/db/connect.ts';
import type { ConversationDoc, ConversationStatus, IdentityDoc, MessageDoc, PatientDoc, Priority } from '../server/db/documents.ts';
import { messageIdFor } from '../server/timeline/append-message.ts';
import { normalizePhone } from '../server/timeline/identity/normalize-identity.ts';
import { newIdentityDoc } from '../server/timeline/ingest/resolve-identity.ts';
import { patientKeys } from '../server/timeline/patients/patient-keys.ts';
import { BENCH_ENV } from './bench-env.ts';

export interface SeedTeam {
  id: string;
  name: string;
  /** Share of conversations (weights are normalized). */
  weight: number;
}

export interface SeedOptions {
  mongoUri: string;
  databaseName: string;
  conversations: number;
  patients?: number;
  messagesPerConversation?: number;
  teams?: SeedTeam[];
  log?: (line: string) => void;
  now?: Date;
  seed?: number;
}

export interface SeedResult {
  patients: { id: string; phone: string }[];
  conversationIds: string[];
  ms: number;
  counts: Record<string, number>;
}

export const DEFAULT_SEED_TEAMS: SeedTeam[] = [
  { id: DEFAULT_TEAM.id, name: DEFAULT_TEAM.name, weight: 0.7 },
  { id: 'billing', name: 'Billing', weight: 0.2 },
  { id: 'nurses', name: 'Nurse line', weight: 0.1 },
];

const BATCH = 1000;
const DAY_MS = 86_400_000;
const FIRST_NAMES = ['Ava', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farah', 'Gabe', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Milo', 'Nora', 'Omar', 'Pia'];
const LAST_NAMES = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jones', 'Khan', 'Lopez', 'Moreau', 'Novak'];
const INBOUND = [
  'Can I reschedule my appointment?', 'Thank you, see you Friday.', 'Is my prescription ready?',
  'I have a question about my bill.', 'What time do you open?', 'Do you take my insurance?',
];
const OUTBOUND = ['Yes, we can move it to Tuesday at 10.', 'It is ready for pickup.', 'We open at 8 am.', 'Let me check and get back to you.'];

/** Deterministic numbers from run to run (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The E.164 phone of seeded patient `index`: +1 415, exchanges 200–999, unique up to 8 million patients. */
export function seededPhone(index: number): string {
  const exchange = 200 + Math.floor(index / 10_000);
  if (exchange > 999) throw new Error('seededPhone: at most 8,000,000 patients');
  return `+1415${exchange}${String(index % 10_000).padStart(4, '0')}`;
}

export async function seedStore(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const conversationTotal = options.conversations;
  const patientTotal = options.patients ?? Math.max(1, Math.round(conversationTotal / 4));
  const perConversation = options.messagesPerConversation ?? 3;
  const teams = options.teams ?? DEFAULT_SEED_TEAMS;
  if (!Number.isInteger(conversationTotal) || conversationTotal < 0) throw new Error('seedStore: conversations must be an integer ≥ 0');
  if (!Number.isInteger(patientTotal) || patientTotal < 1) throw new Error('seedStore: patients must be an integer ≥ 1');
  if (!Number.isInteger(perConversation) || perConversation < 1) throw new Error('seedStore: messagesPerConversation must be an integer ≥ 1');
  const now = new Date(Math.floor((options.now ?? new Date()).getTime() / 60_000) * 60_000);
  const random = prng(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const hex = (length: number) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  const weightSum = teams.reduce((s, t) => s + t.weight, 0);
  const pickTeam = () => {
    let roll = random() * weightSum;
    for (const team of teams) if ((roll -= team.weight) < 0) return team;
    return teams.at(-1)!;
  };

  const config = loadConfig({ ...BENCH_ENV, MONGODB_DATABASE: options.databaseName });
  const cipher = new PhiCipher(config.phiKeys, config.blindIndexKey);
  const clock = () => now;
  // Connecting creates every collection and index (ensureIndexes), as the hub's first start would.
  const db = await connectDatabase(options.mongoUri, options.databaseName);
  const counts: Record<string, number> = { teams: teams.length, patients: 0, identities: 0, conversations: 0, messages: 0 };
  try {
    const indexesMs = performance.now() - started;
    for (const team of teams) await ensureTeam(db.models, team.id, team.name, now);
    const raw = <T>(collection: { collection: unknown }) => collection.collection as unknown as Collection<T & Document>;
    const insert = async <T>(target: Collection<T & Document>, docs: T[], key: string) => {
      if (docs.length === 0) return;
      await target.insertMany(docs as never[], { ordered: false });
      counts[key]! += docs.length;
    };

    // Made-up assignees, 4 per team (ids only: they cannot log in).
    const assignees = new Map(teams.map((t) => [t.id, Array.from({ length: 4 }, () => hex(24))]));

    // Patients and their phone identities.
    const patients: { id: string; phone: string; nameEnc: string; contactEnc: string; identityId: string }[] = [];
    let patientDocs: PatientDoc[] = [];
    let identityDocs: IdentityDoc[] = [];
    const createdAt = new Date(now.getTime() - 90 * DAY_MS);
    for (let p = 0; p < patientTotal; p++) {
      const id = hex(24);
      const phone = normalizePhone(seededPhone(p), config.defaultPhoneRegion);
      const name = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
      const nameEnc = cipher.encrypt(name);
      const conversationsOf = p < conversationTotal ? Math.floor((conversationTotal - 1 - p) / patientTotal) + 1 : 0;
      const identityId = `phone:${cipher.blindIndex('phone', phone)}`;
      patients.push({ id, phone, nameEnc, contactEnc: cipher.encrypt(phone), identityId });
      const consentAt = new Date(createdAt.getTime() + 60_000);
      patientDocs.push({
        _id: id,
        nameEnc,
        preferences: { channel: null, language: null, timezone: null },
        consent: { sms: { status: 'opted_in', at: consentAt, source: 'inbound_sms' }, email: { status: 'unknown' }, webchat: { status: 'unknown' } },
        consentHistory: [{ channel: 'sms', status: 'opted_in', at: consentAt, source: 'inbound_sms' }],
        latestConversationId: conversationsOf ? `${id}-${conversationsOf}` : null,
        conversationCount: conversationsOf,
        claimedContacts: [],
        mergedInto: null,
        contactCardRevision: null,
        smsSender: null,
        dateOfBirthEnc: null,
        mrnEnc: null,
        ...patientKeys(cipher, { name, dateOfBirth: null, mrn: null }),
        teamIds: [],
        createdBy: null,
        csat: null,
        outreach: null,
        createdAt,
        updatedAt: createdAt,
      });
      identityDocs.push({
        ...newIdentityDoc({ cipher, clock: () => createdAt }, identityId, { kind: 'phone', value: phone }, id, 'inbound_sms'),
        verifiedBy: null,
        sharedAt: null,
        mergedFromPatientId: null,
        relation: null,
        contactNameEnc: null,
        contactConsent: null,
        undeliverableReason: null,
        routeToTeamId: null,
        linkedBy: null,
        linkedAt: null,
        tokensRevokedAt: null,
      });
      if (patientDocs.length === BATCH) {
        await insert(raw<PatientDoc>(db.models.Patient), patientDocs, 'patients');
        await insert(raw<IdentityDoc>(db.models.Identity), identityDocs, 'identities');
        patientDocs = [];
        identityDocs = [];
      }
    }
    await insert(raw<PatientDoc>(db.models.Patient), patientDocs, 'patients');
    await insert(raw<IdentityDoc>(db.models.Identity), identityDocs, 'identities');
    const patientsMs = performance.now() - started - indexesMs;

    // Conversations and their messages.
    const conversationIds: string[] = [];
    const seen = new Array<number>(patientTotal).fill(0);
    let conversationDocs: ConversationDoc[] = [];
    let messageDocs: MessageDoc[] = [];
    let lastProgress = performance.now();
    for (let i = 0; i < conversationTotal; i++) {
      const p = i % patientTotal;
      const patient = patients[p]!;
      const n = ++seen[p]!;
      const id = `${patient.id}-${n}`;
      conversationIds.push(id);
      const isLatest = i + patientTotal >= conversationTotal;
      const roll = random();
      const status: ConversationStatus = !isLatest ? 'resolved' : roll < 0.6 ? 'open' : roll < 0.75 ? 'pending' : 'resolved';
      const team = pickTeam();
      const assigned = status === 'resolved' || random() < 0.6;
      const channelRoll = random();
      const channels: ChannelId[] = channelRoll < 0.45 ? ['sms'] : channelRoll < 0.7 ? ['email'] : channelRoll < 0.85 ? ['webchat'] : ['sms', 'email'];
      const lastMessageAt = new Date(Math.floor((now.getTime() - random() * 30 * DAY_MS) / 60_000) * 60_000);
      const openedAt = new Date(lastMessageAt.getTime() - Math.floor(random() * 2 * DAY_MS));
      const priority: Priority = random() < 0.1 ? 'high' : random() < 0.02 ? 'urgent' : 'normal';
      const assigneeId = assigned ? pick(assignees.get(team.id)!) : null;
      const channel = channels[0]!;

      // Messages from openedAt to lastMessageAt, inbound first, then alternating.
      let preview = '';
      let previewDirection: 'inbound' | 'outbound' = 'inbound';
      let lastInboundAt: Date | null = null;
      let firstResponseAt: Date | null = null;
      for (let seq = 1; seq <= perConversation; seq++) {
        const at = new Date(perConversation === 1 ? lastMessageAt.getTime() : openedAt.getTime() + Math.round(((lastMessageAt.getTime() - openedAt.getTime()) * (seq - 1)) / (perConversation - 1)));
        const inbound = seq % 2 === 1;
        const body = inbound ? pick(INBOUND) : pick(OUTBOUND);
        const providerKey = inbound ? (channel === 'sms' ? `twilio:SM${hex(32)}` : `${channel === 'email' ? 'sendgrid' : 'webchat'}:${hex(32)}`) : undefined;
        const _id = providerKey ? messageIdFor(providerKey) : hex(24);
        const deliveryStatus = inbound ? 'received' : 'delivered';
        messageDocs.push({
          _id,
          conversationId: id,
          patientId: patient.id,
          seq,
          seqKey: `${id}:${seq}`,
          providerKey: providerKey ?? `hub:${_id}`,
          providerMessageId: inbound ? null : channel === 'sms' ? `SM${hex(32)}` : null,
          direction: inbound ? 'inbound' : 'outbound',
          channel,
          kind: 'text',
          bodyEnc: cipher.encrypt(body),
          attachments: [],
          author: inbound ? { type: 'patient', agentId: null } : { type: 'agent', agentId: assigneeId ?? pick(assignees.get(team.id)!) },
          clientId: null,
          channelReason: inbound ? null : 'last_inbound_channel',
          recipientIdentityId: !inbound && channel === 'sms' ? patient.identityId : null,
          senderIdentityId: inbound && channel === 'sms' ? patient.identityId : null,
          senderTrust: inbound && channel === 'sms' ? 'verified' : null,
          senderUnauthenticated: null,
          emailMessageId: null,
          delivery: {
            status: deliveryStatus,
            history: inbound ? [{ status: 'received', at }] : [{ status: 'queued', at }, { status: 'sent', at }, { status: 'delivered', at }],
            error: null,
          },
          outboxDueAt: null,
          attempts: inbound ? 0 : 1,
          createdAt: at,
        });
        preview = body;
        previewDirection = inbound ? 'inbound' : 'outbound';
        if (inbound) lastInboundAt = at;
        else firstResponseAt ??= at;
      }

      conversationDocs.push({
        _id: id,
        patientId: patient.id,
        status,
        assigneeId,
        teamId: team.id,
        priority,
        subject: null,
        channels,
        lastInboundChannel: channel,
        lastInboundAt,
        lastMessageAt,
        lastSeq: perConversation,
        previewEnc: cipher.encrypt(preview),
        previewDirection,
        patientNameEnc: patient.nameEnc,
        patientContactEnc: patient.contactEnc,
        possibleOptOut: null,
        triage: null,
        afterHoursKey: null,
        awaitingDepartment: null,
        waitingSince: null,
        escalatedAt: null,
        unreadCount: status === 'resolved' || previewDirection === 'outbound' ? 0 : 1,
        messageCount: perConversation,
        openedAt,
        firstResponseAt,
        assignedAt: assigneeId ? openedAt : null,
        resolvedAt: status === 'resolved' ? lastMessageAt : null,
        reopenedAt: null,
        reopenCount: 0,
        updatedAt: lastMessageAt,
      });
      if (conversationDocs.length === BATCH) {
        await insert(raw<ConversationDoc>(db.models.Conversation), conversationDocs, 'conversations');
        conversationDocs = [];
      }
      while (messageDocs.length >= BATCH) await insert(raw<MessageDoc>(db.models.Message), messageDocs.splice(0, BATCH), 'messages');
      if (performance.now() - lastProgress > 10_000) {
        lastProgress = performance.now();
        log(`seeding: ${counts.conversations!.toLocaleString('en-US')} / ${conversationTotal.toLocaleString('en-US')} conversations, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    await insert(raw<ConversationDoc>(db.models.Conversation), conversationDocs, 'conversations');
    await insert(raw<MessageDoc>(db.models.Message), messageDocs, 'messages');
    const ms = performance.now() - started;
    log(
      `seeded ${Object.entries(counts).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ')} in ${(ms / 1000).toFixed(1)} s ` +
        `(indexes ${(indexesMs / 1000).toFixed(1)} s, patients+identities ${(patientsMs / 1000).toFixed(1)} s, conversations+messages ${((ms - indexesMs - patientsMs) / 1000).toFixed(1)} s)`,
    );
    return { patients: patients.map((p) => ({ id: p.id, phone: p.phone })), conversationIds, ms, counts };
  } finally {
    await db.close();
  }
}
