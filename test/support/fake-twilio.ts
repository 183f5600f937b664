/** Twilio's side of the wire for tests: signed webhook posts, and recorded payloads (test/fixtures, copied from the team's provider fixtures). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import type { TestHub } from './test-hub.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function twilioFixture(name: string): Record<string, string> {
  const data = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('_'))) as Record<string, string>;
}

export function fakeSid(prefix = 'SM'): string {
  return prefix + [...Array(32)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');
}

/** Posts form fields to a Twilio webhook of the hub, signed as Twilio signs them (or with the given signature). */
export async function postTwilio(t: TestHub, path: string, params: Record<string, string>, options: { signature?: string | null } = {}) {
  const url = `${t.config.publicBaseUrl}${path}`;
  const signature = options.signature === undefined ? twilio.getExpectedTwilioSignature(t.config.twilio.authToken, url, params) : options.signature;
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after') };
}

/** An inbound SMS as Twilio posts it, from the recorded fixture with our own values. */
export function inboundSms(over: Record<string, string>): Record<string, string> {
  const sid = fakeSid();
  return { ...twilioFixture('twilio-inbound-sms.json'), MessageSid: sid, SmsSid: sid, SmsMessageSid: sid, ...over };
}
