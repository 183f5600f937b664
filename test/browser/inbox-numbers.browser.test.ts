/**
 * The admins' Numbers panel in a real browser against a real hub (sandbox
 * SMS): a number the carriers filter (the sandbox's 30007 recipient, its
 * signed callback) shows flagged with the hint, and Restore puts it back in
 * the pool. Accessible: a named dialog, a table with headers, labelled buttons.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { inboundSms, postTwilio } from '../support/fake-twilio.ts';
import { logIn, openInbox, seriousViolations } from '../support/inbox-page.ts';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../support/test-hub.ts';

const [N1, N2] = ['+15555550121', '+15555550122'] as const;

describe('agents’ inbox: the Numbers panel (admins), in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({
      label: 'inbox-numbers-browser',
      env: { TWILIO_FROM_NUMBERS: `${N1},${N2}`, NUMBER_HEALTH_MIN_SENT: '1', NUMBER_HEALTH_MAX_FILTERED_PER_1000: '100' },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t.close();
  });

  it('shows a filtered number flagged with what to do, and restores it', async () => {
    // The sandbox's +15555550172 is filtered by the carrier (30007): its texts from N1 come back undelivered.
    const params = inboundSms({ From: '+15555550172', To: N1, Body: 'is this the clinic?' });
    expect((await postTwilio(t, '/webhooks/twilio/sms', params)).status).to.equal(200);
    const { conversationId } = await t.hub.services.db.models.Message.findOne({ providerMessageId: params.MessageSid }).lean().orFail();
    const admin = await t.admin();
    expect((await t.api.post(`/api/conversations/${conversationId}/messages`, { body: 'Yes, it is.' }, admin.token)).status).to.equal(201);
    await waitFor(async () => (await t.api.get('/api/numbers/health', admin.token)).body.items.find((i: { number: string; flagged: unknown }) => i.number === N1 && i.flagged));

    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, ADMIN.email, ADMIN.password);
    // One more button in an admin's header: still nothing wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(1280);
    await page.getByRole('button', { name: 'Numbers', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Texting numbers' });
    const table = dialog.getByRole('table', { name: 'Numbers and their delivery' });
    const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: N1 }) });
    await row.getByText('Flagged: no new patients').waitFor();
    expect(await row.textContent()).to.match(/10DLC \(A2P\)/);
    expect(await table.getByRole('columnheader').allTextContents()).to.include.members(['Number', 'Standing', 'Delivery rate', 'Filtered (30007)']);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('inbox-numbers.png') });

    await row.getByRole('button', { name: `Restore ${N1} to the pool` }).click();
    await row.getByText('In the pool').waitFor();
    expect(await row.getByRole('button').count()).to.equal(0);
    expect((await t.api.get('/api/numbers/health', admin.token)).body.items.find((i: { number: string }) => i.number === N1)).to.include({ inPool: true, flagged: null });
    expect(errors).to.deep.equal([]);
  });
});
