/** Keeps Tab and Shift+Tab inside the open panel (a modal dialog); Escape closes it. */

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Focusable and visible elements inside a container, in DOM order. */
export function focusables(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (e) => e.tabIndex >= 0 && !e.closest('[hidden]') && e.getClientRects().length > 0,
  );
}

export function trapFocus(container: HTMLElement, root: ShadowRoot, onEscape: () => void): void {
  container.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' || e.key === 'Esc') {
      e.preventDefault();
      e.stopPropagation();
      onEscape();
      return;
    }
    if (e.key !== 'Tab') return;
    const items = focusables(container);
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) {
      e.preventDefault();
      return;
    }
    const active = root.activeElement;
    // Wrap only at the edges: nothing focusable before (Shift+Tab) or after (Tab) the focused element.
    const follows = (a: Node, b: Node) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
    const atStart = !active || !container.contains(active) || !items.some((i) => i !== active && follows(i, active));
    const atEnd = !active || !container.contains(active) || !items.some((i) => i !== active && follows(active, i));
    if (e.shiftKey && atStart) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && atEnd) {
      e.preventDefault();
      first.focus();
    }
  });
}
