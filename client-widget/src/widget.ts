/**
 * The widget's shell: a host element on <body> with an open shadow root,
 * the launcher, the modal panel (heading, close button, away banner) and the
 * view inside it: the pre-chat form, "connecting" for a portal visitor, or
 * the chat.
 */
import type { WidgetConfig, WidgetSession } from '../../server/realtime/widget-events.ts';
import { ChatPanel } from './chat-panel.ts';
import { el, icon } from './dom.ts';
import { focusables, trapFocus } from './focus-trap.ts';
import { errorText, HubApi, HubError } from './hub-api.ts';
import { createPrechatForm } from './prechat-form.ts';
import type { EmbedSettings } from './settings.ts';
import type { Locale } from './strings.ts';
import { applyStyles } from './styles.ts';
import { VisitorStore } from './visitor-store.ts';

interface View {
  element: HTMLElement;
  focus(): void;
}

export class Widget {
  private readonly api: HubApi;
  private readonly store: VisitorStore;
  private config: WidgetConfig | null = null;
  private host: HTMLElement | null = null;
  private shadow: ShadowRoot | null = null;
  private root!: HTMLDivElement;
  private launcher!: HTMLButtonElement;
  private badge!: HTMLSpanElement;
  private unreadText!: HTMLSpanElement;
  private panel!: HTMLDivElement;
  private body!: HTMLDivElement;
  private live!: HTMLDivElement;
  private view: View | null = null;
  private chat: ChatPanel | null = null;
  private portalPending = false;
  private isOpen = false;
  private wantOpen = false;
  private unread = 0;
  private liveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly hubOrigin: string,
    private readonly settings: EmbedSettings,
    private readonly locale: Locale,
  ) {
    this.api = new HubApi(hubOrigin);
    this.store = new VisitorStore(hubOrigin);
  }

  async start(): Promise<void> {
    try {
      this.config = await this.api.config(this.locale.lang);
    } catch (err) {
      if (err instanceof HubError && err.code === 'ORIGIN_NOT_ALLOWED') console.error(`CareThread widget: ${err.message}`);
      else console.error(`CareThread widget: could not load the configuration from ${this.hubOrigin} (${err instanceof Error ? err.message : String(err)}); the chat is not shown.`);
      return;
    }
    // A token belongs to the portal identity it was made for (or to none): another patient on this browser never sees it.
    if (this.store.token && this.store.portalPatientId !== (this.settings.patient?.id ?? null)) this.store.forget();
    this.mount(this.config);
    this.showStart(null);
    if (this.settings.open || this.wantOpen) this.open(this.wantOpen || !this.pageHasFocus());
  }

  /** Opens the panel and moves focus into it (unless told not to: an automatic open on load while the page has focus elsewhere). */
  open(moveFocus = true): void {
    if (!this.config) {
      this.wantOpen = true;
      return;
    }
    if (!this.isOpen) {
      this.isOpen = true;
      this.panel.hidden = false;
      this.root.classList.add('ct-open');
      this.launcher.setAttribute('aria-expanded', 'true');
      this.setUnread(0);
      if (this.portalPending) void this.startPortal();
      this.chat?.visibilityChanged(true);
    }
    if (moveFocus) this.view?.focus();
  }

  /** Closes the panel; focus returns to the launcher if it was inside. */
  close(): void {
    this.wantOpen = false;
    if (!this.isOpen) return;
    const hadFocus = this.shadow?.activeElement != null;
    this.isOpen = false;
    this.panel.hidden = true;
    this.root.classList.remove('ct-open');
    this.launcher.setAttribute('aria-expanded', 'false');
    if (hadFocus) this.launcher.focus();
  }

  private pageHasFocus(): boolean {
    const active = document.activeElement;
    return active !== null && active !== document.body && active !== document.documentElement;
  }

  private visible(): boolean {
    return this.isOpen && document.visibilityState === 'visible';
  }

  private mount(config: WidgetConfig): void {
    const t = this.locale.t;
    const host = document.createElement('carethread-widget');
    // Inline and !important: the host page's stylesheets cannot reach in (all: initial) or move the widget.
    const hostStyle: [string, string][] = [['all', 'initial'], ['position', 'fixed'], ['top', '0'], ['left', '0'], ['width', '0'], ['height', '0'], ['z-index', '2147483000'], ['display', 'block']];
    for (const [name, value] of hostStyle) host.style.setProperty(name, value, 'important');
    const shadow = host.attachShadow({ mode: 'open' });
    applyStyles(shadow);

    const titleId = 'ct-title';
    const panelId = 'ct-panel';
    this.live = el('div', { class: 'ct-sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.badge = el('span', { class: 'ct-badge-count', 'aria-hidden': 'true', hidden: true });
    this.unreadText = el('span', { id: 'ct-unread', hidden: true });
    this.launcher = el(
      'button',
      { type: 'button', class: 'ct-launcher', 'aria-label': t.launcher(config.clinicName), 'aria-expanded': 'false', 'aria-controls': panelId, 'aria-describedby': 'ct-unread' },
      icon('chat'),
      this.badge,
    );
    this.launcher.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));

    const closeButton = el('button', { type: 'button', class: 'ct-icon-button', 'aria-label': t.closeChat, title: t.closeChat }, icon('close'));
    closeButton.addEventListener('click', () => this.close());
    const away = config.away
      ? el('p', { class: 'ct-away' }, t.away, config.nextOpenAt && this.locale.weekdayTime(config.nextOpenAt) ? ` ${t.awayUntil(this.locale.weekdayTime(config.nextOpenAt))}` : '')
      : null;
    this.body = el('div', { class: 'ct-body' });
    this.panel = el(
      'div',
      { id: panelId, class: 'ct-panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, tabindex: -1, hidden: true },
      el('div', { class: 'ct-header' }, el('h2', { id: titleId }, config.clinicName), closeButton),
      away,
      this.body,
    );
    trapFocus(this.panel, shadow, () => this.close());

    this.root = el('div', { class: `ct-root${this.settings.position === 'left' ? ' ct-left' : ''}`, lang: this.locale.lang }, this.live, this.unreadText, this.launcher, this.panel);
    shadow.appendChild(this.root);
    document.body.appendChild(host);
    this.host = host;
    this.shadow = shadow;

    document.addEventListener('visibilitychange', () => {
      if (this.visible()) this.setUnread(0);
      this.chat?.visibilityChanged();
    });
  }

  /** The first view for a visitor: the chat with a stored token, else the portal's automatic start, else the form. */
  private showStart(notice: string | null): void {
    if (this.store.token) return this.showChat(null);
    if (this.settings.patient && !notice) {
      this.showStatus(this.locale.t.connecting);
      this.portalPending = true;
      if (this.isOpen) void this.startPortal();
      return;
    }
    this.showPrechat(notice);
  }

  private showPrechat(notice: string | null): void {
    const config = this.config;
    if (!config) return;
    this.setView(
      createPrechatForm({
        api: this.api,
        config,
        locale: this.locale,
        notice,
        started: (response) => {
          this.store.startVisitor(response.token, null);
          this.showChat(response.session);
        },
      }),
      true,
    );
  }

  /** A logged-in portal patient: the visitor is made from the portal's identity proof, without the form. */
  private async startPortal(): Promise<void> {
    const patient = this.settings.patient;
    if (!patient || !this.portalPending) return;
    this.portalPending = false;
    try {
      const response = await this.api.createVisitor({
        name: patient.name ?? '', portal: { patientId: patient.id, issuedAt: patient.issuedAt, hash: patient.hash }, language: this.locale.lang,
      });
      this.store.startVisitor(response.token, patient.id);
      this.showChat(response.session);
    } catch (err) {
      console.error(`CareThread widget: the portal identity was not accepted (${err instanceof Error ? err.message : String(err)})`);
      // Still reachable: the pre-chat form (the patient is not told about hashes; a network problem is said).
      this.showPrechat(err instanceof HubError && err.status !== 0 ? null : errorText(err, this.locale.t));
    }
  }

  private showStatus(text: string): void {
    const status = el('p', { class: 'ct-center', role: 'status', tabindex: -1 }, text);
    this.setView({ element: status, focus: () => status.focus() });
  }

  private showChat(session: WidgetSession | null): void {
    const config = this.config;
    if (!config) return;
    this.chat?.destroy();
    const chat = new ChatPanel({
      hubOrigin: this.hubOrigin,
      api: this.api,
      store: this.store,
      config,
      locale: this.locale,
      session,
      isVisible: () => this.visible(),
      announce: (text) => this.announce(text),
      unseenMessage: () => this.setUnread(this.unread + 1),
      ended: (notice) => {
        this.chat = null;
        this.showStart(notice);
      },
      rejected: () => this.remove(),
    });
    this.chat = chat;
    this.setView({ element: chat.element, focus: () => chat.focus() });
  }

  private setView(view: View, scroll = false): void {
    const focusWasInside = this.isOpen && this.shadow?.activeElement != null && this.panel.contains(this.shadow.activeElement);
    const element = scroll ? el('div', { class: 'ct-scroll' }, view.element) : view.element;
    this.body.replaceChildren(element);
    this.view = view;
    if (this.isOpen && (focusWasInside || !this.shadow?.activeElement)) view.focus();
    if (this.isOpen && focusables(this.panel).length === 0) this.panel.focus();
  }

  private setUnread(count: number): void {
    this.unread = count;
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 9 ? '9+' : String(count);
    this.unreadText.textContent = count ? this.locale.t.unread(count) : '';
  }

  /** Says a text once in the polite live region (cleared first so the same text is said again). */
  private announce(text: string): void {
    clearTimeout(this.liveTimer);
    this.live.textContent = '';
    this.liveTimer = setTimeout(() => {
      this.live.textContent = text;
      // Emptied again later: the text is not left for someone reading the page to stumble on.
      this.liveTimer = setTimeout(() => (this.live.textContent = ''), 10_000);
    }, 50);
  }

  /** The hub refused this page: the widget goes away entirely. */
  private remove(): void {
    this.chat?.destroy();
    this.chat = null;
    this.host?.remove();
    this.host = null;
  }
}
