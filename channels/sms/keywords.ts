/**
 * Carrier/CTIA consent keywords. Only a message that is the keyword alone
 * counts ("STOP please" does not opt out); case and surrounding spaces or
 * punctuation are ignored. Twilio's Advanced Opt-Out also labels keyword
 * messages with OptOutType, which wins when present.
 * https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
 */
export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES']);
const HELP = new Set(['HELP', 'INFO']);

export function classifySmsKeyword(body: string, optOutType?: string): SmsKeyword | null {
  const labelled = optOutType?.trim().toUpperCase();
  if (labelled === 'STOP') return 'opt_out';
  if (labelled === 'START') return 'opt_in';
  if (labelled === 'HELP') return 'help';
  const word = body.trim().replace(/^[\s.!?,;:'"]+|[\s.!?,;:'"]+$/g, '').toUpperCase();
  if (OPT_OUT.has(word)) return 'opt_out';
  if (OPT_IN.has(word)) return 'opt_in';
  if (HELP.has(word)) return 'help';
  return null;
}

/**
 * A short message that is not a keyword but asks to stop messages (English,
 * Spanish, Italian), e.g. "please stop texting me", "darme de baja",
 * "non mandatemi più messaggi". Used to prompt an agent, never to opt out:
 * only keywords change consent. Case, accents, punctuation and spacing are
 * ignored. More than MAX_REQUEST_WORDS words is a conversation that may
 * mention "stop" in passing, not a request. Keywords return false
 * (classifySmsKeyword's job).
 */
export function looksLikeOptOutRequest(body: string): boolean {
  if (classifySmsKeyword(body) !== null) return false;
  const text = normalizeForMatching(body);
  const words = text ? text.split(' ') : [];
  if (words.length === 0 || words.length > MAX_REQUEST_WORDS) return false;
  if (words.some((w) => BARE_TRIGGERS.has(w)) && words.every((w) => BARE_TRIGGERS.has(w) || FILLERS.has(w))) return true;
  return REQUESTS.some(({ pattern, negatable }) => {
    const match = pattern.exec(text);
    return match !== null && !(negatable && NEGATED.test(text.slice(0, match.index)));
  });
}

const MAX_REQUEST_WORDS = 12;

/** Lowercase, no diacritics or apostrophes ("don't" → "dont"), other non-letters as single spaces. */
function normalizeForMatching(body: string): string {
  return body
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’‘`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Words that ask to stop on their own, with FILLERS around them: "stop please", "unsubscribe me", "baja". */
const BARE_TRIGGERS = new Set([
  'stop', 'stopall', 'unsubscribe', 'unsuscribe', 'unsub', 'optout', 'opt', 'quit',
  'basta', 'parar', 'paren', 'pare', 'baja', 'desuscribirme', 'desuscribanme',
  'cancellami', 'cancellatemi', 'disiscrivimi', 'disiscrivetemi', 'disiscrivermi',
]);
const FILLERS = new Set([
  'please', 'pls', 'plz', 'now', 'thanks', 'thank', 'you', 'thx', 'ty', 'already', 'it', 'this', 'them', 'all', 'me', 'out',
  'ok', 'okay', 'asap', 'immediately', 'por', 'favor', 'gracias', 'ya', 'ahora', 'per', 'favore', 'grazie', 'subito', 'ora',
]);

const TEXTS = '(?:texts?|text messages?|messages?|msgs?|sms|reminders?|notifications?|alerts?)';
const ES_TEXTS = '(?:mensajes?|textos?|sms|recordatorios?|notificaciones?)';
const IT_TEXTS = '(?:messaggi|sms|notifiche|promemoria)';

/**
 * Phrases on the normalized text. `negatable`: a negation or "did" just before
 * cancels it ("I didn't mean to unsubscribe", "why did you stop texting me").
 */
const REQUESTS: { pattern: RegExp; negatable: boolean }[] = [
  // "stop texting me", "quit sending me messages", "stop the texts"
  { pattern: /\b(?:stop|quit|cease) (?:texting|txting|messaging|contacting) (?:me|us|this number|my number)\b/, negatable: true },
  { pattern: new RegExp(`\\b(?:stop|quit|cease) sending (?:me |us )?(?:any more |anymore |more )?(?:these |those |the |your |all |this )?${TEXTS}\\b`), negatable: true },
  { pattern: /\b(?:stop|quit|cease) sending me (?:these|this|those|them|stuff|anything)$/, negatable: true },
  { pattern: new RegExp(`\\b(?:stop|end|cancel) (?:all |the |these |those |your |this |my )*${TEXTS}$`), negatable: true },
  // "don't text me anymore", "do not text me" (not "don't text me before 9am")
  { pattern: /\b(?:dont|do not|never) (?:text|txt|message|msg|sms|contact) me\b(?! (?:before|after|until|till|at|on|during|between|while|early|late|in the)\b)/, negatable: false },
  { pattern: new RegExp(`\\b(?:dont|do not) want (?:to (?:get|receive) )?(?:any more |anymore |any |these |those |your |more |the )*${TEXTS}\\b(?! to\\b)`), negatable: false },
  { pattern: new RegExp(`\\bno more ${TEXTS}\\b`), negatable: false },
  // "unsubscribe me from this", "opt me out", "I want to opt out"
  { pattern: /\b(?:unsubscribe|unsuscribe)\b/, negatable: true },
  { pattern: /\bopt (?:me )?out\b/, negatable: true },
  // "remove me from your list", "take me off this list" (not "the waiting list")
  { pattern: new RegExp(`\\b(?:remove|take|delete) me (?:off|from)(?: of)? (?:your |the |this |these |ur |all )?(?:texting |text |sms |message |messaging |mailing |contact |distribution )?(?:list|lists|${TEXTS})\\b`), negatable: true },
  { pattern: /\b(?:remove|delete|erase) my (?:phone |cell )?number(?: from (?:your|the|this) (?:list|texts))?$/, negatable: true },
  // ES: "no me envíen más mensajes", "dejen de escribirme", "no quiero recibir más mensajes"
  { pattern: new RegExp(`\\bno me (?:envien|envies|envie|manden|mandes|mande|escriban|escribas|escriba|contacten|contactes|contacte|texteen|textees)(?= (?:mas|nada|nunca|otra vez|por favor|${ES_TEXTS})\\b|$)`), negatable: false },
  { pattern: /\b(?:dejen|deja|deje|dejar|dejad) de (?:escribirme|contactarme|textearme)\b/, negatable: true },
  { pattern: new RegExp(`\\b(?:dejen|deja|deje|dejar|dejad) de (?:enviarme|mandarme|enviar|mandar)(?: (?:mas |estos |los |sus )?${ES_TEXTS}\\b|$| por favor)`), negatable: true },
  { pattern: new RegExp(`\\bno (?:quiero|deseo) (?:recibir |que me (?:envien|manden) )?(?:mas |ningun |ningunos |ya )?${ES_TEXTS}\\b`), negatable: false },
  { pattern: new RegExp(`\\bno mas ${ES_TEXTS}\\b`), negatable: false },
  // "darme de baja", not "baja médica" or "me dieron de baja del hospital"
  { pattern: /\b(?:darme|denme|dame|deme|dar|me doy) de baja\b(?!.*\b(?:medica|medico|laboral|trabajo|incapacidad|hospital|enfermedad)\b)/, negatable: true },
  { pattern: /\b(?:sacame|saquenme|quitame|quitenme|borrame|borrenme|eliminame|eliminenme) de (?:la|su|sus|esta|esa|las) (?:lista|listas|mensajes)\b/, negatable: true },
  { pattern: /\b(?:desuscribir(?:me)?|desuscribanme|desuscribeme|cancelar (?:mi |la )?suscripcion)\b/, negatable: true },
  // IT: "non mandatemi più messaggi", "smettete di scrivermi", "non voglio più ricevere messaggi"
  { pattern: new RegExp(`\\bnon (?:mandatemi|mandarmi|mi mandate|mi mandiate|inviatemi|inviarmi|mi inviate|scrivetemi|scrivermi|mi scrivete|contattatemi|contattarmi|mi contattate)(?= (?:piu|altri|nulla|niente|per favore|${IT_TEXTS})\\b|$)`), negatable: false },
  { pattern: /\b(?:smettete|smetti|smetta|smettila|smettetela|smettere) di (?:scrivermi|contattarmi|mandarmi|inviarmi|mandare messaggi|inviare messaggi|scrivere)\b/, negatable: true },
  { pattern: new RegExp(`\\bnon (?:voglio|desidero) (?:piu )?(?:ricevere )?(?:piu )?(?:altri )?${IT_TEXTS}\\b`), negatable: false },
  { pattern: new RegExp(`\\b(?:basta|niente piu|basta con i|basta con gli) ${IT_TEXTS}\\b`), negatable: false },
  { pattern: new RegExp(`\\b(?:cancellami|cancellatemi|toglietemi|toglimi|rimuovetemi|rimuovimi|levatemi) (?:dalla|dalle|dai|da) (?:vostra |sua |questa )?(?:lista|mailing list|contatti|${IT_TEXTS})\\b`), negatable: true },
];

/** Ends with a negation (or "did") and at most two more words: "didnt mean to", "no quiero", "why did you". */
const NEGATED = /\b(?:dont|didnt|doesnt|not|never|wont|cant|did|no quiero|no deseo|nunca|non|mai)\b(?: \S+){0,2} ?$/;
