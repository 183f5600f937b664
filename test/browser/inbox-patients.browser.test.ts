/**
 * Finding and registering patients in the inbox, in a real browser (Debian
 * chromium) against a real hub in sandbox mode: Ctrl+K finds a patient who
 * texted by their number typed another way and opens the thread from the
 * keyboard; a new patient is added, their verbal SMS consent recorded, and
 * the clinic's first text is refused while the staff-entered number is not
 * verified (the hub's reason shown), then goes out once an agent verified it;
 * a second registration of the same phone offers the existing patient; the
 * search dialog passes axe-core.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ConversationRecord } from '../../client-inbox/src/types.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { logIn, openInbox, outboxSms, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

const WORDING = 'I agree to receive appointment texts from Riverside Family Clinic. Reply STOP to opt out.';

const searchDialog = (page: Page) => page.getByRole('dialog', { name: 'Find a patient' });
const searchBox = (page: Page) => searchDialog(page).getByRole('combobox', { name: /^Name, phone, email/ });
const results = (page: Page) => searchDialog(page).getByRole('listbox', { name: 'Patients found' });
const patientPage = (page: Page) => page.getByRole('complementary', { name: 'Patient details' });

/** The option the combobox points at (aria-activedescendant). */
async function activeOption(page: Page): Promise<Locator> {
  const id = await searchBox(page).getAttribute('aria-activedescendant');
  expect(id, 'an active option').to.be.a('string');
  return searchDialog(page).locator(`[id="${id}"]`);
}

/** Console errors the browser logs for the hub's refusals the test provokes (and nothing else). */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of (400|409) \((Bad Request|Conflict)\)/.test(e));

describe('agents’ inbox: finding and adding patients, in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  let alice: Session;
  let sam: Session;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({ label: 'inbox-patients-browser', env: { CLINIC_NAME: 'Riverside Family Clinic', TWILIO_FROM_NUMBER: '+15555550100', CONTACT_CARD_ON_FIRST_SMS: 'false' } });
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

  it('finds a patient who texted by their number typed another way (Ctrl+K), and opens the thread from the keyboard', async () => {
    await smsArrives(t, '+14155550188', 'Is my lab result in yet?');
    const admin = await t.admin();
    const conversation = await waitFor(async () => {
      const res = await t.api.get('/api/conversations?status=open,pending&limit=100', admin.token);
      return (res.body.items as ConversationRecord[]).find((c) => c.preview.body === 'Is my lab result in yet?');
    });
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);

    // The top bar says how; Ctrl+K opens the dialog with the focus in the box.
    expect(await page.getByRole('banner').getByRole('button', { name: 'Find a patient' }).getAttribute('aria-keyshortcuts')).to.equal('Control+K');
    await page.keyboard.press('Control+k');
    await searchDialog(page).waitFor();
    await waitFor(async () => searchBox(page).evaluate((el) => el === document.activeElement));
    expect(await searchBox(page).getAttribute('aria-expanded')).to.equal('false');

    await page.keyboard.type('(415) 555-0188');
    const patient = results(page).getByRole('group');
    await patient.first().waitFor();
    expect(await patient.count()).to.equal(1);
    await searchDialog(page).getByRole('status').getByText('1 patient found').waitFor();
    expect(await searchBox(page).getAttribute('aria-expanded')).to.equal('true');
    // Masked: the last four digits only.
    const first = patient.getByRole('option').first();
    expect(await first.innerText()).to.include('•••• 0188');
    expect(await first.innerText()).not.to.include('555');
    expect(await first.getAttribute('aria-selected')).to.equal('true');
    const thread = patient.locator(`[data-conversation-option="${conversation.id}"]`);
    expect(await thread.getAttribute('role')).to.equal('option');
    expect(await thread.innerText()).to.include('SMS');
    await page.screenshot({ path: artifactPath('patients-search.png') });

    // Down to the thread (the combobox points at it), Enter opens it; the focus lands on the conversation.
    await page.keyboard.press('ArrowDown');
    expect(await (await activeOption(page)).getAttribute('data-conversation-option')).to.equal(conversation.id);
    expect(await thread.getAttribute('aria-selected')).to.equal('true');
    expect(await first.getAttribute('aria-selected')).to.equal('false');
    await page.keyboard.press('Enter');
    await searchDialog(page).waitFor({ state: 'hidden' });
    await timeline(page).getByText('Is my lab result in yet?').waitFor();
    expect(await page.evaluate(() => location.hash)).to.equal(`#/conversations/${encodeURIComponent(conversation.id)}`);
    await waitFor(async () => page.evaluate(() => document.activeElement?.id === 'conversation-main'));

    // Ctrl+K works while typing a reply too; Escape closes the dialog.
    await page.getByRole('textbox', { name: 'Reply', exact: true }).click();
    await page.keyboard.press('Control+k');
    await searchDialog(page).waitFor();
    await page.keyboard.press('Escape');
    await searchDialog(page).waitFor({ state: 'hidden' });
    expect(errors).to.deep.equal([]);
  });

  it('adds "Zoë Nakamura" from "No patient found", records verbal SMS consent, and writes first by SMS once the number is verified', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await page.getByRole('button', { name: 'Find a patient' }).click();
    await searchBox(page).fill('Zoë Nakamura');
    await searchDialog(page).getByRole('status').getByText('No patient found').waitFor();
    await searchDialog(page).getByRole('button', { name: 'Add patient' }).click();

    // The form starts with what was typed, as a name.
    const form = page.getByRole('dialog', { name: 'Add patient' });
    await form.waitFor();
    expect(await form.getByLabel('Name', { exact: true }).inputValue()).to.equal('Zoë Nakamura');
    await form.getByLabel('Date of birth').fill('04/12/1990');
    await form.getByLabel('Phone', { exact: true }).fill('(415) 555-0199');
    await form.getByLabel('Preferred channel').selectOption('sms');
    await form.getByLabel('Language').fill('ja');
    // A refusal by the hub shows next to its field.
    await form.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await form.getByRole('button', { name: 'Add patient' }).click();
    const zoneError = form.getByRole('alert').filter({ hasText: 'an IANA time zone' });
    await zoneError.waitFor();
    expect(await form.getByLabel('Time zone').getAttribute('aria-invalid')).to.equal('true');
    expect(await form.getByLabel('Time zone').getAttribute('aria-describedby')).to.include('pf-timezone-error');
    await form.getByLabel('Time zone').fill('America/Los_Angeles');
    await form.getByRole('button', { name: 'Add patient' }).click();
    await form.waitFor({ state: 'hidden' });

    // The new patient's page: the details, and what to do next.
    const details = patientPage(page);
    await details.getByRole('heading', { name: 'Zoë Nakamura' }).waitFor();
    await details.getByText('Zoë Nakamura was added').waitFor();
    await details.getByText('1990-04-12').waitFor();
    await details.getByText('America/Los_Angeles').waitFor();
    await details.getByText('+14155550199').waitFor();
    await page.screenshot({ path: artifactPath('patients-added.png') });
    const admin = await t.admin();
    const found = await t.api.get(`/api/patients?q=${encodeURIComponent('+1 415 555 0199')}`, admin.token);
    expect(found.status).to.equal(200);
    const zoe = (found.body.items as { id: string; name: string }[]).find((p) => p.name === 'Zoë Nakamura')!;
    expect(zoe, 'registered').to.exist;
    expect(await page.evaluate(() => location.hash)).to.equal(`#/patients/${encodeURIComponent(zoe.id)}`);

    // Verbal consent to texts, with the wording read to her (required for an opt-in).
    await details.getByRole('button', { name: 'Record consent' }).click();
    const consent = page.getByRole('dialog', { name: 'Record consent' });
    await consent.waitFor();
    expect(await consent.getByLabel('Channel').inputValue()).to.equal('sms');
    expect(await consent.getByLabel('How').inputValue()).to.equal('verbal');
    await consent.getByRole('radio', { name: /opt in/ }).check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await consent.getByRole('alert').getByText('Enter the exact words the patient agreed to').waitFor();
    await consent.getByLabel('Wording the patient agreed to').fill(WORDING);
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await consent.waitFor({ state: 'hidden' });
    await details.getByRole('status').getByText('SMS consent recorded: opted in').waitFor();
    await details.getByRole('row', { name: /SMS/ }).getByText('Opted in').waitFor();
    const profile = await t.api.get(`/api/patients/${zoe.id}`, admin.token);
    expect(profile.body.consent.sms).to.include({ status: 'opted_in', source: 'staff:verbal', capturedBy: alice.agent.id });
    expect(profile.body.consentHistory.at(-1)).to.include({ wording: WORDING });

    // The first text: the number was typed by staff, so the hub refuses it and the dialog says why, by the channel.
    const body = 'Hi Zoë, this is Riverside Family Clinic: your appointment is on Monday at 9:00.';
    await details.getByRole('button', { name: 'New conversation' }).click();
    const write = page.getByRole('dialog', { name: 'New conversation with Zoë Nakamura' });
    await write.waitFor();
    await write.getByRole('radio', { name: /^SMS/ }).check();
    await write.getByRole('group', { name: 'Send by' }).getByText('given, not verified').waitFor();
    await write.getByLabel('Message').fill(body);
    await write.getByRole('button', { name: 'Send', exact: true }).click();
    const refusal = write.getByRole('group', { name: 'Send by' }).getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).to.match(/not verified/);
    expect(await refusal.innerText()).to.match(/entered by staff/);
    expect((await outboxSms(t)).some((e) => e.request.To === '+14155550199')).to.equal(false);
    expect(unexpected(errors)).to.deep.equal([]);
    await page.screenshot({ path: artifactPath('patients-first-message-refused.png') });
    await write.getByRole('button', { name: 'Cancel' }).click();
    await write.waitFor({ state: 'hidden' });

    // She confirmed the number at the desk: the agent verifies it in the panel, with the reason.
    await details.getByRole('button', { name: 'Verify +14155550199' }).click();
    await details.getByLabel('Why? (kept in the audit trail)').fill('confirmed the number with the patient at the front desk');
    await details.getByRole('button', { name: 'Verify', exact: true }).click();
    await details.locator('[data-testid="identity"][data-trust="verified"]').waitFor();

    await details.getByRole('button', { name: 'New conversation' }).click();
    await write.waitFor();
    await write.getByRole('radio', { name: /^SMS/ }).check();
    await write.getByLabel('Message').fill(body);
    await write.getByRole('button', { name: 'Send', exact: true }).click();
    await write.waitFor({ state: 'hidden' });

    // The conversation opens with the message in it, queued to the outbox.
    const sent = timeline(page).getByRole('listitem').filter({ hasText: body });
    await sent.waitFor();
    await page.getByRole('heading', { name: 'Zoë Nakamura', level: 2 }).first().waitFor();
    const hash = await page.evaluate(() => location.hash);
    expect(hash).to.match(/^#\/conversations\//);
    await page.screenshot({ path: artifactPath('patients-first-message-sent.png') });
    const entry = await waitFor(async () => (await outboxSms(t)).find((e) => e.request.To === '+14155550199'));
    expect(entry.request.Body).to.equal(body);
    const opened = await t.api.get(`/api/conversations/${hash.slice('#/conversations/'.length)}`, admin.token);
    expect(opened.body).to.include({ patientId: zoe.id, assigneeId: alice.agent.id, status: 'open' });
    expect(unexpected(errors)).to.deep.equal([]);
  });

  it('offers the existing patient when the same phone is added again; a supervisor may register a namesake anyway', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await page.keyboard.press('Control+k');
    await searchBox(page).fill('415.555.0199');
    // Found by the number (the patient of the test before): the agent adds someone anyway, prefilled with the phone.
    await results(page).getByRole('group', { name: 'Zoë Nakamura' }).waitFor();
    await searchDialog(page).getByRole('button', { name: 'Add patient' }).click();
    const form = page.getByRole('dialog', { name: 'Add patient' });
    await form.waitFor();
    expect(await form.getByLabel('Phone', { exact: true }).inputValue()).to.equal('415.555.0199');
    expect(await form.getByLabel('Name', { exact: true }).inputValue()).to.equal('');
    await form.getByLabel('Name', { exact: true }).fill('Zoe Nakamura');
    await form.getByRole('button', { name: 'Add patient' }).click();

    const duplicates = form.getByRole('group', { name: /may already be registered/ });
    await duplicates.waitFor();
    const offered = duplicates.getByRole('listitem');
    expect(await offered.count()).to.equal(1);
    expect(await offered.innerText()).to.include('Zoë Nakamura — same phone');
    expect(await form.getByLabel('Phone', { exact: true }).getAttribute('aria-invalid')).to.equal('true');
    // A phone is never given to a second patient: nobody may create this anyway.
    expect(await form.getByRole('button', { name: 'Create anyway' }).count()).to.equal(0);
    await page.screenshot({ path: artifactPath('patients-duplicate.png') });
    await offered.getByRole('button', { name: /^Open this patient/ }).click();
    await form.waitFor({ state: 'hidden' });
    const details = patientPage(page);
    await details.getByRole('heading', { name: 'Zoë Nakamura' }).waitFor();

    // "Edit": the same form, prefilled, sending what changed; a refusal shows by its field.
    await details.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Zoë Nakamura' });
    await edit.waitFor();
    expect(await edit.getByLabel('Date of birth').inputValue()).to.equal('1990-04-12');
    expect(await edit.getByLabel('Add a phone number').inputValue()).to.equal('');
    await edit.getByText('On file: +14155550199').waitFor();
    await edit.getByLabel('Date of birth').fill('13/45/1990');
    await edit.getByLabel('MRN').fill('rfc-1001');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.locator('#pf-dob-error').waitFor();
    expect(await edit.getByLabel('Date of birth').getAttribute('aria-invalid')).to.equal('true');
    await edit.getByLabel('Date of birth').fill('1990-04-12');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'hidden' });
    await details.getByRole('status').getByText('Patient details saved').waitFor();
    await details.getByText('RFC-1001').waitFor();
    expect(unexpected(errors)).to.deep.equal([]);

    // Same name and date of birth, another phone: a supervisor may say it is someone else (twins, namesakes).
    const s = await openInbox(browser, t, contexts);
    await logIn(s.page, sam.agent.email);
    await s.page.getByRole('button', { name: 'Find a patient' }).click();
    await searchDialog(s.page).getByRole('button', { name: 'Add patient' }).click();
    const namesake = s.page.getByRole('dialog', { name: 'Add patient' });
    await namesake.getByLabel('Name', { exact: true }).fill('Zoë Nakamura');
    await namesake.getByLabel('Date of birth').fill('1990-04-12');
    await namesake.getByLabel('Phone', { exact: true }).fill('+1 415 555 0177');
    await namesake.getByRole('button', { name: 'Add patient' }).click();
    const same = namesake.getByRole('group', { name: /may already be registered/ });
    await same.getByText('Zoë Nakamura — same name and date of birth').waitFor();
    await same.getByRole('button', { name: 'Create anyway' }).click();
    await namesake.waitFor({ state: 'hidden' });
    await patientPage(s.page).getByText('Zoë Nakamura was added').waitFor();
    await patientPage(s.page).getByText('+14155550177').waitFor();
    const admin = await t.admin();
    const twins = await t.api.get(`/api/patients?q=${encodeURIComponent('1990-04-12')}`, admin.token);
    expect((twins.body.items as { name: string }[]).filter((p) => p.name === 'Zoë Nakamura')).to.have.length(2);
    expect(unexpected(s.errors)).to.deep.equal([]);
  });

  it('has no serious accessibility violations (axe-core) in the search dialog, with results and without', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await page.keyboard.press('Control+k');
    await searchDialog(page).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);

    // A name prefix finds both Zoës; the highlighted one moves with the arrows and wraps around.
    await searchBox(page).fill('nakam');
    await results(page).getByRole('group').nth(1).waitFor();
    const options = results(page).getByRole('option');
    const count = await options.count();
    await page.keyboard.press('ArrowUp');
    expect(await (await activeOption(page)).getAttribute('id')).to.equal(await options.nth(count - 1).getAttribute('id'));
    await page.keyboard.press('ArrowDown');
    expect(await (await activeOption(page)).getAttribute('id')).to.equal(await options.nth(0).getAttribute('id'));
    expect(await seriousViolations(page)).to.deep.equal([]);

    // "New conversation…" under a patient opens the dialog to write to them.
    await results(page).getByRole('group').first().getByRole('option', { name: 'New conversation…' }).click();
    const write = page.getByRole('dialog', { name: 'New conversation with Zoë Nakamura' });
    await write.waitFor();
    await write.getByRole('group', { name: 'Send by' }).getByText(/consent: opted in/).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await write.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('dialog[open]').waitFor({ state: 'detached' });

    // An email is looked up whole; nothing found: the way to add one is there, and passes too.
    await page.keyboard.press('Control+k');
    await searchBox(page).fill('nobody@exam');
    await searchDialog(page).getByRole('status').getByText('Type the whole email address').waitFor();
    await searchBox(page).fill('nobody@example.org');
    await searchDialog(page).getByRole('status').getByText('No patient found').waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await searchDialog(page).getByRole('button', { name: 'Add patient' }).click();
    const form = page.getByRole('dialog', { name: 'Add patient' });
    expect(await form.getByLabel('Email', { exact: true }).inputValue()).to.equal('nobody@example.org');
    expect(await seriousViolations(page)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });
});
