/**
 * Scheduled messages from the patient panel (issue #22), in a real browser
 * (Debian chromium) against a real hub whose clock the test moves: an agent
 * schedules the built-in appointment reminder with the appointment's time and
 * place (typed as the patient's New York clock reads them, across the DST
 * change of March 14), sees the exact text and its SMS segments before
 * sending, and sees it listed with the patient's local time; a missing
 * variable comes back from the hub next to its field; one is withdrawn. Then
 * the reminder goes out, a late "Withdraw" gets the hub's 409, the patient
 * texts "C", and the panel says Confirmed while the thread shows the event.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ConversationRecord } from '../../client-inbox/src/types.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { logIn, open, openInbox, outboxSms, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { startTestHub, TestClock, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

/** Wednesday 2027-03-10 15:00 UTC: 10:00 in New York (EST, before the DST change of Sunday the 14th). */
const WEDNESDAY = new Date('2027-03-10T15:00:00Z');
const PHONE = '+14155550301';
const FIRST_TEXT = 'Hello, is my appointment next week?';
const LOCATION = 'Riverside Clinic, Suite 4';
/** Monday 2027-03-15 09:30 in New York is EDT (-04:00): 13:30 UTC. */
const REMINDER_TEXT =
  'Hi Maria, this is Riverside Clinic: a reminder of your appointment on Monday, March 15 at 9:30 AM (Riverside Clinic, Suite 4). Reply C to confirm, X to cancel or R to reschedule.';

const panel = (page: Page) => page.getByRole('complementary', { name: 'Patient details' });
const section = (page: Page) => panel(page).getByRole('region', { name: 'Scheduled messages' });
const form = (page: Page) => section(page).getByRole('form', { name: 'Schedule a message' });
const items = (page: Page) => section(page).getByTestId('scheduled-message');
const itemWith = (page: Page, text: string | RegExp) => items(page).filter({ hasText: text });

/** Console errors the browser logs for the hub's refusals the test provokes (and nothing else). */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of (400|409) \((Bad Request|Conflict)\)/.test(e));

async function fillForm(f: Locator, values: { appointment: string; location?: string; sendAt: string }) {
  await f.getByLabel('Appointment date and time').fill(values.appointment);
  await f.getByLabel('Location').fill(values.location ?? '');
  await f.getByLabel('Send at').fill(values.sendAt);
}

describe('agents’ inbox: scheduled messages in the patient panel, in a real browser', function () {
  this.timeout(120_000);
  let t: TestHub;
  let browser: Browser;
  let alice: Session;
  let patientId: string;
  let page: Page;
  let errors: string[];
  const contexts: BrowserContext[] = [];

  before(async () => {
    const clock = new TestClock();
    clock.setTo(WEDNESDAY);
    t = await startTestHub({ label: 'inbox-outreach-browser', clock, env: { CLINIC_NAME: 'Riverside Clinic', TWILIO_FROM_NUMBER: '+15555550100' } });
    alice = await t.agent({ name: 'Alice Avery' });
    browser = await launchBrowser();

    // Maria texted the clinic (her number is proven, texts consented); the front desk has her name and time zone.
    await smsArrives(t, PHONE, FIRST_TEXT);
    const admin = await t.admin();
    const conversation = await waitFor(async () => {
      const res = await t.api.get('/api/conversations?status=open,pending&limit=100', admin.token);
      return (res.body.items as ConversationRecord[]).find((c) => c.preview.body === FIRST_TEXT);
    });
    patientId = conversation.patientId;
    expect((await t.api.patch(`/api/patients/${patientId}`, { name: 'Maria Lopez' }, admin.token)).status).to.equal(200);
    expect((await t.api.patch(`/api/patients/${patientId}/preferences`, { timezone: 'America/New_York' }, admin.token)).status).to.equal(200);
  });
  after(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await browser?.close();
    await t?.close();
  });

  const records = async () => {
    const res = await t.api.get(`/api/patients/${patientId}/scheduled-messages`, (await t.admin()).token);
    expect(res.status).to.equal(200);
    return res.body.items as { id: string; status: string; sendAt: string; body: string; template: string | null }[];
  };

  it('schedules the appointment reminder with a live preview, shows a missing variable by its field, and withdraws one', async () => {
    ({ page, errors } = await openInbox(browser, t, contexts));
    await logIn(page, alice.agent.email);
    await open(page, FIRST_TEXT);
    await section(page).getByText('None scheduled.').waitFor();

    await section(page).getByRole('button', { name: 'Schedule a message…' }).click();
    const f = form(page);
    await f.waitFor();
    // The built-in reminder is offered first; its fields follow the template (a date-time and a location).
    await waitFor(async () => (await f.getByLabel('Message', { exact: true }).inputValue()) === 'appointment_reminder');
    await f.getByText('Times are in the patient’s time zone, America/New_York.').waitFor();
    expect(await f.getByLabel('Provider').count(), 'the template has no {{provider}}').to.equal(0);

    // Monday the 15th is after the DST change: 9:30 there is 13:30 UTC (not 14:30, as EST would make it).
    await fillForm(f, { appointment: '2027-03-15T09:30', location: LOCATION, sendAt: '2027-03-10T10:05' });
    await f.getByText('Mon, Mar 15, 2027, 9:30 AM EDT').waitFor();
    await f.getByText('Wed, Mar 10, 2027, 10:05 AM EST').waitFor();

    // The preview is the hub's: the exact text, and how carriers will count it.
    const preview = f.getByRole('group', { name: 'Preview' });
    await preview.getByText(REMINDER_TEXT, { exact: true }).waitFor();
    await preview.getByText('2 SMS segments (GSM-7) · 178 characters', { exact: true }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('outreach-schedule-form.png') });

    await f.getByRole('button', { name: 'Schedule message' }).click();
    await f.waitFor({ state: 'hidden' });
    const first = itemWith(page, REMINDER_TEXT);
    await first.getByText('Scheduled', { exact: true }).waitFor();
    expect(await first.getByRole('time').first().innerText()).to.equal('Sends Wed, Mar 10, 2027, 10:05 AM EST');
    await first.getByText('(America/New_York)').waitFor();
    await section(page).getByRole('status').getByText('Reminder scheduled for Wed, Mar 10, 2027, 10:05 AM EST').waitFor();
    const [stored] = await records();
    expect(stored).to.include({ status: 'scheduled', sendAt: '2027-03-10T15:05:00.000Z', template: 'appointment_reminder', body: REMINDER_TEXT });

    // Without the location: the hub's refusal, next to the Location field (and announced).
    await section(page).getByRole('button', { name: 'Schedule a message…' }).click();
    await f.waitFor();
    await waitFor(async () => (await f.getByLabel('Message', { exact: true }).inputValue()) === 'appointment_reminder');
    await fillForm(f, { appointment: '2027-03-16T14:00', sendAt: '2027-03-12T09:00' });
    await f.getByRole('group', { name: 'Preview' }).getByText(/Not ready: the template uses \{\{location\}\}/).waitFor();
    await f.getByRole('button', { name: 'Schedule message' }).click();
    const refusal = f.locator('#sm-location-error');
    await refusal.waitFor();
    expect(await refusal.getAttribute('role')).to.equal('alert');
    expect(await refusal.innerText()).to.equal('the template uses {{location}}; give it');
    expect(await f.getByLabel('Location').getAttribute('aria-invalid')).to.equal('true');
    expect(await f.getByLabel('Location').getAttribute('aria-describedby')).to.include('sm-location-error');
    await waitFor(async () => f.getByLabel('Location').evaluate((el) => el === document.activeElement));
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('outreach-missing-variable.png') });
    expect(await records()).to.have.length(1);

    await f.getByLabel('Location').fill('Riverside Clinic, Suite 7');
    expect(await f.locator('#sm-location-error').count(), 'the error goes once the field changes').to.equal(0);
    await f.getByRole('button', { name: 'Schedule message' }).click();
    await f.waitFor({ state: 'hidden' });
    const second = itemWith(page, 'Suite 7');
    await second.getByText('Scheduled', { exact: true }).waitFor();
    expect(await second.getByRole('time').first().innerText()).to.equal('Sends Fri, Mar 12, 2027, 9:00 AM EST');
    // Soonest first.
    expect(await items(page).first().innerText()).to.include('Suite 4');

    // Withdrawn: no confirm step; the item says so and keeps its text.
    await second.getByRole('button', { name: 'Withdraw the reminder of Fri, Mar 12, 2027, 9:00 AM EST' }).click();
    await second.getByText('Withdrawn', { exact: true }).waitFor();
    expect(await second.getByRole('button', { name: /^Withdraw/ }).count()).to.equal(0);
    await section(page).getByRole('status').getByText('Reminder of Fri, Mar 12, 2027, 9:00 AM EST withdrawn').waitFor();
    expect((await records()).map((r) => r.status)).to.deep.equal(['scheduled', 'withdrawn']);
    expect(unexpected(errors)).to.deep.equal([]);
  });

  it('goes out when due; a late "Withdraw" gets the hub’s 409; the patient’s "C" shows as Confirmed and in the thread', async () => {
    const first = itemWith(page, REMINDER_TEXT);
    await first.getByText('Scheduled', { exact: true }).waitFor();

    // Due: the worker claims it on its next poll and queues the text.
    t.clock.setTo(new Date('2027-03-10T15:06:00Z'));
    await waitFor(async () => (await records()).find((r) => r.body === REMINDER_TEXT && r.status === 'sent'), 20_000);
    const sms = await waitFor(async () => (await outboxSms(t)).find((e) => e.request.To === PHONE && e.request.Body === REMINDER_TEXT));
    expect(sms, 'the reminder went out by SMS').to.exist;

    // The panel still offers "Withdraw": the hub says why not, and the item shows where it stands now.
    await first.getByRole('button', { name: /^Withdraw/ }).click();
    await first.getByRole('alert').getByText('Not withdrawn: It can no longer be withdrawn: it is sent').waitFor();
    await first.getByText('Sent', { exact: true }).waitFor();
    await first.getByText(/^Sent Wed, Mar 10, 2027, 10:06 AM EST$/).waitFor();

    // The patient confirms by text: an event in the thread, and Confirmed in the panel.
    await smsArrives(t, PHONE, 'C');
    await timeline(page).getByText('Reminder confirmed by the patient (replied “C”)').waitFor();
    await section(page).getByRole('button', { name: 'Refresh' }).click();
    await first.getByText('Confirmed', { exact: true }).waitFor();
    await first.getByText(/^Patient answered Wed, Mar 10, 2027, 10:0\d AM EST$/).waitFor();
    expect((await records()).map((r) => r.status)).to.deep.equal(['confirmed', 'withdrawn']);

    // Re-opening the panel reads the list again and still says so.
    const toggle = page.getByRole('button', { name: 'Patient details' });
    await toggle.click();
    await panel(page).waitFor({ state: 'hidden' });
    await toggle.click();
    await itemWith(page, REMINDER_TEXT).getByText('Confirmed', { exact: true }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('outreach-confirmed.png') });
    expect(unexpected(errors)).to.deep.equal([]);
  });

  it('schedules a text the agent writes: the fields follow its placeholders, the preview fills them', async () => {
    await section(page).getByRole('button', { name: 'Schedule a message…' }).click();
    const f = form(page);
    await waitFor(async () => (await f.getByLabel('Message', { exact: true }).inputValue()) === 'appointment_reminder');
    await f.getByLabel('Message', { exact: true }).selectOption({ label: 'Write my own' });
    await f.getByLabel('Kind').selectOption('follow_up');
    expect(await f.getByLabel('Appointment date and time').count(), 'no {{date}} yet').to.equal(0);
    await f.getByLabel('Text', { exact: true }).fill('Hi {{firstName}}, how are you feeling after your visit on {{date}}? Reply here with any questions.');
    await f.getByLabel('Appointment date and time').fill('2027-03-09T16:00');
    await f.getByLabel('Send at').fill('2027-03-11T12:00');
    await f.getByLabel('Send by').selectOption('sms');
    const text = 'Hi Maria, how are you feeling after your visit on Tuesday, March 9? Reply here with any questions.';
    await f.getByRole('group', { name: 'Preview' }).getByText(text, { exact: true }).waitFor();
    await f.getByRole('group', { name: 'Preview' }).getByText(/^1 SMS segment \(GSM-7\) · \d+ characters$/).waitFor();
    await f.getByRole('button', { name: 'Schedule message' }).click();
    await f.waitFor({ state: 'hidden' });
    const own = itemWith(page, text);
    await own.getByText('Scheduled', { exact: true }).waitFor();
    await own.getByText('Follow-up', { exact: true }).waitFor();
    expect(await own.getByRole('time').first().innerText()).to.equal('Sends Thu, Mar 11, 2027, 12:00 PM EST');
    const stored = (await records()).find((r) => r.body === text);
    expect(stored).to.include({ status: 'scheduled', template: null, sendAt: '2027-03-11T17:00:00.000Z' });
    expect(unexpected(errors)).to.deep.equal([]);
  });
});
