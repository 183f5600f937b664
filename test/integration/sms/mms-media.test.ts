import { expect } from 'chai';
import nock from 'nock';
import { TINY_PNG } from '../../support/sample-files.ts';
import { postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

const ACCOUNT = 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const LIVE_ENV = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBER: '+15555550100', PUBLIC_BASE_URL: 'https://hub.example.com' };

/** The recorded MMS (two photos), from a number and with a sid of the test's own. */
function mmsFrom(from: string, index: number): Record<string, string> {
  const fixture = twilioFixture('twilio-inbound-mms.json');
  const sid = `MM${index.toString(16).padStart(32, '0')}`;
  const rewrite = (url: string) => url.replace(fixture.MessageSid!, sid);
  return { ...fixture, From: from, MessageSid: sid, SmsSid: sid, SmsMessageSid: sid, MediaUrl0: rewrite(fixture.MediaUrl0!), MediaUrl1: rewrite(fixture.MediaUrl1!) };
}

describe('MMS media: imported into the hub in the background, sealed, the message never lost', () => {
  let t: TestHub;
  let admin: Session;
  const basic = () => `Basic ${Buffer.from(`${ACCOUNT}:${t.config.twilio.authToken}`).toString('base64')}`;
  before(async () => {
    t = await startTestHub({ label: 'mms-media', env: { ...LIVE_ENV, TWILIO_DELETE_MEDIA_AFTER_IMPORT: 'true' } });
    admin = await t.admin();
  });
  after(() => t.close());
  afterEach(() => nock.cleanAll());

  const stored = (sid: string) => t.hub.services.db.models.Message.findOne({ providerMessageId: sid }).lean().orFail();
  const attachment = (conversationId: string, messageId: string, index: number) =>
    fetch(`${t.url}/api/conversations/${conversationId}/messages/${messageId}/attachments/${index}`, { headers: { authorization: `Bearer ${admin.token}` } });

  it('fetches each file with the account’s credentials, keeps it sealed, deletes Twilio’s copy, and serves it without calling Twilio again', async () => {
    const mms = mmsFrom('+14155552101', 1);
    const seen: string[] = [];
    const twilio = nock('https://api.twilio.com')
      .get(new URL(mms.MediaUrl0!).pathname)
      .reply(function () {
        seen.push(`GET ${String(this.req.headers.authorization)}`);
        return [200, Buffer.from('JPEGDATA'), { 'Content-Type': 'image/jpeg' }];
      })
      .get(new URL(mms.MediaUrl1!).pathname)
      .reply(200, TINY_PNG, { 'Content-Type': 'image/png' })
      .delete(new URL(mms.MediaUrl0!).pathname)
      .reply(function () {
        seen.push(`DELETE ${String(this.req.headers.authorization)}`);
        return [204, ''];
      })
      .delete(new URL(mms.MediaUrl1!).pathname)
      .reply(204, '');
    expect((await postTwilio(t, '/webhooks/twilio/sms', mms)).status).to.equal(200);
    await t.hub.settled();
    expect(twilio.isDone(), `pending: ${twilio.pendingMocks().join(', ')}`).to.equal(true);
    expect(seen).to.deep.equal([`GET ${basic()}`, `DELETE ${basic()}`]);
    const message = await stored(mms.MessageSid!);
    expect(message.attachments.map((a) => [a.ref.slice(0, 5), a.contentType, a.size])).to.deep.equal([
      ['blob:', 'image/jpeg', 8],
      ['blob:', 'image/png', TINY_PNG.length],
    ]);
    // No interceptor is left: the files now come from the hub's own store.
    const first = await attachment(message.conversationId, message._id, 0);
    expect(first.status).to.equal(200);
    expect(Buffer.from(await first.arrayBuffer()).toString()).to.equal('JPEGDATA');
    const second = await attachment(message.conversationId, message._id, 1);
    expect(Buffer.from(await second.arrayBuffer()).equals(TINY_PNG)).to.equal(true);
    const record = (await t.api.get(`/api/conversations/${message.conversationId}/messages`, admin.token)).body.items.at(-1);
    expect(record.attachments.map((a: { unavailable: string | null }) => a.unavailable)).to.deep.equal([null, null]);
  });

  it('stores the message whatever happens to its files, retries a failing download, and marks it unavailable with the reason', async () => {
    const mms = mmsFrom('+14155552102', 2);
    let tries = 0;
    nock('https://api.twilio.com')
      .get(new URL(mms.MediaUrl0!).pathname)
      .times(3)
      .reply(() => {
        tries++;
        return [503, 'busy'];
      })
      .get(new URL(mms.MediaUrl1!).pathname)
      .reply(404, 'gone');
    expect((await postTwilio(t, '/webhooks/twilio/sms', mms)).status).to.equal(200);
    // The message is there at once, whatever happens to its files.
    const early = await stored(mms.MessageSid!);
    expect(t.hub.services.timeline.cipher.decrypt(early.bodyEnc)).to.equal(mms.Body);
    await t.hub.settled();
    expect(tries).to.equal(3);
    const message = await stored(mms.MessageSid!);
    expect(message.attachments.map((a) => a.unavailable)).to.deep.equal(['Twilio answered HTTP 503', 'Twilio no longer has this file (404)']);
    const res = await attachment(message.conversationId, message._id, 1);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).to.include('could not be kept: Twilio no longer has this file (404)');
  });

  it('resumes imports a restart cut short', async () => {
    const mms = mmsFrom('+14155552103', 3);
    nock('https://api.twilio.com').get(/\/Media\//).times(2).replyWithError('connection reset');
    expect((await postTwilio(t, '/webhooks/twilio/sms', mms)).status).to.equal(200);
    await t.hub.settled();
    // As if the hub had stopped before importing: the provider's URLs are still on the message.
    const message = await stored(mms.MessageSid!);
    await t.hub.services.db.models.Message.updateOne(
      { _id: message._id },
      { $set: { 'attachments.0.ref': mms.MediaUrl0, 'attachments.0.unavailable': null, 'attachments.1.ref': mms.MediaUrl1, 'attachments.1.unavailable': null } },
    );
    nock('https://api.twilio.com').get(/\/Media\//).times(2).reply(200, TINY_PNG, { 'Content-Type': 'image/png' }).delete(/\/Media\//).times(2).reply(204, '');
    const again = await startTestHub({ label: 'mms-media-restart', databaseName: t.databaseName, env: { ...LIVE_ENV, TWILIO_DELETE_MEDIA_AFTER_IMPORT: 'true' } });
    try {
      await waitFor(async () => (await stored(mms.MessageSid!)).attachments.every((a) => a.ref.startsWith('blob:')));
      await again.hub.settled();
    } finally {
      await again.close();
    }
  });
});

describe('MMS media in sandbox mode (no Twilio account)', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'mms-sandbox' });
  });
  after(() => t.close());

  it('stores the message with its files listed, and says why a file Twilio cannot give is unavailable', async () => {
    const mms = mmsFrom('+14155552104', 4);
    nock('https://api.twilio.com').get(/\/Media\//).times(6).replyWithError('unreachable');
    expect((await postTwilio(t, '/webhooks/twilio/sms', mms)).status).to.equal(200);
    await t.hub.settled();
    nock.cleanAll();
    const message = await t.hub.services.db.models.Message.findOne({ providerMessageId: mms.MessageSid }).lean().orFail();
    expect(message.attachments.map((a) => [a.contentType, a.unavailable])).to.deep.equal([
      ['image/jpeg', 'Twilio could not be reached'],
      ['image/png', 'Twilio could not be reached'],
    ]);
  });
});
