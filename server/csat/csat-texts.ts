/**
 * What the satisfaction survey says, in English, Spanish and Italian. No PHI:
 * the clinic's name, the question, and (by email) a link that names a survey,
 * not the patient or the conversation.
 *
 * The SMS texts stay within GSM-7 (a plain hyphen in "1-5", no curly quotes),
 * so they cost one segment with a clinic name of ordinary length.
 */
import type { ChannelId } from '../../channels/channel-id.ts';

export type CsatLanguage = 'en' | 'es' | 'it';

export function csatLanguageOf(preferred: string | null | undefined, fallback: CsatLanguage): CsatLanguage {
  const primary = (preferred ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return primary === 'en' || primary === 'es' || primary === 'it' ? primary : fallback;
}

export function surveySms(language: CsatLanguage, clinic: string): string {
  switch (language) {
    case 'es':
      return `${clinic}: ¿Qué tal le atendimos? Responda del 1 al 5 (5 = excelente). Puede añadir un comentario después del número.`;
    case 'it':
      return `${clinic}: Come siamo andati? Risponda da 1 a 5 (5 = ottimo). Può aggiungere un commento dopo il numero.`;
    default:
      return `${clinic}: How did we do? Reply 1-5 (5 = great). You can add a comment after the number.`;
  }
}

export function surveyEmail(language: CsatLanguage, clinic: string, link: string): string {
  switch (language) {
    case 'es':
      return `Gracias por escribir a ${clinic}. ¿Qué tal le atendimos?\n\nDíganoslo en un momento (el enlace funciona durante 7 días):\n${link}`;
    case 'it':
      return `Grazie per aver scritto a ${clinic}. Come siamo andati?\n\nCe lo dica in un attimo (il link funziona per 7 giorni):\n${link}`;
    default:
      return `Thank you for writing to ${clinic}. How did we do?\n\nTell us in a moment (the link works for 7 days):\n${link}`;
  }
}

const ANSWERED_ON: Record<ChannelId, string> = { sms: 'by text message', email: 'on the survey page (email link)', webchat: 'in the web chat' };

/** The timeline event agents read (in the hub's language, like its other events); the comment is PHI and sealed with it. */
export function answerEvent(score: number, comment: string | null, channel: ChannelId): string {
  return `Satisfaction survey answered ${ANSWERED_ON[channel]}: ${score} of 5${comment ? `. Comment: “${comment}”` : ' (no comment)'}`;
}

export const WEBCHAT_SURVEY_EVENT = 'Satisfaction survey offered in the web chat';

/** The survey page (GET /csat/:token). */
export interface CsatPageStrings {
  title: string;
  intro: (clinic: string) => string;
  legend: string;
  options: [string, string, string, string, string];
  comment: string;
  commentHint: string;
  send: string;
  thanks: string;
  thanksMore: string;
  already: string;
  chooseScore: string;
  commentTooLong: string;
  invalid: string;
  expired: string;
  errorPrefix: string;
}

export const PAGE_STRINGS: Record<CsatLanguage, CsatPageStrings> = {
  en: {
    title: 'How did we do?',
    intro: (c) => `Thank you for contacting ${c}. How would you rate our help?`,
    legend: 'Your rating',
    options: ['1 – Very poor', '2 – Poor', '3 – OK', '4 – Good', '5 – Great'],
    comment: 'Anything you would like to add? (optional)',
    commentHint: 'Please do not write medical questions here: message us as usual instead.',
    send: 'Send',
    thanks: 'Thank you for your feedback.',
    thanksMore: 'It helps us care for you better.',
    already: 'Thank you: we already have your answer.',
    chooseScore: 'Please choose a rating from 1 to 5.',
    commentTooLong: 'Please keep your comment to 1,000 characters.',
    invalid: 'This link is not valid. If you need us, please contact the clinic.',
    expired: 'This survey has closed. Thank you all the same.',
    errorPrefix: 'Error:',
  },
  es: {
    title: '¿Qué tal le atendimos?',
    intro: (c) => `Gracias por contactar con ${c}. ¿Cómo valora nuestra ayuda?`,
    legend: 'Su valoración',
    options: ['1 – Muy mal', '2 – Mal', '3 – Regular', '4 – Bien', '5 – Excelente'],
    comment: '¿Quiere añadir algo? (opcional)',
    commentHint: 'No escriba aquí consultas médicas: escríbanos como siempre.',
    send: 'Enviar',
    thanks: 'Gracias por su opinión.',
    thanksMore: 'Nos ayuda a atenderle mejor.',
    already: 'Gracias: ya tenemos su respuesta.',
    chooseScore: 'Elija una valoración del 1 al 5.',
    commentTooLong: 'El comentario puede tener como máximo 1000 caracteres.',
    invalid: 'Este enlace no es válido. Si nos necesita, contacte con la clínica.',
    expired: 'Esta encuesta ya está cerrada. Gracias de todos modos.',
    errorPrefix: 'Error:',
  },
  it: {
    title: 'Come siamo andati?',
    intro: (c) => `Grazie per aver contattato ${c}. Come valuta il nostro aiuto?`,
    legend: 'La sua valutazione',
    options: ['1 – Molto male', '2 – Male', '3 – Così così', '4 – Bene', '5 – Ottimo'],
    comment: 'Vuole aggiungere qualcosa? (facoltativo)',
    commentHint: 'Non scriva qui domande mediche: ci scriva come di consueto.',
    send: 'Invia',
    thanks: 'Grazie per il suo parere.',
    thanksMore: 'Ci aiuta a prenderci cura di lei.',
    already: 'Grazie: abbiamo già la sua risposta.',
    chooseScore: 'Scelga una valutazione da 1 a 5.',
    commentTooLong: 'Il commento può avere al massimo 1000 caratteri.',
    invalid: 'Questo link non è valido. Se ha bisogno di noi, contatti la clinica.',
    expired: 'Questo sondaggio è chiuso. Grazie comunque.',
    errorPrefix: 'Errore:',
  },
};
