/**
 * SendGrid Inbound Parse: patients' emails, multipart/form-data. Inbound Parse
 * is not signed, so the parse URL carries SENDGRID_INBOUND_SECRET as the
 * password of HTTP basic auth (https://parse:SECRET@host/webhooks/sendgrid/inbound),
 * checked in constant time before the body is read. Attachments are streamed
 * with per-file and total caps and an allowlist; refused ones are noted in the
 * message, never dropped silently.
 * https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/inbound-email
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import busboy from 'busboy';
import type { Request } from 'express';
import { ACCEPTED_ATTACHMENT_TYPES, MAX_STORED_ATTACHMENT_BYTES, canonicalType, sniffAttachment, storeAttachment } from '../../server/attachments/attachment-store.ts';
import { plainFileName, safeFileName } from '../../server/attachments/safe-file-name.ts';
import type { ReplyAddresses } from '../../server/delivery/email-thread.ts';
import { AppError } from '../../server/errors.ts';
import { defineRoute, type Route } from '../../server/http/route.ts';
import { attachIdentity } from '../../server/timeline/ingest/resolve-identity.ts';
import { ingestInbound } from '../../server/timeline/ingest/ingest-inbound.ts';
import type { TimelineContext } from '../../server/timeline/timeline-context.ts';
import { extractPatientText, isAutomatedEmail, messageIdsFrom, parseHeaderBlock } from './inbound-content.ts';
import { authenticateSender } from './sender-authentication.ts';
import { foldHeaderText } from './header-text.ts';
import { ourEmailMessageId } from '../../server/delivery/email-thread.ts';

export interface InboundParseDeps {
  timeline: TimelineContext;
  secret: string;
  replyAddresses: ReplyAddresses;
}

const MAX_REQUEST_BYTES = 30 * 1024 * 1024; // SendGrid's own limit per message
const MAX_FILES = 10;

interface ParsedMail {
  fields: Record<string, string>;
  files: { name: string; contentType: string; data: Buffer }[];
  refused: { name: string; contentType: string; why: string }[];
}

export function inboundParseRoutes(deps: InboundParseDeps): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/webhooks/sendgrid/inbound', tag: 'webhooks', auth: 'public',
      summary: 'SendGrid Inbound Parse (multipart; HTTP basic auth with SENDGRID_INBOUND_SECRET as the password)',
      responses: { 200: { description: 'Stored (or ignored on purpose)' }, 403: { description: 'Wrong or missing secret; nothing read or stored' }, 413: { description: 'Over 30 MB' } },
      handler: async ({ req }) => {
        checkSecret(deps, req);
        if (Number(req.get('content-length') ?? 0) > MAX_REQUEST_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', 'An inbound email may be at most 30 MB');
        const mail = await readMultipart(req);
        return receiveEmail(deps, mail);
      },
    }),
  ];
}

function checkSecret(deps: InboundParseDeps, req: Request): void {
  const match = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  const password = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : '';
  // Compare keyed digests: constant time whatever the lengths.
  const digest = (v: string) => createHmac('sha256', 'inbound-parse').update(v).digest();
  if (!match || !timingSafeEqual(digest(password), digest(deps.secret))) {
    req.resume();
    deps.timeline.logger.warn({ path: req.path }, 'Inbound Parse refused: wrong or missing secret');
    throw new AppError('FORBIDDEN', 'The Inbound Parse secret is missing or wrong');
  }
}

function readMultipart(req: Request): Promise<ParsedMail> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // File names arrive as raw UTF-8 (busboy's latin1 default would garble every non-ASCII name).
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: MAX_STORED_ATTACHMENT_BYTES, files: MAX_FILES, fieldSize: 5 * 1024 * 1024 } });
    } catch {
      reject(new AppError('INVALID_INPUT', 'body: not multipart/form-data', { field: 'body' }));
      return;
    }
    const mail: ParsedMail = { fields: {}, files: [], refused: [] };
    parser.on('field', (name, value) => (mail.fields[name] = value));
    parser.on('file', (_field, stream, info) => {
      // The name is shown to agents even when the file is refused: no bidi or control characters in it either way.
      const name = plainFileName(info.filename ?? '') || 'attachment';
      const contentType = canonicalType(info.mimeType);
      if (!ACCEPTED_ATTACHMENT_TYPES.has(contentType)) {
        mail.refused.push({ name, contentType, why: 'this file type is not accepted' });
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        if ((stream as { truncated?: boolean }).truncated) mail.refused.push({ name, contentType, why: `it is over ${MAX_STORED_ATTACHMENT_BYTES / 1024 / 1024} MB` });
        else mail.files.push({ name, contentType, data: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => mail.refused.push({ name: 'further attachments', contentType: '', why: `at most ${MAX_FILES} files are accepted` }));
    parser.on('error', () => reject(new AppError('INVALID_INPUT', 'body: malformed multipart data', { field: 'body' })));
    parser.on('close', () => sniffFiles(mail).then(resolve, reject));
    req.pipe(parser);
  });
}

/**
 * The declared type is the sender's word: a file whose bytes are not that type
 * is refused like a type we do not take (noted in the message, never stored).
 * There is nobody to answer, so a refusal is never an error for the whole mail.
 */
async function sniffFiles(mail: ParsedMail): Promise<ParsedMail> {
  const files: ParsedMail['files'] = [];
  for (const file of mail.files) {
    const sniffed = await sniffAttachment(file.data, file.contentType);
    if (sniffed.accepted) files.push({ name: safeFileName(file.name, sniffed.extension), contentType: sniffed.contentType, data: file.data });
    else mail.refused.push({ name: file.name, contentType: file.contentType, why: sniffed.why });
  }
  return { ...mail, files };
}

/** The address inside `Name <address>` (or the bare address). */
function addressOf(value: string): { address: string; name: string | undefined } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(value);
  return match ? { address: match[2]!.trim(), name: match[1]!.trim() || undefined } : { address: value.trim(), name: undefined };
}

async function receiveEmail(deps: InboundParseDeps, mail: ParsedMail): Promise<{ stored: boolean; duplicate: boolean }> {
  const { timeline } = deps;
  const headers = parseHeaderBlock(mail.fields.headers ?? '');
  const from = addressOf(mail.fields.from ?? headers.get('from')?.[0] ?? '');
  if (!from.address.includes('@')) throw new AppError('INVALID_INPUT', 'from: missing sender address', { field: 'from' });
  const ids = messageIdsFrom(headers);
  const automated = isAutomatedEmail(headers, from.address);
  const envelope = parseEnvelope(mail.fields.envelope);
  const authentication = authenticateSender({
    from: from.address, spf: mail.fields.SPF, dkim: mail.fields.dkim, envelopeFrom: envelope.from, headers: mail.fields.headers,
  });

  // A reply to our mail: the signed plus-address first, then a Message-ID we sent. A sender who only wrote into
  // the thread (a relative CC'd) is a threaded contact of that patient, never verified by it. An unauthenticated
  // email links nothing: it goes to its address's own patient, marked.
  if (authentication.authenticated) {
    const target = await threadTarget(deps, mail.fields, envelope.to, [...ids.inReplyTo, ...ids.references]);
    if (target) {
      await attachIdentity(timeline, target.patientId, { kind: 'email', value: from.address }, { evidence: 'thread_reply' }).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error; // that address is another patient's: it writes there
      });
    }
  } else {
    timeline.logger.warn({ reason: authentication.reason, spf: authentication.spf }, 'inbound email sender not authenticated');
  }

  const attachments = [];
  for (const file of mail.files) {
    attachments.push({ name: file.name, contentType: file.contentType, size: file.data.length, ref: await storeAttachment(timeline, file.data, file.contentType) });
  }
  const notes = mail.refused.map((r) => `[Attachment "${r.name}"${r.contentType ? ` (${r.contentType})` : ''} was not accepted: ${r.why}.]`);
  const text = extractPatientText({ text: mail.fields.text, html: mail.fields.html });
  const body = [text, ...notes].filter(Boolean).join('\n\n');
  const key = ids.messageId ?? createHash('sha256').update(`${from.address}\n${mail.fields.subject ?? ''}\n${body}`).digest('hex');
  const result = await ingestInbound(timeline, {
    channel: 'email',
    from: { kind: 'email', value: from.address },
    providerKey: `email:${key}`,
    ...(ids.messageId ? { providerMessageId: ids.messageId } : {}),
    body,
    ...(from.name && authentication.authenticated ? { displayName: from.name } : {}),
    ...(mail.fields.subject ? { subject: mail.fields.subject } : {}),
    attachments,
    isAutomated: automated,
    impliesConsent: !automated,
    authentication: { authenticated: authentication.authenticated, reason: authentication.reason },
  });
  // Folded, not refused: the patient's mail is kept, and a CR/LF in it never reaches our reply's headers.
  const subject = foldHeaderText(mail.fields.subject ?? '');
  if (subject && !result.conversation.subject) {
    await timeline.models.Conversation.updateOne({ _id: result.conversation.id }, { $set: { subject } });
  }
  return { stored: !result.duplicate, duplicate: result.duplicate };
}

function parseEnvelope(raw: string | undefined): { to: string[]; from: string | undefined } {
  try {
    const envelope = JSON.parse(raw ?? '{}') as { to?: unknown; from?: unknown };
    return {
      to: Array.isArray(envelope.to) ? envelope.to.filter((x): x is string => typeof x === 'string').slice(0, 50) : [],
      from: typeof envelope.from === 'string' ? envelope.from : undefined,
    };
  } catch {
    return { to: [], from: undefined }; // a malformed envelope just does not help
  }
}

/** How many Message-IDs of one email are looked up (In-Reply-To first, then the newest References). */
const MAX_THREAD_IDS = 5;

async function threadTarget(deps: InboundParseDeps, fields: Record<string, string>, envelopeTo: string[], headerIds: string[]): Promise<{ patientId: string } | null> {
  const { models } = deps.timeline;
  const recipients = [...(fields.to ?? '').split(',').slice(0, 50), ...envelopeTo].map((r) => addressOf(r).address).filter(Boolean);
  for (const recipient of recipients) {
    const conversationId = deps.replyAddresses.conversationOf(recipient);
    const conversation = conversationId ? await models.Conversation.findById(conversationId, { patientId: 1 }).lean() : null;
    if (conversation) return { patientId: conversation.patientId };
  }
  // Only ids the hub itself put on an email it sent count, and only a handful: guessing is hopeless (128 random bits).
  const [inReplyTo, ...references] = headerIds;
  const candidates = [...new Set([inReplyTo, ...references.reverse()].filter((x): x is string => Boolean(x)))].slice(0, MAX_THREAD_IDS);
  for (const header of candidates) {
    const ours = ourEmailMessageId(header, deps.replyAddresses.domain);
    const message = ours ? await models.Message.findOne({ emailMessageId: ours, direction: 'outbound' }, { patientId: 1 }).lean() : null;
    if (message) return { patientId: message.patientId };
  }
  return null;
}
