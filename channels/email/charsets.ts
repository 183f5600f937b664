/**
 * Text of SendGrid Inbound Parse fields. Each text field (`text`, `html`,
 * `subject`, `from`, `to`, `headers`…) arrives as raw bytes in the charset its
 * `charsets` JSON names ({"text":"windows-1252",…}); the parts themselves say
 * nothing. Decoding is strict: a field whose bytes do not fit falls back to
 * UTF-8, then windows-1252 (which maps every byte), and says so, so a wrong
 * guess is visible instead of turning letters into U+FFFD. All functions are
 * pure. Caveat: Node's ICU decoders for some legacy charsets (big5, euc-kr,
 * windows-125x) skip a few unassigned bytes without an error even when strict.
 */

/** How one field was read. `used` is the WHATWG encoding name (iso-8859-1 is read as its superset windows-1252). */
export interface FieldDecoding {
  /** The label from `charsets`, trimmed; null when the field has none. */
  declared: string | null;
  used: string;
  /** False when the text was read in another charset than the declared one (UTF-8 when none is declared). */
  exact: boolean;
  /** Why `exact` is false, for agents. */
  reason?: string;
}

export interface DecodedFields {
  fields: Record<string, string>;
  decoding: Record<string, FieldDecoding>;
}

// A real `charsets` field is a few dozen bytes; anything this big is not one.
const MAX_CHARSETS_LENGTH = 8_192;
const MAX_LABEL_LENGTH = 64;

// Names that would reach Object.prototype if used as keys; no Inbound Parse field is called that.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// Labels mail clients write that the WHATWG list lacks (Windows-31J is what WHATWG calls shift_jis).
const ALIASES = new Map([['cp932', 'shift_jis']]);

// Valid WHATWG encodings that do not decode text: "replacement" turns any input into one U+FFFD,
// "x-user-defined" maps bytes to private-use characters.
const NOT_TEXT = new Set(['replacement', 'x-user-defined']);

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Field name → charset label from the `charsets` field; malformed or absent gives an empty map. */
export function parseCharsets(charsetsField: Uint8Array | string | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  if (charsetsField === undefined || charsetsField.length > MAX_CHARSETS_LENGTH) return labels;
  const json = typeof charsetsField === 'string' ? charsetsField.replace(/^\uFEFF/, '') : new TextDecoder().decode(charsetsField);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return labels;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return labels;
  for (const [field, label] of Object.entries(parsed)) {
    if (PROTOTYPE_KEYS.has(field) || typeof label !== 'string' || !label.trim()) continue;
    labels.set(field, label.trim());
  }
  return labels;
}

/** A strict decoder for the label, or null when the platform does not know it as a text encoding. */
function strictDecoder(label: string): TextDecoder | null {
  if (label.length > MAX_LABEL_LENGTH) return null;
  // Some senders quote the value ("\"utf-8\"").
  const name = label.replace(/^["']|["']$/g, '').trim().toLowerCase();
  try {
    const decoder = new TextDecoder(ALIASES.get(name) ?? name, { fatal: true });
    return NOT_TEXT.has(decoder.encoding) ? null : decoder;
  } catch (error) {
    // RangeError: a label the platform does not support.
    if (error instanceof RangeError) return null;
    throw error;
  }
}

// Node since 20.18.3/22.13.0 decodes windows-1252 (and so iso-8859-1, us-ascii…) as ISO-8859-1
// (nodejs/node#60888): bytes 0x80-0x9F come out as C1 controls instead of €, curly quotes, dashes.
// These are the WHATWG mappings for that range; every other byte is its own code point.
const WINDOWS_1252_80_9F = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

/** windows-1252 per WHATWG, which maps every byte. */
function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_80_9F[c.charCodeAt(0) - 0x80]!);
}

/** The text, or null when the bytes are not valid in that encoding. */
function tryDecode(decoder: TextDecoder, bytes: Uint8Array): string | null {
  if (decoder.encoding === 'windows-1252') return decodeWindows1252(bytes);
  try {
    return decoder.decode(bytes);
  } catch (error) {
    // TypeError: bytes invalid in that encoding.
    if (error instanceof TypeError) return null;
    throw error;
  }
}

/** A label as it may be shown on one line: printable ASCII only, cut short. */
function shown(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}…` : clean);
}

/** One field's text: the declared charset if it fits, else strict UTF-8, else windows-1252 (which maps every byte). */
export function decodeField(bytes: Uint8Array, declared: string | null): { text: string; decoding: FieldDecoding } {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const declaredDecoder = declared === null ? utf8 : strictDecoder(declared);
  const declaresUtf8 = declaredDecoder?.encoding === 'utf-8';
  const hasBom = UTF8_BOM.every((b, i) => bytes[i] === b);
  // The UTF-8 decoder drops a leading BOM itself; the others would show it as letters.
  const body = hasBom ? bytes.subarray(UTF8_BOM.length) : bytes;

  // A UTF-8 byte order mark outweighs another declared charset when the rest is valid UTF-8.
  if (hasBom && !declaresUtf8) {
    const text = tryDecode(utf8, bytes);
    if (text !== null) {
      // (Only with a declared label: no label means UTF-8.)
      const reason = `declared charset ${shown(declared ?? '')} but the text starts with a UTF-8 byte order mark; read as UTF-8`;
      return { text, decoding: { declared, used: 'utf-8', exact: false, reason } };
    }
  }
  if (declaredDecoder) {
    const text = tryDecode(declaredDecoder, declaresUtf8 ? bytes : body);
    if (text !== null) return { text, decoding: { declared, used: declaredDecoder.encoding, exact: true } };
  }
  const problem =
    declared === null
      ? 'no charset declared and the bytes are not UTF-8'
      : declaredDecoder
        ? `the bytes are not valid in the declared charset ${shown(declared)}`
        : `declared charset ${shown(declared)} is not supported`;
  if (!declaresUtf8) {
    const text = tryDecode(utf8, bytes);
    if (text !== null) return { text, decoding: { declared, used: 'utf-8', exact: false, reason: `${problem}; read as UTF-8` } };
  }
  const text = decodeWindows1252(body);
  return { text, decoding: { declared, used: 'windows-1252', exact: false, reason: `${problem}; read as windows-1252` } };
}

/** Every field decoded per the `charsets` field; fields with no entry are read as UTF-8. */
export function decodeInboundFields(raw: Record<string, Uint8Array>, charsetsField: Uint8Array | string | undefined): DecodedFields {
  const labels = parseCharsets(charsetsField);
  const fields: Record<string, string> = {};
  const decoding: Record<string, FieldDecoding> = {};
  for (const [name, bytes] of Object.entries(raw)) {
    if (PROTOTYPE_KEYS.has(name)) continue;
    const result = decodeField(bytes, labels.get(name) ?? null);
    fields[name] = result.text;
    decoding[name] = result.decoding;
  }
  return { fields, decoding };
}

/** One line for agents naming the fields that were not read as declared; empty when every field was. */
export function describeDecodingProblems(decoding: Record<string, FieldDecoding>): string {
  const problems = Object.entries(decoding)
    .filter(([, d]) => !d.exact)
    .map(([name, d]) => `${shown(name).slice(1, -1)} (${d.reason ?? `read as ${d.used}`})`);
  if (problems.length === 0) return '';
  return `Some characters may be wrong; not decoded as declared: ${problems.join('; ')}.`;
}
