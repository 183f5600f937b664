/**
 * Every string the widget shows or announces, in English, Spanish and
 * Italian, and the date, time and size formats of the chosen language.
 * (The consent wording beside the checkboxes comes from the hub's config.)
 */
import type { WidgetLanguage } from '../../server/realtime/widget-events.ts';

export interface Strings {
  launcher: (clinic: string) => string;
  unread: (count: number) => string;
  closeChat: string;
  prechatIntro: (clinic: string) => string;
  emergency: string;
  name: string;
  phone: string;
  department: string;
  departmentAny: string;
  email: string;
  consentLegend: string;
  startChat: string;
  starting: string;
  nameRequired: string;
  phoneInvalid: string;
  emailInvalid: string;
  connecting: string;
  tryAgain: string;
  networkError: string;
  genericError: string;
  chatOptions: string;
  continueSms: string;
  continueEmail: string;
  endChat: string;
  chatEnded: string;
  away: string;
  awayUntil: (when: string) => string;
  messages: string;
  message: string;
  send: string;
  attach: string;
  removeFile: (name: string) => string;
  you: string;
  sending: string;
  sent: string;
  uploading: string;
  notSent: (reason: string) => string;
  bySms: string;
  byEmail: string;
  typing: (clinic: string) => string;
  newMessage: (clinic: string, text: string) => string;
  files: (names: string) => string;
  download: (name: string) => string;
  loadFailed: (name: string) => string;
  fileTooLarge: (name: string, limit: string) => string;
  fileType: (name: string) => string;
  tooManyFiles: (max: number) => string;
  uploadFailed: (name: string, reason: string) => string;
  offline: string;
  continueIntroSms: string;
  continueIntroEmail: string;
  phoneAddress: string;
  emailAddress: string;
  phoneRequired: string;
  emailRequired: string;
  consentNeededSms: string;
  consentNeededEmail: string;
  sendCode: string;
  codeSent: (to: string) => string;
  code: string;
  verify: string;
  codeRequired: string;
  verifiedSms: (to: string) => string;
  verifiedEmail: (to: string) => string;
  backToChat: string;
  notConnected: string;
  csatQuestion: string;
  csatIntro: string;
  /** The accessible name of the n-th star button, with its meaning. */
  csatStar: (n: number) => string;
  csatComment: string;
  csatSend: string;
  csatNotNow: string;
  csatChoose: string;
  csatThanks: string;
}

const en: Strings = {
  launcher: (c) => `Chat with ${c}`,
  unread: (n) => (n === 1 ? '1 new message' : `${n} new messages`),
  closeChat: 'Close chat',
  prechatIntro: (c) => `Send us a message and ${c} will reply here.`,
  emergency: 'In an emergency, call your local emergency number.',
  name: 'Name',
  phone: 'Phone (optional)',
  department: 'What is it about?',
  departmentAny: 'Something else',
  email: 'Email (optional)',
  consentLegend: 'May we contact you? (optional)',
  startChat: 'Start chat',
  starting: 'Starting…',
  nameRequired: 'Please enter your name.',
  phoneInvalid: 'Please enter a valid phone number, or leave it empty.',
  emailInvalid: 'Please enter a valid email address, or leave it empty.',
  connecting: 'Connecting…',
  tryAgain: 'Try again',
  networkError: 'Could not reach the clinic. Check your connection and try again.',
  genericError: 'Something went wrong. Please try again.',
  chatOptions: 'Chat options',
  continueSms: 'Continue by text message',
  continueEmail: 'Continue by email',
  endChat: 'End chat',
  chatEnded: 'Your chat has ended and was removed from this device.',
  away: 'Our team is away right now. Leave a message and we will reply when we are back.',
  awayUntil: (w) => `We are back ${w}.`,
  messages: 'Messages',
  message: 'Message',
  send: 'Send',
  attach: 'Attach a file',
  removeFile: (n) => `Remove ${n}`,
  you: 'You',
  sending: 'Sending…',
  sent: 'Sent',
  uploading: 'Uploading…',
  notSent: (r) => `Not sent: ${r}`,
  bySms: 'by text',
  byEmail: 'by email',
  typing: (c) => `${c} is typing…`,
  newMessage: (c, t) => `New message from ${c}: ${t}`,
  files: (n) => `File: ${n}`,
  download: (n) => `Download ${n}`,
  loadFailed: (n) => `${n} could not be loaded.`,
  fileTooLarge: (n, l) => `${n} is too large. The limit is ${l}.`,
  fileType: (n) => `${n} cannot be sent: this type of file is not accepted.`,
  tooManyFiles: (m) => `You can attach up to ${m} files to one message.`,
  uploadFailed: (n, r) => `${n} could not be uploaded: ${r}`,
  offline: 'Offline. Your messages will be sent when the connection is back.',
  continueIntroSms: 'Get our replies by text message. We will send you a code to check that the phone is yours.',
  continueIntroEmail: 'Get our replies by email. We will send you a code to check that the address is yours.',
  phoneAddress: 'Mobile phone number',
  emailAddress: 'Email address',
  phoneRequired: 'Please enter your mobile phone number.',
  emailRequired: 'Please enter your email address.',
  consentNeededSms: 'We can only text you with your permission. Please tick the box to continue.',
  consentNeededEmail: 'We can only email you with your permission. Please tick the box to continue.',
  sendCode: 'Send code',
  codeSent: (t) => `We sent a code to ${t}. Enter it below.`,
  code: 'Code',
  verify: 'Verify',
  codeRequired: 'Please enter the code we sent you.',
  verifiedSms: (t) => `Verified. You can close this page: we will continue by text message at ${t}.`,
  verifiedEmail: (t) => `Verified. You can close this page: we will continue by email at ${t}.`,
  backToChat: 'Back to chat',
  notConnected: 'Not connected right now. Please try again in a moment.',
  csatQuestion: 'How did we do?',
  csatIntro: 'Rate this chat from 1 to 5 stars.',
  csatStar: (n) => `${n} of 5 stars: ${['very poor', 'poor', 'OK', 'good', 'great'][n - 1]}`,
  csatComment: 'Comment (optional)',
  csatSend: 'Send rating',
  csatNotNow: 'Not now',
  csatChoose: 'Please choose from 1 to 5 stars first.',
  csatThanks: 'Thank you for your feedback.',
};

const es: Strings = {
  launcher: (c) => `Chatear con ${c}`,
  unread: (n) => (n === 1 ? '1 mensaje nuevo' : `${n} mensajes nuevos`),
  closeChat: 'Cerrar chat',
  prechatIntro: (c) => `Escríbanos y ${c} le responderá aquí.`,
  emergency: 'En caso de emergencia, llame al número de emergencias local.',
  name: 'Nombre',
  phone: 'Teléfono (opcional)',
  department: '¿Sobre qué es?',
  departmentAny: 'Otra cosa',
  email: 'Correo electrónico (opcional)',
  consentLegend: '¿Podemos contactarle? (opcional)',
  startChat: 'Iniciar chat',
  starting: 'Iniciando…',
  nameRequired: 'Escriba su nombre.',
  phoneInvalid: 'Escriba un número de teléfono válido o deje el campo vacío.',
  emailInvalid: 'Escriba un correo electrónico válido o deje el campo vacío.',
  connecting: 'Conectando…',
  tryAgain: 'Reintentar',
  networkError: 'No se pudo conectar con la clínica. Compruebe su conexión e inténtelo de nuevo.',
  genericError: 'Algo salió mal. Inténtelo de nuevo.',
  chatOptions: 'Opciones del chat',
  continueSms: 'Continuar por mensaje de texto',
  continueEmail: 'Continuar por correo electrónico',
  endChat: 'Terminar chat',
  chatEnded: 'El chat ha terminado y se ha borrado de este dispositivo.',
  away: 'Nuestro equipo no está disponible ahora. Deje un mensaje y le responderemos cuando volvamos.',
  awayUntil: (w) => `Disponibles de nuevo: ${w}.`,
  messages: 'Mensajes',
  message: 'Mensaje',
  send: 'Enviar',
  attach: 'Adjuntar un archivo',
  removeFile: (n) => `Quitar ${n}`,
  you: 'Usted',
  sending: 'Enviando…',
  sent: 'Enviado',
  uploading: 'Subiendo…',
  notSent: (r) => `No enviado: ${r}`,
  bySms: 'por SMS',
  byEmail: 'por correo',
  typing: (c) => `${c} está escribiendo…`,
  newMessage: (c, t) => `Nuevo mensaje de ${c}: ${t}`,
  files: (n) => `Archivo: ${n}`,
  download: (n) => `Descargar ${n}`,
  loadFailed: (n) => `No se pudo cargar ${n}.`,
  fileTooLarge: (n, l) => `${n} es demasiado grande. El límite es ${l}.`,
  fileType: (n) => `${n} no se puede enviar: este tipo de archivo no se acepta.`,
  tooManyFiles: (m) => `Puede adjuntar hasta ${m} archivos por mensaje.`,
  uploadFailed: (n, r) => `No se pudo subir ${n}: ${r}`,
  offline: 'Sin conexión. Sus mensajes se enviarán cuando vuelva la conexión.',
  continueIntroSms: 'Reciba nuestras respuestas por mensaje de texto. Le enviaremos un código para comprobar que el teléfono es suyo.',
  continueIntroEmail: 'Reciba nuestras respuestas por correo electrónico. Le enviaremos un código para comprobar que la dirección es suya.',
  phoneAddress: 'Número de teléfono móvil',
  emailAddress: 'Dirección de correo electrónico',
  phoneRequired: 'Escriba su número de teléfono móvil.',
  emailRequired: 'Escriba su dirección de correo electrónico.',
  consentNeededSms: 'Solo podemos enviarle mensajes de texto con su permiso. Marque la casilla para continuar.',
  consentNeededEmail: 'Solo podemos escribirle por correo electrónico con su permiso. Marque la casilla para continuar.',
  sendCode: 'Enviar código',
  codeSent: (t) => `Hemos enviado un código a ${t}. Escríbalo abajo.`,
  code: 'Código',
  verify: 'Verificar',
  codeRequired: 'Escriba el código que le enviamos.',
  verifiedSms: (t) => `Verificado. Puede cerrar esta página: seguiremos por mensaje de texto en el ${t}.`,
  verifiedEmail: (t) => `Verificado. Puede cerrar esta página: seguiremos por correo electrónico en ${t}.`,
  backToChat: 'Volver al chat',
  notConnected: 'Sin conexión en este momento. Inténtelo de nuevo en un momento.',
  csatQuestion: '¿Qué tal le atendimos?',
  csatIntro: 'Valore este chat de 1 a 5 estrellas.',
  csatStar: (n) => `${n} de 5 estrellas: ${['muy mal', 'mal', 'regular', 'bien', 'excelente'][n - 1]}`,
  csatComment: 'Comentario (opcional)',
  csatSend: 'Enviar valoración',
  csatNotNow: 'Ahora no',
  csatChoose: 'Elija primero de 1 a 5 estrellas.',
  csatThanks: 'Gracias por su opinión.',
};

const it: Strings = {
  launcher: (c) => `Chatta con ${c}`,
  unread: (n) => (n === 1 ? '1 nuovo messaggio' : `${n} nuovi messaggi`),
  closeChat: 'Chiudi la chat',
  prechatIntro: (c) => `Ci scriva e ${c} le risponderà qui.`,
  emergency: 'In caso di emergenza, chiami il numero di emergenza locale.',
  name: 'Nome',
  phone: 'Telefono (facoltativo)',
  department: 'Di cosa si tratta?',
  departmentAny: 'Altro',
  email: 'Email (facoltativa)',
  consentLegend: 'Possiamo contattarla? (facoltativo)',
  startChat: 'Inizia la chat',
  starting: 'Avvio…',
  nameRequired: 'Inserisca il suo nome.',
  phoneInvalid: 'Inserisca un numero di telefono valido o lasci il campo vuoto.',
  emailInvalid: 'Inserisca un indirizzo email valido o lasci il campo vuoto.',
  connecting: 'Connessione…',
  tryAgain: 'Riprova',
  networkError: 'Impossibile raggiungere la clinica. Controlli la connessione e riprovi.',
  genericError: 'Si è verificato un errore. Riprovi.',
  chatOptions: 'Opzioni della chat',
  continueSms: 'Continua via SMS',
  continueEmail: 'Continua via email',
  endChat: 'Termina la chat',
  chatEnded: 'La chat è terminata ed è stata rimossa da questo dispositivo.',
  away: 'Il nostro team al momento non è disponibile. Lasci un messaggio e le risponderemo al nostro rientro.',
  awayUntil: (w) => `Di nuovo disponibili: ${w}.`,
  messages: 'Messaggi',
  message: 'Messaggio',
  send: 'Invia',
  attach: 'Allega un file',
  removeFile: (n) => `Rimuovi ${n}`,
  you: 'Lei',
  sending: 'Invio…',
  sent: 'Inviato',
  uploading: 'Caricamento…',
  notSent: (r) => `Non inviato: ${r}`,
  bySms: 'via SMS',
  byEmail: 'via email',
  typing: (c) => `${c} sta scrivendo…`,
  newMessage: (c, t) => `Nuovo messaggio da ${c}: ${t}`,
  files: (n) => `File: ${n}`,
  download: (n) => `Scarica ${n}`,
  loadFailed: (n) => `Impossibile caricare ${n}.`,
  fileTooLarge: (n, l) => `${n} è troppo grande. Il limite è ${l}.`,
  fileType: (n) => `${n} non può essere inviato: questo tipo di file non è accettato.`,
  tooManyFiles: (m) => `Può allegare fino a ${m} file per messaggio.`,
  uploadFailed: (n, r) => `Impossibile caricare ${n}: ${r}`,
  offline: 'Offline. I suoi messaggi saranno inviati quando la connessione tornerà.',
  continueIntroSms: 'Riceva le nostre risposte via SMS. Le invieremo un codice per verificare che il telefono sia suo.',
  continueIntroEmail: 'Riceva le nostre risposte via email. Le invieremo un codice per verificare che l’indirizzo sia suo.',
  phoneAddress: 'Numero di cellulare',
  emailAddress: 'Indirizzo email',
  phoneRequired: 'Inserisca il suo numero di cellulare.',
  emailRequired: 'Inserisca il suo indirizzo email.',
  consentNeededSms: 'Possiamo inviarle SMS solo con il suo consenso. Selezioni la casella per continuare.',
  consentNeededEmail: 'Possiamo scriverle via email solo con il suo consenso. Selezioni la casella per continuare.',
  sendCode: 'Invia codice',
  codeSent: (t) => `Abbiamo inviato un codice a ${t}. Lo inserisca qui sotto.`,
  code: 'Codice',
  verify: 'Verifica',
  codeRequired: 'Inserisca il codice che le abbiamo inviato.',
  verifiedSms: (t) => `Verificato. Può chiudere questa pagina: continueremo via SMS al numero ${t}.`,
  verifiedEmail: (t) => `Verificato. Può chiudere questa pagina: continueremo via email all’indirizzo ${t}.`,
  backToChat: 'Torna alla chat',
  notConnected: 'Al momento non c’è connessione. Riprovi tra poco.',
  csatQuestion: 'Come siamo andati?',
  csatIntro: 'Valuti questa chat da 1 a 5 stelle.',
  csatStar: (n) => `${n} ${n === 1 ? 'stella' : 'stelle'} su 5: ${['molto male', 'male', 'così così', 'bene', 'ottimo'][n - 1]}`,
  csatComment: 'Commento (facoltativo)',
  csatSend: 'Invia valutazione',
  csatNotNow: 'Non ora',
  csatChoose: 'Scelga prima da 1 a 5 stelle.',
  csatThanks: 'Grazie per il suo parere.',
};

const TABLES: Record<WidgetLanguage, Strings> = { en, es, it };

/** 'es-MX' -> 'es'; null when the language is not one the widget speaks. */
export function supportedLanguage(tag: string | null | undefined): WidgetLanguage | null {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return primary === 'en' || primary === 'es' || primary === 'it' ? primary : null;
}

/** The first supported language among the candidates (most specific first), else English. */
export function pickLanguage(candidates: readonly (string | null | undefined)[]): WidgetLanguage {
  for (const c of candidates) {
    const lang = supportedLanguage(c);
    if (lang) return lang;
  }
  return 'en';
}

/** The strings and formats of one language. Regional formats (en-GB's 24-hour clock) follow the browser when it speaks that language. */
export class Locale {
  readonly t: Strings;
  readonly tag: string;

  constructor(readonly lang: WidgetLanguage) {
    this.t = TABLES[lang];
    const regional = (typeof navigator !== 'undefined' ? navigator.languages ?? [] : []).find((l) => supportedLanguage(l) === lang);
    this.tag = regional ?? lang;
  }

  /** "10:42", or "Mar 3, 10:42" when not today. */
  time(iso: string): string {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '';
    const today = new Date().toDateString() === date.toDateString();
    return this.format(date, today ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
  }

  /** "Monday 9:00 AM" (for "agents are back …"). */
  weekdayTime(iso: string): string {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? '' : this.format(date, { weekday: 'long', hour: 'numeric', minute: '2-digit' });
  }

  size(bytes: number): string {
    const [value, unit] = bytes >= 1_000_000 ? [bytes / 1_000_000, 'megabyte'] : bytes >= 1000 ? [bytes / 1000, 'kilobyte'] : [bytes, 'byte'];
    try {
      return new Intl.NumberFormat(this.tag, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
    } catch {
      return `${Math.round(value)} ${unit === 'byte' ? 'B' : unit === 'kilobyte' ? 'kB' : 'MB'}`;
    }
  }

  private format(date: Date, options: Intl.DateTimeFormatOptions): string {
    try {
      return new Intl.DateTimeFormat(this.tag, options).format(date);
    } catch {
      return date.toLocaleString();
    }
  }
}
