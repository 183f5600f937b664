/** The list of keyboard shortcuts (press ?). */
import { Modal } from './Modal.tsx';

export const SHORTCUTS: [string, string][] = [
  ['j', 'Next conversation'],
  ['k', 'Previous conversation'],
  ['r', 'Reply: focus the reply box'],
  ['n', 'Internal note: focus the note box'],
  ['/', 'Canned responses'],
  ['a', 'Assign to me'],
  ['e', 'Resolve (reopen when resolved)'],
  ['i', 'Show or hide the patient details'],
  ['?', 'This list'],
  ['Ctrl+K', 'Find a patient (also in text boxes)'],
  ['Ctrl+Enter', 'Send the reply or add the note (in the box)'],
  ['Esc', 'Leave the box, close a list or dialog'],
];

export function ShortcutsDialog(props: { open: boolean; onClose(): void }) {
  return (
    <Modal open={props.open} title="Keyboard shortcuts" onClose={props.onClose}>
      <p class="hint">Outside text boxes:</p>
      <dl class="shortcuts">
        {SHORTCUTS.map(([key, what]) => (
          <div key={key} class="shortcut">
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </Modal>
  );
}
