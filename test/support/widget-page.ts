/**
 * The patient's widget as the browser tests drive it: a clinic's host page
 * opened in a fresh context, the launcher and message box found inside the
 * widget, a message sent, and the conversation it started found by the hub.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { pageErrors } from './browser.ts';
import { waitFor, type TestHub } from './test-hub.ts';

/** The clinic name the widget tests give the hub (CLINIC_NAME), which the launcher's label carries. */
export const CLINIC = 'Riverside Family Clinic';

export interface WidgetTab {
  page: Page;
  context: BrowserContext;
  /** Script errors and console errors. */
  errors: string[];
}

/** A host page (`url`, on the clinic site's origin) in a new browser context, pushed onto `contexts` for the test to close. */
export async function openHostPage(browser: Browser, contexts: BrowserContext[], url: string): Promise<WidgetTab> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  const errors = pageErrors(page);
  await page.goto(url);
  return { page, context, errors };
}

export const messageBox = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
export const launcher = (page: Page, clinic = CLINIC) => page.getByRole('button', { name: `Chat with ${clinic}` });

export async function send(page: Page, text: string): Promise<void> {
  await messageBox(page).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** The id of the conversation whose last message is `text` (waited for). */
export async function conversationOf(t: TestHub, text: string): Promise<string> {
  const admin = await t.admin();
  return waitFor(async () => {
    const list = (await t.api.get('/api/conversations?limit=50', admin.token)).body.items as { id: string; preview: { body: string } }[];
    return list.find((c) => c.preview.body === text)?.id;
  });
}
