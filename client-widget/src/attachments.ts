/**
 * Attachments: the client-side check before upload, and showing a message's
 * files (fetched with the visitor token; images inline, others downloaded).
 */
import type { WidgetConfig, WidgetMessage } from '../../server/realtime/widget-events.ts';
import { el } from './dom.ts';
import type { HubApi } from './hub-api.ts';
import type { Locale } from './strings.ts';

/** Raster images only are shown inline (never SVG or HTML, whatever the hub says). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Why these files cannot be sent, or null when they can. */
export function checkFiles(files: readonly File[], alreadyStaged: number, config: WidgetConfig, locale: Locale): string | null {
  const { maxBytes, contentTypes, maxPerMessage } = config.attachments;
  if (alreadyStaged + files.length > maxPerMessage) return locale.t.tooManyFiles(maxPerMessage);
  for (const file of files) {
    if (!typeAllowed(file.type, contentTypes)) return locale.t.fileType(file.name);
    if (file.size > maxBytes) return locale.t.fileTooLarge(file.name, locale.size(maxBytes));
  }
  return null;
}

function typeAllowed(type: string, allowed: readonly string[]): boolean {
  const t = type.toLowerCase();
  if (!t) return false;
  return allowed.some((a) => {
    const x = a.toLowerCase().trim();
    return x === t || (x.endsWith('/*') && t.startsWith(x.slice(0, -1)));
  });
}

/** Renders the files of stored messages; object URLs are revoked by `clear()`. */
export class AttachmentViewer {
  private urls: string[] = [];

  constructor(
    private readonly api: HubApi,
    private readonly token: () => string | null,
    private readonly locale: Locale,
  ) {}

  render(message: WidgetMessage, index: number): HTMLLIElement {
    const file = message.attachments[index];
    const item = el('li', { class: 'ct-file' });
    if (!file) return item;
    const label = `${file.name} (${this.locale.size(file.size)})`;
    if (INLINE_IMAGES.has(file.contentType.toLowerCase())) {
      const status = el('span', { class: 'ct-file-name' }, label);
      item.append(status);
      void this.fetch(message.id, index, file.contentType).then(
        (url) => {
          const img = el('img', { alt: file.name, src: url, class: 'ct-image' });
          item.replaceChildren(img);
        },
        () => (status.textContent = this.locale.t.loadFailed(file.name)),
      );
      return item;
    }
    const button = el('button', { type: 'button', class: 'ct-link' }, this.locale.t.download(label));
    const error = el('span', { class: 'ct-error-inline', role: 'status' });
    button.addEventListener('click', () => {
      button.disabled = true;
      error.textContent = '';
      // Served as opaque bytes: a downloaded page can never run in the host page's origin.
      this.fetch(message.id, index, 'application/octet-stream')
        .then((url) => {
          const a = el('a', { href: url, download: file.name });
          a.click();
        })
        .catch(() => (error.textContent = this.locale.t.loadFailed(file.name)))
        .finally(() => (button.disabled = false));
    });
    item.append(button, error);
    return item;
  }

  clear(): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }

  private async fetch(messageId: string, index: number, type: string): Promise<string> {
    const token = this.token();
    if (!token) throw new Error('no token');
    const blob = await this.api.downloadAttachment(token, messageId, index);
    const url = URL.createObjectURL(new Blob([blob], { type }));
    this.urls.push(url);
    return url;
  }
}
