import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import vCard from 'vcf';
import { loadConfig, ConfigError } from '../../../server/config.ts';
import { uniqueDatabaseName } from '../../support/embedded-db.ts';
import { postTwilio, twilioFixture } from '../../support/fake-twilio.ts';
import { patientWrites, startTestHub, TEST_ENV, waitFor, type TestHub } from '../../support/test-hub.ts';
import { startVisitor } from '../../support/widget-visitor.ts';

const CLINIC = 'Riverside Family Clinic, Pediatrics; Main';
function cardFile(phones: { number: string; types: string[]; inboundOnly?: boolean }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-card-'));
  const file = join(dir, 'clinic-card.json');
  writeFileSync(file, JSON.stringify({
    organization: CLINIC, department: 'Patient Services', phones, email: 'care@riverside.example', website: 'https://riverside.example',
    note: 'Riverside never asks for passwords or payment by text. Llámenos: atención en español. 🩺',
  }));
  return file;
}
const PHONES = [{ number: '+15555550100', types: ['work', 'text'] }, { number: '+15555550199', types: ['main', 'voice'], inboundOnly: true }];

function parsed(text: string) {
  const card = new vCard().parse(text);
  const value = (name: string) => String((card.get(name) as { valueOf(): string } | undefined)?.valueOf() ?? '');
  return { card, value };
}

const outboxEntry = async (t: TestHub, channel: string, messageId: string) => {
  const admin = await t.admin();
  return waitFor(async () => ((await t.api.get(`/api/dev/outbox?channel=${channel}`, admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === messageId));
};

describe('vCard delivery: the clinic’s card on every channel', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ label: 'vcard', env: { CLINIC_CARD_FILE: cardFile(PHONES), TWILIO_FROM_NUMBER: '+15555550100' } });
  });
  after(() => t.close());

  it('sends the card by MMS as a signed link that serves text/vcard to Twilio’s fetcher, with the anti-fraud text', async () => {
    const admin = await t.admin();
    const texted = await patientWrites(t, { channel: 'sms', from: '+13125550190', body: 'who is this number?' });
    const sent = await t.api.post(`/api/conversations/${texted.conversation.id}/contact-card`, {}, admin.token);
    expect(sent.status).to.equal(201);
    expect(sent.body).to.include({ kind: 'vcard', channel: 'sms', channelReason: 'last_inbound_channel' });
    const request = (await outboxEntry(t, 'sms', sent.body.id)).request;
    expect(request.Body).to.match(/never ask for passwords or payment/);
    const media = new URL(request.MediaUrl[0]);
    const fetched = await fetch(`${t.url}${media.pathname}`);
    expect(fetched.status).to.equal(200);
    expect(fetched.headers.get('content-type')).to.match(/^text\/vcard/);
    expect(fetched.headers.get('content-disposition')).to.include('.vcf');
    const text = await fetched.text();
    const { card, value } = parsed(text);
    expect(value('fn')).to.equal(CLINIC.replace(/([,;])/g, '\\$1'));
    const tels = ([] as { valueOf(): string }[]).concat(card.get('tel') as never).map((p) => p.valueOf());
    expect(tels).to.deep.equal(['+15555550100', '+15555550199']);
    expect((await fetch(`${t.url}${media.pathname.slice(0, -2)}xx`)).status).to.equal(404);
  });

  it('attaches the same card to an email and offers it as a download in the widget', async () => {
    const admin = await t.admin();
    const mailed = await patientWrites(t, { channel: 'email', from: 'card.reader@example.org', body: 'send your details' });
    const sent = await t.api.post(`/api/conversations/${mailed.conversation.id}/contact-card`, { channel: 'email' }, admin.token);
    const mail = (await outboxEntry(t, 'email', sent.body.id)).request;
    expect(mail.attachments[0]).to.include({ type: 'text/vcard', disposition: 'attachment' });
    const fromEmail = Buffer.from(mail.attachments[0].content, 'base64').toString('utf8');
    expect(fromEmail).to.match(/^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
    expect(parsed(fromEmail).value('email')).to.equal('care@riverside.example');

    const visitor = await startVisitor(t);
    const chat = await visitor.call('message:send', { clientId: `card-${Date.now()}`, body: 'your card please' });
    const inWidget = await t.api.post(`/api/conversations/${chat.message.conversationId}/contact-card`, {}, admin.token);
    expect(inWidget.body.channel).to.equal('webchat');
    const download = await fetch(`${t.url}/api/widget/messages/${inWidget.body.id}/attachments/0`, { headers: { authorization: `Bearer ${visitor.token}` } });
    expect(download.headers.get('content-type')).to.match(/^text\/vcard/);
    expect(await download.text()).to.equal(fromEmail);
    visitor.socket.disconnect();
  });

  it('refuses an SMS number marked inbound-only as the sending number', () => {
    const problems = (() => {
      try {
        loadConfig({ ...TEST_ENV, CLINIC_CARD_FILE: cardFile(PHONES), TWILIO_FROM_NUMBER: '+15555550199' });
        return '';
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
    })();
    expect(problems).to.match(/TWILIO_FROM_NUMBER: .*inboundOnly/);
  });
});

describe('vCard delivery: the MMS request Twilio receives', () => {
  const ACCOUNT = `AC${'c'.repeat(32)}`;
  let t: TestHub;
  before(async () => {
    t = await startTestHub({
      label: 'vcard-live',
      env: { CLINIC_CARD_FILE: cardFile(PHONES), TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBER: '+15555550100', PUBLIC_BASE_URL: 'https://hub.example.com' },
    });
  });
  after(async () => {
    nock.cleanAll();
    await t.close();
  });

  it('carries the card as a signed MediaUrl on the hub, which serves the card to Twilio without a login', async () => {
    const admin = await t.admin();
    const texted = await patientWrites(t, { channel: 'sms', from: '+13125550193', body: 'hello' });
    let form: URLSearchParams | undefined;
    const api = nock('https://api.twilio.com')
      .post(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, (body) => {
        form = new URLSearchParams(body as Record<string, string>);
        return true;
      })
      .reply(201, { sid: `SM${'d'.repeat(32)}`, status: 'queued' });
    const sent = await t.api.post(`/api/conversations/${texted.conversation.id}/contact-card`, { channel: 'sms' }, admin.token);
    expect(sent.status).to.equal(201);
    await waitFor(async () => api.isDone());
    expect(form!.get('To')).to.equal('+13125550193');
    const media = form!.getAll('MediaUrl');
    expect(media).to.have.length(1);
    expect(media[0]).to.match(/^https:\/\/hub\.example\.com\/media\/[\w-]+\.[\w-]+$/);
    const card = await fetch(`${t.url}${new URL(media[0]!).pathname}`);
    expect(card.headers.get('content-type')).to.match(/^text\/vcard/);
    expect(await card.text()).to.include('TEL;TYPE=WORK,TEXT:+15555550100');
  });
});

describe('vCard delivery: automatic sends', () => {
  const databaseName = uniqueDatabaseName('vcard-auto');
  const env = (phones: typeof PHONES) => ({ CLINIC_CARD_FILE: cardFile(phones), TWILIO_FROM_NUMBER: '+15555550100', CONTACT_CARD_ON_FIRST_SMS: 'true', CONTACT_CARD_ON_CHANGE: 'true' });
  const cardsOf = async (t: TestHub, patientId: string) =>
    (await t.hub.services.db.models.Message.find({ patientId, kind: 'vcard' }).lean()).length;

  it('answers a first text with the card once, never an opted-out patient, and sends a changed card once to those who had the old one', async () => {
    let t = await startTestHub({ label: 'vcard-auto', databaseName, env: env(PHONES) });
    const first = await postTwilio(t, '/webhooks/twilio/sms', { ...twilioFixture('twilio-inbound-sms.json'), From: '+13125550191', MessageSid: `SM${'1'.repeat(32)}` });
    expect(first.status).to.equal(200);
    const patientId = (await t.hub.services.db.models.Identity.findOne({ kind: 'phone' }).lean())!.patientId;
    await waitFor(async () => (await cardsOf(t, patientId)) === 1);
    await postTwilio(t, '/webhooks/twilio/sms', { ...twilioFixture('twilio-inbound-sms.json'), From: '+13125550191', MessageSid: `SM${'2'.repeat(32)}` });
    // A new number whose first word is STOP gets nothing.
    await postTwilio(t, '/webhooks/twilio/sms', { ...twilioFixture('twilio-inbound-sms.json'), From: '+13125550192', Body: 'STOP', MessageSid: `SM${'3'.repeat(32)}` });
    await t.hub.settled();
    expect(await cardsOf(t, patientId)).to.equal(1);
    expect(await t.hub.services.db.models.Message.countDocuments({ kind: 'vcard' })).to.equal(1);
    // The thread says the hub sent it by itself, not that an agent chose SMS.
    expect((await t.hub.services.db.models.Message.findOne({ kind: 'vcard' }).lean().orFail()).channelReason).to.equal('automatic_contact_card');
    await t.close();

    // The clinic adds a number: the patient who saved the old card gets the new one, once.
    const changed = [...PHONES, { number: '+15555550111', types: ['work', 'voice'] }];
    t = await startTestHub({ label: 'vcard-auto', databaseName, env: env(changed) });
    await waitFor(async () => (await cardsOf(t, patientId)) === 2);
    const reasons = (await t.hub.services.db.models.Message.find({ kind: 'vcard' }).sort({ createdAt: 1 }).lean()).map((m) => m.channelReason);
    expect(reasons).to.deep.equal(['automatic_contact_card', 'automatic_contact_card_update']);
    await t.close();
    t = await startTestHub({ label: 'vcard-auto', databaseName, env: env(changed) });
    await t.hub.settled();
    expect(await cardsOf(t, patientId)).to.equal(2);
    await t.close();
  });
});

