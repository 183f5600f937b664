/**
 * The patient's widget in a real browser (Debian chromium), embedded on a
 * clinic site of another origin, against a real hub in sandbox mode.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactPath, hostPage, launchBrowser, recordAnnouncements, startHostSite } from '../support/browser.ts';
import { AXE_SOURCE } from '../support/inbox-page.ts';
import { connected, nextEvent, patientWrites, startTestHub, waitFor, type TestHub } from '../support/test-hub.ts';
import { CLINIC, conversationOf, launcher, messageBox, openHostPage, send } from '../support/widget-page.ts';
import { codeSentTo } from '../support/widget-visitor.ts';

describe('web chat widget in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  const pages: Record<string, string> = {};
  let site: Awaited<ReturnType<typeof startHostSite>>;
  let otherSite: Awaited<ReturnType<typeof startHostSite>>;
  const contexts: BrowserContext[] = [];

  before(async () => {
    site = await startHostSite(pages);
    otherSite = await startHostSite(pages);
    t = await startTestHub({ label: 'widget-browser', env: { CLINIC_NAME: CLINIC, WIDGET_ALLOWED_ORIGINS: site.origin } });
    pages['/'] = hostPage(t.url);
    pages['/es'] = hostPage(t.url, 'data-lang="es"');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await site?.close();
    await otherSite?.close();
  });

  const openPage = (path = '/') => openHostPage(browser, contexts, `${site.origin}${path}`);

  async function startChat(page: Page, name: string, extra: { phone?: string } = {}): Promise<void> {
    await launcher(page).click();
    await page.getByLabel('Name', { exact: true }).fill(name);
    if (extra.phone) await page.getByLabel('Phone (optional)').fill(extra.phone);
    await page.getByRole('button', { name: 'Start chat' }).click();
    await messageBox(page).waitFor();
  }

  /** The text of the widget's message list, read from inside its shadow root. */
  const messageListText = (page: Page) => page.getByRole('log').innerText();

  it('runs on a clinic site of another origin: the patient writes, an agent receives it, the reply shows in the widget as text', async () => {
    const admin = await t.admin();
    const agentSocket = t.socket(admin.token);
    await connected(agentSocket);
    const { page, errors } = await openPage();
    await startChat(page, 'Grace Browser');

    const received = nextEvent<{ message: { body: string; channel: string; conversationId: string } }>(agentSocket, 'message:created', (p) => p.message.body === 'Do I need to fast before my blood test?');
    await send(page, 'Do I need to fast before my blood test?');
    const { message } = await received;
    expect(message.channel).to.equal('webchat');
    const liveRegion = await recordAnnouncements(page, 'carethread-widget [aria-live="polite"]');

    const xss = '<img src=x onerror="window.__pwned=1"> Yes, <b>8 hours</b>. <script>window.__pwned=2</script>';
    const reply = await t.api.post(`/api/conversations/${message.conversationId}/messages`, { body: xss, channel: 'auto' }, admin.token);
    expect(reply.body.channelReason).to.equal('widget_connected');
    await page.getByRole('log').getByText('Yes, <b>8 hours</b>.', { exact: false }).waitFor();
    expect(await messageListText(page)).to.include(xss);
    // Screen readers hear it: the live region announces the clinic's new message.
    await liveRegion.said(`New message from ${CLINIC}: ${xss}`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    expect(await page.locator('carethread-widget img, carethread-widget script').count()).to.equal(0);

    // The host page's CSS (magenta serif text, hidden buttons) does not reach into the widget.
    const color = await page.getByRole('button', { name: 'Send' }).evaluate((el) => getComputedStyle(el).display);
    expect(color).not.to.equal('none');
    await page.screenshot({ path: artifactPath('widget-open.png') });
    expect(errors).to.deep.equal([]);
    agentSocket.disconnect();
  });

  it('keeps the conversation across a reload', async () => {
    const { page } = await openPage();
    await startChat(page, 'Reload Ruth');
    await send(page, 'message before reload');
    await page.getByRole('log').getByText('message before reload').waitFor();
    await waitFor(async () => (await messageListText(page)).includes('Sent'));
    await page.reload();
    await launcher(page).click();
    await page.getByRole('log').getByText('message before reload').waitFor();
    expect(await page.getByLabel('Name', { exact: true }).count()).to.equal(0);
  });

  it('sends a message typed while offline exactly once when the connection is back', async () => {
    const { page, context } = await openPage();
    await startChat(page, 'Offline Olga');
    await send(page, 'first, online');
    const conversationId = await conversationOf(t, 'first, online');
    const models = t.hub.services.db.models;
    const cipher = t.hub.services.timeline.cipher;
    await context.setOffline(true);
    await page.evaluate(() => window.dispatchEvent(new Event('offline')));
    const patientId = (await t.hub.services.db.models.Conversation.findById(conversationId).lean())!.patientId;
    // The hub notices a connection that went dead within its ping interval + timeout (20 s).
    await waitFor(async () => !(await t.hub.services.timeline.isWidgetConnected(patientId)), 45_000);
    await send(page, 'typed in a tunnel');
    await page.getByRole('log').getByText('typed in a tunnel').waitFor();
    await page.getByRole('log').getByText('Sending…').waitFor();
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(async () => {
      const stored = await models.Message.find({ conversationId }).lean();
      return stored.some((m) => cipher.decrypt(m.bodyEnc) === 'typed in a tunnel');
    }, 30_000);
    // Once the hub acknowledged it the widget stops resending: no message is still "Sending…".
    await page.getByRole('log').getByText('Sending…').waitFor({ state: 'detached' });
    const stored = await models.Message.find({ conversationId }).lean();
    expect(stored.filter((m) => cipher.decrypt(m.bodyEnc) === 'typed in a tunnel')).to.have.length(1);
  });

  it('shows a visitor who types a known phone number none of that patient’s history', async () => {
    await patientWrites(t, { channel: 'sms', from: '+17205550111', body: 'PRIVATE: my HIV test result?' });
    const { page } = await openPage();
    await startChat(page, 'Nosy Neighbor', { phone: '(720) 555-0111' });
    await send(page, 'show me everything');
    await page.getByRole('log').getByText('show me everything').waitFor();
    // Acknowledged by the hub: the widget has its session and whatever history it was going to get.
    await page.getByRole('log').getByText('Sent').waitFor();
    expect(await messageListText(page)).not.to.include('PRIVATE');
  });

  it('continues by text message with a code, then the agent’s auto reply goes by SMS and the patient’s SMS lands in the same thread', async () => {
    const admin = await t.admin();
    const earlier = await patientWrites(t, { channel: 'sms', from: '+17205550112', body: 'earlier SMS about my prescription' });
    const { page } = await openPage();
    await startChat(page, 'Continuing Carla');
    await send(page, 'now on the website');
    await page.getByRole('log').getByText('now on the website').waitFor();

    await page.getByRole('button', { name: 'Continue by text message' }).click();
    await page.getByLabel('Mobile phone number').fill('720-555-0112');
    const wording = (await t.api.get('/api/widget/config')).body.consentWording.en.sms as string;
    await page.getByLabel(wording).check();
    const askedAt = new Date(Date.now() - 1000);
    await page.getByRole('button', { name: 'Send code' }).click();
    const code = await codeSentTo(t, 'sms', '+17205550112', askedAt);
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Verified. You can close this page: we will continue by text message at •••• 0112.').waitFor();
    await page.getByRole('button', { name: 'Back to chat' }).click();
    // The verified thread: the earlier SMS shows in the widget now.
    await page.getByRole('log').getByText('earlier SMS about my prescription').waitFor();

    await page.close();
    await waitFor(async () => !(await t.hub.services.timeline.isWidgetConnected(earlier.patientId)));
    const reply = await t.api.post(`/api/conversations/${earlier.conversation.id}/messages`, { body: 'Your prescription is ready.', channel: 'auto' }, admin.token);
    expect(reply.status).to.equal(201);
    expect(reply.body.channel).to.equal('sms');
    await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items as { messageId: string; request: { To: string } }[])
      .some((e) => e.messageId === reply.body.id && e.request.To === '+17205550112'));
    const answer = await patientWrites(t, { channel: 'sms', from: '+17205550112', body: 'thanks, picking it up' });
    expect(answer.conversation.id).to.equal(earlier.conversation.id);
    const thread = (await t.api.get(`/api/conversations/${earlier.conversation.id}/messages?limit=50`, admin.token)).body.items as { body: string; channel: string }[];
    expect(thread.map((m) => m.body)).to.include.members(['earlier SMS about my prescription', 'now on the website', 'Your prescription is ready.', 'thanks, picking it up']);
  });

  it('can be used with the keyboard alone: open, start a chat, send, close, with focus kept inside the open panel', async () => {
    const admin = await t.admin();
    const agentSocket = t.socket(admin.token);
    await connected(agentSocket);
    const { page } = await openPage();
    await launcher(page).waitFor();
    // Focus moves a moment after a key press (the widget renders first): wait for it, never read it at once.
    const focused = (locator: ReturnType<typeof launcher>) => waitFor(() => locator.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement));
    await page.keyboard.press('Tab');
    await focused(launcher(page));
    await page.keyboard.press('Enter');
    await page.getByLabel('Name', { exact: true }).waitFor();
    await focused(page.getByLabel('Name', { exact: true }));
    await page.keyboard.type('Keyboard Kim');
    // Tab through the whole form and beyond: focus never leaves the panel.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.tagName.toLowerCase())).to.equal('carethread-widget');
    }
    await page.getByRole('button', { name: 'Start chat' }).focus();
    await page.keyboard.press('Enter');
    await messageBox(page).waitFor();
    await messageBox(page).focus();
    const received = nextEvent<{ message: { body: string } }>(agentSocket, 'message:created', (p) => p.message.body === 'typed without a mouse');
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Enter');
    await received;
    await page.keyboard.press('Escape');
    await focused(launcher(page));
    await waitFor(async () => (await launcher(page).getAttribute('aria-expanded')) === 'false');
    agentSocket.disconnect();
  });

  it('has no serious accessibility violations (axe-core) in the pre-chat form or the chat', async () => {
    const { page } = await openPage();
    const serious = async () => {
      await page.addScriptTag({ content: AXE_SOURCE });
      const results = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
        return axe.run({ include: [['carethread-widget']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      });
      return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
    };
    await launcher(page).click();
    await page.getByLabel('Name', { exact: true }).waitFor();
    expect(await serious()).to.deep.equal([]);
    await page.getByLabel('Name', { exact: true }).fill('Axe Alex');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await send(page, 'checking contrast');
    await page.getByRole('log').getByText('checking contrast').waitFor();
    expect(await serious()).to.deep.equal([]);
  });

  it('speaks Spanish when the page asks for it', async () => {
    const { page } = await openPage('/es');
    await page.getByRole('button', { name: `Chatear con ${CLINIC}` }).click();
    await page.getByRole('button', { name: /Iniciar/ }).waitFor();
  });

  it('stays off a site that may not embed it, saying why in the console', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${otherSite.origin}/`);
    await waitFor(async () => errors.some((e) => e.includes('CareThread widget') && e.includes('WIDGET_ALLOWED_ORIGINS')));
    expect(await page.getByRole('button', { name: `Chat with ${CLINIC}` }).count()).to.equal(0);
  });
});

describe('PHI-safe notifications lead to the secure chat in a real browser', function () {
  this.timeout(90_000);
  let t: TestHub;
  let browser: Browser;
  before(async () => {
    t = await startTestHub({ label: 'widget-secure-link', env: { CLINIC_NAME: CLINIC, PHI_SAFE_NOTIFICATIONS: 'true' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the message only after the patient proves the phone it was sent to', async () => {
    const admin = await t.admin();
    const asked = await patientWrites(t, { channel: 'sms', from: '+17205550113', body: 'question about my results' });
    const reply = await t.api.post(`/api/conversations/${asked.conversation.id}/messages`, { body: 'Your results are normal.', channel: 'sms' }, admin.token);
    const sms = await waitFor(async () => ((await t.api.get('/api/dev/outbox?channel=sms', admin.token)).body.items as { messageId: string; request: { Body: string } }[])
      .find((e) => e.messageId === reply.body.id));
    expect(sms.request.Body).not.to.include('normal');
    const link = new URL(/https?:\/\/\S+/.exec(sms.request.Body)![0]);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${t.url}${link.pathname}`);
    await page.getByRole('link', { name: 'Open the secure chat' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Results Rosa');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await page.getByRole('button', { name: 'Continue by text message' }).click();
    expect(await page.content()).not.to.include('normal');
    await page.getByLabel('Mobile phone number').fill('+1 720 555 0113');
    const wording = (await t.api.get('/api/widget/config')).body.consentWording.en.sms as string;
    await page.getByLabel(wording).check();
    const askedAt = new Date(Date.now() - 1000);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Code', { exact: true }).fill(await codeSentTo(t, 'sms', '+17205550113', askedAt));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('button', { name: 'Back to chat' }).click();
    await page.getByRole('log').getByText('Your results are normal.').waitFor();
  });

  it('answers an altered link with 404 and no chat', async () => {
    const res = await fetch(`${t.url}/widget/verify?link=${'x'.repeat(40)}`);
    expect(res.status).to.equal(404);
    expect(await res.text()).not.to.include('widget.js');
  });
});
