/**
 * The agents' inbox (/inbox/) as the browser tests drive it: opening it in a
 * fresh context, logging in through the UI, the landmarks they find things
 * by, a patient's text through the signed Twilio webhook, the sandbox SMS
 * outbox, and axe-core's serious violations.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { pageErrors } from './browser.ts';
import { inboundSms, postTwilio } from './fake-twilio.ts';
import type { TestHub } from './test-hub.ts';

/** The password TestHub.agent() gives every agent it creates. */
export const PASSWORD = 'agent-password-123';
export const DESKTOP = { width: 1280, height: 800 };
export const TABLET = { width: 768, height: 1024 };
/** axe-core's browser bundle, for a test to run in a page (the widget's tests too). */
export const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface InboxTab {
  page: Page;
  context: BrowserContext;
  /** Script errors and console errors (CSP violations included). */
  errors: string[];
}

/**
 * The inbox in a new browser context (pushed onto `contexts` for the test to
 * close), at `viewport` (desktop by default); `setup` runs on the page before
 * it loads the inbox (e.g. `(page) => page.clock.install()`).
 */
export async function openInbox(
  browser: Browser,
  t: TestHub,
  contexts: BrowserContext[],
  options: { viewport?: { width: number; height: number }; setup?: (page: Page) => void | Promise<void> } = {},
): Promise<InboxTab> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP });
  contexts.push(context);
  const page = await context.newPage();
  const errors = pageErrors(page);
  await options.setup?.(page);
  await page.goto(`${t.url}/inbox/`);
  return { page, context, errors };
}

export async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
}

export const conversationList = (page: Page) => page.getByRole('list', { name: 'Conversations' });
export const listItem = (page: Page, text: string) => conversationList(page).getByRole('button').filter({ hasText: text });
export const timeline = (page: Page) => page.getByRole('list', { name: 'Messages' });
export const replyBox = (page: Page) => page.getByRole('textbox', { name: 'Reply', exact: true });
export const noteBox = (page: Page) => page.getByRole('textbox', { name: 'Note', exact: true });

/** Opens the conversation the list shows with `text`, and waits for its timeline. */
export async function open(page: Page, text: string): Promise<void> {
  await listItem(page, text).click();
  await timeline(page).getByText(text).first().waitFor();
}

/** A patient's text through the signed Twilio webhook. */
export async function smsArrives(t: TestHub, from: string, body: string): Promise<void> {
  const res = await postTwilio(t, '/webhooks/twilio/sms', inboundSms({ From: from, Body: body }));
  expect(res.status).to.equal(200);
}

/** What the hub sent by SMS, read back from the sandbox outbox. */
export async function outboxSms(t: TestHub): Promise<{ messageId: string; request: { To: string; Body: string; MediaUrl?: string[] } }[]> {
  const admin = await t.admin();
  const res = await t.api.get('/api/dev/outbox?channel=sms&limit=500', admin.token);
  expect(res.status).to.equal(200);
  return res.body.items;
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations on the whole page, as "rule: targets". */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the devtools protocol: the page's CSP (rightly) refuses inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
