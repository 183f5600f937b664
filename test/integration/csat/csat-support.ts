/** Shared steps of the satisfaction survey tests: a hub with surveys on at a weekday daytime, a patient served and resolved. */
import { expect } from 'chai';
import type { CsatSurveyDoc } from '../../../server/db/documents.ts';
import { inboundSms, postTwilio } from '../../support/fake-twilio.ts';
import { startTestHub, TestClock, waitFor, type TestHub } from '../../support/test-hub.ts';

/** Wednesday 2027-03-10 14:00 UTC: daytime in the clinic's zone (UTC) and 09:00 in New York. */
export const WEDNESDAY_AFTERNOON = new Date('2027-03-10T14:00:00Z');
export const SURVEY_DELAY_MS = 2 * 60_000;

export async function startCsatHub(label: string, env: Record<string, string> = {}): Promise<TestHub> {
  const clock = new TestClock();
  clock.setTo(WEDNESDAY_AFTERNOON);
  return startTestHub({ label, clock, env: { CLINIC_NAME: 'Riverside Clinic', CSAT_SURVEYS: 'on', ...env } });
}

/** The patient texts; answers the conversation the text landed in. */
export async function texts(t: TestHub, from: string, body: string): Promise<{ conversationId: string; patientId: string; messageSid: string }> {
  const params = inboundSms({ From: from, Body: body });
  const res = await postTwilio(t, '/webhooks/twilio/sms', params);
  expect(res.status, res.text).to.equal(200);
  const message = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail();
  return { conversationId: message.conversationId, patientId: message.patientId, messageSid: params.MessageSid! };
}

/** An agent answers (the conversation has a first response: something to rate), then resolves it. */
export async function answerAndResolve(t: TestHub, conversationId: string): Promise<void> {
  const admin = await t.admin();
  const reply = await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Your appointment is confirmed.', channel: 'auto' }, admin.token);
  expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  const resolved = await t.api.post(`/api/conversations/${conversationId}/resolve`, undefined, admin.token);
  expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
}

export async function survey(t: TestHub, conversationId: string, cycle = 0): Promise<CsatSurveyDoc | null> {
  return t.hub.services.db.models.CsatSurvey.findById(`${conversationId}:${cycle}`).lean();
}

/** Waits until the survey is no longer waiting to be handled (sent, skipped or answered). */
export async function settledSurvey(t: TestHub, conversationId: string, cycle = 0): Promise<CsatSurveyDoc> {
  return waitFor(async () => {
    const doc = await survey(t, conversationId, cycle);
    return doc && doc.status !== 'scheduled' ? doc : null;
  });
}

export interface OutboxEntry {
  channel: string;
  request: any;
  createdAt: string;
}

export async function outbox(t: TestHub, channel: 'sms' | 'email'): Promise<OutboxEntry[]> {
  return (await t.api.get(`/api/dev/outbox?channel=${channel}&limit=500`, (await t.admin()).token)).body.items;
}

export async function smsTo(t: TestHub, to: string): Promise<string[]> {
  return (await outbox(t, 'sms')).filter((e) => e.request.To === to).map((e) => String(e.request.Body));
}

export async function messagesOf(t: TestHub, conversationId: string): Promise<any[]> {
  const res = await t.api.get(`/api/conversations/${conversationId}/messages?limit=200`, (await t.admin()).token);
  expect(res.status).to.equal(200);
  return res.body.items;
}

export async function conversationOf(t: TestHub, conversationId: string) {
  return t.hub.services.db.models.Conversation.findById(conversationId).lean().orFail();
}
