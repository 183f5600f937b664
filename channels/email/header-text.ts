/**
 * Text that ends up in an email header (the subject). A CR or LF there would
 * end the header and let the text inject others (`Bcc:`), so every subject the
 * hub stores or sends passes through here: agents' are refused when they
 * carry a line break (they can fix it), patients' are folded (their mail must
 * not be lost), and the outbound request folds once more whatever it is given.
 */

/** The most a subject keeps; longer ones are cut, never refused on the way out. */
export const MAX_SUBJECT_LENGTH = 200;

// C0 (tab included), DEL, C1 (NEL among them) and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/** Whether the text would need folding: it carries a line break or another control character. */
export function hasHeaderBreak(value: string): boolean {
  return CONTROL.test(value);
}

/**
 * One line of header text: every control character (CR, LF, tab…) becomes a
 * space, runs of spaces collapse, the ends are trimmed, and it is cut to `max`
 * characters without splitting a surrogate pair.
 */
export function foldHeaderText(value: string, max = MAX_SUBJECT_LENGTH): string {
  const folded = value.replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(folded);
  return chars.length <= max ? folded : chars.slice(0, max).join('').trimEnd();
}
