import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';

/** A P-256 key pair standing in for SendGrid's; events are signed the way SendGrid signs them. */
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'sendgrid-events.json'), 'utf8')) as Record<string, unknown>[];

describe('SendGrid Event Webhook (POST /webhooks/sendgrid/events)', () => {
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startTestHub({ label: 'sg-events', env: { SENDGRID_EVENT_PUBLIC_KEY: PUBLIC_KEY } });
    admin = await t.admin();
  });
  after(() => t.close());

  async function post(events: unknown[], options: { timestamp?: number; tamper?: boolean; unsigned?: boolean } = {}) {
    const body = JSON.stringify(events);
    const timestamp = String(options.timestamp ?? Math.floor(t.clock.now().getTime() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), keys.privateKey).toString('base64');
    const res = await fetch(`${t.url}/webhooks/sendgrid/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.unsigned ? {} : { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }),
      },
      body: options.tamper ? body.replace('delivered', 'bounce') : body,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  async function sentEmail(address: string) {
    const inbound = await patientWrites(t, { channel: 'email', from: address, body: 'hi' });
    const reply = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'answer' }, admin.token);
    await waitFor(async () => (await t.hub.services.db.models.Message.findById(reply.body.id).lean())?.delivery.status === 'sent');
    return { messageId: reply.body.id as string, conversationId: inbound.conversation.id, patientId: inbound.patientId };
  }
  // Every event SendGrid posts has its own sg_event_id.
  const event = (name: string, messageId: string, extra: Record<string, unknown> = {}) => ({ ...FIXTURE[0], event: name, sg_event_id: randomUUID(), carethread_message_id: messageId, ...extra });

  it('moves a message to delivered then read, never back, and ignores unknown messages', async () => {
    const { messageId } = await sentEmail('events1@example.org');
    const res = await post([event('processed', messageId), event('delivered', messageId), event('open', messageId), event('processed', messageId), event('delivered', 'unknown-id')]);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ processed: 4, ignored: 1 });
    const stored = await t.hub.services.db.models.Message.findById(messageId).lean().orFail();
    expect(stored.delivery.status).to.equal('read');
    expect(stored.delivery.history.map((h) => h.status)).to.deep.equal(['queued', 'sent', 'delivered', 'read']);
  });

  it('marks a bounce undelivered with its reason, and the address undeliverable for replies', async () => {
    const { messageId, conversationId } = await sentEmail('bounces@example.org');
    expect((await post([event('bounce', messageId, { reason: '550 5.1.1 The email account does not exist', status: '5.1.1' })])).status).to.equal(200);
    const stored = await t.hub.services.db.models.Message.findById(messageId).lean().orFail();
    expect(stored.delivery.status).to.equal('undelivered');
    expect(stored.delivery.error!.message).to.include('does not exist');
    const options = (await t.api.get(`/api/conversations/${conversationId}/reply-options`, admin.token)).body;
    expect(options.channels).to.deep.include({ channel: 'email', unavailable: 'undeliverable', detail: 'the email address does not exist' });
  });

  it('opts the patient out of email on unsubscribe or spam report', async () => {
    const { messageId, patientId } = await sentEmail('unsub@example.org');
    await post([event('spamreport', messageId)]);
    const patient = await t.hub.services.db.models.Patient.findById(patientId).lean().orFail();
    expect(patient.consent.email).to.include({ status: 'opted_out', source: 'sendgrid_spamreport' });
  });

  it('refuses unsigned, tampered and stale posts with 403, changing nothing', async () => {
    const { messageId } = await sentEmail('forged@example.org');
    expect((await post([event('delivered', messageId)], { unsigned: true })).status).to.equal(403);
    expect((await post([event('delivered', messageId)], { tamper: true })).status).to.equal(403);
    expect((await post([event('delivered', messageId)], { timestamp: Math.floor(t.clock.now().getTime() / 1000) - 3600 })).status).to.equal(403);
    expect((await t.hub.services.db.models.Message.findById(messageId).lean().orFail()).delivery.status).to.equal('sent');
  });

  it('handles a batch of 1,000 events in one request', async () => {
    const { messageId } = await sentEmail('batch@example.org');
    const batch = Array.from({ length: 1000 }, (_, i) => (i === 999 ? event('delivered', messageId) : event('processed', `not-ours-${i}`)));
    const res = await post(batch);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ processed: 1, ignored: 999 });
  });

  it('changes nothing when SendGrid re-posts a batch (each sg_event_id applied once)', async () => {
    const { messageId, patientId } = await sentEmail('repost@example.org');
    const batch = [event('delivered', messageId), event('unsubscribe', messageId)];
    expect((await post(batch)).body).to.deep.equal({ processed: 2, ignored: 0 });
    // The patient opts back in afterwards; the same batch posted again must not opt them out a second time.
    await t.hub.services.db.models.Patient.updateOne({ _id: patientId }, { $set: { 'consent.email': { status: 'opted_in', at: new Date(), source: 'patient_request' } } });
    const before = await t.hub.services.db.models.Message.findById(messageId).lean().orFail();
    expect((await post(batch)).body).to.deep.equal({ processed: 0, ignored: 2 });
    const after = await t.hub.services.db.models.Message.findById(messageId).lean().orFail();
    expect(after.delivery).to.deep.equal(before.delivery);
    expect((await t.hub.services.db.models.Patient.findById(patientId).lean().orFail()).consent.email.status).to.equal('opted_in');
  });

  it('remembers a bounded number of event ids per message', async () => {
    const { messageId } = await sentEmail('many-events@example.org');
    await post(Array.from({ length: 80 }, () => event('processed', messageId)));
    const stored = await t.hub.services.db.models.Message.findById(messageId).lean().orFail();
    expect(stored.delivery.eventIds).to.have.length(50);
  });

  it('does not count an Apple Mail Privacy Protection open (sg_machine_open) as read by the patient', async () => {
    const { messageId } = await sentEmail('mpp@example.org');
    await post([event('delivered', messageId), event('open', messageId, { sg_machine_open: true })]);
    expect((await t.hub.services.db.models.Message.findById(messageId).lean().orFail()).delivery.status).to.equal('delivered');
    await post([event('open', messageId, { sg_machine_open: false })]);
    expect((await t.hub.services.db.models.Message.findById(messageId).lean().orFail()).delivery.status).to.equal('read');
  });
});
