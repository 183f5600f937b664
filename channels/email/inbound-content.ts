/**
 * What a patient actually wrote in an inbound email (SendGrid Inbound Parse
 * fields: `text`, `html`, `headers`, `from`): quoted history and device
 * footers stripped, HTML made safe, threading ids read, and automated mail
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

/** Line endings to LF, trailing spaces off each line, 3+ blank lines down to 2, ends trimmed. */
function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+$/gm, '')
    .replace(/\n{4,}/g, '\n\n\n')
    .trim();
}

// The parser ends the reply only at a quote header with a blank line above it; Outlook often puts its
// "-----Original Message-----" line or "From: ...\nSent: ..." block straight under the reply's last line.
const UNSPACED_OUTLOOK_HEADER = /([^\n])\n(?=-{1,12} ?Original Message ?-{1,12}\n|From ?:[^\n]*\n(?:Sent|Date) ?:)/gi;

/** The reply's own text per email-reply-parser: quoted fragments dropped, a signature only when it is a lone marker line. */
function visibleText(text: string): string {
  return (
    new EmailReplyParser()
      .read(text)
      .getFragments()
      // The parser marks everything below a sign-off ("Regards,", "--") as signature, which can hide a P.S. or a
      // symptom; only a one-line fragment such as "Sent from my iPhone" holds nothing the patient wrote.
      .filter((f) => !f.isQuoted() && !(f.isSignature() && !f.getContent().trim().includes('\n')))
      .map((f) => f.getContent())
      .join('\n')
  );
}

/** Quoted history and device footers removed, with the parser's input bounded so hostile mail cannot stall the event loop. */
function stripQuotedHistory(full: string): string {
  if (full.length <= PARSE_LIMIT) return visibleText(full);
  const cut = full.lastIndexOf('\n', PARSE_LIMIT);
  const head = full.slice(0, cut > 0 ? cut : PARSE_LIMIT);
  const visible = visibleText(head);
  // Nothing recognised in the head: keep the whole mail rather than cut the patient off at the limit.
  return tidy(visible) === tidy(head) ? full : visible;
}

/** The patient's own words: text part preferred (HTML converted otherwise), quoted history and device footers removed. */
export function extractPatientText(input: { text?: string; html?: string }): string {
  const raw = input.text?.trim() ? input.text : input.html?.trim() ? convert(input.html, HTML_TO_TEXT) : '';
  const full = tidy(raw);
  if (!full) return '';
  const visible = tidy(stripQuotedHistory(full.replace(UNSPACED_OUTLOOK_HEADER, '$1\n\n')));
  // A mail that is only a quote or only a sign-off is still something the patient sent; never show it as empty.
  return visible || full;
}

/** HTML safe to render in the agent UI: a strict formatting allowlist, links only to http(s)/mailto. */
export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: ['p', 'br', 'b', 'i', 'strong', 'em', 'ul', 'ol', 'li', 'a', 'blockquote'],
    // No style/class/on* attributes: they carry CSS tricks and script handlers.
    allowedAttributes: { a: ['href'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesAppliedToAttributes: ['href'],
    // "//host/path" would inherit the UI's scheme and dodge the scheme check.
    allowProtocolRelative: false,
    // Drop these with their content, not just their tags: their text is code or page chrome, not the message.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'title', 'head', 'template', 'svg', 'math'],
    disallowedTagsMode: 'discard',
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
