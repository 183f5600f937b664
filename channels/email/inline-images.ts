/**
 * Inline images of SendGrid Inbound Parse mail: which attachment parts are
 * referenced from the HTML as `cid:` (the `content-ids` and `attachment-info`
 * fields). The hub points each `<img src="cid:…">` at its own copy when an
 * agent opens the original (server/http/original-email.ts). Pure functions.
 */
// SendGrid caps attachments well below this; more entries are not a real mail.
const MAX_INLINE_IMAGES = 50;
// A real field is a few hundred bytes per attachment.
const MAX_JSON_LENGTH = 65_536;
const MAX_CONTENT_ID_LENGTH = 256;
const ATTACHMENT_FIELD = /^attachment[1-9]\d{0,2}$/;

/** A Content-ID without spaces and angle brackets, or null when it is empty, too long or holds characters no id has. */
export function normalizeContentId(value: string): string | null {
  const id = value.trim().replace(/^<([^<>]*)>$/, '$1').trim();
  if (!id || id.length > MAX_CONTENT_ID_LENGTH) return null;
  // Whitespace, controls, quotes and brackets: not in an RFC 2392 id, and unsafe in markup.
  return /[\s\u0000-\u001f\u007f"'<>]/.test(id) ? null : id;
}

/** The entries of a JSON object field; anything else (absent, malformed, an array, oversized) gives none. */
function jsonEntries(field: string | undefined): Array<[string, unknown]> {
  if (!field || field.length > MAX_JSON_LENGTH) return [];
  try {
    const parsed: unknown = JSON.parse(field);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? Object.entries(parsed) : [];
  } catch {
    return [];
  }
}

/**
 * Attachment field name ("attachment1") → Content-ID, for the parts the HTML may show inline. `content-ids`
 * ({"<cid>": "attachment1"}) is read first, then `content-id` in `attachment-info` fills the gaps; at most 50.
 */
export function inlineContentIds(attachmentInfo: string | undefined, contentIds: string | undefined): Map<string, string> {
  const byField = new Map<string, string>();
  const add = (field: unknown, contentId: unknown) => {
    if (byField.size >= MAX_INLINE_IMAGES || typeof field !== 'string' || !ATTACHMENT_FIELD.test(field) || byField.has(field)) return;
    const id = typeof contentId === 'string' ? normalizeContentId(contentId) : null;
    if (id !== null) byField.set(field, id);
  };
  for (const [contentId, field] of jsonEntries(contentIds)) add(field, contentId);
  for (const [field, info] of jsonEntries(attachmentInfo)) {
    if (typeof info === 'object' && info !== null) add(field, (info as Record<string, unknown>)['content-id']);
  }
  return byField;
}
