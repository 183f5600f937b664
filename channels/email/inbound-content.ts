/**
 * What a patient actually wrote in an inbound email (SendGrid Inbound Parse
 * fields: `text`, `html`, `headers`, `from`): quoted history, the signature
 * block and device footers stripped (sign-offs and postscripts kept), HTML
 * made safe (inline cid: images optional), threading ids read, and automated mail
 * (bounces, out-of-office) recognised so it never reopens a conversation or
 * triggers an auto-response (no mail loops). All functions are pure.
 */
import EmailReplyParser from 'email-reply-parser';
import { convert, type HtmlToTextOptions } from 'html-to-text';
import sanitizeHtml from 'sanitize-html';

// The parser's quote-header regexes backtrack quadratically on long lines
// (about 0.7 s for one 32 kB line; the optional `re2` engine it could use is
// not installed), and a patient's reply sits above the history, so only this
// much of the head is handed to it.
const PARSE_LIMIT = 16_000;

const HTML_TO_TEXT: HtmlToTextOptions = {
  // Agents' UI wraps; hard breaks would cut sentences mid-line.
  wordwrap: false,
  selectors: [
    // Inline logos and tracking pixels are noise in a transcript.
    { selector: 'img', format: 'skip' },
    // Link text is what the patient typed (clients autolink typed URLs); hrefs are tracking noise.
    { selector: 'a', options: { ignoreHref: true } },
    // Outlook Web puts an <hr> above its "From: ... Sent: ..." block: a dashed line would survive stripping,
    // and the parser needs a blank line above a quote header, so the rule becomes just a paragraph break.
    { selector: 'hr', format: 'blockString', options: { string: '', leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
  ],
};

/**
 * Line endings to LF, trailing spaces off each line, 3+ blank lines down to 2, ends trimmed.
 * With `keepDelimiter` a line of "--" and spaces keeps one space: the RFC 3676 signature delimiter "-- ".
 */
function tidy(text: string, keepDelimiter = false): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      .split('\n')
      // Per line, not /\s+$/gm: that regex is quadratic on a long run of inner spaces (6 s for 50,000).
      .map((line) => {
        const trimmed = line.trimEnd();
        return keepDelimiter && trimmed === '--' && line.length > 2 ? line.slice(0, 3) : trimmed;
      })
      .join('\n')
      .replace(/\n{4,}/g, '\n\n\n')
      .trim()
  );
}

// The parser ends the reply only at a quote header with a blank line above it; Outlook often puts its
// "-----Original Message-----" line or "From: ...\nSent: ..." block straight under the reply's last line.
const UNSPACED_OUTLOOK_HEADER = /([^\n])\n(?=-{1,12} ?Original Message ?-{1,12}\n|From ?:[^\n]*\n(?:Sent|Date) ?:)/gi;

/** The reply's own text per email-reply-parser: quoted fragments dropped, signatures left to stripSignature and stripDeviceFooters. */
function visibleText(text: string): string {
  return (
    new EmailReplyParser()
      .read(text)
      .getFragments()
      // The parser marks everything below a sign-off ("Regards,", "--") as signature, which can hide a P.S. or a
      // symptom, and any last line "Sent from …" ("Sent from my mother's phone, she is the patient").
      .filter((f) => !f.isQuoted())
      .map((f) => f.getContent())
      .join('\n')
  );
}

/** Quoted history removed, with the parser's input bounded so hostile mail cannot stall the event loop. */
function stripQuotedHistory(full: string): string {
  if (full.length <= PARSE_LIMIT) return visibleText(full);
  const cut = full.lastIndexOf('\n', PARSE_LIMIT);
  const head = full.slice(0, cut > 0 ? cut : PARSE_LIMIT);
  const visible = visibleText(head);
  // Nothing recognised in the head: keep the whole mail rather than cut the patient off at the limit.
  return tidy(visible) === tidy(head) ? full : visible;
}

// RFC 3676 §4.3 signature delimiter "-- " (any one space character after tidy). A bare "--" alone on its line
// counts too (HTML conversion and some clients drop the space), but people also type it as a separator.
const SPACED_DELIMITER = /^--[^\S\n]$/;
// Longer blocks below a delimiter are more likely the patient's text than a signature.
const MAX_SIGNATURE_LINES = 10;
// "P.S.", "PS:", "P.P.S.", "p.s": a postscript is the patient writing, even inside a signature block.
const POSTSCRIPT = /^p\.?\s?(?:p\.?\s?)*s(?:\.|:|\b)/i;
// A question below a delimiter is something the patient asked, not a signature line.
const QUESTION = /\?["'”’)\]]*$/;
// Five or more words ending like a sentence: below a bare "--", likely typed by the patient.
const SENTENCE = /^(?:\S+\s+){4,}\S*[.!]["'”’)\]]*$/;

/** The index just past the signature block opened by line `at`, or -1 when that line opens none. */
function signatureEnd(lines: string[], at: number): number {
  const line = lines[at]!;
  const spaced = SPACED_DELIMITER.test(line);
  if (!spaced && line !== '--') return -1;
  let end = at + 1;
  let nonEmpty = 0;
  for (; end < lines.length && !POSTSCRIPT.test(lines[end]!.trim()); end++) {
    if (lines[end]!.trim() && ++nonEmpty > MAX_SIGNATURE_LINES) return -1;
  }
  const block = lines.slice(at + 1, end).map((l) => l.trim());
  if (block.some((l) => QUESTION.test(l)) || (!spaced && block.some((l) => SENTENCE.test(l)))) return -1;
  return end;
}

/** Signature blocks below a "-- " (or bare "--") line removed; a postscript in or after one stays. */
function stripSignature(text: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const end = signatureEnd(lines, i);
    if (end < 0) {
      kept.push(lines[i]!);
      i++;
      continue;
    }
    while (kept.length > 0 && !kept[kept.length - 1]!.trim()) kept.pop();
    // A blank line between the text above and the postscript that follows.
    if (end < lines.length && kept.length > 0) kept.push('');
    i = end;
  }
  return kept.join('\n');
}

// Device and app names in footers; trailing model tokens ("iPhone 15 Pro", "Galaxy S23 Ultra") but no free words,
// so "Sent from my phone so excuse typos" stays.
const BRAND = 'samsung|huawei|google|sony|motorola|xiaomi|oneplus|nokia|lg|oppo|honor|htc|apple|verizon|sprint|t-mobile|at&t';
const DEVICE =
  `(?:(?:${BRAND}),? ){0,2}` +
  '(?:iphone|ipad|ipod|android|galaxy|blackberry|pixel|xperia|smartphone|phone|mobile|tablet|móvil|celular|cellulare|dispositivo)' +
  `(?: (?:${BRAND}|\\d\\w*|[a-z]\\d\\w*|pro|max|plus|mini|ultra|lite|tab|note|fold|flip|xl|se|smartphone|phone|tablet|device|mobile))*`;
// Footers mail apps append, alone on the last line; an Outlook text part adds its link in <>.
const DEVICE_FOOTER = new RegExp(
  '^(?:' +
    [
      `sent from my ${DEVICE}`,
      `enviado desde mi ${DEVICE}`,
      `enviado do meu ${DEVICE}`,
      `inviato da(?:l mio)? ${DEVICE}`,
      `envoyé (?:de|depuis) mon ${DEVICE}`,
      `von meinem ${DEVICE} gesendet`,
      `(?:verzonden|verstuurd) (?:vanaf|met) mijn ${DEVICE}`,
      `sendt fra min ${DEVICE}`,
      '(?:get outlook for|obtener outlook para|télécharger outlook pour|scarica outlook per) (?:ios|android)',
      'outlook für (?:ios|android) beziehen',
      'sent from outlook(?: for (?:ios|android|mac))?',
      'sent from yahoo mail (?:for|on) (?:iphone|ipad|android)',
      'sent from mail for windows(?: 1[01])?',
    ].join('|') +
    ')\\.?(?:\\s*<https?://[^\\s<>]+>)?$',
  'iu',
);

/** Device and app footers removed from the end, one line at a time. */
function stripDeviceFooters(text: string): string {
  const lines = text.split('\n');
  while (lines.length > 0 && (!lines[lines.length - 1]!.trim() || DEVICE_FOOTER.test(lines[lines.length - 1]!.trim()))) lines.pop();
  return lines.join('\n');
}

/**
 * The patient's own words: text part preferred (HTML converted otherwise), quoted history, the signature block
 * below a "-- " line and device footers removed. Sign-offs and postscripts stay.
 */
export function extractPatientText(input: { text?: string; html?: string }): string {
  const raw = input.text?.trim() ? input.text : input.html?.trim() ? convert(input.html, HTML_TO_TEXT) : '';
  const full = tidy(raw, true);
  if (!full) return '';
  const reply = tidy(stripQuotedHistory(full.replace(UNSPACED_OUTLOOK_HEADER, '$1\n\n')), true);
  const visible = tidy(stripDeviceFooters(stripSignature(reply)));
  // A mail that is only a quote, a signature or a sign-off is still something the patient sent; never show it as empty.
  return visible || tidy(full);
}

export interface SanitizeEmailHtmlOptions {
  /** Keep <img> whose src is a `cid:` reference to a part of the same mail (src, alt, width, height); every other image still goes. */
  inlineImages?: boolean;
}

const CID_SRC = /^cid:\S/i;

/** HTML safe to render in the agent UI: a strict formatting allowlist, links only to http(s)/mailto, images only inline ones on request. */
export function sanitizeEmailHtml(html: string, options: SanitizeEmailHtmlOptions = {}): string {
  const images = options.inlineImages === true;
  return sanitizeHtml(html, {
    allowedTags: ['p', 'br', 'b', 'i', 'strong', 'em', 'ul', 'ol', 'li', 'a', 'blockquote', ...(images ? ['img'] : [])],
    // No style/class/on* attributes: they carry CSS tricks and script handlers.
    allowedAttributes: { a: ['href'], ...(images ? { img: ['src', 'alt', 'width', 'height'] } : {}) },
    allowedSchemes: ['http', 'https', 'mailto'],
    // An image may only point into the mail: http(s) would load a remote tracking pixel, data: anything at all.
    allowedSchemesByTag: { img: ['cid'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    // "//host/path" would inherit the UI's scheme and dodge the scheme check.
    allowProtocolRelative: false,
    // Drop these with their content, not just their tags: their text is code or page chrome, not the message.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'title', 'head', 'template', 'svg', 'math'],
    disallowedTagsMode: 'discard',
    ...(images && {
      transformTags: {
        // Only these attributes, src trimmed as browsers do, sizes as plain pixel numbers.
        img: (tagName, attribs) => ({
          tagName,
          attribs: {
            src: (attribs.src ?? '').trim(),
            ...(attribs.alt !== undefined && { alt: attribs.alt }),
            ...(/^\d{1,4}$/.test(attribs.width ?? '') && { width: attribs.width! }),
            ...(/^\d{1,4}$/.test(attribs.height ?? '') && { height: attribs.height! }),
          },
        }),
      },
      // The scheme check passes relative URLs ("/api/…", "pixel.gif") and removes only the src of others:
      // an image goes with its tag unless its src is a cid: reference.
      exclusiveFilter: (frame) => frame.tag === 'img' && !CID_SRC.test(frame.attribs.src ?? ''),
    }),
  });
}

/** Header fields of a raw RFC 5322 block: folded lines joined, names lowercased, repeats kept in order. */
export function parseHeaderBlock(headers: string): Map<string, string[]> {
  const fields: Array<[string, string]> = [];
  for (const line of headers.trimStart().split(/\r?\n/)) {
    // A blank line ends the header section; anything after it is body.
    if (line.trim() === '') break;
    const last = fields[fields.length - 1];
    // Unfolding removes only the line break; the leading whitespace stays (RFC 5322 §2.2.3).
    if (/^[ \t]/.test(line)) {
      if (last) last[1] += line;
      continue;
    }
    const colon = line.indexOf(':');
    // Not a field (e.g. an mbox "From " line): skip rather than invent a name.
    if (colon <= 0) continue;
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1)]);
  }
  const map = new Map<string, string[]>();
  for (const [name, value] of fields) map.set(name, [...(map.get(name) ?? []), value.trim()]);
  return map;
}

/** True for bounces, delivery reports, auto-replies and bulk mail, which must not reopen conversations or be answered. */
export function isAutomatedEmail(headers: Map<string, string[]>, from: string): boolean {
  const values = (name: string) => (headers.get(name) ?? []).map((v) => v.trim().toLowerCase());
  // RFC 3834: any Auto-Submitted value except "no" (parameters after ";" do not matter).
  if (values('auto-submitted').some((v) => v.split(';')[0]!.trim() !== 'no')) return true;
  // Older autoresponders (vacation, cPanel, Exchange) announce themselves with these instead.
  if (headers.has('x-autoreply') || headers.has('x-autorespond')) return true;
  if (values('precedence').some((v) => ['bulk', 'junk', 'list', 'auto_reply'].includes(v))) return true;
  // Delivery status notifications (RFC 3462) are bounces, whoever sends them.
  if (values('content-type').some((v) => v.startsWith('multipart/report'))) return true;
  // A null reverse-path is reserved for DSNs and auto-replies (RFC 5321 §4.5.5, RFC 3834 §3.3).
  if (values('return-path').some((v) => v === '<>')) return true;
  // X-Auto-Response-Suppress is deliberately ignored: Outlook sets it on ordinary person-written mail.
  const address = (/<([^<>]*)>/.exec(from)?.[1] ?? from).trim().toLowerCase();
  const local = address.split('@')[0]!.replace(/^"|"$/g, '');
  return local === 'mailer-daemon' || local === 'postmaster';
}

const ANGLE_ID = /<[^<>\s]+>/g;

/** Threading ids as written, angle brackets kept (the form outbound mail stores); References may hold many. */
export function messageIdsFrom(headers: Map<string, string[]>): { messageId: string | null; inReplyTo: string[]; references: string[] } {
  const ids = (name: string) => (headers.get(name) ?? []).flatMap((v) => v.match(ANGLE_ID) ?? []);
  return { messageId: ids('message-id')[0] ?? null, inReplyTo: ids('in-reply-to'), references: ids('references') };
}
