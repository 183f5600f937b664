/**
 * The supervisor dashboard in a real browser (Debian chromium) against a real
 * hub: a day of conversations seeded through the webhooks and the API with
 * known timings on the hub's clock, then a supervisor's KPI tiles and charts
 * for that day (GET /api/reports/kpis), the patients' comments with a link to
 * their conversation (GET /api/reports/csat/comments), and the live queue
 * moving when a patient writes (queue:stats); axe finds nothing serious.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from '../support/browser.ts';
import { logIn, openInbox, outboxSms, seriousViolations, smsArrives, timeline } from '../support/inbox-page.ts';
import { startTestHub, TestClock, waitFor, type Session, type TestHub } from '../support/test-hub.ts';

/** Tuesday 10 March 2026, 10:00 in New York (EDT): the clinic's day under test. */
const DAY = '2026-03-10';
const T0 = Date.parse('2026-03-10T14:00:00Z');
const MINUTE = 60_000;

const tile = (page: Page, testId: string) => page.getByTestId(testId).locator('.tile-value');

/** "5 min", "4 min 59 s", "2 min 1 s" → seconds. */
function seconds(text: string): number {
  const m = /^(?:(\d+) h)?\s*(?:(\d+) min)?\s*(?:(\d+) s)?$/.exec(text.trim());
  if (!m || !text.trim()) throw new Error(`not a duration: ${text}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

describe('supervisor dashboard, in a real browser', function () {
  this.timeout(120_000);
  let t: TestHub;
  let browser: Browser;
  let sam: Session;
  let alice: Session;
  const contexts: BrowserContext[] = [];
  const clock = new TestClock();
  const at = (minutes: number) => clock.setTo(new Date(T0 + minutes * MINUTE));

  before(async () => {
    t = await startTestHub({
      label: 'inbox-dashboard-browser',
      clock,
      env: { CLINIC_NAME: 'Riverside Family Clinic', CLINIC_TIMEZONE: 'America/New_York', TWILIO_FROM_NUMBER: '+15555550100', CSAT_SURVEYS: 'on', CSAT_DELAY_MINUTES: 'sms=0,email=0,webchat=0', QUIET_HOURS: 'off' },
    });
    sam = await t.agent({ name: 'Sam Supervisor', role: 'supervisor' });
    alice = await t.agent({ name: 'Alice Avery' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A patient texts at `opened`, waits for Alice until `assigned`, and has her first reply at `replied` (minutes after T0). */
  async function seedConversation(phone: string, body: string, opened: number, assigned: number, replied: number): Promise<string> {
    const admin = await t.admin();
    at(opened);
    await smsArrives(t, phone, body);
    const id = await waitFor(async () => {
      const res = await t.api.get('/api/conversations?assignee=unassigned&status=open&limit=100', admin.token);
      return (res.body.items as { id: string; preview: { body: string | null } }[]).find((c) => c.preview.body === body)?.id;
    });
    at(assigned);
    expect((await t.api.post(`/api/conversations/${id}/assign`, { assigneeId: alice.agent.id }, admin.token)).status).to.equal(200);
    at(replied);
    const reply = await t.api.post(`/api/conversations/${id}/messages`, { body: 'Thanks for writing, happy to help.', channel: 'auto' }, alice.token);
    expect(reply.status, JSON.stringify(reply.body)).to.be.oneOf([200, 201]);
    return id;
  }

  it('shows a supervisor the day’s KPIs and charts, patients’ comments, and the live queue as a patient writes', async () => {
    // The day: three conversations (first responses 3, 5 and 6 minutes; waits for an agent 1, 2 and 4 minutes).
    const first = await seedConversation('+17205550601', 'Can I move my appointment to Friday?', 0, 1, 3);
    await seedConversation('+17205550602', 'Is the lab open on Saturday?', 10, 12, 15);
    await seedConversation('+17205550603', 'Do I need to fast before my blood test?', 20, 24, 26);
    // The first is resolved; the patient answers the survey with a score and a comment.
    at(30);
    expect((await t.api.post(`/api/conversations/${first}/resolve`, undefined, alice.token)).status).to.equal(200);
    await waitFor(async () => (await outboxSms(t)).some((e) => e.request.To === '+17205550601' && /Reply 1-5/.test(e.request.Body)));
    at(32);
    await smsArrives(t, '+17205550601', '5 Lovely people, quick answers');
    const admin = await t.admin();
    await waitFor(async () => ((await t.api.get(`/api/reports/csat/comments?from=${DAY}&to=${DAY}`, admin.token)).body?.items ?? []).length > 0);

    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, sam.agent.email);
    const dashboardButton = page.getByRole('banner').getByRole('button', { name: 'Dashboard' });
    await dashboardButton.click();
    await page.getByRole('heading', { name: 'Supervisor dashboard' }).waitFor();
    expect(await dashboardButton.getAttribute('aria-pressed')).to.equal('true');
    expect(await page.evaluate(() => location.hash)).to.equal('#/dashboard');

    // The day under test (the clinic's day), for the supervisor's team.
    await page.getByLabel('From', { exact: true }).fill(DAY);
    await page.getByLabel('To', { exact: true }).fill(DAY);
    expect(await page.getByLabel('Team', { exact: true }).inputValue()).to.equal('front-desk');
    await page.getByRole('heading', { name: /^Key figures, Tue, Mar 10 to Tue, Mar 10/ }).waitFor();
    await waitFor(async () => (await tile(page, 'kpi-conversations').textContent()) === '3');
    // Medians, by the hub's clock (a request's own time may add a second).
    expect(seconds((await tile(page, 'kpi-first-response').textContent())!)).to.be.within(5 * 60 - 2, 5 * 60 + 10);
    expect(seconds((await tile(page, 'kpi-queue').textContent())!)).to.be.within(2 * 60 - 2, 2 * 60 + 10);
    expect(await tile(page, 'kpi-csat').textContent()).to.equal('5.0 / 5');
    expect(await page.getByTestId('kpi-csat').innerText()).to.include('100% satisfied · 1 answer');

    // The charts: canvases drawn, each with its text alternative and its data table.
    for (const id of ['chart-volume', 'chart-times']) {
      const canvas = page.getByTestId(`${id}-canvas`);
      await canvas.waitFor();
      const drawn = await canvas.evaluate((el) => {
        const c = el as HTMLCanvasElement;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
        return { width: c.width, height: c.height, painted };
      });
      expect(drawn.width).to.be.above(100);
      expect(drawn.height).to.be.above(100);
      expect(drawn.painted).to.be.above(500);
    }
    expect(await page.getByTestId('chart-volume-canvas').getAttribute('aria-label')).to.equal('Conversations per day, Tue, Mar 10. Conversations: 3 on Tue, Mar 10.');
    const table = page.getByRole('table', { name: 'Conversations per day, as a table' });
    expect(await table.getByRole('row').nth(1).innerText()).to.match(/Tue, Mar 10\s+3/);
    // Shown on demand, for those who cannot see or point at the chart.
    await page.getByRole('button', { name: 'Show as a table' }).first().click();
    expect(await table.isVisible()).to.equal(true);

    // What patients said, with the way to their conversation.
    const comments = page.getByRole('region', { name: 'What patients said' });
    await comments.getByText('Lovely people, quick answers').waitFor();
    await comments.getByText('Score 5 of 5').waitFor();

    // The live queue: nobody waits; a patient writes, and it moves without a reload.
    const waiting = page.getByTestId('queue-front-desk').getByTestId('queue-waiting').locator('.tile-value');
    await waitFor(async () => (await waiting.textContent()) === '0');
    at(40);
    await smsArrives(t, '+17205550604', 'Hello, is anyone there?');
    await waitFor(async () => (await waiting.textContent()) === '1');
    await page.getByTestId('queue-front-desk').getByTestId('queue-longest').waitFor();

    // Nothing wider than the window (the charts' hidden tables included).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(1280);
    // The whole dashboard in the picture: a window tall enough for it (it scrolls in its own pane).
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.screenshot({ path: artifactPath('dashboard.png') });
    expect(await seriousViolations(page)).to.deep.equal([]);

    // The comment's link opens its conversation in the inbox.
    await comments.getByRole('link', { name: 'Open the conversation' }).click();
    await timeline(page).getByText('Can I move my appointment to Friday?').waitFor();
    expect(await page.evaluate(() => location.hash)).to.equal(`#/conversations/${encodeURIComponent(first)}`);
    expect(await dashboardButton.getAttribute('aria-pressed')).to.equal('false');
    // Back: the dashboard again.
    await page.goBack();
    await page.getByRole('heading', { name: 'Supervisor dashboard' }).waitFor();
    expect(errors).to.deep.equal([]);
  });

  it('is not offered to agents', async () => {
    const { page, errors } = await openInbox(browser, t, contexts);
    await logIn(page, alice.agent.email);
    expect(await page.getByRole('button', { name: 'Dashboard' }).count()).to.equal(0);
    expect((await t.api.get('/api/reports/queue', alice.token)).status).to.equal(403);
    expect(errors).to.deep.equal([]);
  });
});
