import { expect } from 'chai';
import type { WidgetCsatRequest } from '../../../server/realtime/widget-events.ts';
import { nextEvent, waitFor, type TestHub } from '../../support/test-hub.ts';
import { newClientId, startVisitor, type TestVisitor } from '../../support/widget-visitor.ts';
import { answerAndResolve, conversationOf, messagesOf, settledSurvey, startCsatHub, survey } from './csat-support.ts';

describe('satisfaction survey in the web chat: stars over the socket', function () {
  this.timeout(60_000);
  let t: TestHub;
  before(async () => {
    t = await startCsatHub('csat-widget');
  });
  after(() => t.close());

  async function chatted(name: string): Promise<{ visitor: TestVisitor; conversationId: string }> {
    const visitor = await startVisitor(t, { name, language: 'es' });
    const ack = await visitor.call('message:send', { clientId: newClientId(), body: '¿Abren el sábado?' });
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    return { visitor, conversationId: ack.message.conversationId };
  }

  it('asks the connected visitor right after the resolve and records their stars and comment, never reopening', async () => {
    const { visitor, conversationId } = await chatted('Wanda Web');
    const asked = nextEvent<WidgetCsatRequest>(visitor.socket, 'csat:request');
    await answerAndResolve(t, conversationId);
    const request = await asked;
    expect(request).to.deep.equal({ surveyId: `${conversationId}:0`, conversationId, language: 'es', maxCommentLength: 1000 });
    expect((await messagesOf(t, conversationId)).map((m) => m.body)).to.include('Satisfaction survey offered in the web chat');

    const refused = await visitor.call('csat:answer', { score: 9 });
    expect(refused.ok).to.equal(false);
    expect(refused.error).to.include({ code: 'INVALID_INPUT', field: 'score' });
    const tooLong = await visitor.call('csat:answer', { score: 3, comment: 'x'.repeat(1001) });
    expect(tooLong.error).to.include({ code: 'INVALID_INPUT', field: 'comment' });

    const answer = await visitor.call('csat:answer', { surveyId: request.surveyId, score: 4, comment: 'Rápido y amable' });
    expect(answer).to.deep.equal({ ok: true });
    expect(await survey(t, conversationId)).to.include({ status: 'answered', score: 4, hasComment: true, answerChannel: 'webchat' });
    expect(await conversationOf(t, conversationId)).to.include({ status: 'resolved', reopenCount: 0, unreadCount: 0 });
    const event = (await messagesOf(t, conversationId)).find((m) => m.kind === 'csat');
    expect(event).to.include({ direction: 'system', channel: 'webchat' });
    expect(event.body).to.equal('Satisfaction survey answered in the web chat: 4 of 5. Comment: “Rápido y amable”');
    // Answered: a second answer finds nothing waiting.
    const again = await visitor.call('csat:answer', { score: 1 });
    expect(again.ok).to.equal(false);
    expect(await survey(t, conversationId)).to.include({ score: 4 });
    // The patient's widget never sees the internal events.
    const since = await visitor.call('messages:since', { afterSeq: 0 });
    expect(since.items.map((m: { body: string }) => m.body)).to.deep.equal(['¿Abren el sábado?', 'Your appointment is confirmed.']);
  });

  it('shows a survey still waiting again when the widget reconnects', async () => {
    const { visitor, conversationId } = await chatted('Rita Reload');
    const asked = nextEvent<WidgetCsatRequest>(visitor.socket, 'csat:request');
    await answerAndResolve(t, conversationId);
    const first = await asked;
    visitor.socket.disconnect();
    const { io } = await import('socket.io-client');
    const socket = io(`${t.url}/widget`, { auth: { token: visitor.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      const again = await nextEvent<WidgetCsatRequest>(socket, 'csat:request');
      expect(again.surveyId).to.equal(first.surveyId);
    } finally {
      socket.disconnect();
    }
  });

  it('refuses another visitor’s answer, whatever survey id it names', async () => {
    const { visitor, conversationId } = await chatted('Owner Olga');
    const asked = nextEvent<WidgetCsatRequest>(visitor.socket, 'csat:request');
    await answerAndResolve(t, conversationId);
    const request = await asked;
    const stranger = await startVisitor(t, { name: 'Mallory' });
    for (const payload of [{ score: 1 }, { score: 1, surveyId: request.surveyId }]) {
      const answer = await stranger.call('csat:answer', payload);
      expect(answer.ok).to.equal(false);
      expect(answer.error.code).to.equal('NOT_FOUND');
    }
    expect((await survey(t, conversationId))!.status).to.equal('sent');
    // The owner still can.
    expect(await visitor.call('csat:answer', { score: 5 })).to.deep.equal({ ok: true });
    stranger.socket.disconnect();
  });

  it('sends nothing when the chat is closed at the resolve', async () => {
    const { visitor, conversationId } = await chatted('Gone Gina');
    visitor.socket.disconnect();
    await waitFor(async () => !(await t.hub.services.timeline.isWidgetConnected((await conversationOf(t, conversationId)).patientId)));
    await answerAndResolve(t, conversationId);
    expect(await settledSurvey(t, conversationId)).to.include({ status: 'skipped', skipReason: 'widget_closed' });
    const patient = await t.hub.services.db.models.Patient.findById((await conversationOf(t, conversationId)).patientId).lean().orFail();
    expect(patient.csat?.awaiting ?? null).to.equal(null);
  });
});
