import { expect } from 'chai';
import { SANDBOX_EMAIL_RECIPIENTS } from '../../../channels/email/sandbox-recipients.ts';
import { SANDBOX_SMS_RECIPIENTS } from '../../../channels/sms/sandbox-recipients.ts';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

describe('a sandbox that can fail: documented recipients fail like real ones, through the signed webhooks', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sandbox-failures', env: { SANDBOX_SLOW_DELIVERY_SECONDS: '1' } });
    admin = await t.admin();
  });
  after(() => t.close());

  async function replyTo(channel: 'sms' | 'email', address: string) {
    const inbound = await patientWrites(t, { channel, from: address, body: 'hello' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'Your results are ready.', channel }, admin.token);
    expect(reply.status).to.equal(201);
    return { conversationId: inbound.conversation.id as string, messageId: reply.body.id as string };
  }
  const message = (id: string) => t.hub.services.db.models.Message.findById(id).lean().orFail();
  const settledStatus = async (id: string, status: string) => waitFor(async () => ((await message(id)).delivery.status === status ? message(id) : null));

  it('the list of sandbox recipients is the documented one', () => {
    expect(Object.keys(SANDBOX_SMS_RECIPIENTS)).to.have.length.greaterThan(4);
    expect(Object.keys(SANDBOX_EMAIL_RECIPIENTS)).to.include('bounce@sandbox.example.com');
  });

  it('SMS filtered by the carrier (30007): undelivered, with the reason and the next step', async () => {
    const { messageId } = await replyTo('sms', '+15555550172');
    const stored = await settledStatus(messageId, 'undelivered');
    expect(stored.delivery.error).to.include({ code: 'SMS_CARRIER_FILTERED' });
    expect(stored.delivery.error!.suggestion).to.match(/email or web chat/);
    expect(stored.delivery.history.at(-1)!.errorCode).to.equal('30007');
  });

  it('SMS to a landline (30006): undelivered, and the channel picker says why SMS is unavailable', async () => {
    const { conversationId, messageId } = await replyTo('sms', '+15555550173');
    await settledStatus(messageId, 'undelivered');
    const options = (await t.api.get(`/api/conversations/${conversationId}/reply-options`, admin.token)).body;
    expect(options.channels).to.deep.include({ channel: 'sms', unavailable: 'undeliverable', detail: 'the number is a landline or its carrier is unreachable' });
    // The patient texting again from it proves it works after all (a mobile number ported back, say).
    await patientWrites(t, { channel: 'sms', from: '+15555550173', body: 'this is my mobile' });
    const again = (await t.api.get(`/api/conversations/${conversationId}/reply-options`, admin.token)).body;
    expect(again.channels.find((c: { channel: string }) => c.channel === 'sms').unavailable).to.equal(null);
  });

  it('SMS refused at send (21610, replied STOP): failed at once, and the opt-out recorded', async () => {
    const { messageId } = await replyTo('sms', '+15555550171');
    const stored = await settledStatus(messageId, 'failed');
    expect(stored.delivery.error).to.include({ code: 'RECIPIENT_OPTED_OUT' });
    const patient = await t.hub.services.db.models.Patient.findById(stored.patientId).lean().orFail();
    expect(patient.consent.sms.status).to.equal('opted_out');
  });

  it('a slow SMS is sent at once and delivered after the sandbox delay', async () => {
    const { messageId } = await replyTo('sms', '+15555550176');
    await settledStatus(messageId, 'sent');
    await settledStatus(messageId, 'delivered');
  });

  it('an email hard bounce: undelivered, and the picker says the address bounced', async () => {
    const { conversationId, messageId } = await replyTo('email', 'bounce@sandbox.example.com');
    const stored = await settledStatus(messageId, 'undelivered');
    expect(stored.delivery.error!.code).to.match(/^EMAIL_/);
    const options = (await t.api.get(`/api/conversations/${conversationId}/reply-options`, admin.token)).body;
    const email = options.channels.find((c: { channel: string }) => c.channel === 'email');
    expect(email).to.include({ unavailable: 'undeliverable' });
    expect(email.detail).to.match(/email address (does not exist|bounced)/);
  });

  it('an email blocked by the receiving server fails that mail, but keeps the address usable', async () => {
    const { conversationId, messageId } = await replyTo('email', 'blocked@sandbox.example.com');
    await settledStatus(messageId, 'undelivered');
    const options = (await t.api.get(`/api/conversations/${conversationId}/reply-options`, admin.token)).body;
    expect(options.channels.find((c: { channel: string }) => c.channel === 'email').unavailable).to.equal(null);
  });

  it('an email to delivered@ is delivered; to any other address it stays sent (no events)', async () => {
    const delivered = await replyTo('email', 'delivered@sandbox.example.com');
    await settledStatus(delivered.messageId, 'delivered');
    const quiet = await replyTo('email', 'someone@example.org');
    await settledStatus(quiet.messageId, 'sent');
    await t.hub.settled();
    expect((await message(quiet.messageId)).delivery.status).to.equal('sent');
  });
});
