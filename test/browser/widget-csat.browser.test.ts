/**
 * The chat's satisfaction survey in a real browser: after the clinic resolves
 * the chat, five star buttons appear in the widget, usable with the keyboard
 * alone and named for screen readers, with no serious axe violations.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { hostPage, launchBrowser, startHostSite } from '../support/browser.ts';
import { AXE_SOURCE } from '../support/inbox-page.ts';
import { waitFor, type TestHub } from '../support/test-hub.ts';
import { CLINIC, conversationOf, launcher, messageBox, openHostPage, send } from '../support/widget-page.ts';
import { answerAndResolve, startCsatHub, survey } from '../integration/csat/csat-support.ts';

describe('web chat widget: the satisfaction stars in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const pages: Record<string, string> = {};
  let site: Awaited<ReturnType<typeof startHostSite>>;
  const contexts: BrowserContext[] = [];

  before(async () => {
    site = await startHostSite(pages);
    t = await startCsatHub('widget-csat-browser', { CLINIC_NAME: CLINIC, WIDGET_ALLOWED_ORIGINS: site.origin });
    pages['/'] = hostPage(t.url);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await site?.close();
  });

  it('shows named star buttons after the resolve, answered with the keyboard alone, with no serious axe violations', async () => {
    const { page, errors } = await openHostPage(browser, contexts, `${site.origin}/`);
    await launcher(page).click();
    await page.getByLabel('Name', { exact: true }).fill('Stella Stars');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await messageBox(page).waitFor();
    await send(page, 'Is parking free?');
    const conversationId = await conversationOf(t, 'Is parking free?');
    await answerAndResolve(t, conversationId);

    const stars = page.getByRole('group', { name: 'How did we do?' });
    await stars.waitFor();
    for (let n = 1; n <= 5; n++) expect(await page.getByRole('button', { name: new RegExp(`^${n} of 5 stars`) }).count()).to.equal(1);
    expect(await page.getByRole('button', { name: '5 of 5 stars: great' }).getAttribute('aria-pressed')).to.equal('false');

    await page.addScriptTag({ content: AXE_SOURCE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
      return axe.run({ include: [['carethread-widget']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    });
    expect(violations.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`)).to.deep.equal([]);

    // Keyboard only: focus the third star, arrow right once, then Tab to the comment and on to "Send rating".
    await page.getByRole('button', { name: /^3 of 5 stars/ }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('button', { name: '4 of 5 stars: good' }).getAttribute('aria-pressed')).to.equal('true');
    expect(await page.getByRole('button', { name: /^3 of 5 stars/ }).getAttribute('aria-pressed')).to.equal('false');
    for (let i = 0; i < 2; i++) await page.keyboard.press('Tab');
    await page.keyboard.type('Quick answer');
    expect(await page.getByLabel('Comment (optional)').inputValue()).to.equal('Quick answer');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Thank you for your feedback.').waitFor();

    const answered = await waitFor(async () => {
      const doc = await survey(t, conversationId);
      return doc?.status === 'answered' ? doc : null;
    });
    expect(answered).to.include({ score: 4, hasComment: true, answerChannel: 'webchat' });
    expect(errors).to.deep.equal([]);
  });
});
