/**
 * The inbox's side of routing in a real browser (Debian chromium) against a
 * real hub: an emergency text pinned under "Urgent" with its badge and a
 * supervisor's live alert banner; the agent's status in the top bar (and the
 * automatic Away after 5 idle minutes); an admin's team hours and routing.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ConversationRecord } from '../../client-inbox/src/types.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { listItem, logIn, openInbox, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { ADMIN, startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

const urgentList = (page: Page) => page.getByRole('list', { name: /^Urgent/ });
const item = (page: Page, conversationId: string) => page.locator(`[data-conversation-id="${conversationId}"]`);
const statusSelect = (page: Page) => page.getByRole('banner').getByLabel('Status', { exact: true });

async function statusOf(t: TestHub, agentId: string): Promise<string | undefined> {
  const admin = await t.admin();
  const res = await t.api.get('/api/agents', admin.token);
  expect(res.status).to.equal(200);
  return (res.body.items as { id: string; status?: string }[]).find((a) => a.id === agentId)?.status;
}

describe('agents’ inbox: routing, in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  let alice: Session;
  let sam: Session;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({ label: 'inbox-routing-browser', env: { CLINIC_NAME: 'Riverside Family Clinic', TWILIO_FROM_NUMBER: '+15555550100', CONTACT_CARD_ON_FIRST_SMS: 'false' } });
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

  it('pins an emergency text under "Urgent" with its badge, once; a supervisor gets the alert banner live and opens the conversation from it', async () => {
    const a = await openInbox(browser, t, contexts);
    const s = await openInbox(browser, t, contexts);
    await logIn(a.page, alice.agent.email);
    await logIn(s.page, sam.agent.email);
    // An ordinary text first: it stays in the list below, unpinned.
    await smsArrives(t, '+17205550400', 'Can I move my appointment to Friday?');
    await listItem(a.page, 'Can I move my appointment to Friday?').waitFor();

    const body = "I have chest pain and can't breathe";
    await smsArrives(t, '+17205550401', body);
    const admin = await t.admin();
    const conversation = await waitFor(async () => {
      const res = await t.api.get('/api/conversations?priority=urgent&status=open,pending', admin.token);
      return (res.body.items as ConversationRecord[] | undefined)?.find((c) => c.triage && c.waitingSince);
    });
    expect(conversation.priority).to.equal('urgent');
    expect(conversation.triage?.label).to.equal('Possible medical emergency');

    // The agent: pinned in the Urgent section (inside the list), with the label and "Urgent", and nowhere else.
    const pinned = urgentList(a.page).locator(`[data-conversation-id="${conversation.id}"]`);
    await pinned.waitFor();
    await pinned.getByText('Possible medical emergency').waitFor();
    expect(await pinned.getByText('Urgent', { exact: true }).count()).to.equal(1);
    expect(await item(a.page, conversation.id).count()).to.equal(1);
    expect(await listItem(a.page, 'Can I move my appointment to Friday?').count()).to.equal(1);
    expect(await urgentList(a.page).getByRole('button').filter({ hasText: 'Can I move my appointment to Friday?' }).count()).to.equal(0);
    // Unassigned: it shows how long it has waited. (The hub starts the wait without a live event of its
    // own, so the live copy may not know it yet: what a fresh load shows is asserted.)
    await a.page.reload();
    await a.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await pinned.getByText(/waiting (<1|\d+) min/).waitFor();
    // The badge stands out: red.
    const badgeColor = await pinned.getByTestId('triage-badge').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(badgeColor).to.equal('rgb(166, 27, 27)');

    // The supervisor: the alert banner arrived live (no reload), and opens the conversation.
    const banner = s.page.getByRole('alert').filter({ hasText: 'Urgent: Possible medical emergency' });
    await banner.waitFor();
    await s.page.getByRole('list', { name: /^Urgent/ }).locator(`[data-conversation-id="${conversation.id}"]`).waitFor();
    await s.page.screenshot({ path: artifactPath('routing-urgent.png') });
    expect(await seriousViolations(s.page)).to.deep.equal([]);
    await banner.getByRole('button', { name: 'Open', exact: true }).click();
    await timeline(s.page).getByText(body).waitFor();
    expect(await s.page.evaluate(() => location.hash)).to.equal(`#/conversations/${encodeURIComponent(conversation.id)}`);
    await s.page.locator('.conv-meta').getByText('Possible medical emergency').waitFor();
    // The hub's safety reply to the patient, labelled as such.
    await timeline(s.page).getByText('sent automatically: safety instructions for a possible emergency').waitFor();
    // It stays until dismissed.
    await banner.getByRole('button', { name: /^Dismiss/ }).click();
    await banner.waitFor({ state: 'detached' });

    // Assigned, it is no longer waiting; resolved, it leaves the Urgent section.
    const assigned = await t.api.post(`/api/conversations/${conversation.id}/assign`, { assigneeId: alice.agent.id }, admin.token);
    expect(assigned.status).to.equal(200);
    await waitFor(async () => (await pinned.innerText()).includes('Alice Avery') && !(await pinned.innerText()).includes('waiting'));
    expect((await t.api.post(`/api/conversations/${conversation.id}/resolve`, undefined, admin.token)).status).to.equal(200);
    await urgentList(a.page).waitFor({ state: 'detached' });
    expect(a.errors).to.deep.equal([]);
    expect(s.errors).to.deep.equal([]);
  });

  it('tells a supervisor, less loudly, when a conversation has waited too long for an agent', async () => {
    const admin = await t.admin();
    // Only the new conversation waits.
    const waiting = await t.api.get('/api/conversations?assignee=unassigned&status=open,pending&limit=100', admin.token);
    for (const c of waiting.body.items as ConversationRecord[]) {
      expect((await t.api.post(`/api/conversations/${c.id}/assign`, { assigneeId: alice.agent.id }, admin.token)).status).to.equal(200);
    }
    const s = await openInbox(browser, t, contexts);
    await logIn(s.page, sam.agent.email);
    await smsArrives(t, '+17205550402', 'Do you take walk-ins on Saturday?');
    await listItem(s.page, 'Do you take walk-ins on Saturday?').waitFor();

    t.clock.advance(12 * 60_000);
    await t.hub.routing.sweep();
    const banner = s.page.getByRole('status').filter({ hasText: /A conversation has waited 1\d minutes for an agent/ });
    await banner.waitFor();
    // Not an emergency: no alert role, no "Urgent".
    expect(await s.page.getByRole('alert').count()).to.equal(0);
    expect(await banner.innerText()).not.to.include('Urgent');
    await banner.getByRole('button', { name: 'Open', exact: true }).click();
    await timeline(s.page).getByText('Do you take walk-ins on Saturday?').waitFor();
    await banner.getByRole('button', { name: /^Dismiss/ }).click();
    await banner.waitFor({ state: 'detached' });
    expect(s.errors).to.deep.equal([]);
  });

  it('sets the agent’s status from the top bar: Away is what GET /api/agents says', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    const select = statusSelect(page);
    await waitFor(async () => (await select.inputValue()) === (await statusOf(t, alice.agent.id)));
    await select.selectOption('online');
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'online');
    await select.selectOption('away');
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'away');
    expect(await select.inputValue()).to.equal('away');
    // After a reload, the select shows what the hub has.
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await waitFor(async () => (await statusSelect(page).inputValue()) === 'away');
    expect(errors).to.deep.equal([]);
  });

  it('goes Away by itself after 5 idle minutes, and back Online at the next click (only because it went Away by itself)', async () => {
    // The page's own clock, so five minutes pass at once (the hub's clock is not touched: no automatic logoff).
    const { page, errors } = await openInbox(browser, t, contexts, { setup: (p) => p.clock.install() });
    await logIn(page, alice.agent.email);
    const select = statusSelect(page);
    await waitFor(async () => (await select.inputValue()) !== '');
    await select.selectOption('online');
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'online');

    await page.clock.fastForward('05:31');
    await page.clock.fastForward('00:31');
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'away');
    await waitFor(async () => (await select.inputValue()) === 'away');
    await page.getByRole('heading', { name: 'No conversation open' }).click();
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'online');
    await waitFor(async () => (await select.inputValue()) === 'online');

    // Chosen by the agent, Away stays Away on activity.
    await select.selectOption('away');
    await waitFor(async () => (await statusOf(t, alice.agent.id)) === 'away');
    await page.getByRole('heading', { name: 'No conversation open' }).click();
    await page.keyboard.press('Shift');
    await page.clock.fastForward('00:31');
    expect(await statusOf(t, alice.agent.id)).to.equal('away');
    expect(await select.inputValue()).to.equal('away');
    expect(errors.filter((e) => !/WebSocket|socket/i.test(e))).to.deep.equal([]);
  });

  it('lets an admin set a team’s hours and routing in Team settings; a refused value shows the hub’s message by its field', async () => {
    const agentTab = await openInbox(browser, t, contexts);
    await logIn(agentTab.page, alice.agent.email);
    expect(await agentTab.page.getByRole('button', { name: 'Team settings' }).count()).to.equal(0);

    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, ADMIN.email, ADMIN.password);
    await page.getByRole('button', { name: 'Team settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Team settings' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Team', { exact: true }).inputValue()).to.equal('front-desk');
    await dialog.getByRole('button', { name: 'Add hours' }).waitFor();
    await waitFor(async () => (await dialog.getByLabel('Time zone').inputValue()) !== '');

    // Start from no rows, whatever the clinic default was.
    const removeHours = dialog.getByRole('button', { name: /^Remove hours/ });
    while ((await removeHours.count()) > 0) await removeHours.first().click();
    await dialog.getByLabel('Time zone').fill('America/Chicago');
    await dialog.getByRole('button', { name: 'Add hours' }).click();
    const first = dialog.getByRole('group', { name: 'Hours 1', exact: true });
    await first.getByLabel('Day', { exact: true }).selectOption('mon');
    await first.getByLabel('From', { exact: true }).fill('08:00');
    await first.getByLabel('To', { exact: true }).fill('18:00');
    await dialog.getByRole('button', { name: 'Add hours' }).click();
    const second = dialog.getByRole('group', { name: 'Hours 2', exact: true });
    expect(await second.getByLabel('Day', { exact: true }).inputValue()).to.equal('tue');
    await second.getByLabel('From', { exact: true }).fill('09:00');
    await second.getByLabel('To', { exact: true }).fill('12:30');
    await dialog.getByRole('button', { name: 'Add holiday' }).click();
    const holiday = dialog.getByRole('group', { name: 'Holiday 1', exact: true });
    await holiday.getByLabel('Date', { exact: true }).fill('2026-12-25');
    await holiday.getByLabel('Name', { exact: true }).fill('Christmas Day');
    await dialog.getByRole('button', { name: 'Save hours' }).click();
    await dialog.getByRole('status').getByText('Hours saved for Front desk').waitFor();
    await page.screenshot({ path: artifactPath('routing-team-settings.png') });

    const admin = await t.admin();
    const hours = await t.api.get('/api/teams/front-desk/hours', admin.token);
    expect(hours.status).to.equal(200);
    expect(hours.body.own).to.equal(true);
    expect(hours.body.hours).to.deep.include({
      timeZone: 'America/Chicago',
      weekly: [
        { day: 'mon', from: '08:00', to: '18:00' },
        { day: 'tue', from: '09:00', to: '12:30' },
      ],
      holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
    });

    // From after to: the hub refuses it, and says why next to "To" of that row.
    await second.getByLabel('From', { exact: true }).fill('17:00');
    await second.getByLabel('To', { exact: true }).fill('09:00');
    await dialog.getByRole('button', { name: 'Save hours' }).click();
    const refusal = second.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).to.match(/^To: must be later than from/);
    expect(await second.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).to.equal('true');
    expect(await second.getByLabel('To', { exact: true }).evaluate((el) => el === document.activeElement)).to.equal(true);
    expect(await seriousViolations(page)).to.deep.equal([]);
    const unchanged = await t.api.get('/api/teams/front-desk/hours', admin.token);
    expect(unchanged.body.hours.weekly[1]).to.deep.equal({ day: 'tue', from: '09:00', to: '12:30' });

    // Routing.
    await dialog.getByLabel('Assignment').selectOption('round_robin');
    await dialog.getByLabel('Max open conversations per agent').fill('0');
    await dialog.getByLabel('Minutes before escalation').fill('15');
    await dialog.getByRole('button', { name: 'Save routing' }).click();
    const capacityError = dialog.getByRole('alert').filter({ hasText: 'must be a whole number from 1 to 100' });
    await capacityError.waitFor();
    expect(await dialog.getByLabel('Max open conversations per agent').getAttribute('aria-invalid')).to.equal('true');
    await dialog.getByLabel('Max open conversations per agent').fill('3');
    await dialog.getByRole('button', { name: 'Save routing' }).click();
    await dialog.getByRole('status').getByText('Routing saved for Front desk').waitFor();
    expect(await capacityError.count()).to.equal(0);
    const routing = await t.api.get('/api/teams/front-desk/routing', admin.token);
    expect(routing.status).to.equal(200);
    expect(routing.body).to.deep.include({ mode: 'round_robin', maxOpenPerAgent: 3, escalateAfterMinutes: 15 });

    // Opened again, the dialog shows what the hub has.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Team settings' }).click();
    await waitFor(async () => (await dialog.getByLabel('Time zone').inputValue()) === 'America/Chicago');
    expect(await dialog.getByRole('group', { name: 'Hours 2', exact: true }).getByLabel('To', { exact: true }).inputValue()).to.equal('12:30');
    expect(await dialog.getByLabel('Assignment').inputValue()).to.equal('round_robin');
    // The two refusals, as the browser logs any 400 answer; nothing else.
    expect(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e))).to.deep.equal([]);
  });
});
