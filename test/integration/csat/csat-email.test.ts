import { expect } from 'chai';
import { patientWrites, waitFor, type Session, type TestHub } from '../../support/test-hub.ts';
import { answerAndResolve, conversationOf, messagesOf, outbox, settledSurvey, startCsatHub, survey, SURVEY_DELAY_MS } from './csat-support.ts';

describe('satisfaction survey by email: a signed link to a small page', function () {
  this.timeout(60_000);
  let t: TestHub;
  let admin: Session;
  before(async () => {
    t = await startCsatHub('csat-email');
    admin = await t.admin();
  });
  after(() => t.close());

  /** An email patient served and resolved; answers the survey's link path (/csat/<token>) and the conversation. */
  async function emailSurvey(from: string) {
    const inbound = await patientWrites(t, { channel: 'email', from, body: 'Is my referral to cardiology ready?' });
    const conversationId = inbound.conversation.id;
    await answerAndResolve(t, conversationId);
    t.clock.advance(SURVEY_DELAY_MS + 1000);
    const sent = await settledSurvey(t, conversationId);
    expect(sent.status, sent.skipReason ?? '').to.equal('sent');
    const mail = await waitFor(async () => (await outbox(t, 'email')).find((e) => e.request.custom_args?.carethread_message_id === sent.messageId));
    expect(mail.request.personalizations[0].to[0].email).to.equal(from);
    const text = String(mail.request.content[0].value);
    const link = /(https?:\/\/\S+\/csat\/(\S+))/.exec(text);
    expect(link, text).to.not.equal(null);
    return { conversationId, text, path: new URL(link![1]!).pathname, token: link![2]! };
  }

  const page = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${t.url}${path}`, init);
    return { status: res.status, html: await res.text(), headers: res.headers };
  };
  const postForm = (path: string, fields: Record<string, string>) =>
    page(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const postJson = (path: string, body: unknown) =>
    page(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });

  it('mails a link that holds no PHI, to a page with an accessible form under the hub’s CSP', async () => {
    const { text, path, token } = await emailSurvey('csat.one@example.org');
    expect(text).to.include('How did we do?').and.not.match(/cardiology|referral/i);
    // The token names a survey, not the patient or the conversation.
    expect(Buffer.from(token.split('.')[0]!, 'base64url').toString()).not.to.match(/@|example\.org/);
    const { status, html, headers } = await page(path);
    expect(status).to.equal(200);
    expect(headers.get('content-type')).to.match(/^text\/html/);
    expect(headers.get('cache-control')).to.equal('no-store');
    expect(headers.get('content-security-policy')).to.include("default-src 'self'").and.include("form-action 'self'");
    expect(html).to.include('<html lang="en">').and.include('<h1>How did we do?</h1>');
    expect(html).to.include(`<form method="post" action="/csat/${token}">`);
    expect(html).to.include('<fieldset><legend>Your rating</legend>');
    for (let score = 1; score <= 5; score++) expect(html).to.match(new RegExp(`<input type="radio" id="score-${score}" name="score" value="${score}" required> <label for="score-${score}">${score} – `));
    expect(html).to.include('<label for="comment">').and.include('maxlength="1000"');
    // Nothing from elsewhere, nothing inline the CSP would block.
    expect(html).not.to.match(/<script|<style|style=|src=|<link|https?:\/\//i);
    expect(html).not.to.match(/cardiology|csat\.one/);
  });

  it('records the answer once: a thank-you page, the csat event in the thread, then "already answered" (409)', async () => {
    const { conversationId, path } = await emailSurvey('csat.two@example.org');
    const answered = await postForm(path, { score: '4', comment: 'Friendly, but the wait was long' });
    expect(answered.status).to.equal(200);
    expect(answered.html).to.include('Thank you for your feedback.');
    expect(await survey(t, conversationId)).to.include({ status: 'answered', score: 4, hasComment: true, answerChannel: 'email' });
    expect(await conversationOf(t, conversationId)).to.include({ status: 'resolved', reopenCount: 0, unreadCount: 0 });
    const event = (await messagesOf(t, conversationId)).find((m) => m.kind === 'csat');
    expect(event).to.include({ direction: 'system', channel: 'email' });
    expect(event.body).to.equal('Satisfaction survey answered on the survey page (email link): 4 of 5. Comment: “Friendly, but the wait was long”');

    const again = await postForm(path, { score: '1' });
    expect(again.status).to.equal(409);
    expect(again.html).to.include('we already have your answer');
    const json = await postJson(path, { score: 1 });
    expect(json.status).to.equal(409);
    expect(JSON.parse(json.html).error.code).to.equal('CONFLICT');
    expect((await survey(t, conversationId))!.score).to.equal(4);
    expect((await messagesOf(t, conversationId)).filter((m) => m.kind === 'csat')).to.have.length(1);
    const shown = await page(path);
    expect(shown.status).to.equal(200);
    expect(shown.html).to.include('we already have your answer').and.not.include('<form');
  });

  it('answers an API client in JSON, and refuses a score out of range or a comment over 1000 characters', async () => {
    const { conversationId, path, token } = await emailSurvey('csat.three@example.org');
    const outOfRange = await postJson(path, { score: 6 });
    expect(outOfRange.status).to.equal(400);
    expect(JSON.parse(outOfRange.html).error).to.include({ code: 'INVALID_INPUT', field: 'score' });
    const tooLong = await postJson(path, { score: 3, comment: 'x'.repeat(1001) });
    expect(tooLong.status).to.equal(400);
    expect(JSON.parse(tooLong.html).error.field).to.equal('comment');
    // The browser's form gets the form again, the error said and tied to its field, the comment kept.
    const form = await postForm(path, { comment: 'kept <b>as typed</b>' });
    expect(form.status).to.equal(400);
    expect(form.html).to.include('role="alert"').and.include('Please choose a rating from 1 to 5.');
    expect(form.html).to.include('aria-invalid="true"').and.include('kept &#60;b&#62;as typed&#60;/b&#62;');
    expect(form.html).to.include(`action="/csat/${token}"`);
    expect((await survey(t, conversationId))!.status).to.equal('sent');
    const ok = await postJson(path, { score: 5 });
    expect(ok.status).to.equal(200);
    expect(JSON.parse(ok.html)).to.deep.equal({ status: 'answered', score: 5 });
    expect(await survey(t, conversationId)).to.include({ score: 5, hasComment: false });
  });

  it('says a closed survey has closed (410) and a forged or foreign link is not valid (404), with no detail', async () => {
    const { path, token } = await emailSurvey('csat.four@example.org');
    const [payload, signature] = token.split('.') as [string, string];
    const forged = `${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const otherPayload = Buffer.from(JSON.stringify(['someone-else:0', Date.now() + 3600_000])).toString('base64url');
    for (const bad of [forged, `${otherPayload}.${signature}`, 'abc', `${payload}`]) {
      const res = await page(`/csat/${encodeURIComponent(bad)}`);
      expect(res.status, bad).to.equal(404);
      expect(res.html).to.include('This link is not valid.').and.not.include('<form');
      expect((await postJson(`/csat/${encodeURIComponent(bad)}`, { score: 5 })).status).to.equal(404);
    }
    // A PHI-safe notice's link is signed for another purpose: not a survey link.
    const { SecureMessageLinks } = await import('../../../server/delivery/secure-message-links.ts');
    const { purposeKey } = await import('../../../server/crypto/purpose-keys.ts');
    const secure = new SecureMessageLinks(purposeKey(t.config.jwtSecret, 'secure-message-links'), '', 3600_000, t.clock.now).create('x', 'y');
    expect((await page(`/csat/${secure.split('/m/')[1]}`)).status).to.equal(404);

    t.clock.advance(7 * 24 * 3600_000 + 60_000);
    const closed = await page(path);
    expect(closed.status).to.equal(410);
    expect(closed.html).to.include('This survey has closed.').and.not.include('<form');
    const late = await postJson(path, { score: 5 });
    expect(late.status).to.equal(410);
    expect(JSON.parse(late.html).error.code).to.equal('LINK_EXPIRED');
  });

  it('lists the comments for supervisors of the team and admins, audited; not for agents or other teams', async () => {
    const { conversationId, path } = await emailSurvey('csat.five@example.org');
    expect((await postForm(path, { score: '2', comment: 'Nobody called me back' })).status).to.equal(200);
    // The clock moved on a week: log in again.
    admin = await t.admin();
    const supervisor = await t.agent({ name: 'Sue Pervisor', role: 'supervisor', teamIds: ['front-desk'] });
    const res = await t.api.get('/api/reports/csat/comments', supervisor.token);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const item = res.body.items.find((i: { conversationId: string }) => i.conversationId === conversationId);
    expect(item).to.deep.include({ conversationId, teamId: 'front-desk', channel: 'email', score: 2, comment: 'Nobody called me back' });
    expect(item.at).to.match(/^\d{4}-\d{2}-\d{2}T/);
    expect(res.body).to.have.property('nextCursor');
    const audited = await t.hub.services.db.models.AuditEvent.find({ actorId: supervisor.agent.id }).sort({ at: -1 }).lean();
    expect(audited.map((e) => `${e.action}:${e.outcome}`)).to.include('csat.comments.read:success');

    const byAdmin = await t.api.get('/api/reports/csat/comments?team=front-desk&limit=1', admin.token);
    expect(byAdmin.status).to.equal(200);
    expect(byAdmin.body.items).to.have.length(1);
    const older = byAdmin.body.nextCursor ? await t.api.get(`/api/reports/csat/comments?team=front-desk&limit=50&cursor=${encodeURIComponent(byAdmin.body.nextCursor)}`, admin.token) : null;
    if (older) expect(older.body.items.map((i: { at: string }) => i.at).every((at: string) => at < byAdmin.body.nextCursor)).to.equal(true);
    const range = await t.api.get('/api/reports/csat/comments?from=2000-01-01&to=2000-01-02', admin.token);
    expect(range.body.items).to.deep.equal([]);

    const agent = await t.agent({ name: 'Ann Agent', role: 'agent', teamIds: ['front-desk'] });
    expect((await t.api.get('/api/reports/csat/comments', agent.token)).status).to.equal(403);
    await t.api.post('/api/teams', { id: 'billing', name: 'Billing' }, admin.token);
    const other = await t.agent({ name: 'Bill Supervisor', role: 'supervisor', teamIds: ['billing'] });
    expect((await t.api.get('/api/reports/csat/comments?team=front-desk', other.token)).status).to.equal(403);
    const own = await t.api.get('/api/reports/csat/comments', other.token);
    expect(own.status).to.equal(200);
    expect(own.body.items.some((i: { conversationId: string }) => i.conversationId === conversationId)).to.equal(false);
    expect((await t.api.get('/api/reports/csat/comments')).status).to.equal(401);
  });
});
