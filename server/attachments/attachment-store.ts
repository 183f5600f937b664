/**
 * Files patients send that the provider does not keep for us (email
 * attachments): sealed with the PHI key and stored in `attachment_blobs`,
 * referenced from the message as `blob:<id>`. One document per file, so the
 * per-file cap keeps it well under MongoDB's 16 MB document limit.
 */
import { Types } from 'mongoose';
import { AppError } from '../errors.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';

export const MAX_STORED_ATTACHMENT_BYTES = 8 * 1024 * 1024;

/** What patients may send as files (email, web chat): documents and photos, nothing executable or renderable as a page. */
export const ACCEPTED_ATTACHMENT_TYPES: ReadonlySet<string> = new Set([
  'application/pdf', 'image/jpeg', 'image/png', 'image/gif', 'image/heic', 'image/webp', 'text/plain',
]);

export async function storeAttachment(
  ctx: TimelineContext,
  data: Buffer,
  contentType: string,
  upload?: { name: string; uploadedBy: string },
): Promise<string> {
  const id = new Types.ObjectId().toHexString();
  await ctx.models.AttachmentBlob.create({
    _id: id, contentType, size: data.length, dataEnc: ctx.cipher.encrypt(data.toString('base64')),
    nameEnc: upload ? ctx.cipher.encrypt(upload.name) : null, uploadedBy: upload?.uploadedBy ?? null, createdAt: ctx.clock(),
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
  return files;
}
