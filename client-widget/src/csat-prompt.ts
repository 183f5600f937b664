/**
 * "How did we do?" in the chat after the clinic resolved it (`csat:request`):
 * five star buttons (each named "4 of 5 stars: good", pressed state said),
 * an optional comment and a send button; then a thank-you. Keyboard: Tab
 * reaches every control, Enter or Space presses, and the arrow keys move
 * between stars. "Not now" hides it until the next request.
 */
import type { WidgetCsatRequest } from '../../server/realtime/widget-events.ts';
import { el, uid } from './dom.ts';
import type { Locale } from './strings.ts';

export interface CsatAnswerResult {
  ok: boolean;
  /** The hub said it was answered already (another tab): thank the patient all the same. */
  already?: boolean;
  message?: string;
}

export interface CsatPromptOptions {
  locale: Locale;
  answer(request: WidgetCsatRequest, score: number, comment: string): Promise<CsatAnswerResult>;
  announce(text: string): void;
}

export class CsatPrompt {
  readonly element: HTMLElement;
  private readonly stars: HTMLButtonElement[];
  private readonly comment: HTMLTextAreaElement;
  private readonly send: HTMLButtonElement;
  private readonly error: HTMLParagraphElement;
  private readonly form: HTMLFormElement;
  private readonly thanks: HTMLParagraphElement;
  private request: WidgetCsatRequest | null = null;
  private score = 0;
  private answered = new Set<string>();

  constructor(private readonly o: CsatPromptOptions) {
    const t = o.locale.t;
    const headingId = uid('csat');
    const commentId = uid('csat-comment');
    const errorId = `${commentId}-error`;
    this.stars = [1, 2, 3, 4, 5].map((n) => {
      const star = el('button', { type: 'button', class: 'ct-star', 'aria-label': t.csatStar(n), 'aria-pressed': 'false', 'data-score': n }, '★');
      star.addEventListener('click', () => this.choose(n));
      star.addEventListener('keydown', (e) => {
        const step = e.key === 'ArrowRight' || e.key === 'ArrowUp' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? -1 : 0;
        if (!step) return;
        e.preventDefault();
        const next = Math.min(5, Math.max(1, n + step));
        this.choose(next);
        this.stars[next - 1]!.focus();
      });
      return star;
    });
    this.comment = el('textarea', { id: commentId, rows: 2, maxlength: 1000, autocomplete: 'off', class: 'ct-csat-comment' });
    this.error = el('p', { class: 'ct-error', id: errorId, role: 'alert' });
    this.send = el('button', { type: 'submit', class: 'ct-primary' }, t.csatSend);
    const notNow = el('button', { type: 'button', class: 'ct-action' }, t.csatNotNow);
    notNow.addEventListener('click', () => this.hide());
    this.form = el(
      'form',
      { class: 'ct-form', novalidate: true, 'aria-labelledby': headingId },
      el('p', { class: 'ct-hint' }, t.csatIntro),
      el('div', { class: 'ct-stars', role: 'group', 'aria-labelledby': headingId, 'aria-describedby': errorId }, ...this.stars),
      el('div', { class: 'ct-field' }, el('label', { for: commentId }, t.csatComment), this.comment),
      this.error,
      el('div', { class: 'ct-csat-actions' }, this.send, notNow),
    );
    this.thanks = el('p', { class: 'ct-notice', role: 'status', tabindex: -1, hidden: true });
    this.element = el('section', { class: 'ct-csat', 'aria-labelledby': headingId, hidden: true }, el('h3', { id: headingId }, t.csatQuestion), this.form, this.thanks);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
  }

  /** A survey from the hub (again after a reconnect): shown unless this one was answered here. */
  show(request: WidgetCsatRequest): void {
    if (this.answered.has(request.surveyId)) return;
    const fresh = this.request?.surveyId !== request.surveyId;
    this.request = request;
    this.comment.maxLength = request.maxCommentLength;
    if (fresh) {
      this.choose(0);
      this.comment.value = '';
      this.error.textContent = '';
    }
    this.form.hidden = false;
    this.thanks.hidden = true;
    const wasHidden = this.element.hidden;
    this.element.hidden = false;
    if (wasHidden) this.o.announce(`${this.o.locale.t.csatQuestion} ${this.o.locale.t.csatIntro}`);
  }

  hide(): void {
    this.element.hidden = true;
  }

  private choose(score: number): void {
    this.score = score;
    this.stars.forEach((star, i) => {
      star.setAttribute('aria-pressed', String(i === score - 1));
      star.classList.toggle('ct-star-on', i < score);
    });
    if (score) this.error.textContent = '';
  }

  private async submit(): Promise<void> {
    const request = this.request;
    if (!request || this.send.disabled) return;
    const t = this.o.locale.t;
    if (!this.score) {
      this.error.textContent = t.csatChoose;
      this.stars[0]!.focus();
      return;
    }
    this.send.disabled = true;
    const result = await this.o.answer(request, this.score, this.comment.value.trim());
    this.send.disabled = false;
    if (!result.ok && !result.already) {
      this.error.textContent = result.message ?? t.genericError;
      return;
    }
    this.answered.add(request.surveyId);
    this.form.hidden = true;
    this.thanks.textContent = t.csatThanks;
    this.thanks.hidden = false;
    this.thanks.focus();
  }
}
