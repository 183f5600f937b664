/**
 * Plays the patient against a running hub, with the same settings as
 * `npm start` (including development secrets in DATA_DIR):
 *
 *   npm run simulate -- sms --from "+1 415 555 0100" --body "Hello" [--media <url>]
 *     an inbound webhook signed exactly as Twilio signs it (TWILIO_AUTH_TOKEN over PUBLIC_BASE_URL + path);
 *   npm run simulate -- email --from pat@example.org --body "Hello" [--subject s] [--reply-to-last]
 *     a multipart Inbound Parse post with the basic-auth secret; --reply-to-last answers the
 *     newest mail the hub sent to that address (its Reply-To and Message-ID), found in the
 *     sandbox outbox with the bootstrap admin's login.
 *
 * --hub <url> overrides http://127.0.0.1:PORT.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { ConfigError, loadConfig, type Config } from '../server/config.ts';

const USAGE = 'usage: npm run simulate -- sms --from <phone> --body <text> [--media <url>] [--hub <url>]\n       npm run simulate -- email --from <address> --body <text> [--subject <s>] [--reply-to-last] [--hub <url>]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' }, body: { type: 'string' }, media: { type: 'string', multiple: true }, hub: { type: 'string' },
      subject: { type: 'string' }, 'reply-to-last': { type: 'boolean' },
    },
  });
  const [channel] = positionals;
  if (channel !== 'sms' && channel !== 'email') {
    console.error(`simulate: channel "${channel ?? ''}" is not one of sms, email.\n${USAGE}`);
    return 1;
  }
  if (!values.from || values.body === undefined) {
    console.error(`simulate: --from and --body are required.\n${USAGE}`);
    return 1;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const hub = (values.hub ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
  if (channel === 'email') return simulateEmail(config, hub, { from: values.from, body: values.body, subject: values.subject, replyToLast: Boolean(values['reply-to-last']) });
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const media = values.media ?? [];
  const params: Record<string, string> = {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    AccountSid: config.twilio.accountSid ?? `AC${'0'.repeat(32)}`,
    From: values.from,
    To: config.twilio.fromNumber ?? '+15005550006',
    Body: values.body,
    NumMedia: String(media.length),
    NumSegments: '1',
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
    ...Object.fromEntries(media.flatMap((url, i) => [[`MediaUrl${i}`, url], [`MediaContentType${i}`, 'image/jpeg']])),
  };
  const path = '/webhooks/twilio/sms';
  const signature = twilio.getExpectedTwilioSignature(config.twilio.authToken, `${config.publicBaseUrl}${path}`, params);
  const res = await fetch(`${hub}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const answer = await res.text();
  console.log(`hub answered ${res.status} for ${sid}${answer.includes('<Message>') ? ' with a reply (TwiML)' : ''}`);
  return res.ok ? 0 : 1;
}

async function simulateEmail(config: Config, hub: string, mail: { from: string; body: string; subject?: string | undefined; replyToLast: boolean }): Promise<number> {
  let to = `clinic@${config.sendgrid.inboundDomain}`;
  let inReplyTo: string | undefined;
  let subject = mail.subject ?? 'Question';
  if (mail.replyToLast) {
    const last = await lastMailTo(config, hub, mail.from.toLowerCase());
    if (!last) {
      console.error(`simulate: the hub has sent no email to ${mail.from} yet (sandbox outbox).`);
      return 1;
    }
    to = last.reply_to?.email ?? to;
    inReplyTo = last.headers?.['Message-ID'];
    subject = mail.subject ?? (last.subject?.startsWith('Re:') ? last.subject : `Re: ${last.subject ?? ''}`);
  }
  const messageId = `<sim-${randomBytes(8).toString('hex')}@example.org>`;
  const headers = [`From: ${mail.from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: ${messageId}`, ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`, `References: ${inReplyTo}`] : [])].join('\r\n');
  const form = new FormData();
  for (const [k, v] of Object.entries({ headers, from: mail.from, to, subject, text: mail.body, envelope: JSON.stringify({ to: [to], from: mail.from }), charsets: '{"text":"UTF-8"}', SPF: 'pass' })) form.append(k, v);
  const res = await fetch(`${hub}/webhooks/sendgrid/inbound`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Basic ${Buffer.from(`parse:${config.sendgrid.inboundSecret}`).toString('base64')}` },
  });
  console.log(`hub answered ${res.status} for ${messageId}${inReplyTo ? ' (a reply to the last mail)' : ''}`);
  return res.ok ? 0 : 1;
}

interface OutboxMail {
  personalizations?: { to?: { email: string }[] }[];
  reply_to?: { email: string };
  subject?: string;
  headers?: Record<string, string>;
}

async function lastMailTo(config: Config, hub: string, address: string): Promise<OutboxMail | undefined> {
  if (!config.bootstrapAdmin) return undefined;
  const login = await fetch(`${hub}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config.bootstrapAdmin) });
  if (!login.ok) return undefined;
  const { accessToken } = (await login.json()) as { accessToken: string };
  const outbox = await fetch(`${hub}/api/dev/outbox?channel=email`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (!outbox.ok) return undefined;
  const { items } = (await outbox.json()) as { items: { request: OutboxMail }[] };
  return items.map((i) => i.request).find((r) => r.personalizations?.[0]?.to?.[0]?.email === address);
}

process.exitCode = await main();
