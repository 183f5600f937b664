/**
 * Files patients send that the provider does not keep for us (email
 * attachments): sealed with the PHI key and stored in `attachment_blobs`,
 * referenced from the message as `blob:<id>`. One document per file, so the
 * per-file cap keeps it well under MongoDB's 16 MB document limit.
 */
import { fileTypeFromBuffer } from 'file-type';
import { Types } from 'mongoose';
import { AppError } from '../errors.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { safeFileName } from './safe-file-name.ts';

export const MAX_STORED_ATTACHMENT_BYTES = 8 * 1024 * 1024;

/** What patients may send as files (email, web chat): documents and photos, nothing executable or renderable as a page. */
export const ACCEPTED_ATTACHMENT_TYPES: ReadonlySet<string> = new Set([
  'application/pdf', 'image/jpeg', 'image/png', 'image/gif', 'image/heic', 'image/webp', 'text/plain',
]);

/** The extension a stored file of each type is named with when its own name cannot be kept. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/heic': 'heic', 'image/webp': 'webp',
  'text/plain': 'txt', 'text/vcard': 'vcf',
};

// Other names for the accepted types, as senders declare them and as file-type reports them: an animated PNG is a PNG,
// and iPhones' photos come as any of the HEIF family, so each is one type here, compared and stored alike.
const ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/apng': 'image/png',
  'image/heif': 'image/heic', 'image/heic-sequence': 'image/heic', 'image/heif-sequence': 'image/heic',
};

/** A declared or sniffed media type as the hub compares and stores it: lowercased, parameters dropped, aliases merged. */
export function canonicalType(mediaType: string): string {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  return ALIASES[type] ?? type;
}

export const extensionForType = (contentType: string): string | undefined => EXTENSIONS[canonicalType(contentType)];

/** Text has no magic bytes: it is text when it decodes as UTF-8 and carries no NUL (which no text file does, and binaries all do). */
function isPlainText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

export type SniffedAttachment =
  | { accepted: true; contentType: string; extension: string }
  | { accepted: false; reason: 'type' | 'mismatch'; why: string };

/**
 * What a file is by its bytes, checked against what the sender declared: the
 * declared type must be one we accept, and the bytes must be that type. The
 * declaration alone is the sender's word: an executable declared as a PDF
 * would otherwise be stored and handed to agents as one.
 */
export async function sniffAttachment(data: Buffer, declaredType: string): Promise<SniffedAttachment> {
  const declared = canonicalType(declaredType);
  if (!ACCEPTED_ATTACHMENT_TYPES.has(declared)) return { accepted: false, reason: 'type', why: 'this file type is not accepted' };
  const detected = await fileTypeFromBuffer(data);
  if (detected) {
    const actual = canonicalType(detected.mime);
    if (actual === declared) return { accepted: true, contentType: declared, extension: EXTENSIONS[declared]! };
    return { accepted: false, reason: 'mismatch', why: `its contents are ${detected.mime} (.${detected.ext}), not ${declared} as declared` };
  }
  const text = isPlainText(data);
  if (declared === 'text/plain' && text) return { accepted: true, contentType: declared, extension: EXTENSIONS[declared]! };
  return { accepted: false, reason: 'mismatch', why: `its contents are ${text ? 'plain text' : 'unrecognized binary data'}, not ${declared} as declared` };
}

export async function storeAttachment(
  ctx: TimelineContext,
  data: Buffer,
  contentType: string,
  /** `awaitsMessage`: an upload (agent or widget) that a message must claim before it expires. */
  upload?: { name: string; uploadedBy: string; awaitsMessage?: boolean },
): Promise<string> {
  const id = new Types.ObjectId().toHexString();
  await ctx.models.AttachmentBlob.create({
    _id: id, contentType, size: data.length, dataEnc: ctx.cipher.encrypt(data.toString('base64')),
    // Callers name uploads safely already; this keeps a name that missed that from ever being stored.
    nameEnc: upload ? ctx.cipher.encrypt(safeFileName(upload.name, extensionForType(contentType))) : null, uploadedBy: upload?.uploadedBy ?? null, createdAt: ctx.clock(),
    pendingSince: upload?.awaitsMessage ? ctx.clock() : null,
  });
  return `blob:${id}`;
}

export async function loadAttachment(ctx: TimelineContext, ref: string): Promise<{ contentType: string; data: Buffer } | null> {
  if (!ref.startsWith('blob:')) return null;
  const blob = await ctx.models.AttachmentBlob.findById(ref.slice(5)).lean();
  return blob ? { contentType: blob.contentType, data: Buffer.from(ctx.cipher.decrypt(blob.dataEnc), 'base64') } : null;
}

/** Who uploaded a blob, as recorded on it: only that agent may attach it to a reply. */
export const agentUploader = (agentId: string) => `agent:${agentId}`;

/** MMS carries at most 5 MB of media in all (Twilio). */
export const MAX_MMS_BYTES = 5 * 1024 * 1024;

/**
 * The attachments a message may carry from uploads: each id must name a file
 * this uploader (an agent, a web visitor) stored, never someone else's.
 */
export async function uploadedAttachments(ctx: TimelineContext, uploader: string, ids: readonly string[], hint: string) {
  const files: { name: string; contentType: string; size: number; ref: string }[] = [];
  for (const id of ids) {
    const blob = await ctx.models.AttachmentBlob.findById(id, { dataEnc: 0 }).lean();
    if (!blob || blob.uploadedBy !== uploader || !blob.nameEnc) {
      throw new AppError('INVALID_INPUT', `attachmentIds: upload the file first (${hint})`, { field: 'attachmentIds' });
    }
    files.push({ name: ctx.cipher.decrypt(blob.nameEnc), contentType: blob.contentType, size: blob.size, ref: `blob:${id}` });
  }
  // Claimed by a message now: kept for good (a message that then failed to store leaves one blob behind, nothing worse).
  for (const id of ids) await ctx.models.AttachmentBlob.updateOne({ _id: id }, { $set: { pendingSince: null } });
  return files;
}

/** Deletes uploads no message claimed within `maxAgeMs` (anonymous uploads must not pile up). */
export async function sweepUnattachedUploads(ctx: TimelineContext, maxAgeMs: number): Promise<number> {
  const before = new Date(ctx.clock().getTime() - maxAgeMs);
  // Only blobs marked pending: files stored before uploads were marked, and files a message carries, are never swept.
  const result = await ctx.models.AttachmentBlob.deleteMany({ pendingSince: { $lt: before } });
  return result.deletedCount;
}
