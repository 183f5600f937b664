/**
 * The channel fallback's chain as an agent sees it, in a real browser against
 * a real hub (DELIVERY_FALLBACK=sms,email, sandbox): a reply texted to a
 * landline (the sandbox's 30006 recipient, its signed callback) is sent again
 * by email; the SMS says so and leads to the email, the email leads back, and
 * the timeline's event names the chain. Keyboard: each link moves the focus
 * to the message it names.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { attachIdentity } from '../../server/timeline/ingest/resolve-identity.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { logIn, open, openInbox, replyBox, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../support/test-hub.ts';

const LANDLINE = '+15555550173';

describe('agents’ inbox: a channel fallback’s chain, in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({ label: 'inbox-fallback-browser', env: { DELIVERY_FALLBACK: 'sms,email' } });
    browser = await launchBrowser();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t.close();
  });

  it('shows the undelivered SMS and the email sent instead, linked both ways, with the chain in the timeline', async () => {
    await smsArrives(t, LANDLINE, 'Can you move my appointment?');
    const { patientId } = await t.hub.services.db.models.Message.findOne({ direction: 'inbound', channel: 'sms' }).lean().orFail();
    // The patient's email, verified by staff and consented: the fallback may use it.
    await attachIdentity(t.hub.services.timeline, patientId, { kind: 'email', value: 'lena.landline@example.org' }, { evidence: 'agent_promotion' });
    await t.hub.services.db.models.Patient.updateOne({ _id: patientId }, { $set: { 'consent.email': { status: 'opted_in', at: new Date(), source: 'test' } } });

    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, ADMIN.email, ADMIN.password);
    await open(page, 'Can you move my appointment?');
    await replyBox(page).fill('Moved to Thursday at 3 pm.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    const items = timeline(page).getByRole('listitem');
    const sms = items.filter({ hasText: 'Moved to Thursday at 3 pm.' }).filter({ has: page.getByTestId('fallback-next') });
    const email = items.filter({ hasText: 'Moved to Thursday at 3 pm.' }).filter({ has: page.getByTestId('fallback-of') });
    await email.waitFor();
    expect(await sms.getByTestId('delivery').textContent()).to.match(/landline/i);
    expect((await sms.getByTestId('fallback-next').textContent())!.trim()).to.equal('Sent again by Email ↓');
    expect((await email.getByTestId('fallback-of').textContent())!.trim()).to.equal('Instead of the SMS message ↑');
    expect(await email.textContent()).to.include("the clinic's fallback channel");
    await timeline(page).getByText(/^SMS undelivered \(.*\) → sent by Email$/).waitFor();

    // Each link takes the keyboard to the message it names.
    await email.getByRole('button', { name: 'Instead of the SMS message' }).press('Enter');
    await waitFor(async () => (await sms.evaluate((el) => el === document.activeElement)) || null);
    await sms.getByRole('button', { name: 'Sent again by Email' }).press('Enter');
    await waitFor(async () => (await email.evaluate((el) => el === document.activeElement)) || null);

    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('inbox-fallback.png') });
    expect(errors).to.deep.equal([]);
  });
});
