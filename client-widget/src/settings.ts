/**
 * Embed settings: the script tag's data-* attributes, else the
 * `window.careThread` object the host page set before the script.
 */
import type { WidgetLanguage } from '../../server/realtime/widget-events.ts';
import { pickLanguage } from './strings.ts';

export interface PortalIdentity {
  id: string;
  /** When the portal's server made the proof (Unix seconds): proofs expire. */
  issuedAt: number;
  hash: string;
  name: string | null;
}

export interface EmbedSettings {
  lang: WidgetLanguage;
  position: 'left' | 'right';
  open: boolean;
  /** A logged-in portal's patient (id + HMAC hash): the pre-chat form is skipped. */
  patient: PortalIdentity | null;
}

/** What a host page may set on `window.careThread` before the script runs. */
export interface GlobalSettings {
  lang?: unknown;
  position?: unknown;
  open?: unknown;
  patient?: { id?: unknown; issuedAt?: unknown; hash?: unknown; name?: unknown } | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
const flag = (value: unknown): boolean | null =>
  typeof value === 'boolean' ? value : typeof value === 'string' ? !['false', '0', 'no', 'off'].includes(value.trim().toLowerCase()) : null;

export function readSettings(script: HTMLScriptElement | null, global: GlobalSettings | null): EmbedSettings {
  const data = (name: string): string | null => script?.getAttribute(`data-${name}`) ?? null;
  const g = global ?? {};
  const gp = g.patient && typeof g.patient === 'object' ? g.patient : {};

  const position = text(data('position')) ?? text(g.position);
  const id = text(data('patient-id')) ?? text(gp.id);
  const hash = text(data('patient-hash')) ?? text(gp.hash);
  const issuedAt = Number(text(data('patient-issued-at')) ?? (typeof gp.issuedAt === 'number' ? String(gp.issuedAt) : text(gp.issuedAt)));
  const name = text(data('patient-name')) ?? text(gp.name);

  return {
    lang: pickLanguage([
      text(data('lang')),
      text(g.lang),
      document.documentElement.getAttribute('lang'),
      ...(navigator.languages ?? [navigator.language]),
    ]),
    position: position?.toLowerCase() === 'left' ? 'left' : 'right',
    open: flag(data('open')) ?? flag(g.open) ?? false,
    patient: id && hash && Number.isInteger(issuedAt) ? { id, issuedAt, hash, name } : null,
  };
}
