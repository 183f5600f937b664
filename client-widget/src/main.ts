/**
 * Entry of /widget.js. Reads its own <script> tag first thing (the hub's
 * origin is the origin of its src; `document.currentScript` is only set
 * while the script runs, async or not), then the embed settings, and starts
 * the widget. The only global it touches is `window.careThread`.
 */
import { readSettings, type GlobalSettings } from './settings.ts';
import { Locale } from './strings.ts';
import { Widget } from './widget.ts';

const ownScript = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

interface CareThreadGlobal extends GlobalSettings {
  open?: () => void;
  close?: () => void;
}

function findScript(): HTMLScriptElement | null {
  if (ownScript?.src) return ownScript;
  // Fallback when currentScript is not available (e.g. injected by a tag manager as a module): the last widget.js tag.
  const candidates = Array.from(document.querySelectorAll<HTMLScriptElement>('script[src]')).filter((s) => /\/widget\.js(\?|#|$)/.test(s.src));
  return candidates[candidates.length - 1] ?? null;
}

function boot(): void {
  const holder = window as unknown as { careThread?: unknown };
  const existing = holder.careThread !== null && typeof holder.careThread === 'object' ? (holder.careThread as CareThreadGlobal) : null;
  if (typeof existing?.open === 'function' || document.querySelector('carethread-widget')) {
    console.warn('CareThread widget: already loaded on this page; the second copy does nothing.');
    return;
  }
  const script = findScript();
  let hubOrigin: string;
  try {
    hubOrigin = new URL(script?.src ?? '').origin;
  } catch {
    console.error('CareThread widget: could not tell the hub address (load the widget with <script src="https://YOUR-HUB/widget.js">).');
    return;
  }
  const settings = readSettings(script, existing);
  const widget = new Widget(hubOrigin, settings, new Locale(settings.lang));

  const api: CareThreadGlobal = existing ?? {};
  api.open = () => widget.open();
  api.close = () => widget.close();
  holder.careThread = api;

  const start = () => void widget.start();
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

boot();
