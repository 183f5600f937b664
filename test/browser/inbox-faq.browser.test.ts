/**
 * The inbox's side of the self-service FAQ in a real browser (Debian
 * chromium) against a real hub: a supervisor keeps the team's common
 * questions in a dialog; an agent typing a reply is offered the matching
 * answers (asked for only after a pause, for 3 characters or more) and
 * inserts one without sending it; an automatic answer with a clinical word
 * is refused, the hub's message shown next to the field it names.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FaqEntry } from '../../client-inbox/src/types.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { logIn, noteBox, open, openInbox, replyBox, seriousViolations, smsArrives, timeline, type InboxTab } from '../support/inbox-page.ts';
import { startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

const ANSWER = 'Free parking is behind the building.';

const suggestionsRegion = (page: Page) => page.getByRole('region', { name: 'Suggested answers' });
const faqDialog = (page: Page) => page.getByRole('dialog', { name: 'Common questions' });
/** Past the inbox's 500 ms pause before it asks for suggestions (the page's clock: no real time passes). */
const DEBOUNCE_PASSED = 1000;

/**
 * The inbox, also recording every GET /api/faq/suggest the page makes, in order. With `clock`, the page's timers
 * run only when the test says: a check that nothing was asked does not depend on how busy the machine is.
 */
async function openInboxRecordingSuggest(browser: Browser, t: TestHub, contexts: BrowserContext[], clock = false): Promise<InboxTab & { suggestCalls: URLSearchParams[] }> {
  const suggestCalls: URLSearchParams[] = [];
  const tab = await openInbox(browser, t, contexts, {
    setup: async (page) => {
      if (clock) await page.clock.install();
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/faq/suggest') suggestCalls.push(url.searchParams);
      });
    },
  });
  return { ...tab, suggestCalls };
}

async function faqOf(t: TestHub, teamId: string): Promise<FaqEntry[]> {
  const admin = await t.admin();
  const res = await t.api.get(`/api/faq?teamId=${teamId}`, admin.token);
  expect(res.status).to.equal(200);
  return res.body.items as FaqEntry[];
}

describe('agents’ inbox: common questions (FAQ), in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  let alice: Session;
  let sam: Session;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({ label: 'inbox-faq-browser', env: { CLINIC_NAME: 'Riverside Family Clinic', TWILIO_FROM_NUMBER: '+15555550100', CONTACT_CARD_ON_FIRST_SMS: 'false' } });
    alice = await t.agent({ name: 'Alice Avery' });
    sam = await t.agent({ name: 'Sam Supervisor', role: 'supervisor' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lets a supervisor publish an answer that an agent is offered while typing a reply, and inserts it without sending it', async () => {
    // The supervisor adds the entry through the dialog.
    const s = await openInboxRecordingSuggest(browser, t, contexts);
    await logIn(s.page, sam.agent.email);
    await s.page.getByRole('button', { name: 'Common questions' }).click();
    const dialog = faqDialog(s.page);
    await dialog.waitFor();
    expect(await dialog.getByLabel('Team', { exact: true }).inputValue()).to.equal('front-desk');
    await dialog.getByText('No common questions for this team yet.').waitFor();
    await dialog.getByLabel('Language').selectOption('en');
    await dialog.getByLabel('Questions', { exact: true }).fill('where do I park\nis there parking nearby');
    await dialog.getByLabel('Answer', { exact: true }).fill(ANSWER);
    await dialog.getByLabel('Published', { exact: true }).check();
    await dialog.getByRole('button', { name: 'Add question' }).click();
    await dialog.getByRole('status').getByText('Added “where do I park” to Front desk').waitFor();
    const entry = dialog.getByRole('list', { name: 'Front desk’s common questions' }).getByRole('listitem').filter({ hasText: 'where do I park' });
    await entry.getByText('Published', { exact: true }).waitFor();
    await entry.getByText('Also asked as: is there parking nearby').waitFor();
    // The form is empty again, ready for the next one.
    expect(await dialog.getByLabel('Questions', { exact: true }).inputValue()).to.equal('');
    expect(await seriousViolations(s.page)).to.deep.equal([]);
    await s.page.screenshot({ path: artifactPath('faq-dialog.png') });
    const stored = await faqOf(t, 'front-desk');
    expect(stored).to.have.length(1);
    expect(stored[0]).to.deep.include({ teamId: 'front-desk', language: 'en', questions: ['where do I park', 'is there parking nearby'], answer: ANSWER, published: true, autoAnswer: false });
    expect(s.suggestCalls).to.deep.equal([]);
    expect(s.errors).to.deep.equal([]);

    // An agent: no dialog; the suggestion while typing a reply.
    await smsArrives(t, '+17205550501', 'Hello, I have a visit tomorrow morning');
    const a = await openInboxRecordingSuggest(browser, t, contexts, true);
    await logIn(a.page, alice.agent.email);
    expect(await a.page.getByRole('button', { name: 'Common questions' }).count()).to.equal(0);
    await open(a.page, 'Hello, I have a visit tomorrow morning');
    const conversationId = decodeURIComponent((await a.page.evaluate(() => location.hash)).replace('#/conversations/', ''));

    // Under 3 characters: the hub is not asked.
    await replyBox(a.page).click();
    await a.page.keyboard.type('wh');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    expect(await suggestionsRegion(a.page).count()).to.equal(0);

    // Typed on: asked once, after the agent stops typing. The only call is this one, so "wh" asked nothing
    // (a call for it would have been made, and recorded, first).
    await a.page.keyboard.type('ere can I park');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    const region = suggestionsRegion(a.page);
    const suggestion = region.getByRole('button').filter({ hasText: 'where do I park' });
    await suggestion.waitFor();
    expect(await region.getByRole('button').count()).to.equal(1);
    expect(await suggestion.innerText()).to.include(ANSWER);
    expect(a.suggestCalls).to.have.length(1);
    expect(Object.fromEntries(a.suggestCalls[0]!)).to.deep.equal({ q: 'where can I park', conversationId, limit: '3' });
    expect(await region.evaluate((el) => el.closest('[aria-live]')?.getAttribute('aria-live'))).to.equal('polite');
    expect(await seriousViolations(a.page)).to.deep.equal([]);
    await a.page.screenshot({ path: artifactPath('faq-suggestions.png') });

    // A click inserts the answer at the cursor; nothing is sent.
    await suggestion.click();
    await waitFor(async () => (await replyBox(a.page).inputValue()) === `where can I park ${ANSWER}`);
    await region.waitFor({ state: 'detached' });
    expect(await replyBox(a.page).evaluate((el) => el === document.activeElement)).to.equal(true);
    expect(await timeline(a.page).getByText(ANSWER).count()).to.equal(0);

    // With the keyboard: the whole draft selected, Tab to the suggestion, Enter replaces the selection with the answer.
    await replyBox(a.page).fill('');
    await replyBox(a.page).pressSequentially('is there parking');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    await suggestion.waitFor();
    await replyBox(a.page).press('Control+a');
    await a.page.keyboard.press('Tab');
    expect(await suggestion.evaluate((el) => el === document.activeElement)).to.equal(true);
    await a.page.keyboard.press('Enter');
    await waitFor(async () => (await replyBox(a.page).inputValue()) === ANSWER);
    await region.waitFor({ state: 'detached' });
    const callsBeforeSend = a.suggestCalls.length;

    // Sent by the agent: the suggestions stay hidden, the box is empty.
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await timeline(a.page).getByText(ANSWER).waitFor();
    // The box empties once the send is answered: wait for it, never read it at once.
    await waitFor(async () => (await replyBox(a.page).inputValue()) === '');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    expect(await suggestionsRegion(a.page).count()).to.equal(0);

    // Internal notes are never offered answers, nor is the hub asked.
    await a.page.getByRole('button', { name: 'Internal note' }).click();
    await noteBox(a.page).pressSequentially('where can I park for the staff meeting');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    expect(await suggestionsRegion(a.page).count()).to.equal(0);

    // The fence: back in the reply box, one question is asked and answered. Had sending or the note asked
    // anything, that call would have come first: the one new call is this one.
    await a.page.getByRole('button', { name: 'Reply', exact: true }).click();
    await replyBox(a.page).fill('');
    await replyBox(a.page).pressSequentially('where do I park my car');
    await a.page.clock.runFor(DEBOUNCE_PASSED);
    await suggestion.waitFor();
    expect(a.suggestCalls.slice(callsBeforeSend).map((q) => q.get('q'))).to.deep.equal(['where do I park my car']);
    expect(a.errors).to.deep.equal([]);
  });

  it('refuses an automatic answer with a clinical word, showing the hub’s message next to the question; edits and deletes with confirmation', async () => {
    const { page, errors } = await openInboxRecordingSuggest(browser, t, contexts);
    await logIn(page, sam.agent.email);
    await page.getByRole('button', { name: 'Common questions' }).click();
    const dialog = faqDialog(page);
    await dialog.getByRole('list', { name: 'Front desk’s common questions' }).getByText('where do I park').waitFor();
    const before = await faqOf(t, 'front-desk');

    const questions = dialog.getByLabel('Questions', { exact: true });
    await questions.fill('Do you have wheelchair access?\n\nWhere can I get my medication?');
    await dialog.getByLabel('Answer', { exact: true }).fill('Yes: every entrance has a ramp, and the pharmacy is on the ground floor.');
    await dialog.getByLabel('Published', { exact: true }).check();
    const auto = dialog.getByLabel('Answer automatically after hours');
    await auto.check();
    // The hint says clinical questions are never answered automatically.
    expect(await auto.evaluate((el) => el.getAttribute('aria-describedby'))).to.equal('faq-auto-answer-hint');
    expect(await dialog.locator('#faq-auto-answer-hint').innerText()).to.include('never answered automatically');
    await dialog.getByRole('button', { name: 'Add question' }).click();
    // questions.1 on the hub: the question on line 3 here (blank lines are skipped).
    const refusal = dialog.locator('#faq-questions-error');
    await refusal.waitFor();
    expect(await refusal.getAttribute('role')).to.equal('alert');
    expect(await refusal.innerText()).to.match(/^Line 3: contains "medication", a clinical word: an automatic answer never touches clinical questions/);
    // Right after the questions field, which points at it and has the focus.
    expect(await questions.getAttribute('aria-invalid')).to.equal('true');
    expect(await questions.getAttribute('aria-describedby')).to.include('faq-questions-error');
    expect(await questions.evaluate((el) => el === document.activeElement)).to.equal(true);
    expect(await questions.evaluate((el) => el.parentElement!.contains(document.getElementById('faq-questions-error')))).to.equal(true);
    expect(await seriousViolations(page)).to.deep.equal([]);
    expect(await faqOf(t, 'front-desk')).to.have.length(before.length);

    // Without the automatic answer, agents may be offered it.
    await auto.uncheck();
    await dialog.getByRole('button', { name: 'Add question' }).click();
    await dialog.getByRole('status').getByText('Added “Do you have wheelchair access?” to Front desk').waitFor();
    expect(await refusal.count()).to.equal(0);
    expect(await questions.getAttribute('aria-invalid')).to.equal(null);
    const added = (await faqOf(t, 'front-desk')).find((e) => e.questions[0] === 'Do you have wheelchair access?');
    expect(added).to.deep.include({ questions: ['Do you have wheelchair access?', 'Where can I get my medication?'], published: true, autoAnswer: false });

    // Editing: turning the automatic answer on is refused the same way; another change is saved.
    const item = dialog.getByRole('listitem').filter({ hasText: 'Do you have wheelchair access?' });
    await item.getByRole('button', { name: 'Edit “Do you have wheelchair access?”' }).click();
    await dialog.getByRole('heading', { name: 'Edit a common question' }).waitFor();
    expect(await questions.inputValue()).to.equal('Do you have wheelchair access?\nWhere can I get my medication?');
    await auto.check();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await refusal.waitFor();
    expect(await refusal.innerText()).to.match(/^Line 2: contains "medication"/);
    await auto.uncheck();
    await dialog.getByLabel('Answer', { exact: true }).fill('Yes: every entrance has a ramp.');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('status').getByText('Saved “Do you have wheelchair access?”').waitFor();
    await item.getByText('Yes: every entrance has a ramp.', { exact: true }).waitFor();
    expect((await faqOf(t, 'front-desk')).find((e) => e.id === added!.id)).to.deep.include({ answer: 'Yes: every entrance has a ramp.', autoAnswer: false });

    // Deleting asks first; Cancel keeps it.
    await item.getByRole('button', { name: 'Delete “Do you have wheelchair access?”' }).click();
    const confirm = item.getByRole('group', { name: /^Delete “Do you have wheelchair access\?”\?/ });
    await confirm.waitFor();
    expect(await confirm.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement)).to.equal(true);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await faqOf(t, 'front-desk')).some((e) => e.id === added!.id)).to.equal(true);
    await item.getByRole('button', { name: 'Delete “Do you have wheelchair access?”' }).click();
    await confirm.getByRole('button', { name: 'Yes, delete' }).click();
    await dialog.getByRole('status').getByText('Deleted “Do you have wheelchair access?”').waitFor();
    await item.waitFor({ state: 'detached' });
    expect((await faqOf(t, 'front-desk')).some((e) => e.id === added!.id)).to.equal(false);
    // The two refusals, as the browser logs any 400 answer; nothing else.
    expect(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e))).to.deep.equal([]);
  });
});
