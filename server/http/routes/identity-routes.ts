/**
 * Identity review: the suggestions queue, and what agents decide about
 * identities (verify, shared, detach) and patients (merge). Every decision
 * carries a reason and is in the audit trail; nothing here happens on its own.
 */
import { z } from 'zod';
import { canAccessPatient, visibleConversationsFilter, type Actor, type AuditScope } from '../../access/access-policy.ts';
import { forbidden, HiddenFromActor, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import type { PatientDoc } from '../../db/documents.ts';
import { EVIDENCE_WORDS, type SuggestionEvidence } from '../../timeline/identity/identity-suggestions.ts';
import { detachIdentity, identityOfPatient, markIdentityShared, mergePatientsByAgent, verifyIdentity } from '../../timeline/identity/identity-review.ts';
import { toIdentityRecord } from '../../timeline/records.ts';
import { defineRoute, Reply } from '../route.ts';
import { AppError } from '../../errors.ts';
import { addRelatedContact } from '../../timeline/identity/related-contacts.ts';

const reason = z.string().trim().min(10, 'say why, in at least 10 characters').max(500);
const patientParams = z.object({ id: z.string().min(1).max(100) });
const identityParams = z.object({ id: z.string().min(1).max(100), identityId: z.string().min(1).max(200) });

const canReview = (actor: Actor) => actor.role === 'supervisor' || actor.role === 'admin';

export function identityRoutes(hub: HubServices) {
  const { timeline } = hub;
  const { models } = timeline;

  /** A patient the actor may act on (access-policy.ts: a conversation they may see, or registered by their team; admins: any). */
  async function patientFor(actor: Actor, patientId: string, field?: string): Promise<PatientDoc> {
    const patient = await models.Patient.findById(patientId).lean();
    if (!patient) throw field ? notFound(`Patient ${field}`) : notFound('Patient');
    const conversations = await models.Conversation.find({ $and: [{ patientId: patient._id }, visibleConversationsFilter(actor)] }, { teamId: 1, assigneeId: 1 }).limit(1).lean();
    if (!canAccessPatient(actor, patient, conversations)) throw new HiddenFromActor(field ? `Patient ${field}` : 'Patient');
    return patient;
  }
  /** The identity a decision is about (of a patient the actor may act on), with the audit entry's scope filled in. */
  async function identityFor(actor: Actor, params: { id: string; identityId: string }, reason: string, scope: AuditScope) {
    const patient = await patientFor(actor, params.id);
    const identity = await identityOfPatient(timeline, patient._id, params.identityId);
    Object.assign(scope, { patientId: patient._id, reason, details: { identityId: identity._id } });
    return identity;
  }
  const reviewer = (actor: Actor) => {
    if (!canReview(actor)) throw forbidden('Only supervisors and administrators review identities');
  };

  return [
    defineRoute({
      method: 'get', path: '/api/identity/suggestions', tag: 'identity', auth: 'agent', audit: 'identity.suggestions.read',
      summary: 'Possible same-person pairs and shared identities to review, with the evidence (supervisors, admins)',
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      responses: { 200: { description: '{items: [{id, kind, evidence, evidenceText, occurrences, identity, patients}], nextCursor: null}' } },
      handler: async ({ actor, query }) => {
        reviewer(actor);
        const open = await models.IdentitySuggestion.find({ resolvedAt: null }).sort({ lastSeenAt: -1 }).limit(500).lean();
        const items = [];
        for (const s of open) {
          if (items.length >= query.limit) break;
          const patients = await Promise.all(s.patientIds.map((id) => patientFor(actor, id).catch(() => null)));
          if (patients.some((p) => p === null)) continue; // only pairs the reviewer may see both sides of
          const identity = s.identityId ? await models.Identity.findById(s.identityId).lean() : null;
          items.push({
            id: s._id,
            kind: s.evidence === 'code_to_shared_identity' ? 'shared_identity' : 'same_person',
            evidence: s.evidence,
            evidenceText: EVIDENCE_WORDS[s.evidence as SuggestionEvidence] ?? s.evidence,
            occurrences: s.occurrences,
            lastSeenAt: new Date(s.lastSeenAt).toISOString(),
            identity: identity ? toIdentityRecord(identity, timeline.cipher) : null,
            patients: patients.map((p) => ({ id: p!._id, name: p!.nameEnc ? timeline.cipher.decrypt(p!.nameEnc) : null, latestConversationId: p!.latestConversationId })),
          });
        }
        return { items, nextCursor: null };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/merge', tag: 'identity', auth: 'agent', audit: 'patient.merge',
      summary: 'Merge this patient into another after review, with the reason (supervisors, admins; undo by detaching identities)',
      params: patientParams,
      body: z.object({ intoPatientId: z.string().min(1).max(100), reason }),
      responses: { 200: { description: '{patientId, conversationId, movedMessages}' } },
      handler: async ({ actor, params, body, scope }) => {
        reviewer(actor);
        const from = await patientFor(actor, params.id);
        const into = await patientFor(actor, body.intoPatientId, 'intoPatientId');
        Object.assign(scope, { patientId: into._id, reason: body.reason, details: { mergedPatientId: from._id } });
        const outcome = await mergePatientsByAgent(timeline, from, into, { actor, reason: body.reason });
        return { patientId: into._id, ...outcome };
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/identities/:identityId/detach', tag: 'identity', auth: 'agent', audit: 'identity.detach',
      summary: 'Take an identity off this patient, with its messages: back to the patient a merge took it from, or to a new one (supervisors, admins)',
      params: identityParams,
      body: z.object({ reason }),
      responses: { 200: { description: '{patientId, conversationId, movedMessages, restored}' } },
      handler: async ({ actor, params, body, scope }) => {
        reviewer(actor);
        const identity = await identityFor(actor, params, body.reason, scope);
        const outcome = await detachIdentity(timeline, identity, body.reason, actor.agentId);
        Object.assign(scope.details!, { toPatientId: outcome.patientId, movedMessages: outcome.movedMessages });
        return outcome;
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/identities/:identityId/verify', tag: 'identity', auth: 'agent', audit: 'identity.verify',
      summary: 'Verify an identity the patient proved to you (e.g. on a call), with the reason: it may then get auto replies and PHI',
      params: identityParams,
      body: z.object({ reason }),
      responses: { 200: { description: 'The identity' } },
      handler: async ({ actor, params, body, scope }) => {
        const identity = await identityFor(actor, params, body.reason, scope);
        scope.details!.was = identity.trust ?? null;
        return toIdentityRecord(await verifyIdentity(timeline, identity, actor.agentId), timeline.cipher);
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/related-contacts', tag: 'identity', auth: 'agent', audit: 'patient.update',
      summary: 'Add a guardian or caregiver with their own consent: replies reach them only when an agent chooses them',
      params: patientParams,
      body: z.object({
        kind: z.enum(['phone', 'email']),
        value: z.string().trim().min(3).max(320),
        relation: z.enum(['guardian', 'caregiver']),
        name: z.string().trim().min(1, 'the contact’s name').max(200),
        consent: z.boolean().describe('the contact agreed to receive messages at this address'),
        reason,
      }),
      responses: { 201: { description: 'The contact, as an identity of the patient with its relation' } },
      handler: async ({ actor, params, body, scope }) => {
        const patient = await patientFor(actor, params.id);
        const { reason: why, ...contact } = body;
        const identity = await addRelatedContact(timeline, patient._id, contact).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'CONFLICT' && error.details.field === contact.kind) {
            throw new AppError('CONFLICT', `value: that ${contact.kind} belongs to another patient; review it before adding it here`, { field: 'value' });
          }
          throw error;
        });
        Object.assign(scope, { patientId: patient._id, reason: why, details: { identityId: identity._id, relation: contact.relation, consent: contact.consent } });
        return new Reply(201, toIdentityRecord(identity, timeline.cipher));
      },
    }),
    defineRoute({
      method: 'post', path: '/api/patients/:id/identities/:identityId/shared', tag: 'identity', auth: 'agent', audit: 'identity.share',
      summary: 'Mark an identity as used by several people (a family phone) or not, with the reason',
      params: identityParams,
      body: z.object({ shared: z.boolean(), reason }),
      responses: { 200: { description: 'The identity' } },
      handler: async ({ actor, params, body, scope }) => {
        const identity = await identityFor(actor, params, body.reason, scope);
        scope.details!.shared = body.shared;
        return toIdentityRecord(await markIdentityShared(timeline, identity, body.shared), timeline.cipher);
      },
    }),
  ];
}
