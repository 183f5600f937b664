/** Shared steps of the scheduled-message tests: a hub at a known time, patients who texted in, their reminders. */
import { expect } from 'chai';
import type { ScheduledMessageDoc } from '../../../server/db/documents.ts';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { startTestHub, TestClock, waitFor, type TestHub } from '../../support/test-hub.ts';

/** Wednesday 2027-03-10 15:00 UTC: 10:00 in New York, 16:00 in Rome, 15:00 at the clinic (UTC); nobody's quiet hours. */
export const WEDNESDAY = new Date('2027-03-10T15:00:00Z');

export async function startOutreachHub(label: string, env: Record<string, string> = {}): Promise<TestHub> {
  const clock = new TestClock();
  clock.setTo(WEDNESDAY);
  return startTestHub({ label, clock, env: { CLINIC_NAME: 'Riverside Clinic', ...env } });
}

/** The patient texts the clinic (which proves the number and consents to texts); returns where it landed. */
export async function texts(t: TestHub, from: string, body: string): Promise<{ conversationId: string; patientId: string }> {
  const params = inboundSms({ From: from, Body: body });
  const res = await postTwilio(t, '/webhooks/twilio/sms', params);
  expect(res.status, res.text).to.equal(200);
  const message = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean();
  // A reply read as an answer is stored as an event under its own key: find the patient by their number instead.
  if (message) return { conversationId: message.conversationId, patientId: message.patientId };
  const event = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid, kind: 'reminder_reply' }).lean().orFail();
  return { conversationId: event.conversationId, patientId: event.patientId };
}

/** A patient who texted the clinic, with a name on file (templates greet by first name). */
export async function newPatient(t: TestHub, phone: string, name = 'Maria Lopez'): Promise<{ conversationId: string; patientId: string }> {
  const first = await texts(t, phone, 'Hello, I have a question');
  const res = await t.api.patch(`/api/patients/${first.patientId}`, { name }, (await t.admin()).token);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return first;
}

export async function setPreferences(t: TestHub, patientId: string, preferences: { language?: string; timezone?: string; channel?: string }) {
  const res = await t.api.patch(`/api/patients/${patientId}/preferences`, preferences, (await t.admin()).token);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
}

export async function schedule(t: TestHub, patientId: string, body: Record<string, unknown>, token?: string) {
  return t.api.post(`/api/patients/${patientId}/scheduled-messages`, body, token ?? (await t.admin()).token);
}

export async function scheduled(t: TestHub, id: string): Promise<ScheduledMessageDoc> {
  return t.hub.services.db.models.ScheduledMessage.findById(id).lean().orFail();
}

/** Waits until the scheduled message has left `scheduled` (sent, skipped…), or until `until` says so. */
export async function settled(t: TestHub, id: string, until: (doc: ScheduledMessageDoc) => boolean = (d) => d.status !== 'scheduled'): Promise<ScheduledMessageDoc> {
  return waitFor(async () => {
    const doc = await scheduled(t, id);
    return until(doc) ? doc : null;
  });
}

export async function smsTo(t: TestHub, to: string): Promise<{ body: string; from: string }[]> {
  const res = await t.api.get('/api/dev/outbox?channel=sms&limit=500', (await t.admin()).token);
  return (res.body.items as { request: Record<string, string> }[]).filter((e) => e.request.To === to).map((e) => ({ body: String(e.request.Body), from: String(e.request.From) }));
}

export async function messagesOf(t: TestHub, conversationId: string): Promise<any[]> {
  const res = await t.api.get(`/api/conversations/${conversationId}/messages?limit=200`, (await t.admin()).token);
  expect(res.status).to.equal(200);
  return res.body.items;
}

export const REMINDER = (appointmentAt: string, sendAt: string, extra: Record<string, unknown> = {}) => ({
  template: 'appointment_reminder',
  variables: { appointmentAt, location: 'Riverside Clinic, Suite 4' },
  sendAt,
  ...extra,
});
