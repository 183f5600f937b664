/**
 * The templates a clinic has before it writes its own: an appointment
 * reminder, a results-ready notice and a follow-up, in English, Spanish and
 * Italian, each with a PHI-free variant. A template saved under the same name
 * (PUT /api/templates/:name) replaces one of these; deleting it brings this
 * one back.
 *
 * The SMS texts keep to GSM-7 (no curly quotes; in Spanish no á/í/ó/ú), so a
 * reminder with a clinic name of ordinary length fits one or two segments.
 * "Reply C … X … R" is what server/outreach/scheduled/reminder-replies.ts reads.
 */
import type { TemplateLanguage } from './template-text.ts';

export const SCHEDULED_KINDS = ['reminder', 'follow_up', 'results_ready'] as const;
export type ScheduledKind = (typeof SCHEDULED_KINDS)[number];

export interface TemplateDefinition {
  name: string;
  kind: ScheduledKind;
  description: string;
  /** The message as written, per language (at least one). */
  bodies: Partial<Record<TemplateLanguage, string>>;
  /** Without clinical detail, with {{link}} to the secure chat: used when PHI_SAFE_NOTIFICATIONS is on. */
  phiFreeBodies: Partial<Record<TemplateLanguage, string>>;
  /** Email subject per language (no PHI: it shows in mailbox lists and notifications). */
  subjects: Partial<Record<TemplateLanguage, string>>;
  /** Replies are read as confirm / cancel / reschedule. */
  expectsReply: boolean;
}

export const DEFAULT_TEMPLATES: readonly TemplateDefinition[] = [
  {
    name: 'appointment_reminder',
    kind: 'reminder',
    description: 'Appointment reminder that asks the patient to confirm, cancel or reschedule',
    expectsReply: true,
    bodies: {
      en: 'Hi {{firstName}}, this is {{clinicName}}: a reminder of your appointment on {{date}} at {{time}} ({{location}}). Reply C to confirm, X to cancel or R to reschedule.',
      es: 'Hola {{firstName}}, le escribe {{clinicName}}: le recordamos su cita el {{date}} a las {{time}} ({{location}}). Responda C para confirmar, X para cancelar o R para cambiar la cita.',
      it: 'Buongiorno {{firstName}}, da {{clinicName}}: le ricordiamo l\'appuntamento di {{date}} alle {{time}} ({{location}}). Risponda C per confermare, X per annullare o R per spostarlo.',
    },
    phiFreeBodies: {
      en: 'Hi {{firstName}}, {{clinicName}} reminds you of your appointment on {{date}} at {{time}}. Details: {{link}} Reply C to confirm, X to cancel or R to reschedule.',
      es: 'Hola {{firstName}}, {{clinicName}} le recuerda su cita el {{date}} a las {{time}}. Detalles: {{link}} Responda C para confirmar, X para cancelar o R para cambiar la cita.',
      it: 'Buongiorno {{firstName}}, {{clinicName}} le ricorda l\'appuntamento di {{date}} alle {{time}}. Dettagli: {{link}} Risponda C per confermare, X per annullare o R per spostarlo.',
    },
    subjects: { en: 'Your appointment reminder', es: 'Recordatorio de su cita', it: 'Promemoria del suo appuntamento' },
  },
  {
    name: 'results_ready',
    kind: 'results_ready',
    description: 'Results are ready to read in the secure chat (never the result itself)',
    expectsReply: false,
    bodies: {
      en: 'Hi {{firstName}}, {{clinicName}} here: your results are ready. Read them securely here: {{link}}',
      es: 'Hola {{firstName}}, le escribe {{clinicName}}: sus resultados ya estan disponibles. Consultelos de forma segura aqui: {{link}}',
      it: 'Buongiorno {{firstName}}, da {{clinicName}}: i suoi risultati sono pronti. Li legga in modo sicuro qui: {{link}}',
    },
    phiFreeBodies: {
      en: 'Hi {{firstName}}, you have a new secure message from {{clinicName}}: {{link}}',
      es: 'Hola {{firstName}}, tiene un nuevo mensaje seguro de {{clinicName}}: {{link}}',
      it: 'Buongiorno {{firstName}}, ha un nuovo messaggio sicuro da {{clinicName}}: {{link}}',
    },
    subjects: { en: 'A secure message from your clinic', es: 'Un mensaje seguro de su clinica', it: 'Un messaggio sicuro dalla sua clinica' },
  },
  {
    name: 'follow_up',
    kind: 'follow_up',
    description: 'A check-in after a visit; replies go to the team like any message',
    expectsReply: false,
    bodies: {
      en: 'Hi {{firstName}}, {{clinicName}} checking in after your visit on {{date}}. How are you feeling? Reply here if you have any questions.',
      es: 'Hola {{firstName}}, {{clinicName}} quiere saber como se encuentra tras su visita del {{date}}. Si tiene preguntas, responda a este mensaje.',
      it: 'Buongiorno {{firstName}}, {{clinicName}} vorrebbe sapere come sta dopo la visita di {{date}}. Per qualsiasi domanda risponda a questo messaggio.',
    },
    phiFreeBodies: {
      en: 'Hi {{firstName}}, {{clinicName}} is checking in after your visit. Reply here or read more: {{link}}',
      es: 'Hola {{firstName}}, {{clinicName}} quiere saber como se encuentra. Responda aqui o lea mas: {{link}}',
      it: 'Buongiorno {{firstName}}, {{clinicName}} vorrebbe sapere come sta. Risponda qui o legga di piu: {{link}}',
    },
    subjects: { en: 'How are you feeling?', es: 'Como se encuentra?', it: 'Come sta?' },
  },
];
