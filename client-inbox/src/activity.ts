/**
 * Whether a person is at the keyboard. Requests the inbox makes on its own
 * (because a live event arrived) count as activity on the hub, so it only
 * makes them while the agent was active lately: an unattended screen must
 * still be logged off automatically.
 */
let lastInput = Date.now();
const listeners = new Set<() => void>();

export function watchActivity(target: Document = document): void {
  const mark = () => {
    lastInput = Date.now();
    for (const listener of listeners) listener();
  };
  for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) target.addEventListener(type, mark, { capture: true, passive: true });
}

export function recentlyActive(withinMs = 60_000): boolean {
  return Date.now() - lastInput < withinMs && document.visibilityState === 'visible';
}

/** How long since the last key press, click, scroll or touch in this tab. */
export function idleMs(): number {
  return Date.now() - lastInput;
}

/** Calls `listener` on every key press, click, scroll or touch (keep it cheap); returns the unsubscribe. */
export function onActivity(listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}
