/**
 * The chat view of a visitor with a token: options (continue by text or
 * email, end chat), the message log, the clinic's typing indicator and the
 * composer. Owns the socket connection for as long as the token lives.
 */
import type { WidgetConfig, WidgetSession } from '../../server/realtime/widget-events.ts';
import { AttachmentViewer } from './attachments.ts';
import { Composer } from './composer.ts';
import { Connection } from './connection.ts';
import { createContinueForm } from './continue-elsewhere.ts';
import { CsatPrompt } from './csat-prompt.ts';
import { el } from './dom.ts';
import { errorText, readableError, type HubApi } from './hub-api.ts';
import { MessageList } from './message-list.ts';
import type { Locale } from './strings.ts';
import { newClientId, type VisitorStore } from './visitor-store.ts';

export interface ChatPanelOptions {
  hubOrigin: string;
  api: HubApi;
  store: VisitorStore;
  config: WidgetConfig;
  locale: Locale;
  /** The session from creating the visitor, if it was just created. */
  session: WidgetSession | null;
  /** The panel is open and the page visible. */
  isVisible(): boolean;
  announce(text: string): void;
  /** A new clinic message arrived while the panel was not in view. */
  unseenMessage(): void;
  /** The token is gone (ended here or elsewhere, or refused): back to the pre-chat form. */
  ended(notice: string | null): void;
  /** The hub refused this page's origin. */
  rejected(): void;
}

const TYPING_TIMEOUT_MS = 6000;

export class ChatPanel {
  readonly element: HTMLDivElement;
  private readonly connection: Connection;
  private readonly list: MessageList;
  private readonly files: AttachmentViewer;
  private readonly composer: Composer;
  private readonly csat: CsatPrompt;
  private readonly main: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly typing: HTMLParagraphElement;
  private readonly offline: HTMLParagraphElement;
  private session: WidgetSession | null;
  private seenUpTo = 0;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private offlineTimer: ReturnType<typeof setTimeout> | undefined;
  private focusSide: (() => void) | null = null;
  private destroyed = false;

  constructor(private readonly o: ChatPanelOptions) {
    const t = o.locale.t;
    this.session = o.session;
    this.files = new AttachmentViewer(o.api, () => o.store.token, o.locale);
    this.list = new MessageList(o.locale, o.config.clinicName, this.files);
    this.composer = new Composer({
      locale: o.locale,
      config: o.config,
      send: (body, files) => void this.send(body, files),
      typing: (isTyping) => this.connection.typing(isTyping),
    });
    this.csat = new CsatPrompt({
      locale: o.locale,
      announce: (text) => o.announce(text),
      answer: async (request, score, comment) => {
        const answer = await this.connection.csatAnswer(request.surveyId, score, comment);
        if (!answer) return { ok: false, message: t.notConnected };
        if (answer.ok) return { ok: true };
        // Answered already (another tab) or no longer waiting: nothing more to ask of the patient.
        const settled = answer.error.code === 'CONFLICT' || answer.error.code === 'NOT_FOUND';
        return { ok: false, already: settled, message: readableError(answer.error.message, answer.error.field) };
      },
    });
    this.typing = el('p', { class: 'ct-typing', hidden: true }, t.typing(o.config.clinicName));
    this.offline = el('p', { class: 'ct-offline', role: 'status', hidden: true });

    const smsButton = el('button', { type: 'button', class: 'ct-action' }, t.continueSms);
    const emailButton = el('button', { type: 'button', class: 'ct-action' }, t.continueEmail);
    const endButton = el('button', { type: 'button', class: 'ct-action' }, t.endChat);
    smsButton.addEventListener('click', () => this.showContinue('sms', smsButton));
    emailButton.addEventListener('click', () => this.showContinue('email', emailButton));
    endButton.addEventListener('click', () => {
      endButton.disabled = true;
      void this.end();
    });

    this.main = el(
      'div',
      { class: 'ct-main' },
      el('div', { class: 'ct-actions', role: 'group', 'aria-label': t.chatOptions }, smsButton, emailButton, endButton),
      this.offline,
      this.list.element,
      this.typing,
      this.csat.element,
      this.composer.element,
    );
    this.side = el('div', { class: 'ct-main', hidden: true });
    this.element = el('div', { class: 'ct-chat' }, this.main, this.side);

    for (const q of o.store.queue()) this.list.addPending(q, { kind: 'sending' });

    this.connection = new Connection(o.hubOrigin, o.store, {
      shown: () => ({ conversationId: this.list.conversationId, lastSeq: this.list.lastSeq }),
      session: (session) => (this.session = session),
      reset: (conversationId) => {
        this.list.reset(conversationId);
        this.seenUpTo = 0;
      },
      message: (m, live) => {
        const added = this.list.upsert(m);
        if (!added || m.direction !== 'outbound') return;
        this.setTyping(false);
        if (live) {
          const text = m.body || t.files(m.attachments.map((a) => a.name).join(', '));
          o.announce(t.newMessage(o.config.clinicName, text));
          if (!o.isVisible()) o.unseenMessage();
        }
        this.markSeen();
      },
      typing: (isTyping) => this.setTyping(isTyping),
      online: (connected) => this.setOnline(connected),
      sendFailed: (clientId, reason) => this.list.setPending(clientId, { kind: 'failed', reason: t.notSent(reason) }),
      ended: () => this.finish(t.chatEnded),
      rejected: () => o.rejected(),
      csatRequest: (request) => this.csat.show(request),
    });
    this.setOnline(false);
    this.connection.start();
  }

  focus(): void {
    if (this.focusSide) this.focusSide();
    else this.composer.focus();
  }

  /** The panel was opened (scrolls to the newest message), or the page became visible or hidden. */
  visibilityChanged(opened = false): void {
    if (!this.o.isVisible()) return;
    if (opened) this.list.scrollToEnd();
    this.markSeen();
  }

  /** Stops the socket (the widget is going away or the visitor changes). */
  destroy(): void {
    this.destroyed = true;
    this.connection.stop();
    clearTimeout(this.typingTimer);
    clearTimeout(this.offlineTimer);
    this.files.clear();
  }

  private markSeen(): void {
    if (!this.o.isVisible() || !this.side.hidden) return;
    const seq = this.list.lastClinicSeq;
    if (seq > this.seenUpTo && this.connection.connected) {
      this.seenUpTo = seq;
      this.connection.seen(seq);
    }
  }

  private setTyping(isTyping: boolean): void {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !isTyping;
    if (isTyping) this.typingTimer = setTimeout(() => (this.typing.hidden = true), TYPING_TIMEOUT_MS);
  }

  private setOnline(connected: boolean): void {
    clearTimeout(this.offlineTimer);
    if (connected) {
      this.offline.hidden = true;
      this.offline.textContent = '';
      this.markSeen();
      return;
    }
    this.setTyping(false);
    // A short grace period: a quick reconnect should not flash the notice.
    this.offlineTimer = setTimeout(() => {
      this.offline.hidden = false;
      this.offline.textContent = this.o.locale.t.offline;
    }, 2500);
  }

  private async send(body: string, files: File[]): Promise<void> {
    const t = this.o.locale.t;
    const clientId = newClientId();
    const createdAt = new Date().toISOString();
    const attachments = files.map((f) => ({ name: f.name, contentType: f.type, size: f.size }));
    this.list.addPending({ clientId, body, attachments, createdAt }, { kind: files.length ? 'uploading' : 'sending' });
    const attachmentIds: string[] = [];
    for (const file of files) {
      try {
        const token = this.o.store.token;
        if (!token) return;
        attachmentIds.push((await this.o.api.uploadAttachment(token, file)).attachmentId);
      } catch (err) {
        this.list.setPending(clientId, { kind: 'failed', reason: t.uploadFailed(file.name, errorText(err, t)) });
        return;
      }
    }
    if (this.destroyed) return;
    this.o.store.enqueue({ clientId, body, attachmentIds, attachments, createdAt });
    this.list.setPending(clientId, { kind: 'sending' });
    void this.connection.flush();
  }

  private showContinue(channel: 'sms' | 'email', opener: HTMLButtonElement): void {
    const prefill = channel === 'sms' ? this.session?.prefill.phone : this.session?.prefill.email;
    const form = createContinueForm({
      channel,
      locale: this.o.locale,
      config: this.o.config,
      connection: this.connection,
      prefill: prefill ?? null,
      back: () => {
        this.side.hidden = true;
        this.side.replaceChildren();
        this.main.hidden = false;
        this.focusSide = null;
        this.list.scrollToEnd();
        this.markSeen();
        opener.focus();
      },
    });
    this.side.replaceChildren(form.element);
    this.main.hidden = true;
    this.side.hidden = false;
    this.focusSide = form.focus;
    form.focus();
  }

  /** "End chat": ends the session on the hub (when connected), then forgets everything here. */
  private async end(): Promise<void> {
    await this.connection.endSession();
    this.finish(this.o.locale.t.chatEnded);
  }

  private finish(notice: string): void {
    if (this.destroyed) return;
    this.destroy();
    this.o.store.forget();
    this.list.clear();
    this.o.ended(notice);
  }
}
