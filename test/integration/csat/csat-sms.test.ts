import { expect } from 'chai';
import type { CsatAnswer } from '../../../server/reports/kpi-sink.ts';
import { waitFor, type TestHub } from '../../support/test-hub.ts';
import {
  answerAndResolve, conversationOf, messagesOf, settledSurvey, smsTo, startCsatHub, survey, SURVEY_DELAY_MS, texts, WEDNESDAY_AFTERNOON,
} from './csat-support.ts';

describe('satisfaction survey by SMS', function () {
  this.timeout(60_000);
  let t: TestHub;
  const kpis: CsatAnswer[] = [];
  before(async () => {
    t = await startCsatHub('csat-sms');
    // The KPI sink another part of the hub implements: here it only records what it is told.
    t.hub.services.timeline.kpis = { csatAnswered: async (answer) => void kpis.push(answer) };
  });
  after(() => t.close());

  /** A patient's conversation, answered, resolved, and its survey sent (returned with the survey's text). */
  async function surveyed(from: string, first = 'Can I move my appointment?') {
    const { conversationId, patientId } = await texts(t, from, first);
    await answerAndResolve(t, conversationId);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    const sent = await settledSurvey(t, conversationId);
    expect(sent.status, sent.skipReason ?? '').to.equal('sent');
    const texted = await waitFor(async () => (await smsTo(t, from)).find((b) => /How did we do|Qué tal|Come siamo/.test(b)));
    return { conversationId, patientId, texted };
  }

  it('asks "How did we do?" two minutes after the resolve, by text, with no PHI, and not before', async () => {
    const from = '+14155557001';
    const { conversationId } = await texts(t, from, 'My test results for diabetes?');
    await answerAndResolve(t, conversationId);
    const scheduled = await survey(t, conversationId);
    expect(scheduled).to.include({ status: 'scheduled', channel: 'sms' });
    expect(new Date(scheduled!.dueAt!).getTime() - new Date(scheduled!.resolvedAt).getTime()).to.equal(SURVEY_DELAY_MS);
    // Not due yet: a look at the worker's queue leaves it scheduled.
    await t.hub.settled();
    expect((await survey(t, conversationId))!.status).to.equal('scheduled');
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect((await settledSurvey(t, conversationId)).status).to.equal('sent');
    const texted = await waitFor(async () => (await smsTo(t, from)).find((b) => b.includes('How did we do?')));
    expect(texted).to.equal('Riverside Clinic: How did we do? Reply 1-5 (5 = great). You can add a comment after the number.');
    expect(texted).not.to.match(/diabetes|appointment/i);
  });

  it('records "5 great service" as the answer: a csat event with the comment, the conversation stays resolved, nothing new opens', async () => {
    const from = '+14155557002';
    const { conversationId, patientId } = await surveyed(from);
    const before = await conversationOf(t, conversationId);
    const patientBefore = await t.hub.services.db.models.Patient.findById(patientId).lean().orFail();
    const { conversationId: landed } = await texts(t, from, '5 great service');
    expect(landed).to.equal(conversationId);

    const after = await conversationOf(t, conversationId);
    expect(after).to.include({ status: 'resolved', unreadCount: 0, reopenCount: 0 });
    expect(after.resolvedAt?.getTime()).to.equal(before.resolvedAt?.getTime());
    const patientAfter = await t.hub.services.db.models.Patient.findById(patientId).lean().orFail();
    expect(patientAfter.conversationCount).to.equal(patientBefore.conversationCount);
    expect(patientAfter.latestConversationId).to.equal(conversationId);
    expect(patientAfter.csat?.awaiting ?? null).to.equal(null);

    const answered = await survey(t, conversationId);
    expect(answered).to.include({ status: 'answered', score: 5, hasComment: true, answerChannel: 'sms' });
    expect(answered!.commentEnc).to.be.a('string').and.not.include('great service');
    const events = (await messagesOf(t, conversationId)).filter((m) => m.kind === 'csat');
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ direction: 'system', channel: 'sms' });
    expect(events[0].body).to.equal('Satisfaction survey answered by text message: 5 of 5. Comment: “great service”');
    // Not a new request: no preview of it, no inbound message.
    expect((await messagesOf(t, conversationId)).filter((m) => m.direction === 'inbound').map((m) => m.body)).to.deep.equal(['Can I move my appointment?']);
    expect(kpis.find((k) => k.conversationId === conversationId)).to.deep.include({ channel: 'sms', score: 5, hasComment: true });
    // Not triaged, not assigned, not answered by any automatic reply.
    expect(after.triage ?? null).to.equal(null);
    expect((await smsTo(t, from)).filter((b) => !b.startsWith('Riverside Clinic: How did we do?') && b !== 'Your appointment is confirmed.')).to.deep.equal([]);
  });

  it('stores a Twilio retry of the answer once', async () => {
    const from = '+14155557003';
    const { conversationId } = await surveyed(from);
    const { inboundSms, postTwilio } = await import('../../support/fake-twilio.ts');
    const params = inboundSms({ From: from, Body: '4' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    expect((await messagesOf(t, conversationId)).filter((m) => m.kind === 'csat')).to.have.length(1);
    expect((await conversationOf(t, conversationId)).status).to.equal('resolved');
    expect(kpis.filter((k) => k.conversationId === conversationId)).to.have.length(1);
  });

  it('asks in Spanish and reads "cinco, muy amables"; asks in Italian and reads "quattro stelle"', async () => {
    const admin = await t.admin();
    for (const [from, language, reply, score, comment, question] of [
      ['+14155557004', 'es', 'cinco, muy amables', 5, 'muy amables', 'Riverside Clinic: ¿Qué tal le atendimos? Responda del 1 al 5 (5 = excelente).'],
      ['+14155557005', 'it', 'Quattro stelle', 4, null, 'Riverside Clinic: Come siamo andati? Risponda da 1 a 5 (5 = ottimo).'],
    ] as const) {
      const { conversationId, patientId } = await texts(t, from, 'Hola / Ciao');
      expect((await t.api.patch(`/api/patients/${patientId}`, { language }, admin.token)).status).to.equal(200);
      await answerAndResolve(t, conversationId);
      t.clock.advance(SURVEY_DELAY_MS + 1000);
      expect((await settledSurvey(t, conversationId)).status).to.equal('sent');
      const texted = await waitFor(async () => (await smsTo(t, from)).find((b) => b.startsWith(question)));
      expect(texted).to.be.a('string');
      await texts(t, from, reply);
      expect(await survey(t, conversationId)).to.include({ status: 'answered', score, hasComment: comment !== null });
      expect((await conversationOf(t, conversationId)).status).to.equal('resolved');
      const event = (await messagesOf(t, conversationId)).find((m) => m.kind === 'csat');
      expect(event.body).to.include(`${score} of 5`);
      if (comment) expect(event.body).to.include(comment);
    }
  });

  it('treats "7" as an ordinary message that reopens the conversation, and the survey takes no later answer', async () => {
    const from = '+14155557006';
    const { conversationId } = await surveyed(from);
    await texts(t, from, '7');
    const reopened = await conversationOf(t, conversationId);
    expect(reopened).to.include({ status: 'open', reopenCount: 1, unreadCount: 1 });
    expect((await messagesOf(t, conversationId)).filter((m) => m.direction === 'inbound').map((m) => m.body)).to.include('7');
    // Only the next text counted: a score now is a message too.
    await texts(t, from, '5');
    expect((await survey(t, conversationId))!.status).to.equal('sent');
    expect((await messagesOf(t, conversationId)).some((m) => m.kind === 'csat')).to.equal(false);
  });

  it('treats a score 25 hours later as an ordinary message', async () => {
    const from = '+14155557007';
    const { conversationId } = await surveyed(from);
    t.clock.advance(25 * 3600_000);
    await texts(t, from, '5');
    expect(await conversationOf(t, conversationId)).to.include({ status: 'open', reopenCount: 1 });
    expect((await survey(t, conversationId))!.status).to.equal('sent');
  });

  it('keeps triage on a score with words: "1 I have chest pain" reopens and is flagged urgent, not filed as a rating', async () => {
    const from = '+14155557008';
    const { conversationId } = await surveyed(from);
    await texts(t, from, '1 I have chest pain');
    const conversation = await conversationOf(t, conversationId);
    expect(conversation.status).to.equal('open');
    expect(conversation.priority).to.equal('urgent');
    expect(conversation.triage?.category).to.be.a('string');
    expect((await survey(t, conversationId))!.status).to.equal('sent');
  });

  it('sends at most one survey per patient per 7 days', async () => {
    const from = '+14155557009';
    const { conversationId } = await surveyed(from);
    await texts(t, from, '4');
    // The patient writes again: the same conversation reopens, is answered and resolved again within the week.
    const again = await texts(t, from, 'One more question about parking');
    expect(again.conversationId).to.equal(conversationId);
    await answerAndResolve(t, conversationId);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect(await settledSurvey(t, conversationId, 1)).to.include({ status: 'skipped', skipReason: 'recently_surveyed' });
    // Eight days on: a new conversation, and a new survey.
    t.clock.advance(8 * 24 * 3600_000);
    const later = await texts(t, from, 'Hello again');
    expect(later.conversationId).not.to.equal(conversationId);
    await answerAndResolve(t, later.conversationId);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect((await settledSurvey(t, later.conversationId)).status).to.equal('sent');
    t.clock.setTo(WEDNESDAY_AFTERNOON);
  });

  it('sends no survey to a number that opted out, nor without SMS consent', async () => {
    const optedOut = '+14155557010';
    const first = await texts(t, optedOut, 'Question');
    const admin = await t.admin();
    expect((await t.api.post(`/api/conversations/${first.conversationId}/messages`, { body: 'Answer', channel: 'sms' }, admin.token)).status).to.equal(201);
    await texts(t, optedOut, 'STOP');
    expect((await t.api.post(`/api/conversations/${first.conversationId}/resolve`, undefined, admin.token)).status).to.equal(200);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect(await settledSurvey(t, first.conversationId)).to.include({ status: 'skipped', skipReason: 'opted_out' });

    const unknown = '+14155557011';
    const second = await texts(t, unknown, 'Question');
    expect((await t.api.post(`/api/conversations/${second.conversationId}/messages`, { body: 'Answer', channel: 'sms' }, admin.token)).status).to.equal(201);
    // Consent as if the patient never gave it (e.g. their only text was a keyword).
    await t.hub.services.db.models.Patient.updateOne({ _id: second.patientId }, { $set: { 'consent.sms': { status: 'unknown' } } });
    expect((await t.api.post(`/api/conversations/${second.conversationId}/resolve`, undefined, admin.token)).status).to.equal(200);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect(await settledSurvey(t, second.conversationId)).to.include({ status: 'skipped', skipReason: 'no_consent' });
    for (const to of [optedOut, unknown]) expect((await smsTo(t, to)).filter((b) => b.includes('How did we do?'))).to.deep.equal([]);
  });

  it('sends no survey when the conversation was reopened before it was due', async () => {
    const from = '+14155557012';
    const { conversationId } = await texts(t, from, 'Question');
    await answerAndResolve(t, conversationId);
    await texts(t, from, 'Actually, one more thing');
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    expect(await settledSurvey(t, conversationId)).to.include({ status: 'skipped', skipReason: 'reopened' });
    expect((await smsTo(t, from)).filter((b) => b.includes('How did we do?'))).to.deep.equal([]);
  });

  it('sends each survey once when two workers claim them at the same moment (as two nodes would)', async () => {
    const { CsatSurveys } = await import('../../../server/csat/csat-surveys.ts');
    const { CsatLinks } = await import('../../../server/csat/csat-links.ts');
    const { purposeKey } = await import('../../../server/crypto/purpose-keys.ts');
    const c = t.config;
    // A second worker on the same store, as another hub node runs one.
    const other = new CsatSurveys(() => t.hub.services.timeline, {
      enabled: true, clinicName: c.clinicName, clinicTimeZone: c.clinicTimeZone, clinicLanguage: c.clinicLanguage,
      quietHours: c.quietHours, intervalMs: c.csat.intervalMs, delayMs: c.csat.delayMs, triageRules: c.triage.rules,
    }, new CsatLinks(purposeKey(c.jwtSecret, 'csat-links'), c.publicBaseUrl, t.clock.now));
    const phones = ['+14155557021', '+14155557022', '+14155557023', '+14155557024'];
    const conversations: string[] = [];
    for (const from of phones) {
      const { conversationId } = await texts(t, from, 'Question');
      await answerAndResolve(t, conversationId);
      conversations.push(conversationId);
    }
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    other.start(20);
    try {
      for (const id of conversations) expect((await settledSurvey(t, id)).status).to.equal('sent');
    } finally {
      await other.stop();
    }
    await t.hub.settled();
    for (const from of phones) expect((await smsTo(t, from)).filter((b) => b.includes('How did we do?')), from).to.have.length(1);
  });

  it('waits for the end of quiet hours in the patient’s time zone', async () => {
    const from = '+14155557013';
    const { conversationId, patientId } = await texts(t, from, 'Question');
    const admin = await t.admin();
    expect((await t.api.patch(`/api/patients/${patientId}`, { timezone: 'America/New_York' }, admin.token)).status).to.equal(200);
    t.clock.setTo(new Date('2027-03-11T01:58:00Z')); // 20:58 in New York: due at 21:00, in quiet hours
    await answerAndResolve(t, conversationId);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    const deferred = await waitFor(async () => {
      const doc = await survey(t, conversationId);
      return doc && doc.attempts >= 1 && doc.dueAt && doc.dueAt.getTime() > t.clock.now().getTime() + 3600_000 ? doc : null;
    });
    expect(deferred.status).to.equal('scheduled');
    expect(deferred.dueAt!.toISOString()).to.equal('2027-03-11T13:00:00.000Z'); // 08:00 in New York
    expect((await smsTo(t, from)).filter((b) => b.includes('How did we do?'))).to.deep.equal([]);
    t.clock.setTo(new Date('2027-03-11T13:00:05Z'));
    expect((await settledSurvey(t, conversationId)).status).to.equal('sent');
    await waitFor(async () => (await smsTo(t, from)).some((b) => b.includes('How did we do?')));
    t.clock.setTo(WEDNESDAY_AFTERNOON);
  });
});
