/**
 * "Show original": an inbound email as it arrived, before reply stripping.
 * Its HTML was sanitised when it came in (only formatting, links, and images
 * that refer to the mail's own parts by cid:); each cid: is rewritten here to
 * the hub's authenticated attachment URL for the message where it lives now
 * (a merge may have moved it), and an image whose part is unknown is removed.
 */
import type { MessageDoc } from '../db/documents.ts';
import type { PhiCipher } from '../crypto/phi-cipher.ts';

// sanitize-html writes every attribute double-quoted with `"` escaped, so a cid: src is always this shape.
const CID_IMAGE = /<img\b([^>]*?)\ssrc="cid:([^"]*)"([^>]*)>/gi;

export function originalOf(message: MessageDoc, cipher: PhiCipher): { text: string | null; html: string | null } {
  const original = message.originalEnc ? (JSON.parse(cipher.decrypt(message.originalEnc)) as { text?: string; html?: string }) : {};
  const base = `/api/conversations/${encodeURIComponent(message.conversationId)}/messages/${encodeURIComponent(message._id)}/attachments/`;
  const indexOf = new Map(message.attachments.flatMap((a, i) => (a.contentId ? [[a.contentId.toLowerCase(), i] as const] : [])));
  const html = original.html?.replace(CID_IMAGE, (_all, before: string, cid: string, after: string) => {
    let id = cid;
    try {
      id = decodeURIComponent(cid);
    } catch {
      // a malformed escape stays as written and matches nothing
    }
    const index = indexOf.get(id.replace(/^<|>$/g, '').toLowerCase());
    return index === undefined ? '' : `<img${before} src="${base}${index}" data-attachment-index="${index}"${after}>`;
  });
  return { text: original.text ?? null, html: html ?? null };
}
