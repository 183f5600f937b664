/**
 * What a reply to a reminder says: confirm, cancel or reschedule, in English,
 * Spanish and Italian; null when it is anything else, which then stays an
 * ordinary message for an agent.
 *
 * Only short replies that say one thing are read: the whole text, once case,
 * accents and punctuation are set aside, must be one of the phrases below
 * (a code such as "C" or "1", a word, or a short sentence), optionally with
 * a greeting or thanks around it. "Yes but I have chest pain" or
 * "cancel, I am in hospital" are not short answers and reach an agent, who
 * reads them; a text with phrases of two kinds ("yes no") is unclear.
 */
export type ReminderReading = 'confirm' | 'cancel' | 'reschedule';

/** Extra words allowed around the answer ("ok thanks", "sì grazie", "C please"). */
const COURTESY = new Set([
  'please', 'pls', 'thanks', 'thank', 'you', 'thx', 'ty', 'hi', 'hello', 'dear', 'ok', 'okay',
  'gracias', 'por', 'favor', 'hola', 'muchas', 'buenos', 'dias', 'buenas', 'tardes',
  'grazie', 'mille', 'per', 'piacere', 'ciao', 'salve', 'buongiorno', 'buonasera',
  'sorry', 'lo', 'siento', 'disculpe', 'perdon', 'mi', 'dispiace', 'scusi', 'scusate',
]);

const PHRASES: Record<ReminderReading, string[]> = {
  confirm: [
    'c', '1', 'y', 'yes', 'yeah', 'yep', 'yup', 'sure', 'confirm', 'confirmed', 'i confirm', 'confirming', 'yes confirm', 'yes i confirm',
    'i will be there', 'ill be there', 'will be there', 'see you then', 'see you there', 'i ll be there', 'ok', 'okay', 'ok confirmed',
    'si', 'confirmo', 'confirmado', 'confirmada', 'si confirmo', 'alli estare', 'ahi estare', 'alli estaremos', 'de acuerdo', 'vale',
    'conferma', 'confermo', 'confermato', 'confermata', 'si confermo', 'ci saro', 'ci sarò', 'va bene', 'certo',
  ],
  cancel: [
    'x', '2', 'n', 'no', 'cancel', 'cancel it', 'cancel please', 'please cancel', 'cancel appointment', 'cancel my appointment', 'i cancel',
    'cant make it', 'can t make it', 'cannot make it', 'i cant make it', 'i can t make it', 'i cannot make it', 'cant come', 'i cant come', 'i can t come', 'cannot come',
    'cancelar', 'cancela', 'cancelo', 'cancelada', 'cancelela', 'cancelar la cita', 'cancele la cita', 'no puedo', 'no puedo ir', 'no podre', 'no podre ir', 'no voy', 'no puedo asistir',
    'annulla', 'annullo', 'annullare', 'annullato', 'disdico', 'disdetta', 'disdire', 'non posso', 'non posso venire', 'non vengo', 'non ci saro', 'no grazie',
  ],
  reschedule: [
    'r', '3', 'reschedule', 'reschedule please', 'please reschedule', 'i need to reschedule', 'need to reschedule', 'can we reschedule', 'change', 'change time',
    'change the time', 'change appointment', 'another time', 'different time', 'another day', 'different day', 'move it', 'new time', 'rebook',
    'reprogramar', 'cambiar', 'cambiar la cita', 'cambiar cita', 'cambio de cita', 'otra hora', 'otro dia', 'otra fecha', 'necesito cambiar la cita', 'mover la cita',
    'spostare', 'sposta', 'spostiamo', 'spostare appuntamento', 'cambiare', 'cambiare appuntamento', 'cambiare orario', 'rinviare', 'rinvio', 'altro giorno', 'altro orario', 'un altro giorno',
  ],
};

const LOOKUP = new Map<string, ReminderReading>();
for (const [reading, phrases] of Object.entries(PHRASES) as [ReminderReading, string[]][]) {
  for (const phrase of phrases) LOOKUP.set(normalize(phrase), reading);
}
/** Longest phrase, in words: a longer reply is never a short answer. */
const MAX_WORDS = 8;

/** Lowercase, accents off, apostrophes joined ("can't" → "cant"), other punctuation and emoji to spaces. */
export function normalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .toLowerCase()
    .replace(/['’‘`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function readReminderReply(body: string): ReminderReading | null {
  const words = normalize(body).split(' ').filter(Boolean);
  if (words.length === 0 || words.length > MAX_WORDS) return null;
  const core = trimCourtesy(words);
  const whole = LOOKUP.get(core.join(' '));
  if (whole) return whole;
  // "yes, see you then", "ok thanks": every part one answer of the same kind (courtesy around them allowed).
  const parts = splitPhrases(core.length ? core : words);
  if (!parts) return null;
  const readings = new Set(parts.map((p) => LOOKUP.get(p)!));
  return readings.size === 1 ? [...readings][0]! : null;
}

function trimCourtesy(words: string[]): string[] {
  let start = 0;
  let end = words.length;
  while (start < end && COURTESY.has(words[start]!) && !LOOKUP.has(words.slice(start, end).join(' '))) start++;
  while (end > start && COURTESY.has(words[end - 1]!) && !LOOKUP.has(words.slice(start, end).join(' '))) end--;
  return words.slice(start, end);
}

/** Splits words into known phrases (greedy, longest first), or null when some words are not one. */
function splitPhrases(words: string[]): string[] | null {
  const parts: string[] = [];
  let i = 0;
  while (i < words.length) {
    let matched = 0;
    for (let n = Math.min(words.length - i, MAX_WORDS); n > 0; n--) {
      if (LOOKUP.has(words.slice(i, i + n).join(' '))) {
        matched = n;
        break;
      }
    }
    if (matched === 0) {
      if (COURTESY.has(words[i]!)) {
        i++;
        continue;
      }
      return null;
    }
    parts.push(words.slice(i, i + matched).join(' '));
    i += matched;
  }
  return parts.length ? parts : null;
}

