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
import { ChannelError, type ChannelRoute, type HubPorts, type InboundAttachment } from '../contract.ts';
import { decodeInboundFields, describeDecodingProblems } from './charsets.ts';
import { extractPatientText, isAutomatedEmail, messageIdsFrom, parseHeaderBlock, sanitizeEmailHtml } from './inbound-content.ts';
import { inlineContentIds } from './inline-images.ts';
import { authenticateSender } from './sender-authentication.ts';
import { foldHeaderText } from './header-text.ts';

export interface InboundParseConfig {
  /** SENDGRID_INBOUND_SECRET: the basic-auth password of the parse URL. */
  secret: string;
}

const MAX_REQUEST_BYTES = 30 * 1024 * 1024; // SendGrid's own limit per message
const MAX_FILES = 10;
/** The fields agents read: a charset problem in one of them is said on the message. */
const SHOWN_FIELDS = new Set(['text', 'html', 'subject', 'from']);

interface ParsedMail {
  /** Decoded per Inbound Parse's `charsets` field (charsets.ts). */
  fields: Record<string, string>;
  /** What could not be decoded as declared, for agents; empty when all was. */
  decodingNote: string;
  files: { field: string; name: string; contentType: string; data: Buffer }[];
  refused: { name: string; contentType: string; why: string }[];
}

export function inboundParseRoutes(config: InboundParseConfig, ports: HubPorts): ChannelRoute[] {
  return [
    {
      method: 'post', path: '/webhooks/sendgrid/inbound', bodyParsing: 'stream',
      summary: 'SendGrid Inbound Parse (multipart; HTTP basic auth with SENDGRID_INBOUND_SECRET as the password)',
      responses: { 200: { description: 'Stored (or ignored on purpose)' }, 403: { description: 'Wrong or missing secret; nothing read or stored' }, 413: { description: 'Over 30 MB' } },
      handler: async ({ req }) => {
        checkSecret(config, ports, req);
        if (Number(req.get('content-length') ?? 0) > MAX_REQUEST_BYTES) throw new ChannelError('payload_too_large', 'An inbound email may be at most 30 MB');
        const mail = await readMultipart(ports, req);
        return receiveEmail(ports, mail);
      },
    },
  ];
}

function checkSecret(config: InboundParseConfig, ports: HubPorts, req: Request): void {
  const match = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  const password = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : '';
  // Compare keyed digests: constant time whatever the lengths.
  const digest = (v: string) => createHmac('sha256', 'inbound-parse').update(v).digest();
  if (!match || !timingSafeEqual(digest(password), digest(config.secret))) {
    req.resume();
    ports.logger.warn({ path: req.path }, 'Inbound Parse refused: wrong or missing secret');
    throw new ChannelError('forbidden', 'The Inbound Parse secret is missing or wrong');
  }
}

function readMultipart(ports: HubPorts, req: Request): Promise<ParsedMail> {
  const { files } = ports;
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // File names arrive as raw UTF-8 (busboy's latin1 default would garble every non-ASCII name).
      // Fields as raw bytes (latin1 maps each byte to one character): each is decoded later in the charset
      // Inbound Parse names for it. File names arrive as raw UTF-8 (busboy's latin1 default would garble them).
      parser = busboy({ headers: req.headers, defCharset: 'latin1', defParamCharset: 'utf8', limits: { fileSize: files.maxBytes, files: MAX_FILES, fieldSize: 5 * 1024 * 1024 } });
    } catch {
      reject(new ChannelError('invalid_input', 'body: not multipart/form-data', 'body'));
      return;
    }
    const mail: ParsedMail = { fields: {}, decodingNote: '', files: [], refused: [] };
    const raw: Record<string, Buffer> = {};
    parser.on('field', (name, value) => (raw[name] = Buffer.from(value, 'latin1')));
    parser.on('file', (field, stream, info) => {
      // The name is shown to agents even when the file is refused: no bidi or control characters in it either way.
      const name = files.displayName(info.filename ?? '') || 'attachment';
      const contentType = files.canonicalType(info.mimeType);
      if (!files.accepts(contentType)) {
        mail.refused.push({ name, contentType, why: 'this file type is not accepted' });
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        if ((stream as { truncated?: boolean }).truncated) mail.refused.push({ name, contentType, why: `it is over ${files.maxBytes / 1024 / 1024} MB` });
        else mail.files.push({ field, name, contentType, data: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => mail.refused.push({ name: 'further attachments', contentType: '', why: `at most ${MAX_FILES} files are accepted` }));
    parser.on('error', () => reject(new ChannelError('invalid_input', 'body: malformed multipart data', 'body')));
    parser.on('close', () => {
      const decoded = decodeInboundFields(raw, raw.charsets);
      const shown = Object.fromEntries(Object.entries(decoded.decoding).filter(([name]) => SHOWN_FIELDS.has(name)));
      resolve({ ...mail, fields: decoded.fields, decodingNote: describeDecodingProblems(shown) });
    });
    req.pipe(parser);
  });
}

/** The address inside `Name <address>` (or the bare address). */
function addressOf(value: string): { address: string; name: string | undefined } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(value);
  return match ? { address: match[2]!.trim(), name: match[1]!.trim() || undefined } : { address: value.trim(), name: undefined };
}

async function receiveEmail(ports: HubPorts, mail: ParsedMail): Promise<{ stored: boolean; duplicate: boolean }> {
  const headers = parseHeaderBlock(mail.fields.headers ?? '');
  const from = addressOf(mail.fields.from ?? headers.get('from')?.[0] ?? '');
  if (!from.address.includes('@')) throw new ChannelError('invalid_input', 'from: missing sender address', 'from');
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
    const recipients = [...(mail.fields.to ?? '').split(',').slice(0, 50), ...envelope.to].map((r) => addressOf(r).address).filter(Boolean);
    const target = await ports.findThread({ recipients, messageIds: threadIds(ids.inReplyTo, ids.references) });
    // That address may be another patient's: then it writes there, and the hub leaves it where it is.
    if (target) await ports.linkThreadedSender(target.patientId, { kind: 'email', value: from.address });
  } else {
    ports.logger.warn({ reason: authentication.reason, spf: authentication.spf }, 'inbound email sender not authenticated');
  }

  // The declared type is the sender's word: a file whose bytes are not that type is refused like a type we do
  // not take (noted in the message, never stored). There is nobody to answer, so a refusal never fails the mail.
  const attachments: InboundAttachment[] = [];
  const inline = inlineContentIds(mail.fields['attachment-info'], mail.fields['content-ids']);
  for (const file of mail.files) {
    const stored = await ports.files.store({ name: file.name, declaredType: file.contentType, data: file.data });
    const contentId = inline.get(file.field);
    if (stored.ok) attachments.push({ ...stored.attachment, ...(contentId ? { contentId } : {}) });
    else mail.refused.push({ name: stored.name, contentType: stored.contentType, why: stored.why });
  }
  const notes = mail.refused.map((r) => `[Attachment "${r.name}"${r.contentType ? ` (${r.contentType})` : ''} was not accepted: ${r.why}.]`);
  const text = extractPatientText({ text: mail.fields.text, html: mail.fields.html });
  const body = [text, ...notes].filter(Boolean).join('\n\n');
  const key = ids.messageId ?? createHash('sha256').update(`${from.address}\n${mail.fields.subject ?? ''}\n${body}`).digest('hex');
  const result = await ports.ingest({
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
    // The whole mail as it came, for "show original" when stripping hid too much; its HTML sanitised, inline images kept as cid:.
    original: {
      ...(mail.fields.text?.trim() ? { text: mail.fields.text } : {}),
      ...(mail.fields.html?.trim() ? { html: sanitizeEmailHtml(mail.fields.html, { inlineImages: true }) } : {}),
    },
    ...(mail.decodingNote ? { receptionNote: mail.decodingNote } : {}),
  });
  // Folded, not refused: the patient's mail is kept, and a CR/LF in it never reaches our reply's headers.
  const subject = foldHeaderText(mail.fields.subject ?? '');
  if (subject && !automated) await ports.setSubjectIfNone(result.conversationId, subject);
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

/** Only a handful of ids are worth trying: the hub's are 128 random bits, guessing is hopeless. */
function threadIds(inReplyTo: string[], references: string[]): string[] {
  return [...new Set([inReplyTo[0], ...[...references].reverse()].filter((x): x is string => Boolean(x)))].slice(0, MAX_THREAD_IDS);
}
