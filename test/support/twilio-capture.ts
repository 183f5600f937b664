/**
 * Twilio's Messages API intercepted (nock), every request's form kept: tests
 * see From/To/MediaUrl as the real SDK sent them, and the sid each one got.
 */
import nock from 'nock';
import { fakeSid, postTwilio } from './fake-twilio.ts';
import { waitFor, type TestHub } from './test-hub.ts';

export interface CapturedSend {
  sid: string;
  form: Record<string, string | string[]>;
}

export function captureTwilioSends(account: string): { sends: CapturedSend[]; stop(): void } {
  const sends: CapturedSend[] = [];
  const scope = nock('https://api.twilio.com')
    .persist()
    .post(`/2010-04-01/Accounts/${account}/Messages.json`)
    .reply(201, (_uri, body) => {
      const params = typeof body === 'string' ? new URLSearchParams(body) : new URLSearchParams(body as Record<string, string>);
      const form: Record<string, string | string[]> = {};
      for (const key of new Set(params.keys())) {
        const all = params.getAll(key);
        form[key] = key === 'MediaUrl' ? all : all[0]!;
      }
      const sid = fakeSid();
      sends.push({ sid, form });
      return { sid, status: 'queued' };
    });
  return {
    sends,
    stop: () => {
      scope.persist(false);
      nock.cleanAll();
    },
  };
}

/** The send Twilio received for a message of the hub, once the worker handed it over. */
export async function sendOf(t: TestHub, sends: CapturedSend[], messageId: string): Promise<CapturedSend> {
  const message = await waitFor(async () => {
    const m = await t.hub.services.db.models.Message.findById(messageId).lean();
    return m?.providerMessageId ? m : null;
  });
  return sends.find((s) => s.sid === message.providerMessageId)!;
}

/** A status callback for one of our texts, signed as Twilio signs it. */
export async function statusCallback(t: TestHub, sid: string, status: string, extra: Record<string, string> = {}) {
  const res = await postTwilio(t, '/webhooks/twilio/status', {
    MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, AccountSid: t.config.twilio.accountSid ?? '', ApiVersion: '2010-04-01', ...extra,
  });
  if (res.status !== 200) throw new Error(`status callback answered ${res.status}`);
}
