/**
 * Does an inbound message signal a medical emergency or a crisis? A miss
 * costs far more than a false alarm, so matching is loose:
 * - case, accents, punctuation and emoji are ignored, and repeated letters
 *   count once ("cheeeest" = "chest", "bleding" = "bleeding");
 * - a phrase word of 5 or more letters (repeats counted once) also matches
 *   with one typo: a letter missing, extra, wrong, or two swapped
 *   (Damerau-Levenshtein ≤ 1); shorter words match exactly;
 * - a phrase word ending in * matches the words it begins ("breath*":
 *   breathe, breathing), with one typo from 5 letters;
 * - stop words (my, the, de, la, il, mi…) are dropped from phrases; the other
 *   words must all appear, in any order, within a stretch of the message at
 *   most WINDOW_EXTRA words longer than they are ("pain in my chest",
 *   "breathe I can't"): 6 words for a 2-word phrase;
 * - "can't", "cannot", "can not", "couldn't", "unable", "no puedo", "non
 *   riesco" are one word; "don't", "won't", "isn't"… are "not".
 * Idioms are left out of the phrases rather than parsed: "dying to know" and
 * "killing me" match nothing, "want to die" and "kill myself" do. An `except`
 * phrase ("stroke of luck") hides the words it covers from its category; it
 * must appear word for word, stop words included (typos still allowed).
 * Negation is not understood: "no chest pain anymore" matches.
 * The first category in file order with a matching phrase wins.
 */
import type { TriageRules } from './triage-rules.ts';

export const TRIAGE_LANGUAGES = ['en', 'es', 'it'] as const;
export type TriageLanguage = (typeof TRIAGE_LANGUAGES)[number];

export interface TriageMatch {
  category: string;
  /** The category's agent-facing label. */
  label: string;
  /** The language of the phrase that matched (a guess when several languages share it, e.g. "ictus"). */
  language: TriageLanguage;
  /** The phrase as written in the rules, safe to show agents (it is not message text). */
  phrase: string;
}

export interface TriageMatcher {
  match(text: string): TriageMatch | null;
}

/** How many more words than its own a phrase's window may span. */
const WINDOW_EXTRA = 4;
const FUZZY_MIN_LETTERS = 5;
const STEM_MIN_LETTERS = 3;

/** Dropped from phrases, in every language (a message's language is not known). */
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'my', 'me', 'i', 'im', 'ive', 'is', 'am', 'are', 'was', 'were', 'be', 'been', 'of', 'in', 'on', 'at', 'to',
  'for', 'with', 'and', 'or', 'so', 'it', 'its', 'this', 'that', 's', 'm', 't', 'd', 'll', 're', 've',
  'el', 'la', 'los', 'las', 'un', 'una', 'unos', 'unas', 'de', 'del', 'al', 'en', 'mi', 'mis', 'se', 'y', 'o', 'que', 'con',
  'por', 'lo', 'le', 'su', 'es', 'esta', 'estoy',
  'il', 'l', 'gli', 'uno', 'di', 'della', 'dei', 'delle', 'alla', 'nel', 'nella', 'ti', 'si', 'ci', 'e', 'che',
  'per', 'da', 'ho', 'ha', 'hai', 'sono', 'mio', 'mia', 'miei', 'mie',
].map(squeeze));

/** One word for "can't" and its equivalents, "not" for other negations, "non" for SMS "nn"; keys are squeezed. */
const SINGLE_REWRITES = new Map(Object.entries({
  cannot: 'cant', couldnt: 'cant', unable: 'cant', nn: 'non',
  dont: 'not', doesnt: 'not', didnt: 'not', isnt: 'not', arent: 'not', wasnt: 'not', werent: 'not', wont: 'not', aint: 'not',
}).map(([from, to]) => [squeeze(from), to]));
const PAIR_REWRITES = new Map(Object.entries({
  'can not': 'cant', 'can t': 'cant', 'could not': 'cant', 'don t': 'not', 'won t': 'not',
  'no puedo': 'cant', 'no puede': 'cant', 'non riesco': 'cant', 'non riesce': 'cant', 'non posso': 'cant', 'non puo': 'cant',
}).map(([from, to]) => [from.split(' ').map(squeeze).join(' '), to]));

/**
 * Words that point to one language, to pick the reply language when phrases
 * of several languages match; a word listed for two languages counts for none.
 */
const LANGUAGE_HINTS: Record<TriageLanguage, string[]> = {
  en: ['i', 'im', 'my', 'the', 'is', 'am', 'are', 'and', 'have', 'has', 'it', 'this', 'very', 'please', 'help', 'with', 'he', 'she', 'we', 'you', 'cant', 'dont', 'of', 'to'],
  es: ['el', 'los', 'las', 'que', 'y', 'de', 'es', 'estoy', 'esta', 'tengo', 'tiene', 'muy', 'por', 'para', 'yo', 'puedo', 'puede', 'quiero', 'ayuda', 'hijo', 'hija', 'esposo', 'creo'],
  it: ['il', 'gli', 'di', 'che', 'e', 'non', 'nn', 'ho', 'sono', 'sto', 'molto', 'per', 'io', 'riesco', 'voglio', 'aiuto', 'della', 'figlio', 'figlia', 'marito', 'credo', 'sia'],
};
const HINTS = new Map<string, TriageLanguage | null>();
for (const language of TRIAGE_LANGUAGES) {
  for (const word of LANGUAGE_HINTS[language]) HINTS.set(word, HINTS.has(word) && HINTS.get(word) !== language ? null : language);
}

function squeeze(word: string): string {
  return word.replace(/(\p{L})\1+/gu, '$1');
}

/** Lowercase words without diacritics; "can't" → "cant", other apostrophes split ("l'aria" → "l aria"). */
function splitWords(text: string, keepStars: boolean): string[] {
  const plain = text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/(?<=n)['’‘`](?=t\b)/g, '');
  return plain.split(keepStars ? /[^\p{L}\p{N}*]+/u : /[^\p{L}\p{N}]+/u).filter(Boolean);
}

interface Word {
  /** Squeezed and rewritten; a stem without its *. */
  key: string;
  stem: boolean;
  fuzzy: boolean;
}

function canonicalWords(raw: readonly string[]): Word[] {
  const squeezed = raw.map((w) => {
    const key = squeeze(w);
    return SINGLE_REWRITES.get(key) ?? key;
  });
  const words: Word[] = [];
  for (let i = 0; i < squeezed.length; i++) {
    const pair = i + 1 < squeezed.length ? PAIR_REWRITES.get(`${squeezed[i]} ${squeezed[i + 1]}`) : undefined;
    if (pair) {
      words.push({ key: pair, stem: false, fuzzy: false });
      i++;
      continue;
    }
    const key = squeezed[i]!;
    const stem = key.endsWith('*');
    const base = stem ? key.slice(0, -1) : key;
    words.push({ key: base, stem, fuzzy: base.length >= FUZZY_MIN_LETTERS });
  }
  return words;
}

/** Why a phrase cannot be used, or null; the loader reports it. */
export function phraseProblem(phrase: string): string | null {
  const raw = splitWords(phrase, true);
  if (raw.some((w) => /\*./.test(w) || w === '*')) return 'a * may only end a word';
  if (raw.some((w) => w.endsWith('*') && w.length - 1 < STEM_MIN_LETTERS)) return `a word ending in * needs at least ${STEM_MIN_LETTERS} letters before it`;
  if (contentWords(phrase).length === 0) return 'has only stop words (my, the, de, il…)';
  return null;
}

function contentWords(phrase: string): Word[] {
  return canonicalWords(splitWords(phrase, true)).filter((w) => w.stem || !STOP_WORDS.has(w.key));
}

/** Damerau-Levenshtein (optimal string alignment) distance ≤ 1, in one pass. */
function withinOneEdit(a: string, b: string): boolean {
  const la = a.length;
  const lb = b.length;
  if (la - lb > 1 || lb - la > 1) return false;
  let start = 0;
  while (start < la && start < lb && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < la - start && end < lb - start && a.charCodeAt(la - 1 - end) === b.charCodeAt(lb - 1 - end)) end++;
  const restA = la - start - end;
  const restB = lb - start - end;
  if (restA <= 1 && restB <= 1) return true;
  return restA === 2 && restB === 2 && a[start] === b[start + 1] && a[start + 1] === b[start];
}

interface Hit {
  term: number;
  exact: boolean;
}

/** Every distinct phrase word, indexed so one message word is looked up without scanning them all. */
class Vocabulary {
  size = 0;
  private readonly ids = new Map<string, number>();
  /** Words under FUZZY_MIN_LETTERS; longer ones are in fuzzyByLength, by length. */
  private readonly exact = new Map<string, number>();
  private readonly fuzzyByLength = new Map<number, { term: number; key: string }[]>();
  private readonly stems: { term: number; key: string; fuzzy: boolean }[] = [];

  add(word: Word): number {
    const id = `${word.stem ? '*' : ''}${word.fuzzy ? '~' : ''}${word.key}`;
    const known = this.ids.get(id);
    if (known !== undefined) return known;
    const term = this.size++;
    this.ids.set(id, term);
    if (word.stem) {
      this.stems.push({ term, key: word.key, fuzzy: word.fuzzy });
    } else if (word.fuzzy) {
      const bucket = this.fuzzyByLength.get(word.key.length) ?? [];
      bucket.push({ term, key: word.key });
      this.fuzzyByLength.set(word.key.length, bucket);
    } else {
      this.exact.set(word.key, term);
    }
    return term;
  }

  lookup(key: string): Hit[] {
    const hits: Hit[] = [];
    const short = this.exact.get(key);
    if (short !== undefined) hits.push({ term: short, exact: true });
    for (let length = key.length - 1; length <= key.length + 1; length++) {
      for (const candidate of this.fuzzyByLength.get(length) ?? []) {
        if (candidate.key === key) hits.push({ term: candidate.term, exact: true });
        else if (withinOneEdit(key, candidate.key)) hits.push({ term: candidate.term, exact: false });
      }
    }
    for (const stem of this.stems) {
      if (key.startsWith(stem.key)) {
        hits.push({ term: stem.term, exact: true });
      } else if (stem.fuzzy) {
        const n = stem.key.length;
        for (let k = n - 1; k <= n + 1 && k <= key.length; k++) {
          if (withinOneEdit(key.slice(0, k), stem.key)) {
            hits.push({ term: stem.term, exact: false });
            break;
          }
        }
      }
    }
    return hits;
  }
}

/** The fewest words that hold one position from each sorted list (Infinity if a list is empty). */
function shortestSpan(lists: readonly (readonly number[])[]): number {
  if (lists.some((l) => l.length === 0)) return Infinity;
  if (lists.length === 1) return 1;
  const next = lists.map(() => 0);
  let best = Infinity;
  for (;;) {
    let low = 0;
    let high = -Infinity;
    for (let i = 0; i < lists.length; i++) {
      const at = lists[i]![next[i]!]!;
      if (at < lists[low]![next[low]!]!) low = i;
      if (at > high) high = at;
    }
    best = Math.min(best, high - lists[low]![next[low]!]! + 1);
    if (++next[low]! >= lists[low]!.length) return best;
  }
}

interface CompiledPhrase {
  text: string;
  language: TriageLanguage;
  terms: number[];
  /** Letters in its words, to prefer the more specific of two phrases. */
  letters: number;
}

interface Candidate {
  phrase: CompiledPhrase;
  /** Words of the phrase's language in the message. */
  hint: number;
  exact: boolean;
}

interface CompiledCategory {
  name: string;
  label: string;
  phrases: CompiledPhrase[];
  /** Each exception as its words' terms, in order. */
  exceptions: number[][];
}

export function createTriageMatcher(rules: TriageRules): TriageMatcher {
  const vocabulary = new Vocabulary();
  const categories: CompiledCategory[] = Object.entries(rules.categories).map(([name, category]) => ({
    name,
    label: category.label,
    phrases: TRIAGE_LANGUAGES.flatMap((language) => (category.phrases[language] ?? []).flatMap((text) => {
      const words = contentWords(text);
      const terms = words.map((w) => vocabulary.add(w));
      return terms.length > 0 ? [{ text, language, terms, letters: words.reduce((sum, w) => sum + w.key.length, 0) }] : [];
    })),
    exceptions: TRIAGE_LANGUAGES.flatMap((language) => (category.except?.[language] ?? [])
      .map((text) => canonicalWords(splitWords(text, true)).map((w) => vocabulary.add(w)))
      .filter((terms) => terms.length > 0)),
  }));

  return {
    match(text: string): TriageMatch | null {
      const raw = splitWords(text, false);
      if (raw.length === 0) return null;
      const hints: Record<TriageLanguage, number> = { en: 0, es: 0, it: 0 };
      for (const word of raw) {
        const language = HINTS.get(word);
        if (language) hints[language]++;
      }
      const positions: number[][] = [];
      const exact = new Uint8Array(vocabulary.size);
      const termsAt: number[][] = [];
      const seen = new Map<string, Hit[]>();
      canonicalWords(raw).forEach((word, at) => {
        let hits = seen.get(word.key);
        if (!hits) seen.set(word.key, (hits = vocabulary.lookup(word.key)));
        termsAt.push(hits.map((h) => h.term));
        for (const hit of hits) {
          (positions[hit.term] ??= []).push(at);
          if (hit.exact) exact[hit.term] = 1;
        }
      });

      for (const category of categories) {
        const hidden = hiddenPositions(category.exceptions, termsAt);
        let best: Candidate | null = null;
        for (const phrase of category.phrases) {
          const lists = phrase.terms.map((term) => {
            const found = positions[term] ?? [];
            return hidden ? found.filter((at) => !hidden.has(at)) : found;
          });
          if (shortestSpan(lists) > phrase.terms.length + WINDOW_EXTRA) continue;
          const candidate = { phrase, hint: hints[phrase.language], exact: phrase.terms.every((term) => exact[term] === 1) };
          if (!best || isBetter(candidate, best)) best = candidate;
        }
        if (best) return { category: category.name, label: category.label, language: best.phrase.language, phrase: best.phrase.text };
      }
      return null;
    },
  };
}

/**
 * More words of its language in the message, then matched without typos,
 * then more words, then more letters ("convulsion*" over "convuls*"); else
 * the earlier phrase.
 */
function isBetter(a: Candidate, b: Candidate): boolean {
  if (a.hint !== b.hint) return a.hint > b.hint;
  if (a.exact !== b.exact) return a.exact;
  if (a.phrase.terms.length !== b.phrase.terms.length) return a.phrase.terms.length > b.phrase.terms.length;
  return a.phrase.letters > b.phrase.letters;
}

/** Positions covered by an exception ("stroke of luck"), or null when none occurs. */
function hiddenPositions(exceptions: readonly number[][], termsAt: readonly number[][]): Set<number> | null {
  let hidden: Set<number> | null = null;
  for (const terms of exceptions) {
    for (let start = 0; start + terms.length <= termsAt.length; start++) {
      if (terms.every((term, i) => termsAt[start + i]!.includes(term))) {
        hidden ??= new Set();
        for (let i = 0; i < terms.length; i++) hidden.add(start + i);
      }
    }
  }
  return hidden;
}

/**
 * The category's reply in `language` ("es-MX" counts as "es"), else in
 * English, followed by its urgent-line sentence in the same language when
 * the clinic has an urgent line and the rules have that sentence.
 */
export function safetyReply(rules: TriageRules, match: Pick<TriageMatch, 'category'>, language: string | null | undefined, urgentLine?: string | null): string {
  const category = rules.categories[match.category];
  if (!category) throw new Error(`no triage category "${match.category}" in these rules`);
  const wanted = language?.trim().toLowerCase().split(/[-_]/)[0];
  const chosen = TRIAGE_LANGUAGES.find((l) => l === wanted && category.reply[l]) ?? 'en';
  const reply = category.reply[chosen] ?? category.reply.en;
  const line = urgentLine?.trim();
  const sentence = category.urgentLine?.[chosen];
  return line && sentence ? `${reply} ${sentence.replaceAll('{urgentLine}', () => line)}` : reply;
}
