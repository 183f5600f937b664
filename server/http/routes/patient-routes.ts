import { z } from 'zod';
import { visibleConversationsFilter } from '../../access/access-policy.ts';
import { forbidden, notFound } from '../../errors.ts';
import type { HubServices } from '../../hub-services.ts';
import { toConversationRecord, toPatientRecord } from '../../timeline/records.ts';
import { defineRoute } from '../route.ts';

export function patientRoutes(hub: HubServices) {
  const { timeline } = hub;
  return [
    defineRoute({
      method: 'get', path: '/api/patients/:id', tag: 'patients', auth: 'agent',
      summary: 'A patient’s profile: identities, consent with history, preferences, conversations the agent may see',
      params: z.object({ id: z.string().min(1).max(100) }),
      responses: { 200: { description: 'The patient' } },
      handler: async ({ actor, params }) => {
        const patient = await timeline.models.Patient.findById(params.id).lean();
        if (!patient) throw notFound('Patient');
        const conversations = await timeline.models.Conversation.find({ $and: [{ patientId: patient._id }, visibleConversationsFilter(actor)] })
          .sort({ openedAt: -1 })
          .limit(50)
          .lean();
        // Seeing a patient requires seeing at least one of their conversations.
        if (conversations.length === 0) throw forbidden('None of this patient’s conversations are in your teams');
        const identities = await timeline.models.Identity.find({ patientId: patient._id }).lean();
        return {
          ...toPatientRecord(patient, identities, timeline.cipher),
          conversations: conversations.map((c) => toConversationRecord(c, timeline.cipher)),
        };
      },
    }),
  ];
}
