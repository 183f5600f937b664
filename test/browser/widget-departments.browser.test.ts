/**
 * Departments in the patient's widget, in a real browser (Debian chromium),
 * embedded on a clinic site of another origin: the teams an admin offers as
 * departments are the pre-chat form's "What is it about?" choices, and the
 * chat the patient starts goes to the team they picked.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { artifactPath, hostPage, launchBrowser, startHostSite } from '../support/browser.ts';
import { startTestHub, waitFor, type TestHub } from '../support/test-hub.ts';
import { CLINIC, conversationOf, launcher, messageBox, openHostPage, send } from '../support/widget-page.ts';

const DEPARTMENTS = [
  { id: 'billing', name: 'Billing', label: 'Bills and insurance' },
  { id: 'pharmacy-desk', name: 'Pharmacy desk', label: 'Prescriptions' },
];

describe('web chat widget: departments, in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const pages: Record<string, string> = {};
  let site: Awaited<ReturnType<typeof startHostSite>>;
  const contexts: BrowserContext[] = [];

  before(async () => {
    site = await startHostSite(pages);
    t = await startTestHub({ label: 'widget-departments-browser', env: { CLINIC_NAME: CLINIC, WIDGET_ALLOWED_ORIGINS: site.origin } });
    pages['/'] = hostPage(t.url);
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await site?.close();
  });

  const openPage = (path = '/') => openHostPage(browser, contexts, `${site.origin}${path}`);

  it('offers the teams an admin made departments in the pre-chat form, and the chat goes to the team the patient picks', async () => {
    const admin = await t.admin();
    for (const d of DEPARTMENTS) {
      const created = await t.api.post('/api/teams', { id: d.id, name: d.name }, admin.token);
      expect(created.status).to.equal(201);
      const offered = await t.api.put(`/api/teams/${d.id}/department`, { offered: true, label: d.label, smsKey: null }, admin.token);
      expect(offered.status).to.equal(200);
      expect(offered.body).to.deep.equal({ department: { label: d.label, smsKey: null } });
    }

    const { page, errors } = await openPage();
    await launcher(page).click();
    await page.getByLabel('Name', { exact: true }).waitFor();
    const department = page.getByLabel('What is it about?', { exact: true });
    await department.waitFor();
    const choices = await department.locator('option').allInnerTexts();
    expect(choices.map((c) => c.trim())).to.deep.equal(['Something else', 'Bills and insurance', 'Prescriptions']);
    // No choice made yet: "Something else".
    expect(await department.inputValue()).to.equal('');

    await page.getByLabel('Name', { exact: true }).fill('Dana Department');
    await department.selectOption({ label: 'Prescriptions' });
    expect(await department.inputValue()).to.equal('pharmacy-desk');
    await page.screenshot({ path: artifactPath('widget-departments.png') });
    await page.getByRole('button', { name: 'Start chat' }).click();
    await messageBox(page).waitFor();

    const text = 'Is my refill ready for pickup?';
    await send(page, text);
    await page.getByRole('log').getByText(text).waitFor();
    const conversationId = await conversationOf(t, text);
    // The hub routes the first message (just after storing it): its team is the one picked.
    const conversation = await waitFor(async () => {
      const res = await t.api.get(`/api/conversations/${conversationId}`, admin.token);
      expect(res.status).to.equal(200);
      return res.body.teamId === 'pharmacy-desk' ? res.body : null;
    });
    expect(conversation.teamId).to.equal('pharmacy-desk');
    expect(errors).to.deep.equal([]);
  });

  it('leaves a chat with no department picked ("Something else") with the clinic’s default team', async () => {
    const { page, errors } = await openPage();
    await launcher(page).click();
    await page.getByLabel('Name', { exact: true }).fill('Sam Something');
    expect(await page.getByLabel('What is it about?', { exact: true }).inputValue()).to.equal('');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await messageBox(page).waitFor();
    const text = 'A general question about my visit';
    await send(page, text);
    await page.getByRole('log').getByText(text).waitFor();
    const admin = await t.admin();
    const conversation = await t.api.get(`/api/conversations/${await conversationOf(t, text)}`, admin.token);
    expect(conversation.status).to.equal(200);
    expect(conversation.body.teamId).to.equal(t.hub.services.timeline.settings.defaultTeamId);
    expect(DEPARTMENTS.map((d) => d.id)).not.to.include(conversation.body.teamId);
    expect(errors).to.deep.equal([]);
  });
});
