/**
 * The agents' inbox (/inbox/) in a real browser (Debian chromium), against a
 * real hub in sandbox mode: logins through the UI, patients writing by the
 * signed Twilio webhook, what went out read back from the sandbox outbox.
 */
import { expect } from 'chai';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ChannelAdapter } from '../../channels/contract.ts';
import { InboxPager } from '../../client-inbox/src/inbox-model.ts';
import type { ConversationRecord } from '../../client-inbox/src/types.ts';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { PASSWORD, TABLET, conversationList, listItem, logIn, noteBox, open, openInbox, outboxSms, replyBox, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { nextEvent, patientWrites, startTestHub, waitFor, type Session, type TestHub } from '../support/test-hub.ts';
import { newClientId, startVisitor } from '../support/widget-visitor.ts';
import { postInboundEmail, postRawInboundEmail } from '../support/inbound-email.ts';
import { TINY_PNG } from '../support/sample-files.ts';

const viewButton = (page: Page, name: string) => page.getByRole('group', { name: 'Views' }).getByRole('button', { name, exact: true });
const statusBadge = (page: Page) => page.getByTestId('conversation-status');

describe('agents’ inbox in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  let alice: Session;
  let bob: Session;
  const contexts: BrowserContext[] = [];

  before(async () => {
    // A clinic number gives the hub a contact card to send (not by itself on a first text here).
    t = await startTestHub({ label: 'inbox-browser', env: { CLINIC_NAME: 'Riverside Family Clinic', TWILIO_FROM_NUMBER: '+15555550100', CONTACT_CARD_ON_FIRST_SMS: 'false' } });
    alice = await t.agent({ name: 'Alice Avery' });
    bob = await t.agent({ name: 'Bob Brooks' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('logs in through the UI; an SMS from the signed webhook shows live in two agents’ inboxes; assigning it moves it out of the other’s Unassigned', async () => {
    const a = await openInbox(browser, t, contexts);
    const b = await openInbox(browser, t, contexts);
    await logIn(a.page, alice.agent.email);
    await logIn(b.page, bob.agent.email);
    await viewButton(a.page, 'Unassigned').click();
    await viewButton(b.page, 'Unassigned').click();
    await a.page.getByText('No conversations here.').waitFor();
    await b.page.getByText('No conversations here.').waitFor();

    const body = 'Can I get a flu shot this week?';
    // Live, without a reload (how fast is measured by bench/, not asserted here: CI shares its cores).
    await smsArrives(t, '+17205550201', body);
    await Promise.all([listItem(a.page, body).waitFor(), listItem(b.page, body).waitFor()]);
    expect(await listItem(b.page, body).innerText()).to.include('SMS');

    await open(a.page, body);
    await a.page.getByRole('button', { name: 'Assign to me' }).click();
    await listItem(b.page, body).waitFor({ state: 'detached', timeout: 3000 });
    await timeline(a.page).getByText('Conversation assigned to Alice Avery').waitFor();
    // Bob sees it under his teams, assigned to Alice; Alice has it under Mine.
    await viewButton(b.page, 'My teams').click();
    await listItem(b.page, body).filter({ hasText: 'Alice Avery' }).waitFor();
    await viewButton(a.page, 'Mine').click();
    await listItem(a.page, body).waitFor();
    expect(a.errors).to.deep.equal([]);
    expect(b.errors).to.deep.equal([]);
  });

  it('asks for the authenticator code when the account has a second factor, and shows a wrong password’s error', async () => {
    const agent = await t.agent({ name: 'Tess Totp' });
    const setup = await t.api.post('/api/auth/totp/setup', { password: PASSWORD }, agent.token);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(setup.body.secret) });
    expect((await t.api.post('/api/auth/totp/enable', { code: totp.generate({ timestamp: t.clock.now().getTime() }) }, agent.token)).status).to.equal(204);
    t.clock.advance(30_000); // each code is accepted once: the login below uses the next one
    const { page } = await openInbox(browser, t, contexts);
    await page.getByLabel('Email', { exact: true }).fill(agent.agent.email);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('Email or password is not correct').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const code = page.getByLabel('Authenticator code');
    await code.waitFor();
    expect(await code.evaluate((el) => el === document.activeElement)).to.equal(true);
    await code.fill(totp.generate({ timestamp: t.clock.now().getTime() }));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  });

  it('replies with auto by SMS (as the sandbox outbox shows) with its delivery state; a note stays internal and is never sent', async () => {
    const phone = '+17205550202';
    const question = 'Is there parking at the clinic?';
    await smsArrives(t, phone, question);
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, question);
    await page.getByTestId('auto-line').getByText('Auto: SMS — patient last wrote by SMS').waitFor();
    expect(await page.getByRole('radio', { name: 'Auto' }).isChecked()).to.equal(true);

    const answer = 'Yes, free parking behind the building.';
    await replyBox(page).fill(answer);
    await page.getByTestId('sms-counter').getByText(`${answer.length} characters · 1 segment`).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const sent = timeline(page).getByRole('listitem').filter({ hasText: answer });
    await sent.getByText('Delivered').waitFor();
    expect(await sent.innerText()).to.include('Auto: patient last wrote by SMS');
    expect(await replyBox(page).inputValue()).to.equal('');
    const outbox = await waitFor(async () => {
      const items = await outboxSms(t);
      return items.some((e) => e.request.To === phone && e.request.Body === answer) ? items : null;
    });
    const toPatient = outbox.filter((e) => e.request.To === phone).length;

    await page.getByRole('button', { name: 'Internal note' }).click();
    await noteBox(page).fill('Patient uses a wheelchair: reserve the accessible spot');
    await page.getByRole('button', { name: 'Add note' }).click();
    const note = timeline(page).getByRole('listitem').filter({ hasText: 'reserve the accessible spot' });
    await note.waitFor();
    expect(await note.innerText()).to.include('Internal note');
    expect(await note.getAttribute('class')).to.include('msg-note');
    const noteBackground = await note.evaluate((el) => getComputedStyle(el).backgroundColor);
    const replyBackground = await sent.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(noteBackground).not.to.equal(replyBackground);
    await t.hub.settled();
    const after = await outboxSms(t);
    expect(after.filter((e) => e.request.To === phone)).to.have.length(toPatient);
    expect(after.some((e) => e.request.Body.includes('accessible spot'))).to.equal(false);
    await page.screenshot({ path: artifactPath('conversation.png') });
    expect(errors).to.deep.equal([]);
  });

  it('sends our contact card from the patient panel: a vCard message in the timeline, its file downloadable', async () => {
    const phone = '+17205550208';
    await smsArrives(t, phone, 'Whose number is this?');
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'Whose number is this?');
    const panel = page.getByRole('complementary', { name: 'Patient details' });
    await panel.getByRole('button', { name: 'Send our contact card' }).click();
    await panel.getByText('Contact card queued for SMS').waitFor();
    const card = timeline(page).getByRole('listitem').filter({ hasText: 'this is our contact card' });
    await card.getByText('vCard', { exact: true }).waitFor();
    await card.getByText('Delivered').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: /^Download .*\.vcf/ }).click()]);
    expect(download.suggestedFilename()).to.match(/\.vcf$/);
    const outbox = await outboxSms(t);
    expect(outbox.some((e) => e.request.To === phone && e.request.MediaUrl?.length === 1)).to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  it('attaches a file to a reply: it goes out as MMS media and shows in the timeline', async () => {
    const phone = '+17205550209';
    await smsArrives(t, phone, 'Can you send me the directions?');
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'Can you send me the directions?');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(1200, 66)]);
    await page.locator('form.composer input[type=file]').setInputFiles({ name: 'directions.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.getByRole('list', { name: 'Attached files' }).getByText('directions.pdf').waitFor();
    await replyBox(page).fill('Directions attached.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const sent = timeline(page).getByRole('listitem').filter({ hasText: 'Directions attached.' });
    await sent.getByText('directions.pdf').waitFor();
    const mms = await waitFor(async () => (await outboxSms(t)).find((e) => e.request.To === phone && e.request.Body === 'Directions attached.'));
    expect(mms.request.MediaUrl).to.have.length(1);
    const media = await fetch(`${t.url}${new URL(mms.request.MediaUrl![0]!).pathname}`);
    expect(Buffer.from(await media.arrayBuffer()).equals(pdf)).to.equal(true);
    expect(await page.getByRole('list', { name: 'Attached files' }).count()).to.equal(0);
    expect(errors).to.deep.equal([]);
  });

  it('disables SMS in the channel picker, with the reason, once the patient texted STOP', async () => {
    const phone = '+17205550203';
    await smsArrives(t, phone, 'Please remind me of my appointment');
    await smsArrives(t, phone, 'STOP');
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'STOP');
    await page.getByTestId('auto-line').getByText('SMS — patient opted out').waitFor();
    const sms = page.getByRole('radio', { name: /^SMS/ });
    expect(await sms.isDisabled()).to.equal(true);
    expect(await sms.evaluate((el) => el.closest('label')!.textContent)).to.include('patient opted out');
    expect(await page.getByRole('radio', { name: 'Auto' }).isDisabled()).to.equal(true);
    await replyBox(page).fill('Are you still there?');
    expect(await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).to.equal(true);
    // The patient panel says so too.
    const consent = page.getByRole('complementary', { name: 'Patient details' }).getByRole('row', { name: /SMS/ });
    await consent.getByText('Opted out').waitFor();
  });

  it('sets priority, assigns to another agent, resolves and reopens: the other agent sees each change live (reopening with the e shortcut)', async () => {
    const body = 'My prescription refill please';
    await smsArrives(t, '+17205550204', body);
    const a = await openInbox(browser, t, contexts);
    const b = await openInbox(browser, t, contexts);
    await logIn(a.page, alice.agent.email);
    await logIn(b.page, bob.agent.email);
    await open(a.page, body);
    await open(b.page, body);

    await a.page.getByLabel('Conversation priority').selectOption('urgent');
    await listItem(b.page, body).getByText('Urgent').waitFor();
    await timeline(b.page).getByText('Priority set to urgent').waitFor();
    expect(await b.page.getByLabel('Conversation priority').inputValue()).to.equal('urgent');

    await b.page.getByRole('button', { name: 'Assign…' }).click();
    const dialog = b.page.getByRole('dialog', { name: 'Assign conversation' });
    await dialog.getByLabel('Agent').selectOption({ label: 'Alice Avery' });
    await dialog.getByRole('button', { name: 'Assign', exact: true }).click();
    await a.page.getByText('Assigned to: Alice Avery (you)').waitFor();
    await timeline(a.page).getByText('Conversation assigned to Alice Avery').waitFor();

    await a.page.getByRole('button', { name: 'Resolve' }).click();
    await statusBadge(b.page).getByText('Resolved').waitFor();
    await timeline(b.page).getByText('Conversation resolved').waitFor();
    await b.page.getByRole('button', { name: 'Reopen' }).waitFor();
    // Resolved conversations leave the default "Open and pending" list.
    await listItem(a.page, body).waitFor({ state: 'detached' });

    await b.page.getByRole('heading', { level: 2 }).first().click();
    await b.page.keyboard.press('e');
    await statusBadge(a.page).getByText('Open').waitFor();
    await timeline(a.page).getByText('Conversation reopened').waitFor();
    await listItem(a.page, body).waitFor();
  });

  it('renders a patient’s HTML and script as plain text', async () => {
    const xss = '<img src=x onerror="window.__pwned=1"> <b>bold</b> <script>window.__pwned=2</script>';
    await smsArrives(t, '+17205550205', xss);
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, xss);
    expect(await timeline(page).getByText(xss, { exact: true }).count()).to.equal(1);
    expect(await page.locator('main img, main script, nav img, nav b').count()).to.equal(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    expect(errors).to.deep.equal([]);
  });

  it('works from the keyboard: j/k move through the list, ? lists the shortcuts, r replies, / inserts a canned response', async () => {
    const admin = await t.admin();
    const created = await t.api.post('/api/canned-responses', { teamId: 'front-desk', shortcut: 'hours', title: 'Opening hours', body: 'We are open 8:00–18:00, Monday to Friday.' }, admin.token);
    expect(created.status).to.equal(201);
    // j/k follow the list as shown, the pinned urgent section first: this test is about the main list's order.
    for (const c of (await t.api.get('/api/conversations?priority=urgent', admin.token)).body.items as { id: string }[]) {
      expect((await t.api.patch(`/api/conversations/${c.id}`, { priority: 'normal' }, admin.token)).status).to.equal(200);
    }
    await smsArrives(t, '+17205550206', 'When are you open?');
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await listItem(page, 'When are you open?').waitFor();
    // Each key press re-renders a moment later: wait for what the agent would see, never read it at once.
    const current = async () => (await listItem(page, 'When are you open?').getAttribute('aria-current')) === 'true';
    await page.keyboard.press('j');
    await timeline(page).getByText('When are you open?').waitFor();
    await waitFor(current);
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await waitFor(current);

    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    expect(await dialog.innerText()).to.include('Assign to me');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // A visible focus ring on whatever the keyboard reaches.
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement!);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(ring).to.equal('solid 3px');

    await page.keyboard.press('r');
    await waitFor(() => replyBox(page).evaluate((el) => el === document.activeElement));
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    await waitFor(async () => (await replyBox(page).inputValue()) === '/');
    const options = page.getByRole('listbox', { name: 'Canned responses' });
    await options.getByRole('option', { name: /Opening hours/ }).waitFor();
    await page.keyboard.type('hou');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await replyBox(page).inputValue()) === 'We are open 8:00–18:00, Monday to Friday.');
    await options.waitFor({ state: 'detached' });
  });

  it('lets a supervisor keep the team’s saved replies, which agents then insert with "/"', async () => {
    const lead = await t.agent({ name: 'Sam Supervisor', role: 'supervisor' });
    await smsArrives(t, '+17205550210', 'Where do I park?');
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, lead.agent.email);
    await page.getByRole('button', { name: 'Saved replies' }).click();
    const dialog = page.getByRole('dialog', { name: 'Saved replies' });
    await dialog.getByLabel('Shortcut').fill('parking');
    await dialog.getByLabel('Title').fill('Parking');
    await dialog.getByLabel('Text', { exact: true }).fill('Free parking is behind the building.');
    await dialog.getByRole('button', { name: 'Save reply' }).click();
    await dialog.getByRole('list', { name: 'Saved replies' }).getByText('/parking').waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);

    // An agent of the team has it at once (next load) and cannot edit the library.
    const agentTab = await openInbox(browser, t, contexts);
    await logIn(agentTab.page, alice.agent.email);
    expect(await agentTab.page.getByRole('button', { name: 'Saved replies' }).count()).to.equal(0);
    await open(agentTab.page, 'Where do I park?');
    await replyBox(agentTab.page).click();
    await agentTab.page.keyboard.type('/park');
    await agentTab.page.getByRole('listbox', { name: 'Canned responses' }).getByRole('option', { name: /Parking/ }).waitFor();
    await agentTab.page.keyboard.press('Enter');
    await waitFor(async () => (await replyBox(agentTab.page).inputValue()) === 'Free parking is behind the building.');
  });

  it('shows how many unread conversations each view holds, live', async () => {
    const { page } = await openInbox(browser, t, contexts);
    const firstCounts = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/conversations/counts' && r.ok());
    await logIn(page, alice.agent.email);
    const unassigned = page.getByTestId('unread-unassigned');
    // allInnerTexts never waits: the badge may come and go between two reads.
    const unread = async () => Number(((await unassigned.allInnerTexts())[0] ?? '0').replace(/\D/g, '') || 0);
    // The first numbers load a moment after login: take them once the badge shows what the hub answered.
    const before = ((await (await firstCounts).json()) as { unassigned: { unread: number } }).unassigned.unread;
    await waitFor(async () => (await unread()) === before);
    await smsArrives(t, '+17205550213', 'Count this one, please');
    await waitFor(async () => (await unread()) === before + 1, 8000);
    await page.getByRole('group', { name: 'Views' }).getByRole('button', { name: /Unassigned/ }).click();
    await open(page, 'Count this one, please');
    await waitFor(async () => (await unread()) === before, 8000);
  });

  it('moves between opened conversations with the browser’s back and forward buttons', async () => {
    await smsArrives(t, '+17205550211', 'First question for history');
    await smsArrives(t, '+17205550212', 'Second question for history');
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'First question for history');
    await open(page, 'Second question for history');
    await page.goBack();
    await timeline(page).getByText('First question for history').waitFor();
    expect(await timeline(page).getByText('Second question for history').count()).to.equal(0);
    await page.goForward();
    await timeline(page).getByText('Second question for history').waitFor();
  });

  it('shows a web chat patient typing and their next message live; auto replies to the open web chat, and the patient sees the agent typing', async () => {
    const visitor = await startVisitor(t, { name: 'Wendy Web' });
    await visitor.call('message:send', { clientId: newClientId(), body: 'Hello from your website' });
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'Hello from your website');
    await page.getByRole('heading', { name: 'Wendy Web' }).first().waitFor();
    await page.getByTestId('auto-line').getByText('Auto: Web chat — the patient has the web chat open').waitFor();

    const typingLine = page.getByText('Patient is typing…');
    await waitFor(async () => {
      visitor.socket.emit('typing', { isTyping: true });
      return typingLine.isVisible();
    });
    await visitor.call('message:send', { clientId: newClientId(), body: 'And a second question, live' });
    await timeline(page).getByText('And a second question, live').waitFor();
    await typingLine.waitFor({ state: 'detached' });

    const agentTyping = nextEvent<{ isTyping: boolean }>(visitor.socket, 'agent:typing', (p) => p.isTyping);
    await replyBox(page).pressSequentially('Hi Wendy');
    await agentTyping;
    const received = nextEvent<{ body: string; channel?: string }>(visitor.socket, 'message:created', (m) => m.body === 'Hi Wendy, how can we help?');
    await replyBox(page).fill('Hi Wendy, how can we help?');
    await page.keyboard.press('Control+Enter');
    await received;
    await timeline(page).getByRole('listitem').filter({ hasText: 'Hi Wendy, how can we help?' }).getByText('Auto: the patient has the web chat open').waitFor();
    visitor.socket.disconnect();
    expect(errors).to.deep.equal([]);
  });

  it('loads more conversations when the list is scrolled, and earlier messages when the timeline is scrolled to the top', async () => {
    for (let i = 1; i <= 28; i++) await patientWrites(t, { channel: 'email', from: `paging${i}@example.com`, body: `Paging email ${i}` });
    for (let i = 1; i <= 60; i++) await patientWrites(t, { channel: 'email', from: 'history@example.com', body: `History line ${i}` });
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await page.getByLabel('Channel').selectOption('email');
    const items = conversationList(page).getByRole('listitem');
    await waitFor(async () => (await items.count()) === 25);
    await page.getByText(/^25 conversations\+/).waitFor();
    await items.last().scrollIntoViewIfNeeded();
    await waitFor(async () => (await items.count()) === 29);
    await page.getByText(/^29 conversations( ·|$)/).waitFor();
    expect(await conversationList(page).getByText('Paging email 1', { exact: true }).count()).to.equal(1);

    await open(page, 'History line 60');
    const messages = timeline(page).getByRole('listitem');
    expect(await messages.count()).to.equal(50);
    expect(await timeline(page).getByText('History line 10', { exact: true }).count()).to.equal(0);
    await page.locator('.timeline').evaluate((el) => el.scrollTo({ top: 0 }));
    await timeline(page).getByText('History line 1', { exact: true }).waitFor();
    expect(await messages.count()).to.equal(60);
  });

  it('has no serious accessibility violations (axe-core) in the inbox and a conversation, and fits a tablet', async () => {
    await smsArrives(t, '+17205550207', 'Checking accessibility');
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await listItem(page, 'Checking accessibility').waitFor();
    await page.screenshot({ path: artifactPath('inbox.png') });
    expect(await seriousViolations(page)).to.deep.equal([]);
    await open(page, 'Checking accessibility');
    await page.getByRole('complementary', { name: 'Patient details' }).getByText('Verified').first().waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);

    await page.setViewportSize(TABLET);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).to.equal(0);
    for (const target of [conversationList(page), replyBox(page), page.getByRole('button', { name: 'Send', exact: true }), page.getByRole('button', { name: 'Resolve' })]) {
      expect(await target.isVisible()).to.equal(true);
      const box = (await target.boundingBox())!;
      expect(box.x + box.width).to.be.at.most(TABLET.width);
    }
    // The patient panel is a drawer there, opened and closed from the conversation's header.
    const panel = page.getByRole('complementary', { name: 'Patient details' });
    expect(await panel.isVisible()).to.equal(false);
    await page.getByRole('button', { name: 'Patient details' }).click();
    await panel.waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
  });

  it('shows how far each address is proven, warns on a message from an unverified sender, and reaches a guardian only when chosen', async () => {
    const admin = await t.admin();
    const question = 'Are my son’s vaccination records ready?';
    const inbound = await patientWrites(t, { channel: 'email', from: 'parent.proof@example.org', body: question });
    const answer = await t.api.post(`/api/conversations/${inbound.conversation.id}/messages`, { body: 'They are ready', channel: 'email' }, admin.token);
    const sent = await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=email', admin.token)).body.items as { messageId: string; request: any }[]).find((e) => e.messageId === answer.body.id));
    await postInboundEmail(t, { from: 'Grandpa Joe <grandpa.joe@example.net>', to: sent.request.reply_to.email, text: 'Can you send them to me instead?' });

    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    await open(page, 'Can you send them to me instead?');
    const fromRelative = timeline(page).getByRole('listitem').filter({ hasText: 'Can you send them to me instead?' });
    expect(await fromRelative.getByTestId('sender-warning').innerText()).to.equal('Sender replied in this thread; not verified');

    const panel = page.getByRole('complementary', { name: 'Patient details' });
    if (!(await panel.isVisible())) await page.getByRole('button', { name: 'Patient details' }).click();
    const identity = (value: string) => panel.getByTestId('identity').filter({ hasText: value });
    await identity('grandpa.joe@example.net').getByText('Replied in this thread; not verified').waitFor();
    await identity('parent.proof@example.org').getByText('Verified').waitFor();

    // A guardian with their own consent, added from the panel; then chosen explicitly in the reply box.
    await panel.getByRole('button', { name: 'Add guardian or caregiver…' }).click();
    const form = panel.getByRole('form', { name: 'Add guardian or caregiver' });
    await form.getByLabel('Their name').fill('Mia Parent');
    await form.getByLabel('Phone number').fill('+17205550277');
    await form.getByLabel('They agreed to receive messages there').check();
    await form.getByLabel('Why? (kept in the audit trail)').fill('Mother of the patient, asked on the phone');
    await form.getByRole('button', { name: 'Add contact' }).click();
    await identity('+17205550277').getByText('Guardian: Mia Parent').waitFor();

    const to = page.getByRole('combobox', { name: 'To' });
    await to.selectOption({ label: 'Guardian: Mia Parent (SMS)' });
    await page.getByTestId('auto-line').getByText('To the guardian Mia Parent by SMS, chosen by you (not the patient)').waitFor();
    await replyBox(page).fill('The records are ready at the front desk');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const mms = await waitFor(async () => (await outboxSms(t)).find((e) => e.request.Body === 'The records are ready at the front desk'));
    expect(mms.request.To).to.equal('+17205550277');
    await page.screenshot({ path: artifactPath('identity-trust.png') });
    expect(errors).to.deep.equal([]);
  });
});

describe('agents’ inbox: delivery failures and automatic logoff', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const failing: ChannelAdapter = {
    id: 'sms',
    label: 'SMS',
    async send() {
      return { ok: false, error: { code: 'INVALID_NUMBER', message: 'The number cannot receive SMS', retryable: false } };
    },
  };

  before(async () => {
    t = await startTestHub({ label: 'inbox-browser-fail', adapters: { sms: failing }, env: { IDLE_TIMEOUT_MINUTES: '1' } });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows a failed delivery with its reason', async () => {
    const agent = await t.agent({ name: 'Fay Failure' });
    await patientWrites(t, { channel: 'sms', from: '+17205550301', body: 'Text me the address please' });
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    await open(page, 'Text me the address please');
    await replyBox(page).fill('12 Main Street, second floor.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = timeline(page).getByRole('listitem').filter({ hasText: '12 Main Street' });
    await reply.getByText('Failed: The number cannot receive SMS').waitFor();
    expect(await reply.getByTestId('delivery').getAttribute('class')).to.include('delivery-failed');
    // A reload keeps the session (this tab only) and the open conversation.
    await page.reload();
    await reply.getByText('Failed: The number cannot receive SMS').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('status').getByText('You logged out.').waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  it('returns to the login screen after the idle timeout, and the half-written reply is still there after logging in again', async () => {
    const agent = await t.agent({ name: 'Ida Idle' });
    await patientWrites(t, { channel: 'sms', from: '+17205550302', body: 'What were my test results?' });
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    await open(page, 'What were my test results?');
    const draft = 'Your results came back normal, and Dr. Lee would like';
    await replyBox(page).fill(draft);
    await page.getByRole('heading', { level: 2 }).first().click();

    t.clock.advance(2 * 60_000);
    await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole('status').innerText()).to.match(/inactivity/);
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).to.equal(agent.agent.email);

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await timeline(page).getByText('What were my test results?').waitFor();
    expect(await replyBox(page).inputValue()).to.equal(draft);
  });
});

describe('agents’ inbox: the list’s paging over several queries', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  const conversation = (id: string, minute: number, teamId: string) => ({ id, lastMessageAt: at(minute), teamId }) as unknown as ConversationRecord;

  it('merges an admin’s per-team pages newest first, without skipping or repeating, however the teams interleave', async () => {
    // Team a is busy lately, team b had its activity earlier: pages of 2.
    const teams: Record<string, ConversationRecord[]> = {
      a: [conversation('a1', 59, 'a'), conversation('a2', 58, 'a'), conversation('a3', 20, 'a'), conversation('a4', 5, 'a')],
      b: [conversation('b1', 40, 'b'), conversation('b2', 30, 'b'), conversation('b3', 25, 'b'), conversation('b4', 10, 'b'), conversation('b5', 1, 'b')],
    };
    const pager = new InboxPager(['team=a', 'team=b'], async (query) => {
      const params = new URLSearchParams(query);
      const list = teams[params.get('team')!]!;
      const from = Number(params.get('cursor') ?? 0);
      const items = list.slice(from, from + 2);
      return { items, nextCursor: from + 2 < list.length ? String(from + 2) : null };
    });
    const shown: string[] = [];
    const batches: string[][] = [];
    while (!pager.done) {
      const batch = (await pager.next()).map((c) => c.id);
      batches.push(batch);
      shown.push(...batch);
    }
    expect(shown).to.deep.equal(['a1', 'a2', 'b1', 'b2', 'b3', 'a3', 'b4', 'a4', 'b5']);
    // Team b's first page waits: team a may still have conversations between 58 and 40 minutes.
    expect(batches[0]).to.deep.equal(['a1', 'a2']);
  });
});

describe('agents’ inbox: what the channels report (sandbox recipients, possible opt-out, original email)', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  let agent: Session;
  const contexts: BrowserContext[] = [];

  before(async () => {
    t = await startTestHub({ label: 'inbox-browser-channels', env: { CONTACT_CARD_ON_FIRST_SMS: 'false' } });
    agent = await t.agent({ name: 'Cora Channels' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows a carrier-filtered text with its reason and the next step', async () => {
    await smsArrives(t, '+15555550172', 'Can you text me the lab address?');
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    await open(page, 'Can you text me the lab address?');
    await replyBox(page).fill('It is 40 Elm Street.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = timeline(page).getByRole('listitem').filter({ hasText: '40 Elm Street' });
    await reply.getByText(/Filtered by the carrier as spam\. .*email or web chat/).waitFor();
    expect(errors).to.deep.equal([]);
  });

  it('flags a possible opt-out and records it in one click; SMS then unavailable', async () => {
    await smsArrives(t, '+17205550401', 'Hi, is my refill ready?');
    await smsArrives(t, '+17205550401', 'please stop texting me');
    const { page } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    await open(page, 'please stop texting me');
    const banner = page.getByTestId('possible-opt-out');
    await banner.getByText('Possible opt-out.').waitFor();
    await banner.getByRole('button', { name: 'Record opt-out' }).click();
    await banner.waitFor({ state: 'detached' });
    await timeline(page).getByText(/Patient opted out of text messages/).waitFor();
    await page.getByTestId('auto-line').getByText('SMS — patient opted out').waitFor();
  });

  it('shows an email’s original with its inline image, and an out-of-office as an automatic reply', async () => {
    const from = 'inline.browser@example.org';
    await postRawInboundEmail(t, {
      headers: `From: ${from}\r\nSubject: Rash\r\nMessage-ID: <rash-1@mail.example.org>\r\n`,
      from, to: 'clinic@inbound.hub.example.com', subject: 'Rash', SPF: 'pass', dkim: '{@example.org : pass}',
      text: 'Here is the rash on my arm.\n\n-- \nMia Patel\n+1 555 555 0100',
      html: '<p>Here is the rash on my arm.</p><img src="cid:ii_arm" alt="rash photo">',
      'attachment-info': JSON.stringify({ attachment1: { filename: 'arm.png', type: 'image/png', 'content-id': 'ii_arm' } }),
      'content-ids': JSON.stringify({ ii_arm: 'attachment1' }),
      charsets: JSON.stringify({ text: 'UTF-8', html: 'UTF-8' }),
    }, [{ field: 'attachment1', name: 'arm.png', type: 'image/png', data: TINY_PNG }]);
    await postRawInboundEmail(t, {
      headers: `From: ${from}\r\nSubject: Out of office\r\nMessage-ID: <ooo-1@mail.example.org>\r\nAuto-Submitted: auto-replied\r\n`,
      from, to: 'clinic@inbound.hub.example.com', subject: 'Out of office', SPF: 'pass', dkim: '{@example.org : pass}',
      text: 'I am away until Monday.',
    });
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    await open(page, 'Here is the rash on my arm.');
    await timeline(page).getByTestId('automatic-reply').getByText('Automatic reply by Email: I am away until Monday.').waitFor();
    const message = timeline(page).getByRole('listitem').filter({ hasText: 'Here is the rash on my arm.' }).first();
    expect(await message.innerText()).to.not.include('Mia Patel');
    await message.getByTestId('show-original').click();
    const image = message.getByTestId('original').getByRole('img', { name: 'rash photo' });
    await waitFor(async () => (await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)) || null);
    expect(await image.getAttribute('src')).to.match(/^blob:/);
    expect(errors).to.deep.equal([]);
  });

  it('shows a banner while the hub cannot reach its database, and announces when it is back', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, agent.agent.email);
    // The hub's state as its database health reports it (test/integration/store/database-outage.test.ts stops a real database).
    const hubStatus = (state: 'ok' | 'degraded') =>
      t.hub.services.realtime.hubStatus({ state, reason: state === 'ok' ? null : 'database_unreachable', since: new Date().toISOString() });
    try {
      hubStatus('degraded');
      const banner = page.getByRole('alert').filter({ hasText: 'The hub cannot reach its database' });
      await banner.waitFor();
      expect(await seriousViolations(page)).to.deep.equal([]);
      hubStatus('ok');
      await banner.waitFor({ state: 'detached' });
      await page.getByText('The hub reached its database again').waitFor({ state: 'attached' });
    } finally {
      hubStatus('ok');
    }
    expect(errors).to.deep.equal([]);
  });
});
