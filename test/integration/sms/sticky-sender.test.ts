/**
 * Sticky sender (server/delivery/sender-pool.ts): with three sending numbers a
 * patient always hears from the same one, the one on the card they were sent,
 * across a restart; a text to a pool number makes it the patient's; an
 * inbound-only number never sends. The real SDK path, Twilio intercepted.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vCard from 'vcf';
import { ConfigError, loadConfig } from '../../../server/config.ts';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { captureTwilioSends, sendOf } from '../../support/twilio-capture.ts';
import { startTestHub, TEST_ENV, type TestHub } from '../../support/test-hub.ts';

const ACCOUNT = 'AC5e1f0a9b3c7d2e4f6a8b0c1d2e3f4a5b';
const POOL = ['+15555550101', '+15555550102', '+15555550103'];
const MAIN_LINE = '+15555550199';

function cardFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'carethread-pool-card-')), 'card.json');
  writeFileSync(file, JSON.stringify({
    organization: 'Lakeside Clinic',
    phones: [
      { number: POOL[0], types: ['work', 'text'], label: 'Texts' },
      { number: POOL[1], types: ['work', 'text'] },
      { number: POOL[2], types: ['work', 'text'] },
      { number: MAIN_LINE, types: ['main', 'voice'], inboundOnly: true },
    ],
  }));
  return file;
}

const CARD = cardFile();
const ENV = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_FROM_NUMBERS: POOL.join(','), PUBLIC_BASE_URL: 'https://hub.example.com', CLINIC_CARD_FILE: CARD };

describe('sticky sender: a patient always hears from the same clinic number', () => {
  let t: TestHub;
  // Set up when this file's tests start: other files clean nock's interceptors after theirs.
  let twilio: ReturnType<typeof captureTwilioSends>;
  before(async () => {
    twilio = captureTwilioSends(ACCOUNT);
    t = await startTestHub({ label: 'sticky-sender', env: ENV });
  });
  after(async () => {
    twilio.stop();
    await t.close();
  });

  async function texts(from: string, to: string, body = 'hello') {
    const params = inboundSms({ From: from, To: to, Body: body });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    return t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail();
  }
  const reply = async (conversationId: string, body: string) => {
    const res = await t.api.post(`/api/conversations/${conversationId}/messages`, { body }, (await t.admin()).token);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as string;
  };
  const patient = (id: string) => t.hub.services.db.models.Patient.findById(id).lean().orFail();

  it('gives a patient who texts a pool number that number, and answers from it', async () => {
    const inbound = await texts('+14155552001', POOL[1]!);
    expect((await patient(inbound.patientId)).smsSender?.number).to.equal(POOL[1]);
    const sent = await sendOf(t, twilio.sends, await reply(inbound.conversationId, 'We can see you Friday.'));
    expect(sent.form.From).to.equal(POOL[1]);
    expect(sent.form).not.to.have.property('MessagingServiceSid');
  });

  it('keeps the number a first reply chose across a restart, and puts it on the patient’s card; the inbound-only line never sends', async () => {
    // Texting the main line (inbound-only) assigns nothing: it is not a sending number.
    const inbound = await texts('+14155552002', MAIN_LINE);
    expect((await patient(inbound.patientId)).smsSender ?? null).to.equal(null);
    const firstId = await reply(inbound.conversationId, 'Thanks for writing.');
    const first = await sendOf(t, twilio.sends, firstId);
    const number = first.form.From as string;
    expect(POOL).to.include(number);
    expect((await patient(inbound.patientId)).smsSender?.number).to.equal(number);
    expect((await t.hub.services.db.models.Message.findById(firstId).lean().orFail()).fromNumber).to.equal(number);

    const { databaseName } = t;
    await t.close();
    t = await startTestHub({ label: 'sticky-sender', databaseName, env: ENV });
    const again = await sendOf(t, twilio.sends, await reply(inbound.conversationId, 'Your results are in.'));
    expect(again.form.From).to.equal(number);

    const card = await t.api.post(`/api/conversations/${inbound.conversationId}/contact-card`, {}, (await t.admin()).token);
    expect(card.status, JSON.stringify(card.body)).to.equal(201);
    const mms = await sendOf(t, twilio.sends, card.body.id);
    expect(mms.form.From).to.equal(number);
    const media = new URL((mms.form.MediaUrl as string[])[0]!);
    const vcf = await (await fetch(`${t.url}${media.pathname}`)).text();
    const tels = ([] as { valueOf(): string }[]).concat(new vCard().parse(vcf).get('tel') as never).map((p) => p.valueOf());
    // The patient's number as the clinic's texting number (in the card's first texting entry's place), and the main line.
    expect(tels).to.deep.equal([number, MAIN_LINE]);
    for (const sentNow of twilio.sends) expect(sentNow.form.From).not.to.equal(MAIN_LINE);
  });

  it('agrees with another node that chose first: the loser of the conditional update adopts the winner’s number', async () => {
    const inbound = await texts('+14155552003', MAIN_LINE);
    const stale = await patient(inbound.patientId);
    expect(stale.smsSender ?? null).to.equal(null);
    // "Another node" stores its choice between this node's read and its write.
    const winner = POOL[2]!;
    await t.hub.services.db.models.Patient.updateOne({ _id: stale._id }, { $set: { smsSender: { number: winner, assignedAt: new Date() } } });
    expect(await t.hub.services.timeline.smsSenders!.ensure(stale)).to.equal(winner);
    expect((await patient(inbound.patientId)).smsSender?.number).to.equal(winner);
    // A number taken out of the configuration: the patient gets another, conditional on the one read.
    await t.hub.services.db.models.Patient.updateOne({ _id: stale._id }, { $set: { smsSender: { number: '+15555550188', assignedAt: new Date() } } });
    const moved = await t.hub.services.timeline.smsSenders!.ensure(await patient(inbound.patientId));
    expect(POOL).to.include(moved);
    expect((await patient(inbound.patientId)).smsSender?.number).to.equal(moved);
    expect(t.logs.join('\n')).to.include('no longer configured; another assigned');
  });

  it('refuses an inbound-only number or a malformed one among the sending numbers, naming it', () => {
    const load = (env: Record<string, string>) => () => loadConfig({ ...TEST_ENV, CLINIC_CARD_FILE: CARD, ...env });
    expect(load({ TWILIO_FROM_NUMBERS: `${POOL[0]},${MAIN_LINE}` })).to.throw(ConfigError, new RegExp(`TWILIO_FROM_NUMBERS: \\${MAIN_LINE} is marked inboundOnly`));
    expect(load({ TWILIO_FROM_NUMBERS: `${POOL[0]},555-0100` })).to.throw(ConfigError, /TWILIO_FROM_NUMBERS: "555-0100" is not an E\.164 number/);
    expect(load({ TWILIO_FROM_NUMBER: '(415) 555-0100' })).to.throw(ConfigError, /TWILIO_FROM_NUMBER: .* is not an E\.164 number/);
    // Both set: one pool, TWILIO_FROM_NUMBER first, no number twice.
    expect(loadConfig({ ...TEST_ENV, TWILIO_FROM_NUMBER: POOL[2]!, TWILIO_FROM_NUMBERS: POOL.join(',') }).twilio.fromNumbers).to.deep.equal([POOL[2], POOL[0], POOL[1]]);
  });
});
