/**
 * Finding and registering patients (issue #19): search, create and edit,
 * consent given to staff, the clinic's first message, and CSV import. Access
 * follows access-policy.ts: another team's patient answers 404.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { CHANNEL_IDS } from '../../../channels/channel-id.ts';
import { hasHeaderBreak } from '../../../channels/email/header-text.ts';
import { loadPatientFor, visibleConversationsFilter, type Actor } from '../../access/access-policy.ts';
import type { PatientDoc } from '../../db/documents.ts';
import { AppError, forbidden } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { importPatients } from '../../timeline/patients/patient-import.ts';
import { canOverrideDuplicates, isTimeZone, LANGUAGE_TAG, registerPatient, updateRegisteredPatient } from '../../timeline/patients/patient-registry.ts';
import { searchPatients } from '../../timeline/patients/patient-search.ts';
import { recordStaffConsent } from '../../timeline/patients/staff-consent.ts';
import { startConversation } from '../../timeline/patients/start-conversation.ts';
import { toConversationRecord, toPatientRecord } from '../../timeline/records.ts';
import { defineRoute, Reply } from '../route.ts';

export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

const patientParams = z.object({ id: z.string().min(1).max(100) });
const contactFields = {
  dateOfBirth: z.string().max(20).nullable().optional().describe('YYYY-MM-DD or MM/DD/YYYY; null clears it'),
  mrn: z.string().max(40).nullable().optional().describe('medical record number: trimmed, uppercased; null clears it'),
  phone: z.string().trim().min(3).max(40).optional().describe('any common format; added as an asserted (unverified) identity'),
  email: z.string().trim().min(3).max(320).optional().describe('added as an asserted (unverified) identity'),
  preferredChannel: z.enum(CHANNEL_IDS).nullable().optional(),
  language: z.string().regex(LANGUAGE_TAG, 'a language tag such as en, es or it-IT').nullable().optional(),
  timezone: z.string().max(64).refine(isTimeZone, 'an IANA time zone such as America/New_York').nullable().optional(),
  allowDuplicate: z.boolean().default(false).describe('supervisors and admins: register even though a patient has the same name and date of birth'),
};
const name = z.string().trim().min(1, 'the patient’s name').max(200);

const patientShape = 'The patient: {id, name, dateOfBirth, mrn, teamIds, preferences, consent, consentHistory, identities (trust "asserted" for staff-entered), conversations}';
const duplicateAnswer = { description: 'DUPLICATE_PATIENT: {error, duplicates: [{id, name, reason: phone|email|mrn|name_and_date_of_birth}]} (id and name null for a patient you may not see); CONFLICT naming phone, email or mrn when it is another patient’s' };

export function patientRegistryRoutes(hub: HubServices) {
  const { timeline } = hub;
  const { models } = timeline;

  const recordOf = async (actor: Actor, patient: PatientDoc) => {
    const [identities, conversations] = await Promise.all([
      models.Identity.find({ patientId: patient._id }).lean(),
      models.Conversation.find({ $and: [{ patientId: patient._id }, visibleConversationsFilter(actor)] }).sort({ openedAt: -1 }).limit(50).lean(),
    ]);
    return { ...toPatientRecord(patient, identities, timeline.cipher), conversations: conversations.map((c) => toConversationRecord(c, timeline.cipher)) };
  };

  /** A new patient's team: the one asked for (one of the actor's; admins: any), else the actor's first. */
  const teamFor = async (actor: Actor, teamId: string | undefined): Promise<string> => {
    if (!teamId) return actor.teamIds[0] ?? timeline.settings.defaultTeamId;
    if (actor.role === 'admin' ? !(await models.Team.exists({ _id: teamId })) : !actor.teamIds.includes(teamId)) {
      throw new AppError('INVALID_INPUT', actor.role === 'admin' ? 'teamId: no such team' : 'teamId: not one of your teams', { field: 'teamId' });
    }
    return teamId;
  };
  const mayOverride = (actor: Actor, allowDuplicate: boolean) => {
    if (allowDuplicate && !canOverrideDuplicates(actor)) throw forbidden('Only supervisors and administrators may register a patient who matches another');
  };

  return [
    defineRoute({
      method: 'get', path: '/api/patients', tag: 'patients', auth: 'agent', audit: 'patient.search',
      summary: 'Find patients by exact phone (any format), exact email, name (words or prefixes of 3+ letters, accents ignored), date of birth or MRN',
      query: z.object({
        q: z.string({ error: 'a name, phone, email, date of birth or MRN' }).trim().min(2, 'at least 2 characters').max(100, 'at most 100 characters'),
        limit: z.coerce.number().int().min(1).max(50).default(20),
        cursor: z.string().max(200).optional(),
      }),
      responses: {
        200: {
          description:
            '{items: [{id, name, maskedPhone, maskedEmail, dateOfBirth, mrn, lastContactAt, openConversations: [{id, status, teamId, assigneeId, channels, lastInboundChannel, lastMessageAt}], teamIds, createdAt}], nextCursor, matchedBy}',
        },
      },
      handler: async ({ actor, query, scope }) => {
        const page = await searchPatients(timeline, actor, query);
        // The audit entry says what kind of query it was and how many it found, never the query.
        scope.details = { query: page.kind, results: page.items.length, page: query.cursor ? 'next' : 'first' };
        return { items: page.items, nextCursor: page.nextCursor, matchedBy: page.kind };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients', tag: 'patients', auth: 'agent', audit: 'patient.create',
      summary: 'Register a patient (phone and email are asserted, not verified); duplicates are refused with the matches',
      body: z.object({ name, ...contactFields, teamId: z.string().min(1).max(100).optional().describe('one of your teams (default: your first)') }),
      responses: { 201: { description: patientShape }, 409: duplicateAnswer },
      handler: async ({ actor, body, scope }) => {
        mayOverride(actor, body.allowDuplicate);
        const teamId = await teamFor(actor, body.teamId);
        const { patient, overridden } = await registerPatient(timeline, actor, { ...body, teamId });
        Object.assign(scope, { patientId: patient._id, details: { teamId, duplicatesOverridden: overridden.length } });
        return new Reply(201, await recordOf(actor, patient));
      },
    }),
    defineRoute({
      method: 'patch', path: '/api/patients/:id', tag: 'patients', auth: 'agent', audit: 'patient.update',
      summary: 'Change a patient’s name, date of birth, MRN or preferences, or add a phone or email (asserted; a verified one is never moved)',
      params: patientParams,
      body: z.object({ name: name.optional(), ...contactFields }),
      responses: { 200: { description: patientShape }, 409: duplicateAnswer },
      handler: async ({ actor, params, body, scope }) => {
        mayOverride(actor, body.allowDuplicate);
        const current = await loadPatientFor(models, actor, params.id, scope);
        const { patient, overridden } = await updateRegisteredPatient(timeline, actor, current._id, body);
        scope.details = { fields: Object.keys(body).filter((k) => k !== 'allowDuplicate' && body[k as keyof typeof body] !== undefined).join(','), duplicatesOverridden: overridden.length };
        return recordOf(actor, patient);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/consents', tag: 'patients', auth: 'agent', audit: 'patient.update',
      summary: 'Record consent the patient gave to staff (source staff:<method>); an SMS opt-in is refused while the patient’s own STOP stands',
      params: patientParams,
      body: z.object({
        channel: z.enum(['sms', 'email']),
        status: z.enum(['opted_in', 'opted_out']),
        method: z.enum(['verbal', 'written', 'portal', 'form']),
        wording: z.string().trim().min(10, 'the exact words the patient agreed to (at least 10 characters)').max(2000).optional().describe('required for opted_in'),
      }),
      responses: {
        201: { description: '{channel, status, at, source, wording, capturedBy, changed: true}' },
        200: { description: 'The patient was already in that state: nothing recorded (changed: false)' },
        409: { description: 'OPTED_OUT_BY_PATIENT: the latest SMS consent is the patient’s own opt-out by text; they text START' },
      },
      handler: async ({ actor, params, body, scope }) => {
        const patient = await loadPatientFor(models, actor, params.id, scope);
        const { changed, consent } = await recordStaffConsent(timeline, actor, patient._id, body);
        scope.details = { consent: `${body.channel}:${body.status}`, source: `staff:${body.method}`, changed };
        const answer = { channel: body.channel, status: consent.status, at: consent.at ? new Date(consent.at).toISOString() : null, source: consent.source ?? null, wording: consent.wording ?? null, capturedBy: consent.capturedBy ?? null, changed };
        return new Reply(changed ? 201 : 200, answer);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/conversations', tag: 'patients', auth: 'agent', audit: 'message.create',
      summary: 'Write to the patient first: continues their open conversation or opens one (yours), the message queued like a reply',
      params: patientParams,
      body: z.object({
        channel: z.enum(['auto', 'sms', 'email']).default('auto'),
        body: z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10,000 characters'),
        subject: z.string().trim().min(1).max(200).refine((s) => !hasHeaderBreak(s), 'must be one line: no line breaks or control characters').optional().describe('email only'),
      }),
      responses: {
        201: { description: '{conversation, message, opened}' },
        409: { description: 'CONSENT_MISSING, IDENTITY_NOT_VERIFIED (a staff-entered address), NO_IDENTITY_FOR_CHANNEL, NO_REACHABLE_CHANNEL (field channel); CONFLICT when another team has the patient’s open conversation' },
      },
      handler: async ({ actor, params, body, scope }) => {
        const patient = await loadPatientFor(models, actor, params.id, scope);
        const started = await startConversation(timeline, actor, patient, body);
        Object.assign(scope, { conversationId: started.conversation.id, details: { opened: started.opened, channel: started.message.channel } });
        return new Reply(201, started);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/import', tag: 'patients', auth: 'admin', audit: 'patient.import',
      summary: 'Import patients from CSV (Content-Type: text/csv, UTF-8, up to 5 MB); rows matching a patient change nothing; bad rows are reported',
      query: z.object({ team: z.string().min(1).max(100).optional().describe('team for rows without one (default: your first team)') }),
      responses: { 200: { description: '{rows, created, existing, skipped: [{line, field, message}]}' } },
      handler: async ({ actor, query, req, scope }) => {
        const csv = await readCsvBody(req);
        const teamId = await teamFor(actor, query.team);
        const report = await importPatients(timeline, csv, { defaultTeamId: teamId, createdBy: actor.agentId });
        scope.details = { rows: report.rows, created: report.created, existing: report.existing, skipped: report.skipped.length };
        return report;
      },
    }),
  ];
}

const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/plain']);

/** The request body as UTF-8 text, at most MAX_IMPORT_BYTES. */
async function readCsvBody(req: Request): Promise<string> {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!CSV_TYPES.has(type)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as the body with Content-Type: text/csv', { field: 'Content-Type' });
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', 'The file is larger than 5 MB; split it');
  if (Number(req.get('content-length') ?? 0) > MAX_IMPORT_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_IMPORT_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AppError('INVALID_INPUT', 'file: not UTF-8 text; save it as “CSV UTF-8”', { field: 'file' });
  }
}
