/**
 * A file posted as the raw request body (Content-Type = the file's type,
 * X-File-Name = its name, URL-encoded): what patients attach in the widget and
 * agents attach to replies. Type allowlist, byte sniffing, name cleaning and
 * size cap are the same for both.
 */
import type { Request } from 'express';
import { ACCEPTED_ATTACHMENT_TYPES, canonicalType, sniffAttachment } from '../attachments/attachment-store.ts';
import { safeFileName } from '../attachments/safe-file-name.ts';
import { AppError } from '../errors.ts';

export interface Upload {
  name: string;
  contentType: string;
  data: Buffer;
}

const ACCEPTED_HINT = 'send a PDF, a photo (JPEG, PNG, GIF, HEIC, WebP) or a text file';

/** The upload, checked: refused with 415 unless its bytes are the accepted type it was declared as. Nothing is stored here. */
export async function readUpload(req: Request): Promise<Upload> {
  const declared = canonicalType(req.get('content-type') ?? '');
  if (!ACCEPTED_ATTACHMENT_TYPES.has(declared)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${declared || 'This file type'} cannot be sent; ${ACCEPTED_HINT}`, { field: 'Content-Type' });
  }
  const data = req.body as unknown;
  if (!Buffer.isBuffer(data) || data.length === 0) throw new AppError('INVALID_INPUT', 'body: the file is empty', { field: 'body' });
  let name: string;
  try {
    name = decodeURIComponent(req.get('x-file-name') ?? '');
  } catch {
    throw new AppError('INVALID_INPUT', 'X-File-Name: must be URL-encoded', { field: 'X-File-Name' });
  }
  const sniffed = await sniffAttachment(data, declared);
  if (!sniffed.accepted) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `This file cannot be sent: ${sniffed.why}; ${ACCEPTED_HINT}`, { field: 'body' });
  return { name: safeFileName(name, sniffed.extension), contentType: sniffed.contentType, data };
}
