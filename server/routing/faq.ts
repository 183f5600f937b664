/**
 * Self-service FAQ: a team's published answers to common questions (hours,
 * parking, insurance), each with question variants and a language.
 *   - agents get suggestions while typing a reply (`suggest`: ordering
 *     matters more than precision, so the bar is low);
 *   - after hours the hub may answer a patient's question with one
 *     (`answerFor`: a strong match only, on an entry marked `autoAnswer`,
 *     never when the patient's words are clinical).
 * Matching is word-based: case, accents and punctuation are ignored, en/es/it
 * stop words dropped, words cut to a light stem ("hours" = "hour",
 * "horarios" = "horario"), and each word weighted by how rare it is among
 * the entries. Pure: the store (faq-store.ts) builds it from the database.
 */
import { z } from 'zod';

export const FAQ_LANGUAGES = ['en', 'es', 'it'] as const;
export type FaqLanguage = (typeof FAQ_LANGUAGES)[number];

/** A team's answer to a common question; question variants, one per way patients ask it. */
export interface FaqEntry {
  id: string;
  teamId: string;
  language: FaqLanguage;
  questions: string[];
  answer: string;
  published: boolean;
  /** Sent to a patient after hours when their question clearly matches (never a clinical one). */
  autoAnswer: boolean;
  updatedAt: Date;
}

/** An entry as the REST API carries it (GET /api/faq): the date an ISO string. */
export type FaqEntryRecord = Omit<FaqEntry, 'updatedAt'> & { updatedAt: string };

/** GET /api/faq/suggest: a published answer close to the text (best first). */
export interface FaqSuggestion {
  id: string;
  /** The entry's question variant closest to the text. */
  question: string;
  answer: string;
  /** 0..1; higher is closer. */
  score: number;
}

export interface FaqMatcher {
  /** Published entries of the team closest to the text, best first (at most `limit`, default 5). */
  suggest(text: string, options: { teamId: string; language?: string; limit?: number }): FaqSuggestion[];
  /** The published auto-answer entry the text clearly asks, or null (always null for clinical text). */
  answerFor(text: string, options: { teamId: string; language: string }): FaqEntry | null;
}

/** Below this a suggestion is noise. */
const SUGGEST_MIN_SCORE = 0.2;
export const SUGGEST_MAX = 20;
/** An automatic answer needs this share of a variant's words in the text… */
const ANSWER_MIN_COVERAGE = 0.75;
/** …this share of the text's words in the variant (a long message about something else is not answered)… */
const ANSWER_MIN_FOCUS = 0.3;
/** …and this weighted score. */
const ANSWER_MIN_SCORE = 0.6;

// --- words -------------------------------------------------------------------

const STOP_WORDS = new Set(
  [
    // en
    'a an the and or but if of to in on at by for with from about as into than then so just also too very',
    'is are was were be been being am do does did doing have has had having will would can could shall should may might must',
    'i me my mine we us our ours you your yours he him his she her it its they them their this that these those there here',
    'what which who whom whose when where why how any some all no not yes',
    'don doesn didn isn aren wasn won wouldn cant ll re ve im',
    'please hi hello hey dear thanks thank ok okay like know want wanted need wondering ask asking question tell get',
    // es
    'al de del el la las los lo un una unos unas y o u e en con por para que como cual cuales cuando donde quien quienes',
    'es son esta estan estoy este ese esa eso esto estos esas hay ser soy somos fue era su sus tu tus mi mis me te se nos le les',
    'usted ustedes yo hola gracias favor buenos buenas si muy mas pero sobre algo alguna algun puedo puede pueden podria',
    'quiero quisiera necesito saber pregunta preguntar tienen tiene tengo nuestro nuestra nuestros nuestras vuestro vuestra suyo suya',
    // it
    'ad allo alla ai agli alle da dal dalla dai di dello della dei degli delle nel nella nei con su sul sulla tra fra',
    'il gli uno che chi cosa come dove quale quali quanto sono siete sei ho ha hanno avete abbiamo',
    'ti ci vi ne noi voi lei lui loro mio mia miei mie suo sua suoi sue nostro nostra nostri nostre vostro vostra vostri vostre ciao salve buongiorno buonasera grazie prego',
    'favore posso puo potete possiamo vorrei volevo voglio sapere chiedere domanda non anche ma se piu molto',
  ].join(' ').split(' '),
);

/**
 * Clinical words: a patient's text with any of them is never answered
 * automatically, and an auto-answer entry may not contain them. `*` marks a
 * stem (any word starting with it); the rest are whole words (plurals too).
 * Deliberately broad: a false alarm only means an agent answers.
 */
const CLINICAL_TERMS = [
  // pain, symptoms
  'pain*', 'hurt*', 'ache', 'aches', 'aching', 'headach*', 'toothach*', 'stomachach*', 'backach*', 'sore', 'dolor*', 'duel*',
  'symptom*', 'sintom*', 'fever*', 'fiebre*', 'febbr*', 'temperatur*', 'bleed*', 'bled', 'blood*', 'sangr*', 'sangu*',
  'rash*', 'erupcion*', 'eruzion*', 'itch*', 'prurit*', 'picazon*', 'swell*', 'swollen', 'hinch*', 'gonfi*',
  'infect*', 'infecc*', 'infezion*', 'allerg*', 'alergi*', 'nause*', 'vomit*', 'diarr*', 'dizz*', 'mareo*', 'maread*', 'vertig*',
  'cough*', 'tos', 'toss*', 'breath*', 'respir*', 'cardi*', 'corazon', 'cuore', 'sick*', 'ill', 'illness', 'enferm*', 'malat*',
  'injur*', 'wound*', 'herida*', 'ferit*', 'fractur*', 'lesion*', 'burn*', 'quemad*', 'lump*',
  // medicines
  'medication*', 'medicin*', 'medicament*', 'farmac*', 'pharmac*', 'drug*', 'pill*', 'pastill*', 'pastigli*', 'antibiot*',
  'painkill*', 'ibuprofen*', 'paracetamol*', 'aspirin*', 'insulin*', 'dose', 'doses', 'dosis', 'dosi', 'dosag*', 'overdos*',
  'prescri*', 'receta*', 'ricett*', 'refill*', 'rx',
  // tests, diagnoses, treatment
  'result*', 'risultat*', 'test*', 'lab', 'labs', 'exam', 'exams', 'examen', 'esame', 'esami', 'analisi', 'analisis',
  'biops*', 'radiograf*', 'mri', 'ecograf*', 'ultrasound*', 'diagnos*', 'cancer*', 'tumor*', 'tumour*', 'diabet*',
  'treat*', 'tratamient*', 'trattament*', 'therap*', 'terap*', 'surger*', 'surgic*', 'cirug*', 'chirurg*',
  'vaccin*', 'vacun*', 'inject*', 'inyecc*', 'iniezion*', 'covid*', 'flu', 'gripe', 'influenz*',
  // pregnancy, mental health
  'pregnan*', 'embaraz*', 'incinta', 'gravid*', 'miscarr*', 'menstru*', 'contracep*', 'anticoncep*', 'contraccett*',
  'depress*', 'anxi*', 'ansied*', 'ansia', 'panic*', 'suicid*',
];
/** A patient's text with these is not answered either; an entry may say them ("in an emergency, call 911"). */
const URGENCY_TERMS = ['emergenc*', 'emergenz*', 'urgen*'];

/** Lower case, accents and punctuation gone: "¿Dónde está?" → "donde esta". */
export function normalizeText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function words(text: string): string[] {
  const normalized = normalizeText(text);
  return normalized ? normalized.split(' ') : [];
}

/** A light, language-blind stem: plural and -ing/-ed endings and final vowels off ("orari", "orario" → "orar"). */
function stem(word: string): string {
  if (word.length <= 4 || /^\d+$/.test(word)) return word;
  let w = word;
  for (const suffix of ['mente', 'ing', 'ed']) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 4) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  if (w.endsWith('es') && w.length > 5) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && w.length > 4) w = w.slice(0, -1);
  while (w.length > 4 && /[aeiouy]$/.test(w)) w = w.slice(0, -1);
  return w;
}

const isContentWord = (word: string) => (word.length > 1 || /\d/.test(word)) && !STOP_WORDS.has(word);

/** The stems a text is matched on, without stop words. */
export function contentWords(text: string): string[] {
  return [...new Set(words(text).filter(isContentWord).map(stem))];
}

function termFinder(terms: readonly string[]): (text: string) => string | null {
  const stems = terms.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
  const whole = new Set(terms.filter((t) => !t.endsWith('*')).map(stem));
  return (text) => words(text).find((w) => whole.has(w) || whole.has(stem(w)) || stems.some((s) => w.startsWith(s))) ?? null;
}

/** The first clinical word of the text (normalised, as written), or null. */
export const clinicalWordIn = termFinder(CLINICAL_TERMS);
const urgentWordIn = termFinder(URGENCY_TERMS);

/** Why an entry may not answer patients automatically (a clinical word, and where), or null. */
export function autoAnswerProblem(entry: Pick<FaqEntry, 'questions' | 'answer' | 'autoAnswer'>): { field: string; word: string } | null {
  if (!entry.autoAnswer) return null;
  for (const [index, question] of entry.questions.entries()) {
    const word = clinicalWordIn(question);
    if (word) return { field: `questions.${index}`, word };
  }
  const word = clinicalWordIn(entry.answer);
  return word ? { field: 'answer', word } : null;
}

export const autoAnswerMessage = (word: string) =>
  `contains "${word}", a clinical word: an automatic answer never touches clinical questions (turn autoAnswer off, or reword)`;

// --- API body ------------------------------------------------------------------

const question = z
  .string()
  .trim()
  .min(3, 'must be 3 to 200 characters')
  .max(200, 'must be 3 to 200 characters')
  .refine((q) => contentWords(q).length > 0, 'has no words to match on besides common ones ("what", "the", "el", "il"…)');
const fields = {
  teamId: z.string().min(1).max(100),
  language: z.enum(FAQ_LANGUAGES, 'must be en, es or it'),
  questions: z.array(question).min(1, 'must have 1 to 20 questions').max(20, 'must have 1 to 20 questions'),
  answer: z.string().trim().min(1, 'must be 1 to 1000 characters').max(1000, 'must be 1 to 1000 characters'),
  published: z.boolean(),
  autoAnswer: z.boolean(),
};

/** An auto-answer entry with a clinical word fails on the field that holds it. */
function noClinicalAutoAnswer(entry: { questions?: string[]; answer?: string; autoAnswer?: boolean }, ctx: z.RefinementCtx): void {
  if (!entry.questions || entry.answer === undefined || !entry.autoAnswer) return;
  const problem = autoAnswerProblem({ questions: entry.questions, answer: entry.answer, autoAnswer: entry.autoAnswer });
  if (problem) ctx.addIssue({ code: 'custom', path: problem.field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)), message: autoAnswerMessage(problem.word) });
}

/** POST /api/faq. */
export const faqEntrySchema = z
  .object({ ...fields, published: fields.published.default(false), autoAnswer: fields.autoAnswer.default(false) })
  .superRefine(noClinicalAutoAnswer);
export type FaqEntryInput = z.infer<typeof faqEntrySchema>;

/** PATCH /api/faq/:id: any field but the team; the merged entry is checked again (faq-store.ts). */
export const faqEntryPatchSchema = z
  .object({ language: fields.language, questions: fields.questions, answer: fields.answer, published: fields.published, autoAnswer: fields.autoAnswer })
  .partial()
  .superRefine(noClinicalAutoAnswer);
export type FaqEntryPatch = z.infer<typeof faqEntryPatchSchema>;

// --- matching ------------------------------------------------------------------

interface IndexedEntry {
  entry: FaqEntry;
  variants: { question: string; words: string[] }[];
  /** A clinical word in the entry itself (stored before the rule, or edited in the database): never auto-answers. */
  clinical: boolean;
}

interface Query {
  words: Set<string>;
  /** The word being typed (no space after it yet): matches the start of a variant's word. */
  partial: string | null;
}

interface VariantMatch {
  question: string;
  score: number;
  /** Shares of the variant's words in the text, and of the text's words in the variant (by count). */
  coverage: number;
  focus: number;
}

export function createFaqMatcher(entries: readonly FaqEntry[]): FaqMatcher {
  const indexed: IndexedEntry[] = entries.map((entry) => ({
    entry,
    variants: entry.questions.map((q) => ({ question: q, words: contentWords(q) })).filter((v) => v.words.length > 0),
    clinical: autoAnswerProblem({ ...entry, autoAnswer: true }) !== null,
  }));
  // Rarer words weigh more: "parking" tells entries apart, "appointment" may not.
  const documentFrequency = new Map<string, number>();
  for (const { variants } of indexed) {
    for (const word of new Set(variants.flatMap((v) => v.words))) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  }
  const total = Math.max(indexed.length, 1);
  const weight = (word: string) => Math.log(1 + total / (documentFrequency.get(word) ?? 1));
  const sum = (list: Iterable<string>) => [...list].reduce((s, w) => s + weight(w), 0);

  function matchVariant(query: Query, variant: { question: string; words: string[] }): VariantMatch | null {
    const shared = variant.words.filter((w) => query.words.has(w) || (query.partial !== null && w.startsWith(query.partial)));
    if (shared.length === 0) return null;
    const coverage = sum(shared) / sum(variant.words);
    const focus = Math.min(1, sum(shared) / sum(query.words));
    return {
      question: variant.question,
      score: Math.round((0.75 * coverage + 0.25 * focus) * 1000) / 1000,
      coverage: shared.length / variant.words.length,
      focus: Math.min(1, shared.length / query.words.size),
    };
  }

  function bestVariant(query: Query, item: IndexedEntry): VariantMatch | null {
    let best: VariantMatch | null = null;
    for (const variant of item.variants) {
      const match = matchVariant(query, variant);
      if (match && (!best || match.score > best.score)) best = match;
    }
    return best;
  }

  const candidates = (teamId: string, language: string | undefined) =>
    indexed.filter(({ entry }) => entry.published && entry.teamId === teamId && (language === undefined || entry.language === language));

  return {
    suggest(text, options) {
      const all = words(text);
      const last = all.at(-1);
      const typing = last !== undefined && /[\p{L}\p{N}]$/u.test(text) && last.length >= 3 && isContentWord(last);
      const query: Query = { words: new Set(contentWords(text)), partial: typing ? last : null };
      if (query.words.size === 0) return [];
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? 5), 1), SUGGEST_MAX);
      const found: { item: IndexedEntry; match: VariantMatch }[] = [];
      for (const item of candidates(options.teamId, options.language)) {
        const match = bestVariant(query, item);
        if (match && match.score >= SUGGEST_MIN_SCORE) found.push({ item, match });
      }
      found.sort((a, b) => b.match.score - a.match.score || b.item.entry.updatedAt.getTime() - a.item.entry.updatedAt.getTime() || a.item.entry.id.localeCompare(b.item.entry.id));
      return found.slice(0, limit).map(({ item, match }) => ({ id: item.entry.id, question: match.question, answer: item.entry.answer, score: match.score }));
    },

    answerFor(text, options) {
      if (clinicalWordIn(text) !== null || urgentWordIn(text) !== null) return null;
      const query: Query = { words: new Set(contentWords(text)), partial: null };
      if (query.words.size === 0) return null;
      let best: { entry: FaqEntry; score: number } | null = null;
      for (const item of candidates(options.teamId, options.language)) {
        if (!item.entry.autoAnswer || item.clinical) continue;
        for (const variant of item.variants) {
          const match = matchVariant(query, variant);
          if (!match || match.coverage < ANSWER_MIN_COVERAGE || match.focus < ANSWER_MIN_FOCUS || match.score < ANSWER_MIN_SCORE) continue;
          if (!best || match.score > best.score) best = { entry: item.entry, score: match.score };
        }
      }
      return best?.entry ?? null;
    },
  };
}
