/**
 * A file posted as the raw request body (Content-Type = the file's type,
 * X-File-Name = its name, URL-encoded): what patients attach in the widget and
 * agents attach to replies. Type allowlist and size cap are the same for both.
 */
import type { Request } from 'express';
import { ACCEPTED_ATTACHMENT_TYPES } from '../attachments/attachment-store.ts';
import { AppError } from '../errors.ts';

export interface Upload {
  name: string;
  contentType: string;
  data: Buffer;
}

export function readUpload(req: Request): Upload {
  const contentType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!ACCEPTED_ATTACHMENT_TYPES.has(contentType)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${contentType || 'This file type'} cannot be sent; send a PDF, a photo (JPEG, PNG, GIF, HEIC, WebP) or a text file`);
  }
  const data = req.body as unknown;
  if (!Buffer.isBuffer(data) || data.length === 0) throw new AppError('INVALID_INPUT', 'body: the file is empty', { field: 'body' });
  let name: string;
  try {
    name = decodeURIComponent(req.get('x-file-name') ?? '').trim().slice(0, 200);
  } catch {
    throw new AppError('INVALID_INPUT', 'X-File-Name: must be URL-encoded', { field: 'X-File-Name' });
  }
  return { name: name.replace(/[\u0000-\u001f/\\]/g, '_') || 'file', contentType, data };
}
