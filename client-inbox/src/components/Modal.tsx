/** A modal dialog on the native <dialog> element: focus stays inside, Escape closes, focus returns where it was. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Modal(props: {
  open: boolean;
  title: string;
  onClose(): void;
  children: ComponentChildren;
  class?: string;
  /**
   * Where focus goes once the dialog has closed, when not back where it was (what the dialog
   * opened is elsewhere): asked at that moment, after the page behind it is no longer inert.
   */
  returnFocusTo?(): HTMLElement | null | undefined;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  const titleId = useRef(`dialog-${Math.random().toString(36).slice(2, 9)}`);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      returnTo.current = document.activeElement as HTMLElement | null;
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const onClose = () => {
      latest.current.onClose();
      const elsewhere = latest.current.returnFocusTo?.();
      (elsewhere ?? returnTo.current)?.focus?.();
    };
    dialog.addEventListener('close', onClose);
    return () => dialog.removeEventListener('close', onClose);
  }, []);

  return (
    <dialog ref={ref} class={`modal ${props.class ?? ''}`} aria-labelledby={titleId.current}>
      {props.open && (
        <div class="modal-body">
          <div class="modal-head">
            <h2 id={titleId.current}>{props.title}</h2>
            <button type="button" class="ghost close" onClick={() => ref.current?.close()} aria-label="Close">
              ×
            </button>
          </div>
          {props.children}
        </div>
      )}
    </dialog>
  );
}
