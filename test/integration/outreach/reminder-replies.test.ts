/**
 * Replies to reminders, through signed Twilio webhooks: read in three
 * languages, recorded on the reminder and in the thread, acknowledged, fed to
 * the scheduling system (GET /api/scheduled-messages and the signed webhook,
 * retried until the receiver takes it).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { postInboundEmail } from '../../support/inbound-email.ts';
import type { TestHub } from '../../support/test-hub.ts';
import { waitFor } from '../../support/test-hub.ts';
import { messagesOf, newPatient, REMINDER, schedule, setPreferences, settled, smsTo, startOutreachHub, texts, WEDNESDAY } from './outreach-support.ts';

const SECRET = 'webhook-secret-0123456789abcdef0123456789';

/** The clinic's scheduling system: answers 500 to the first `failFirst` calls, then 204; keeps what it got. */
class Receiver {
  calls: { headers: IncomingHttpHeaders; body: string }[] = [];
  failFirst = 0;
  private server: Server | undefined;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.calls.push({ headers: req.headers, body });
        res.statusCode = this.calls.length <= this.failFirst ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/carethread`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The receiver's check, written from the documented scheme (not the hub's own function). */
function signatureValid(headers: IncomingHttpHeaders, body: string): boolean {
  const header = String(headers['carethread-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', SECRET).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

describe('replies to reminders: confirm, cancel, reschedule in en/es/it; the scheduling system hears of them', function () {
  this.timeout(90_000);
  let t: TestHub;
  const receiver = new Receiver();
  before(async () => {
    const url = await receiver.start();
    t = await startOutreachHub('reminder-replies', { OUTBOUND_WEBHOOK_URL: url, OUTBOUND_WEBHOOK_SECRET: SECRET });
  });
  after(async () => {
    await t?.close();
    await receiver.stop();
  });

  /** A patient with a resolved conversation and a reminder that went out, in their language. */
  async function reminded(phone: string, language: string, externalRef: string) {
    const { patientId, conversationId } = await newPatient(t, phone);
    await setPreferences(t, patientId, { language });
    const admin = await t.admin();
    expect((await t.api.post(`/api/conversations/${conversationId}/resolve`, undefined, admin.token)).status).to.equal(200);
    const res = await schedule(t, patientId, REMINDER('2027-03-15T13:30:00Z', t.clock.now().toISOString(), { externalRef }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const sent = await settled(t, res.body.id);
    expect(sent.status).to.equal('sent');
    return { patientId, conversationId, id: res.body.id as string };
  }

  const statusOf = async (id: string) => (await t.hub.services.db.models.ScheduledMessage.findById(id).lean().orFail()).status;
  const conversationStatus = async (id: string) => (await t.hub.services.db.models.Conversation.findById(id).lean().orFail()).status;

  it('records each answer, acknowledges it in the patient’s language, reopens nothing for a confirmation or cancellation', async () => {
    t.clock.setTo(WEDNESDAY);
    const since = t.clock.now().toISOString();
    const en = await reminded('+14155550401', 'en', 'appt-en');
    const es = await reminded('+14155550402', 'es', 'appt-es');
    const it_ = await reminded('+14155550403', 'it', 'appt-it');
    const unclear = await reminded('+14155550404', 'en', 'appt-unclear');

    await texts(t, '+14155550401', 'C');
    await texts(t, '+14155550402', 'No puedo, lo siento');
    await texts(t, '+14155550403', 'spostare');
    await texts(t, '+14155550404', 'Is there parking near the clinic?');

    expect(await statusOf(en.id)).to.equal('confirmed');
    expect(await statusOf(es.id)).to.equal('cancelled');
    expect(await statusOf(it_.id)).to.equal('reschedule_requested');
    expect(await statusOf(unclear.id)).to.equal('sent');

    // Confirmed and cancelled: an event in the thread, nothing reopened, nothing for an agent.
    expect(await conversationStatus(en.conversationId)).to.equal('resolved');
    expect(await conversationStatus(es.conversationId)).to.equal('resolved');
    const enThread = await messagesOf(t, en.conversationId);
    const event = enThread.find((m) => m.kind === 'reminder_reply');
    expect(event).to.include({ direction: 'system', body: 'Reminder confirmed by the patient (replied “C”)' });
    // Rescheduling needs a person; an unclear reply is an ordinary message: both reopen the conversation for an agent.
    expect(await conversationStatus(it_.conversationId)).to.equal('open');
    const itThread = await messagesOf(t, it_.conversationId);
    expect(itThread.map((m) => m.body)).to.include.members(['Reminder reply: the patient asked to reschedule (replied “spostare”)', 'spostare']);
    expect(await conversationStatus(unclear.conversationId)).to.equal('open');

    await t.hub.settled();
    const bodies = async (phone: string) => (await smsTo(t, phone)).map((m) => m.body);
    expect(await bodies('+14155550401')).to.include('Riverside Clinic: thank you, your appointment is confirmed.');
    expect((await bodies('+14155550402')).some((b) => b.includes('su cita queda cancelada'))).to.equal(true);
    expect((await bodies('+14155550403')).some((b) => b.includes('il nostro team la contatterà'))).to.equal(true);
    expect(await bodies('+14155550404'), 'no acknowledgement of an unclear reply').to.have.length(1);

    // The scheduling system's feed: confirmations since the start, with its own reference.
    const feed = await t.api.get(`/api/scheduled-messages?status=confirmed&since=${encodeURIComponent(since)}`, (await t.admin()).token);
    expect(feed.status).to.equal(200);
    expect(feed.body.items.map((i: { externalRef: string }) => i.externalRef)).to.deep.equal(['appt-en']);
    const all = await t.api.get(`/api/scheduled-messages?since=${encodeURIComponent(since)}`, (await t.admin()).token);
    expect(all.body.items.map((i: { externalRef: string; status: string }) => `${i.externalRef}:${i.status}`)).to.include.members([
      'appt-en:confirmed', 'appt-es:cancelled', 'appt-it:reschedule_requested', 'appt-unclear:sent',
    ]);

    // Page by page (one item a page): every change once, none skipped where several share an instant; no text (PHI).
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const res = await t.api.get(`/api/scheduled-messages?limit=1&${cursor ? `cursor=${cursor}` : `since=${encodeURIComponent(since)}`}`, (await t.admin()).token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      for (const item of res.body.items) {
        expect(item).not.to.have.property('body');
        paged.push(item.id);
      }
      cursor = res.body.next;
      if (!cursor) break;
    }
    expect(paged).to.have.members(all.body.items.map((i: { id: string }) => i.id));
    expect(new Set(paged).size).to.equal(paged.length);
    expect((await t.api.get('/api/scheduled-messages?cursor=not-a-cursor', (await t.admin()).token)).body.error.code).to.equal('INVALID_CURSOR');

    // A change of mind within the window counts; the same answer twice changes nothing.
    await texts(t, '+14155550401', 'x');
    expect(await statusOf(en.id)).to.equal('cancelled');
    await texts(t, '+14155550402', 'no puedo');
    expect(await statusOf(es.id)).to.equal('cancelled');
  });

  it('takes "Yes" (a consent keyword) as a confirmation, never STOP as a cancellation, and nothing after the window', async () => {
    t.clock.setTo(new Date('2027-03-11T15:00:00Z'));
    const yes = await reminded('+14155550411', 'en', 'appt-yes');
    const stop = await reminded('+14155550412', 'en', 'appt-stop');
    const late = await reminded('+14155550413', 'en', 'appt-late');
    await texts(t, '+14155550411', 'Yes');
    expect(await statusOf(yes.id)).to.equal('confirmed');
    await texts(t, '+14155550412', 'STOP');
    expect(await statusOf(stop.id)).to.equal('sent');
    const patient = await t.hub.services.db.models.Patient.findById(stop.patientId).lean().orFail();
    expect(patient.consent.sms.status).to.equal('opted_out');
    t.clock.advance(73 * 3600_000); // REMINDER_REPLY_WINDOW_HOURS is 72
    const reply = await texts(t, '+14155550413', 'C');
    expect(await statusOf(late.id)).to.equal('sent');
    // An ordinary message for an agent (a new conversation: the old one was resolved too long ago to reopen).
    expect(await conversationStatus(reply.conversationId)).to.equal('open');
    expect((await messagesOf(t, reply.conversationId)).map((m) => `${m.direction}:${m.body}`)).to.include('inbound:C');
  });

  it('reads an authenticated email reply (quoted reminder below it), never a forged one from the same address', async () => {
    t.clock.setTo(new Date('2027-03-11T16:00:00Z'));
    const address = 'maria.email@example.org';
    const first = await postInboundEmail(t, { from: `Maria Email <${address}>`, text: 'Hello, a question about my visit' });
    expect(first.status).to.equal(200);
    const inbound = await t.hub.services.db.models.Message.findOne({ channel: 'email', direction: 'inbound' }).sort({ createdAt: -1 }).lean().orFail();
    const admin = await t.admin();
    expect((await t.api.patch(`/api/patients/${inbound.patientId}`, { name: 'Maria Email' }, admin.token)).status).to.equal(200);
    const res = await schedule(t, inbound.patientId, REMINDER('2027-03-15T13:30:00Z', t.clock.now().toISOString(), { channel: 'email' }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect((await settled(t, res.body.id)).channel).to.equal('email');

    // Same address, but SPF and DKIM fail: not the patient's proof, so not an answer (an agent sees it, flagged).
    const forged = await postInboundEmail(t, { from: address, text: 'Cancel', SPF: 'fail', dkim: 'none' });
    expect(forged.status).to.equal(200);
    expect(await statusOf(res.body.id)).to.equal('sent');
    const reply = await postInboundEmail(t, {
      from: `Maria Email <${address}>`,
      text: 'Confirmed, thanks!\n\nOn Thu, Mar 11, 2027 at 4:00 PM Riverside Clinic wrote:\n> Hi Maria, this is Riverside Clinic: a reminder of your appointment\n> Reply C to confirm, X to cancel or R to reschedule.\n',
    });
    expect(reply.status).to.equal(200);
    expect(await statusOf(res.body.id)).to.equal('confirmed');
  });

  it('posts each answer to OUTBOUND_WEBHOOK_URL, signed with HMAC-SHA256, and retries until the receiver takes it', async () => {
    t.clock.setTo(new Date('2027-03-12T15:00:00Z'));
    await waitFor(async () => (receiver.calls.length > 0 ? true : null)); // the earlier tests' events
    await t.hub.settled();
    receiver.calls = [];
    receiver.failFirst = 2;
    const reminder = await reminded('+14155550421', 'en', 'appt-webhook');
    await texts(t, '+14155550421', 'confirm');
    await waitFor(async () => (receiver.calls.length >= 1 ? true : null));
    // Each retry waits a backoff: move the clock past it until the receiver has answered 204.
    await waitFor(async () => {
      const doc = await t.hub.services.db.models.WebhookDelivery.findOne({ event: 'scheduled_message.confirmed', payload: { $regex: reminder.id } }).lean();
      if (doc?.status === 'delivered') return doc;
      t.clock.advance(60_000);
      return null;
    }, 30_000);
    const mine = receiver.calls.filter((c) => c.body.includes(reminder.id));
    expect(mine).to.have.length(3);
    expect(new Set(mine.map((c) => c.headers['carethread-event-id'])).size, 'one event id across retries').to.equal(1);
    for (const call of mine) expect(signatureValid(call.headers, call.body), 'signature').to.equal(true);
    expect(signatureValid({ 'carethread-signature': String(mine[0]!.headers['carethread-signature']) }, mine[0]!.body.replace('confirmed', 'cancelled'))).to.equal(false);
    const payload = JSON.parse(mine[0]!.body);
    expect(payload).to.include({ type: 'scheduled_message.confirmed' });
    expect(payload.data).to.include({ scheduledMessageId: reminder.id, patientId: reminder.patientId, externalRef: 'appt-webhook', status: 'confirmed', channel: 'sms' });
    // No PHI: no phone number, no words of the patient, no name.
    expect(mine[0]!.body).not.to.include('4155550421').and.not.to.include('Maria').and.not.to.include('"confirm"');
  });
});
