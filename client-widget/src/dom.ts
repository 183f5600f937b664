/**
 * Small DOM helpers. Text always goes in as text nodes (never as markup), so
 * whatever a patient or an agent wrote is shown as typed.
 */

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;

/** Creates an element: `class` sets the class name, booleans add or omit the attribute, strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces a node's content with the given children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

let counter = 0;
/** An id unique within the widget (ids are scoped to the shadow root). */
export const uid = (prefix: string): string => `ct-${prefix}-${++counter}`;

/** Text for screen readers only. */
export const srOnly = (text: string, attrs: Record<string, AttrValue> = {}): HTMLSpanElement =>
  el('span', { ...attrs, class: 'ct-sr' }, text);

const ICONS = {
  chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
  close: 'M6 6l12 12M18 6L6 18',
  clip: 'M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4L15 7.2',
  send: 'M4 12l16-8-6 16-2.5-6.5L4 12z',
} as const;

/** A decorative icon (hidden from assistive technology: the button around it carries the name). */
export function icon(name: keyof typeof ICONS): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', name === 'chat' || name === 'send' ? 'currentColor' : 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.appendChild(path);
  return svg;
}

/** A labelled form field with an inline error (aria-describedby + aria-invalid). */
export interface Field<T extends HTMLInputElement | HTMLTextAreaElement = HTMLInputElement> {
  wrapper: HTMLDivElement;
  input: T;
  setError(message: string | null): void;
}

export function field<T extends HTMLInputElement | HTMLTextAreaElement>(label: string, input: T, hint?: string): Field<T> {
  const id = uid('field');
  input.id = id;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const error = el('p', { class: 'ct-error', id: errorId, hidden: true });
  const hintNode = hint ? el('p', { class: 'ct-hint', id: hintId }, hint) : null;
  const describe = (withError: boolean) => {
    const ids = [hintNode ? hintId : null, withError ? errorId : null].filter(Boolean).join(' ');
    if (ids) input.setAttribute('aria-describedby', ids);
    else input.removeAttribute('aria-describedby');
  };
  describe(false);
  const wrapper = el('div', { class: 'ct-field' }, el('label', { for: id }, label), hintNode, input, error);
  return {
    wrapper,
    input,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      describe(Boolean(message));
    },
  };
}

/** A checkbox with its label; the label text is used exactly as given. */
export function checkbox(label: string): { wrapper: HTMLDivElement; input: HTMLInputElement; setError(message: string | null): void } {
  const input = el('input', { type: 'checkbox' });
  const f = field(label, input);
  const labelNode = f.wrapper.querySelector('label');
  // Checkbox first, then its label, on one row.
  const wrapper = el('div', { class: 'ct-check' }, input, labelNode, f.wrapper.querySelector('.ct-error'));
  return { wrapper, input, setError: f.setError };
}
