/**
 * The team's saved replies (inserted with "/" in the reply box): supervisors
 * keep their own teams' library, admins every team's. Agents never see this
 * dialog; the hub enforces the same rule.
 */
import { useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import type { AgentSummary, CannedResponse, Team } from '../types.ts';
import { Modal } from './Modal.tsx';

export function SavedRepliesDialog(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  agent: AgentSummary;
  teams: Team[];
  items: CannedResponse[];
  onChanged(items: CannedResponse[]): void;
}) {
  const editable = props.teams.filter((t) => props.agent.role === 'admin' || props.agent.teamIds.includes(t.id));
  const [teamId, setTeamId] = useState('');
  const [shortcut, setShortcut] = useState('');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const team = teamId || editable[0]?.id || '';

  async function add(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const created = await props.api.post<CannedResponse>('/api/canned-responses', { teamId: team, shortcut: shortcut.trim(), title: title.trim(), body: body.trim() });
      props.onChanged([...props.items, created].sort((a, b) => a.shortcut.localeCompare(b.shortcut)));
      setShortcut('');
      setTitle('');
      setBody('');
      setStatus(`Saved /${created.shortcut}`);
    } catch (e) {
      setError(describeError(e));
    }
  }

  async function remove(item: CannedResponse) {
    setError(null);
    try {
      await props.api.request('DELETE', `/api/canned-responses/${encodeURIComponent(item.id)}`);
      props.onChanged(props.items.filter((i) => i.id !== item.id));
      setStatus(`Removed /${item.shortcut}`);
    } catch (e) {
      setError(describeError(e));
    }
  }

  const teamName = (id: string | null) => props.teams.find((t) => t.id === id)?.name ?? id ?? '';
  return (
    <Modal open={props.open} title="Saved replies" onClose={props.onClose}>
      {props.items.length === 0 ? (
        <p class="hint">No saved replies yet.</p>
      ) : (
        <ul class="saved-replies" aria-label="Saved replies">
          {props.items.map((item) => (
            <li key={item.id}>
              <span class="canned-shortcut">/{item.shortcut}</span> <strong>{item.title}</strong> <span class="hint">({teamName(item.teamId)})</span>
              <p class="canned-preview">{item.body}</p>
              {editable.some((t) => t.id === item.teamId) && (
                <button type="button" aria-label={`Remove /${item.shortcut}`} onClick={() => void remove(item)}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form class="saved-reply-form" onSubmit={(e) => void add(e)}>
        <h3>Add a saved reply</h3>
        <label for="saved-team">Team</label>
        <select id="saved-team" value={team} onChange={(e) => setTeamId(e.currentTarget.value)}>
          {editable.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="saved-shortcut">Shortcut</label>
        <input id="saved-shortcut" required maxLength={32} pattern="[a-z0-9][a-z0-9\-]*" value={shortcut} onInput={(e) => setShortcut(e.currentTarget.value)} aria-describedby="saved-shortcut-hint" />
        <p id="saved-shortcut-hint" class="hint">Lowercase letters, digits and dashes; agents type / and this.</p>
        <label for="saved-title">Title</label>
        <input id="saved-title" required maxLength={100} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        <label for="saved-body">Text</label>
        <textarea id="saved-body" required maxLength={1600} rows={4} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        <button type="submit" class="primary">Save reply</button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="sr-only" role="status">
          {status}
        </p>
      </form>
    </Modal>
  );
}
