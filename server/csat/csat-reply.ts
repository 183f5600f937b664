/**
 * Reads a patient's text as an answer to "How did we do? Reply 1-5": a score
 * from 1 to 5, in English, Spanish or Italian, and what follows it as a
 * comment. Anything else is null, and the text is an ordinary message.
 *
 * Understood: a leading digit ("5", "5 great service", "4.", "5/5",
 * "5 out of 5", "5 stars", "4 estrellas", "5 stelle"), a number word standing
 * alone or followed by punctuation or "stars" ("five", "Cinco!", "cinque
 * stelle, grazie"), and one to five star emoji. Not understood (null): numbers
 * outside 1-5 ("7", "10"), decimals ("3.5"), times ("2 pm", "5:30"), a number
 * word running into a sentence ("one more thing…"), a number that is not at
 * the start ("I'd give you 5").
 */

export interface CsatReply {
  score: 1 | 2 | 3 | 4 | 5;
  /** What the patient wrote after the score, trimmed; null when nothing. */
  comment: string | null;
}

export const MAX_CSAT_COMMENT_LENGTH = 1000;

const WORDS: Record<string, CsatReply['score']> = {
  one: 1, two: 2, three: 3, four: 4, five: 5,
  uno: 1, una: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5,
  due: 2, tre: 3, quattro: 4, cinque: 5,
};

const OUT_OF = String.raw`(?:\s*(?:\/|out\s+of|of|de|sobre|su|di)\s*(?:5|five|cinco|cinque))?`;
const STAR_WORD = String.raw`(?:\s*(?:stars?|estrellas?|stelle|stella))?`;
const DIGIT = new RegExp(String.raw`^\s*([1-5])(?![\d])(?![.,:]\d)${OUT_OF}(${STAR_WORD})${OUT_OF}(?=$|[^\p{L}\p{N}])`, 'iu');
const WORD = new RegExp(String.raw`^\s*(${Object.keys(WORDS).join('|')})(?![\p{L}\p{N}])${OUT_OF}(${STAR_WORD})${OUT_OF}`, 'iu');
const STAR_EMOJI = /^\s*((?:[★⭐]\uFE0F?\s*){1,5})(?![★⭐])/u;
/** After a digit: "2 pm", "2 de la tarde", "3 days", "1 2" are not scores. */
const NOT_A_SCORE_AFTER_DIGIT = new RegExp(
  String.raw`^\s*(?:\d|[ap]\.?\s?m\b|h\b|o'?clock|de la (?:mañana|manana|tarde|noche)|del (?:mattino|pomeriggio)|di (?:sera|mattina|notte)|` +
    String.raw`(?:hours?|horas?|ore|minutes?|minutos?|minuti|days?|d[ií]as?|giorni|weeks?|semanas?|settimane|months?|mes(?:es)?|mesi|pills?|pastillas?|pastiglie|mg|ml)\b)`,
  'iu',
);
const SEPARATORS = /^[\s,.;:!?)\-–—]+/u;

export function parseCsatReply(text: string): CsatReply | null {
  const digit = DIGIT.exec(text);
  if (digit) {
    const rest = text.slice(digit[0].length);
    if (NOT_A_SCORE_AFTER_DIGIT.test(rest)) return null;
    return { score: Number(digit[1]) as CsatReply['score'], comment: commentOf(rest) };
  }
  const word = WORD.exec(text);
  if (word) {
    const rest = text.slice(word[0].length);
    // A word stands for a score alone, before punctuation, or with "stars": "one more thing" is a sentence.
    const starred = Boolean(word[2]?.trim());
    if (!starred && rest.trim() !== '' && !/^\s*[,.;:!)\-–—]/u.test(rest)) return null;
    return { score: WORDS[word[1]!.toLowerCase()]!, comment: commentOf(rest) };
  }
  const stars = STAR_EMOJI.exec(text);
  if (stars) {
    const count = [...stars[1]!].filter((c) => c === '★' || c === '⭐').length as CsatReply['score'];
    return { score: count, comment: commentOf(text.slice(stars[0].length)) };
  }
  return null;
}

function commentOf(rest: string): string | null {
  const comment = rest.replace(SEPARATORS, '').trim();
  if (!comment) return null;
  return comment.length > MAX_CSAT_COMMENT_LENGTH ? comment.slice(0, MAX_CSAT_COMMENT_LENGTH) : comment;
}
