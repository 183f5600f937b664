/**
 * What an anonymous client can make the hub do has a ceiling (429 with
 * Retry-After), and one-time codes are never texted abroad (SMS pumping).
 */
import { expect } from 'chai';
import { startTestHub, type TestHub } from '../support/test-hub.ts';
import { newClientId, startVisitor } from '../support/widget-visitor.ts';
import { TINY_PNG } from '../support/sample-files.ts';

describe('security: ceilings on anonymous web chat use', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({
      label: 'sec-abuse',
      env: {
        WIDGET_NEW_CHATS_PER_IP_PER_HOUR: '5',
        WIDGET_MESSAGES_PER_CHAT_PER_MINUTE: '4',
        VERIFICATION_CODES_PER_IP_PER_HOUR: '3',
        VERIFICATION_SMS_COUNTRIES: 'US,CA',
        WIDGET_UPLOADS_PER_IP_PER_HOUR: '3',
      },
    });
  });
  after(() => t.close());

  const smsSent = async () => ((await t.api.get('/api/dev/outbox?channel=sms&limit=500', (await t.admin()).token)).body.items as unknown[]).length;

  it('limits new chats per network, saying when to try again', async () => {
    t.clock.toNextWindow(3600_000);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await t.api.post('/api/widget/visitors', { name: `Bot ${i}` }));
    expect(answers.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201, 429, 429]);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused[0]!.body.error.code).to.equal('RATE_LIMITED');
    expect(refused[0]!.body.error.message).to.match(/Too many new chats from this network; try again in/);
    expect(Number(refused[0]!.headers.get('retry-after'))).to.be.greaterThan(0);
  });

  it('limits messages per chat per minute; what was refused is not stored', async () => {
    t.clock.toNextWindow(3600_000); // a new hour: the chat ceiling above is behind us, and a whole minute ahead
    const visitor = await startVisitor(t, { name: 'Chatty' });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await visitor.call('message:send', { clientId: newClientId(), body: `flood ${i}` }));
    expect(answers.slice(0, 4).every((a) => a.ok)).to.equal(true);
    expect(answers.slice(4).map((a) => a.error?.code)).to.deep.equal(['RATE_LIMITED', 'RATE_LIMITED']);
    const history = await visitor.call('messages:since', { afterSeq: 0 });
    expect(history.items.map((m: { body: string }) => m.body)).to.deep.equal(['flood 0', 'flood 1', 'flood 2', 'flood 3']);
    visitor.socket.disconnect();
  });

  it('never texts a code abroad, and limits codes per network: the sandbox outbox shows nothing beyond the limit', async () => {
    t.clock.toNextWindow(3600_000);
    const before = await smsSent();
    const visitors = await Promise.all(Array.from({ length: 5 }, (_, i) => startVisitor(t, { name: `Pump ${i}` })));
    const abroad = await visitors[0]!.call('verify:start', { channel: 'sms', address: '+44 7700 900123', consent: true });
    expect(abroad.ok).to.equal(false);
    expect(abroad.error).to.include({ code: 'INVALID_INPUT', field: 'address' });
    expect(abroad.error.message).to.include('we can only text numbers in US, CA');
    const answers = [];
    for (const [i, v] of visitors.entries()) answers.push(await v.call('verify:start', { channel: 'sms', address: `+1 303 555 02${10 + i}`, consent: true }));
    expect(answers.map((a) => a.ok)).to.deep.equal([true, true, true, false, false]);
    expect(answers[3].error.code).to.equal('RATE_LIMITED');
    expect((await smsSent()) - before).to.equal(3);
    for (const v of visitors) v.socket.disconnect();
  });

  it('limits uploads per network, and removes uploads no message claimed once they expire', async () => {
    t.clock.toNextWindow(3600_000);
    const visitor = await startVisitor(t, { name: 'Uploader' });
    const upload = () =>
      fetch(`${t.url}/api/widget/attachments`, {
        method: 'POST', body: new Uint8Array(TINY_PNG),
        headers: { 'content-type': 'image/png', 'x-file-name': 'rash.png', authorization: `Bearer ${visitor.token}` },
      });
    const statuses = [];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await upload();
      statuses.push(res.status);
      if (res.status === 201) ids.push(((await res.json()) as { attachmentId: string }).attachmentId);
      else expect(res.headers.get('retry-after')).to.match(/^\d+$/);
    }
    expect(statuses).to.deep.equal([201, 201, 201, 429]);
    // One is sent with a message; the others are never claimed.
    expect((await visitor.call('message:send', { clientId: newClientId(), body: 'my rash', attachmentIds: [ids[0]] })).ok).to.equal(true);
    const blobs = t.hub.services.db.models.AttachmentBlob;
    t.clock.advance(25 * 3600_000);
    const swept = await t.hub.housekeeping.runOnce();
    expect(swept.unattachedUploads).to.equal(2);
    expect(await blobs.countDocuments({ _id: { $in: ids } })).to.equal(1);
    expect(await blobs.exists({ _id: ids[0] })).to.not.equal(null);
    expect(swept.rateLimitWindows).to.be.greaterThan(0);
    visitor.socket.disconnect();
  });
});
