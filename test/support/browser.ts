/**
 * A real browser for UI tests: Debian's chromium driven by playwright-core
 * (npm test installs it through scripts/setup-browser.ts), and host pages
 * served from a second loopback origin, as a clinic's website would be.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** Where test runs leave screenshots for people to look at (git-ignored). */
export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'test-output');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}

/** A clinic website on another origin (http://localhost:PORT while the hub is http://127.0.0.1:PORT). */
export async function startHostSite(pages: Record<string, string>): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const html = pages[path];
    if (html === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { origin, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A host page with its own aggressive CSS (which must not reach into the widget) and the one embed line. */
export function hostPage(hubUrl: string, attributes = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Riverside Family Clinic</title>
<style>* { font-family: serif !important; color: #f0f !important; } button { display: none !important; } div { border: 3px solid lime; }</style>
</head><body><h1>Riverside Family Clinic</h1><p>Welcome.</p>
<script src="${hubUrl}/widget.js" async ${attributes}></script>
</body></html>`;
}

/** Collects the page's uncaught errors and console errors (a test expects none). */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

/**
 * Records every text a live region announces from now on. A live region's
 * text is transient (set a moment after the event, cleared or replaced
 * later), so tests assert on what was announced, not on what it holds now.
 */
export async function recordAnnouncements(page: Page, liveRegion: string): Promise<{ said(text: string, timeoutMs?: number): Promise<void> }> {
  await page.locator(liveRegion).evaluate((region) => {
    const said: string[] = [];
    (window as unknown as { __announced: string[] }).__announced = said;
    new MutationObserver(() => {
      const text = region.textContent ?? '';
      if (text) said.push(text);
    }).observe(region, { childList: true, characterData: true, subtree: true });
  });
  return {
    said: async (text, timeoutMs = 15_000) => {
      await page.waitForFunction((wanted) => (window as unknown as { __announced: string[] }).__announced.some((x) => x.includes(wanted)), text, { timeout: timeoutMs });
    },
  };
}
