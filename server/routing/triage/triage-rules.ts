/**
 * Emergency-triage rules: the phrases that make an inbound message get a
 * safety reply and alert supervisors. The defaults are
 * default-triage-rules.json; TRIAGE_RULES_FILE replaces them whole (no
 * merging). The format:
 *
 *   { "version": 1, "categories": { "medical_emergency": {
 *       "label": "Possible medical emergency",              agents see it
 *       "reply": { "en": "…call 911…", "es": "…", "it": "…" },  en required
 *       "urgentLine": { "en": "You can also call our urgent line: {urgentLine}." },
 *       "phrases": { "en": ["chest pain*", "can't breath*"], "es": […], "it": […] },
 *       "except": { "en": ["stroke of luck"] } } } }
 *
 * Categories are tried in file order: put the most urgent first. A reply
 * falls back to en; its urgentLine sentence, in the same language, is added
 * only when the clinic has an urgent line. A reply and its sentence are SMS
 * text: together at most 300 characters, and never PHI. How phrases and
 * `except` match: triage-matcher.ts. An optional top-level "about" string is
 * for people reading the file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TRIAGE_LANGUAGES, phraseProblem, type TriageLanguage } from './triage-matcher.ts';

export type { TriageLanguage };

type PerLanguage<T> = Partial<Record<TriageLanguage, T>>;

export interface TriageCategory {
  label: string;
  reply: { en: string } & PerLanguage<string>;
  urgentLine?: PerLanguage<string>;
  phrases: PerLanguage<string[]>;
  except?: PerLanguage<string[]>;
}

export interface TriageRules {
  version: 1;
  categories: Record<string, TriageCategory>;
}

const MAX_REPLY_CHARACTERS = 300;
const PLACEHOLDER = '{urgentLine}';

/** "required" for a missing value, "must be …" for a wrong type; zod's wording otherwise. */
function expecting(what: string) {
  return { error: (issue: { code?: string; input?: unknown }) => (issue.code === 'invalid_type' ? (issue.input === undefined ? 'required' : `must be ${what}`) : undefined) };
}

const text = z.string(expecting('text')).trim().min(1, 'must not be empty');
const phrase = z.string(expecting('text')).trim().min(2, 'must have at least 2 characters').superRefine((value, ctx) => {
  const problem = phraseProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

function perLanguage<T extends z.ZodType>(value: T) {
  return z.object({ en: value.optional(), es: value.optional(), it: value.optional() }, expecting('an object with en, es, it')).strict();
}

const phraseLists = perLanguage(z.array(phrase, expecting('a list')));

const categorySchema = z.object({
  label: text,
  reply: z.object({ en: text, es: text.optional(), it: text.optional() }, expecting('an object with en, es, it')).strict(),
  urgentLine: perLanguage(text).optional(),
  phrases: phraseLists.refine((lists) => TRIAGE_LANGUAGES.some((l) => (lists[l]?.length ?? 0) > 0), 'needs at least one phrase'),
  except: phraseLists.optional(),
}, expecting('an object')).strict().superRefine((category, ctx) => {
  for (const language of TRIAGE_LANGUAGES) {
    const reply = category.reply[language];
    const sentence = category.urgentLine?.[language];
    if (reply?.includes(PLACEHOLDER)) ctx.addIssue({ code: 'custom', path: ['reply', language], message: `put the sentence with ${PLACEHOLDER} in urgentLine.${language}` });
    if (sentence === undefined) continue;
    if (!sentence.includes(PLACEHOLDER)) ctx.addIssue({ code: 'custom', path: ['urgentLine', language], message: `must contain ${PLACEHOLDER}` });
    if (reply === undefined) ctx.addIssue({ code: 'custom', path: ['urgentLine', language], message: `there is no reply.${language} to add it to` });
  }
  for (const language of TRIAGE_LANGUAGES) {
    const reply = category.reply[language];
    const sentence = category.urgentLine?.[language];
    const length = reply === undefined ? 0 : [...reply].length + (sentence ? 1 + [...sentence].length : 0);
    if (length > MAX_REPLY_CHARACTERS) ctx.addIssue({ code: 'custom', path: ['reply', language], message: `with its urgentLine sentence, ${length} characters; at most ${MAX_REPLY_CHARACTERS}` });
  }
});

const rulesSchema = z.object({
  about: z.string(expecting('text')).optional(),
  version: z.literal(1, { error: 'must be 1' }),
  categories: z.record(z.string(), categorySchema, expecting('an object'))
    .superRefine((categories, ctx) => {
      for (const name of Object.keys(categories)) {
        if (!/^[a-z][a-z0-9_]*$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a category name is lowercase letters, digits and _' });
      }
    })
    .refine((categories) => Object.keys(categories).length > 0, 'needs at least one category'),
}, expecting('an object')).strict();

/**
 * The rules at `file`, or the defaults. Throws an Error naming the file and
 * the first problem ("…: categories.medical_emergency.reply.en: required");
 * the config refuses to start with it.
 */
export function loadTriageRules(file?: string): TriageRules {
  const path = file ?? fileURLToPath(new URL('./default-triage-rules.json', import.meta.url));
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`triage rules ${path}: cannot read as JSON (${(error as Error).message})`);
  }
  const parsed = rulesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`triage rules ${path}: ${issue.path.map(String).join('.') || 'file'}: ${issue.message}`);
  }
  const { about: _about, ...rules } = parsed.data;
  return rules satisfies TriageRules;
}
