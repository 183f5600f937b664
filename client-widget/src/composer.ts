/**
 * The message box: a labelled textarea (Enter sends, Shift+Enter is a new
 * line), files staged before sending (checked here for type, size and
 * count), the attach and send buttons.
 */
import type { WidgetConfig } from '../../server/realtime/widget-events.ts';
import { checkFiles } from './attachments.ts';
import { el, icon, uid } from './dom.ts';
import type { Locale } from './strings.ts';

export interface ComposerOptions {
  locale: Locale;
  config: WidgetConfig;
  send(body: string, files: File[]): void;
  typing(isTyping: boolean): void;
}

export class Composer {
  readonly element: HTMLFormElement;
  readonly textarea: HTMLTextAreaElement;
  private staged: File[] = [];
  private readonly stagedList: HTMLUListElement;
  private readonly error: HTMLParagraphElement;
  private typingSince = 0;
  private typingStop: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: ComposerOptions) {
    const t = o.locale.t;
    const id = uid('message');
    const errorId = `${id}-error`;
    this.textarea = el('textarea', { id, rows: 2, maxlength: o.config.maxBodyLength, placeholder: t.message, autocomplete: 'off', 'aria-describedby': errorId });
    this.error = el('p', { class: 'ct-error', id: errorId, role: 'alert' });
    this.stagedList = el('ul', { class: 'ct-staged', hidden: true });

    const fileInput = el('input', { type: 'file', hidden: true, tabindex: -1, 'aria-hidden': 'true', accept: o.config.attachments.contentTypes.join(',') });
    if (o.config.attachments.maxPerMessage > 1) fileInput.multiple = true;
    const attach = el('button', { type: 'button', class: 'ct-icon-button', 'aria-label': t.attach, title: t.attach }, icon('clip'));
    const send = el('button', { type: 'submit', class: 'ct-send' }, icon('send'), el('span', {}, t.send));

    this.element = el(
      'form',
      { class: 'ct-composer', novalidate: true },
      el('label', { for: id, class: 'ct-sr' }, t.message),
      this.stagedList,
      this.error,
      el('div', { class: 'ct-compose-row' }, attach, this.textarea, send),
      fileInput,
    );

    if (o.config.attachments.maxPerMessage < 1 || o.config.attachments.contentTypes.length === 0) attach.hidden = true;
    attach.addEventListener('click', () => fileInput.click());
    fileInput.addEventListener('change', () => {
      const files = Array.from(fileInput.files ?? []);
      fileInput.value = '';
      if (files.length === 0) return;
      const problem = checkFiles(files, this.staged.length, o.config, o.locale);
      this.setError(problem);
      if (problem) return;
      this.staged.push(...files);
      this.renderStaged();
      this.textarea.focus();
    });
    this.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.textarea.addEventListener('input', () => this.noteTyping());
    this.element.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  focus(): void {
    this.textarea.focus();
  }

  private submit(): void {
    const body = this.textarea.value.trim();
    if (!body && this.staged.length === 0) return;
    const files = this.staged;
    this.staged = [];
    this.renderStaged();
    this.setError(null);
    this.textarea.value = '';
    this.stopTyping();
    this.o.send(body, files);
    this.textarea.focus();
  }

  private setError(message: string | null): void {
    this.error.textContent = message ?? '';
  }

  private renderStaged(): void {
    const t = this.o.locale.t;
    this.stagedList.replaceChildren(
      ...this.staged.map((file, i) => {
        const remove = el('button', { type: 'button', class: 'ct-chip-remove', 'aria-label': t.removeFile(file.name) }, icon('close'));
        remove.addEventListener('click', () => {
          this.staged.splice(i, 1);
          this.renderStaged();
          this.textarea.focus();
        });
        return el('li', { class: 'ct-chip' }, el('span', {}, `${file.name} (${this.o.locale.size(file.size)})`), remove);
      }),
    );
    this.stagedList.hidden = this.staged.length === 0;
  }

  /** typing: true at most every 3 s while keys are pressed, false after 4 s of quiet or on send. */
  private noteTyping(): void {
    const now = Date.now();
    if (now - this.typingSince > 3000) {
      this.typingSince = now;
      this.o.typing(true);
    }
    clearTimeout(this.typingStop);
    this.typingStop = setTimeout(() => this.stopTyping(), 4000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingStop);
    if (this.typingSince) this.o.typing(false);
    this.typingSince = 0;
  }
}
