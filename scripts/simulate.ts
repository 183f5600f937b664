/**
 * `npm run simulate -- sms --from "+1 415 555 0100" --body "Hello"`: plays the
 * patient. Posts an inbound webhook to a running hub, signed exactly as Twilio
 * signs it (TWILIO_AUTH_TOKEN, over PUBLIC_BASE_URL + path), so the hub handles
 * it like a real text. Options: --media <url> (MMS), --hub <url> (default
 * http://127.0.0.1:PORT). Reads the same settings as `npm start` (including
 * development secrets in DATA_DIR).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { ConfigError, loadConfig } from '../server/config.ts';

const USAGE = 'usage: npm run simulate -- sms --from <phone> --body <text> [--media <url>] [--hub <url>]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, body: { type: 'string' }, media: { type: 'string', multiple: true }, hub: { type: 'string' } },
  });
  const [channel] = positionals;
  if (channel !== 'sms') {
    console.error(`simulate: channel "${channel ?? ''}" is not supported yet (sms only).\n${USAGE}`);
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
  const hub = (values.hub ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
  const res = await fetch(`${hub}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const answer = await res.text();
  console.log(`hub answered ${res.status} for ${sid}${answer.includes('<Message>') ? ' with a reply (TwiML)' : ''}`);
  return res.ok ? 0 : 1;
}

process.exitCode = await main();
