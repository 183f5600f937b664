/** Posts an email to the hub the way SendGrid Inbound Parse does (multipart, basic-auth secret), authenticated unless told otherwise. */
import type { TestHub } from './test-hub.ts';

export interface InboundMail {
  from: string;
  to?: string;
  subject?: string;
  text?: string;
  headers?: string;
  /** Inbound Parse's verdicts; default: DKIM signed by the From domain and SPF pass, as a real provider's mail has. */
  SPF?: string;
  dkim?: string;
  envelope?: string;
}

export async function postInboundEmail(
  t: TestHub,
  mail: InboundMail,
  files: { name: string; type: string; data: Buffer }[] = [],
  secret: string | null = t.config.sendgrid.inboundSecret,
): Promise<{ status: number; body: any }> {
  const domain = /@([^>\s]+)/.exec(mail.from)?.[1] ?? 'example.org';
  const fields: Record<string, string> = {
    headers: `From: ${mail.from}\r\nSubject: ${mail.subject ?? 'Question'}\r\nMessage-ID: <m-${Math.random().toString(36).slice(2)}@mail.${domain}>\r\n`,
    to: 'clinic@inbound.hub.example.com',
    subject: 'Question',
    text: 'Hello there',
    SPF: 'pass',
    dkim: `{@${domain} : pass}`,
    ...Object.fromEntries(Object.entries(mail).filter(([, v]) => v !== undefined)),
  };
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(`attachment${files.indexOf(f) + 1}`, new Blob([new Uint8Array(f.data)], { type: f.type }), f.name);
  const headers: Record<string, string> = secret === null ? {} : { authorization: `Basic ${Buffer.from(`parse:${secret}`).toString('base64')}` };
  const res = await fetch(`${t.url}/webhooks/sendgrid/inbound`, { method: 'POST', body: form, headers });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * Posts Inbound Parse fields as raw bytes, exactly as SendGrid does: each text
 * field in the charset its `charsets` entry names, with no per-part charset.
 */
export async function postRawInboundEmail(
  t: TestHub,
  fields: Record<string, string | Buffer>,
  files: { field: string; name: string; type: string; data: Buffer }[] = [],
): Promise<{ status: number; body: any }> {
  const boundary = 'xYzZY';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), Buffer.from('\r\n'));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${t.url}/webhooks/sendgrid/inbound`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Basic ${Buffer.from(`parse:${t.config.sendgrid.inboundSecret}`).toString('base64')}` },
    body: Buffer.concat(parts),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
