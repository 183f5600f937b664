/**
 * What scheduled outreach says by itself: the short acknowledgement a patient
 * gets after answering a reminder (en, es, it; GSM-7, no PHI), and the
 * timeline events agents read (in the hub's language, like its other events).
 */
import type { ScheduledStatus } from '../../db/documents.ts';
import type { TemplateLanguage } from '../templates/template-text.ts';
import type { ReminderReading } from './reminder-replies.ts';

export const STATUS_OF: Record<ReminderReading, Extract<ScheduledStatus, 'confirmed' | 'cancelled' | 'reschedule_requested'>> = {
  confirm: 'confirmed',
  cancel: 'cancelled',
  reschedule: 'reschedule_requested',
};

const ACKS: Record<TemplateLanguage, Record<ReminderReading, (clinic: string) => string>> = {
  en: {
    confirm: (c) => `${c}: thank you, your appointment is confirmed.`,
    cancel: (c) => `${c}: your appointment is cancelled. To book a new one, reply here or call us.`,
    reschedule: (c) => `${c}: thank you, our team will contact you to find a new time.`,
  },
  es: {
    confirm: (c) => `${c}: gracias, su cita queda confirmada.`,
    cancel: (c) => `${c}: su cita queda cancelada. Para pedir otra, responda aqui o llamenos.`,
    reschedule: (c) => `${c}: gracias, nuestro equipo le contactara para buscar otra hora.`,
  },
  it: {
    confirm: (c) => `${c}: grazie, l'appuntamento è confermato.`,
    cancel: (c) => `${c}: l'appuntamento è annullato. Per fissarne un altro risponda qui o ci chiami.`,
    reschedule: (c) => `${c}: grazie, il nostro team la contatterà per trovare un nuovo orario.`,
  },
};

export function acknowledgement(language: TemplateLanguage, reading: ReminderReading, clinic: string): string {
  return ACKS[language][reading](clinic);
}

const READ_AS: Record<ReminderReading, string> = {
  confirm: 'confirmed',
  cancel: 'cancelled',
  reschedule: 'asked to reschedule',
};

/** The event agents see in the thread; the patient's words are PHI and sealed with it. */
export function replyEvent(reading: ReminderReading, words: string): string {
  return `Reminder ${reading === 'reschedule' ? 'reply: the patient asked to reschedule' : READ_AS[reading] + ' by the patient'} (replied “${words.trim().slice(0, 160)}”)`;
}

const SKIPPED: Record<string, string> = {
  no_consent: 'the patient has not consented to messages on that channel',
  opted_out: 'the patient opted out of that channel',
  no_verified_identity: 'the patient has no verified address on that channel',
  identity_not_verified: 'the patient’s address on that channel is not verified',
  undeliverable: 'the patient’s address on that channel cannot receive messages',
  no_reachable_channel: 'the patient cannot be reached by text or email with consent',
};

export function skippedEvent(kind: string, reason: string): string {
  return `Scheduled ${kind.replace('_', ' ')} not sent: ${SKIPPED[reason] ?? reason}`;
}
