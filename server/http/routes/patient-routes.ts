import { z } from 'zod';
import { loadPatientFor as loadVisiblePatient, visibleConversationsFilter, type Actor } from '../../access/access-policy.ts';
import type { HubServices } from '../../hub-services.ts';
import { toConversationRecord, toPatientRecord } from '../../timeline/records.ts';
import { defineRoute } from '../route.ts';
import { patientRegistryRoutes } from './patient-registry-routes.ts';
import { CHANNEL_IDS } from '../../../channels/channel-id.ts';

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export function patientRoutes(hub: HubServices) {
  const { timeline } = hub;
  /** A patient the actor may see (access-policy.ts), with the conversations they may see. */
  const loadPatientFor = async (actor: Actor, id: string) => {
    const patient = await loadVisiblePatient(timeline.models, actor, id);
    const conversations = await timeline.models.Conversation.find({ $and: [{ patientId: patient._id }, visibleConversationsFilter(actor)] })
      .sort({ openedAt: -1 })
      .limit(50)
      .lean();
    return { patient, conversations };
  };
  return [
    ...patientRegistryRoutes(hub),
    defineRoute({
      method: 'get', path: '/api/patients/:id', tag: 'patients', auth: 'agent', audit: 'patient.read',
      summary: 'A patient’s profile: identities, consent with history, preferences, conversations the agent may see',
      params: z.object({ id: z.string().min(1).max(100) }),
      responses: { 200: { description: 'The patient' } },
      handler: async ({ actor, params, scope }) => {
        scope.patientId = params.id;
        const { patient, conversations } = await loadPatientFor(actor, params.id);
        const identities = await timeline.models.Identity.find({ patientId: patient._id }).lean();
        return {
          ...toPatientRecord(patient, identities, timeline.cipher),
          conversations: conversations.map((c) => toConversationRecord(c, timeline.cipher)),
        };
      },
    }),
    defineRoute({
      method: 'patch', path: '/api/patients/:id/preferences', tag: 'patients', auth: 'agent', audit: 'patient.update',
      summary: 'Set the patient’s preferred channel, language and time zone (null clears one)',
      params: z.object({ id: z.string().min(1).max(100) }),
      body: z.object({
        channel: z.enum(CHANNEL_IDS).nullable().optional(),
        language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag such as en, es or it-IT').nullable().optional(),
        timezone: z.string().max(64).refine(isTimeZone, 'an IANA time zone such as America/New_York').nullable().optional(),
      }),
      responses: { 200: { description: 'The preferences' } },
      handler: async ({ actor, params, body, scope }) => {
        scope.patientId = params.id;
        const { patient } = await loadPatientFor(actor, params.id);
        const set = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined).map(([k, v]) => [`preferences.${k}`, v]));
        const updated = await timeline.locks.run(`patient:${patient._id}`, () =>
          timeline.models.Patient.findOneAndUpdate({ _id: patient._id }, { $set: { ...set, updatedAt: timeline.clock() } }, { returnDocument: 'after', lean: true }).orFail(),
        );
        return updated.preferences;
      },
    }),
  ];
}
