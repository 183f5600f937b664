/**
 * The conversation as a `role="log"` list: the hub's messages in seq order,
 * once per id, then the patient's messages not yet stored (pending bubbles,
 * keyed by clientId, replaced in place by the stored message).
 */
import type { WidgetMessage } from '../../server/realtime/widget-events.ts';
import type { AttachmentViewer } from './attachments.ts';
import { append, el, srOnly } from './dom.ts';
import type { Locale } from './strings.ts';

/** `reason` of a failure is the whole text shown under the bubble. */
export type PendingState = { kind: 'uploading' } | { kind: 'sending' } | { kind: 'failed'; reason: string };

export interface PendingMessage {
  clientId: string;
  body: string;
  attachments: WidgetMessage['attachments'];
  createdAt: string;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'’]/g;

/** Text with its http(s) links made clickable, built from text nodes and anchors only. */
function linkified(text: string): DocumentFragment {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    append(out, text.slice(last, start), el('a', { href: match[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, match[0]));
    last = start + match[0].length;
  }
  append(out, text.slice(last));
  return out;
}

export class MessageList {
  /** The scrolling container (`role="log"`). */
  readonly element: HTMLDivElement;
  private readonly list: HTMLOListElement;
  private readonly stored = new Map<string, { message: WidgetMessage; node: HTMLLIElement }>();
  private readonly pending = new Map<string, HTMLLIElement>();
  conversationId: string | null = null;

  constructor(
    private readonly locale: Locale,
    private readonly clinicName: string,
    private readonly files: AttachmentViewer,
  ) {
    this.list = el('ol', { class: 'ct-list' });
    // aria-live off: the log is read on demand; new clinic messages are announced once by the widget's live region.
    this.element = el('div', { class: 'ct-log', role: 'log', 'aria-live': 'off', 'aria-label': locale.t.messages, tabindex: 0 }, this.list);
  }

  get lastSeq(): number {
    let max = 0;
    for (const { message } of this.stored.values()) max = Math.max(max, message.seq);
    return max;
  }

  /** The highest seq of the clinic's messages (for messages:seen). */
  get lastClinicSeq(): number {
    let max = 0;
    for (const { message } of this.stored.values()) if (message.direction === 'outbound') max = Math.max(max, message.seq);
    return max;
  }

  /** Empties the list of the hub's messages (pending bubbles stay: they are still to be sent). */
  reset(conversationId: string | null): void {
    for (const { node } of this.stored.values()) node.remove();
    this.stored.clear();
    this.files.clear();
    this.conversationId = conversationId;
  }

  /** Removes everything (the chat ended). */
  clear(): void {
    this.reset(null);
    for (const node of this.pending.values()) node.remove();
    this.pending.clear();
  }

  /** Adds or updates a stored message; true when it was new. */
  upsert(message: WidgetMessage): boolean {
    if (this.conversationId === null) this.conversationId = message.conversationId;
    const known = this.stored.get(message.id);
    const stick = this.nearBottom();
    const node = this.render(message);
    if (known) {
      const same = known.message.body === message.body && known.message.attachments.length === message.attachments.length;
      const oldMeta = known.node.querySelector('.ct-meta');
      const newMeta = node.querySelector('.ct-meta');
      // A status change: only the meta line changes (images are not fetched again).
      if (same && oldMeta && newMeta) oldMeta.replaceWith(newMeta);
      else known.node.replaceWith(node);
      this.stored.set(message.id, { message, node: same && oldMeta && newMeta ? known.node : node });
      return false;
    }
    const bubble = message.clientId ? this.pending.get(message.clientId) : undefined;
    if (bubble && message.clientId) {
      this.pending.delete(message.clientId);
      bubble.remove();
    }
    this.stored.set(message.id, { message, node });
    this.insertBySeq(node, message.seq);
    if (stick || bubble) this.scrollToEnd();
    return true;
  }

  addPending(message: PendingMessage, state: PendingState): void {
    if (this.pending.has(message.clientId) || [...this.stored.values()].some((s) => s.message.clientId === message.clientId)) return;
    const node = this.renderPending(message, state);
    this.pending.set(message.clientId, node);
    this.list.append(node);
    this.scrollToEnd();
  }

  setPending(clientId: string, state: PendingState): void {
    const node = this.pending.get(clientId);
    const status = node?.querySelector('.ct-status');
    if (!node || !status) return;
    status.replaceWith(this.pendingStatus(state));
  }

  scrollToEnd(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  private nearBottom(): boolean {
    const e = this.element;
    return e.scrollHeight - e.scrollTop - e.clientHeight < 80;
  }

  private insertBySeq(node: HTMLLIElement, seq: number): void {
    // After the last stored message with a lower seq; before pending bubbles.
    let before: Element | null = this.list.firstElementChild;
    for (const child of Array.from(this.list.children)) {
      const childSeq = Number((child as HTMLElement).dataset.seq ?? NaN);
      if (Number.isNaN(childSeq) || childSeq > seq) {
        before = child;
        break;
      }
      before = child.nextElementSibling;
    }
    this.list.insertBefore(node, before);
  }

  private render(m: WidgetMessage): HTMLLIElement {
    const t = this.locale.t;
    const mine = m.author === 'patient';
    const node = this.bubble(mine, m.author === 'patient' ? t.you : this.clinicName, m.body, m.createdAt);
    node.dataset.seq = String(m.seq);
    node.dataset.id = m.id;
    if (m.attachments.length) {
      const files = el('ul', { class: 'ct-files' });
      m.attachments.forEach((_, i) => files.append(this.files.render(m, i)));
      node.querySelector('.ct-bubble')?.append(files);
    }
    const meta = node.querySelector('.ct-meta');
    if (meta && m.channel !== 'webchat') append(meta, el('span', { class: 'ct-badge' }, m.channel === 'sms' ? t.bySms : t.byEmail));
    if (meta && mine) append(meta, el('span', { class: 'ct-status' }, el('span', { 'aria-hidden': 'true' }, '✓ '), t.sent));
    return node;
  }

  private renderPending(m: PendingMessage, state: PendingState): HTMLLIElement {
    const node = this.bubble(true, this.locale.t.you, m.body, m.createdAt);
    node.classList.add('ct-pending');
    if (m.attachments.length) {
      node.querySelector('.ct-bubble')?.append(el('ul', { class: 'ct-files' }, ...m.attachments.map((a) => el('li', { class: 'ct-file' }, a.name))));
    }
    node.querySelector('.ct-meta')?.append(this.pendingStatus(state));
    return node;
  }

  private pendingStatus(state: PendingState): HTMLSpanElement {
    const t = this.locale.t;
    if (state.kind === 'failed') return el('span', { class: 'ct-status ct-status-failed' }, state.reason);
    return el('span', { class: 'ct-status' }, state.kind === 'uploading' ? t.uploading : t.sending);
  }

  private bubble(mine: boolean, author: string, body: string, createdAt: string): HTMLLIElement {
    const bubble = el('div', { class: 'ct-bubble' }, srOnly(`${author}: `));
    if (body) bubble.append(el('p', { class: 'ct-text' }, linkified(body)));
    const meta = el('div', { class: 'ct-meta' }, el('time', { datetime: createdAt }, this.locale.time(createdAt)));
    return el('li', { class: mine ? 'ct-msg ct-mine' : 'ct-msg ct-theirs' }, bubble, meta);
  }
}
