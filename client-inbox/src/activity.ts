/**
 * Whether a person is at the keyboard. Requests the inbox makes on its own
 * (because a live event arrived) count as activity on the hub, so it only
 * makes them while the agent was active lately: an unattended screen must
 * still be logged off automatically.
 */
let lastInput = Date.now();

export function watchActivity(target: Document = document): void {
  const mark = () => {
    lastInput = Date.now();
  };
  for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) target.addEventListener(type, mark, { capture: true, passive: true });
}

export function recentlyActive(withinMs = 60_000): boolean {
  return Date.now() - lastInput < withinMs && document.visibilityState === 'visible';
}
