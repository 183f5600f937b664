/**
 * "Common questions": a team's FAQ entries (question variants, an answer, a
 * language), which agents are offered while they type a reply and which, when
 * marked so, answer patients after hours. Supervisors keep their own teams'
 * entries, admins every team's; agents never see this dialog (the hub
 * enforces the same rule). The hub checks everything: a refused entry comes
 * back as a 400 naming its field (`questions.0`, `answer`), and its message is
 * shown next to that field — including the refusal of an automatic answer
 * with a clinical word in it.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import { bareMessage, fieldErrorsOf, focusLater } from '../field-errors.tsx';
import type { AgentSummary, FaqEntry, FaqLanguage, Team } from '../types.ts';
import { Modal } from './Modal.tsx';

const LANGUAGES: { id: FaqLanguage; label: string }[] = [
  { id: 'en', label: 'English' },
  { id: 'es', label: 'Spanish' },
  { id: 'it', label: 'Italian' },
];
const languageLabel = (id: string) => LANGUAGES.find((l) => l.id === id)?.label ?? id;

interface EntryForm {
  language: FaqLanguage;
  /** Question variants, one per line (blank lines ignored). */
  questions: string;
  answer: string;
  published: boolean;
  autoAnswer: boolean;
}

const EMPTY_FORM: EntryForm = { language: 'en', questions: '', answer: '', published: false, autoAnswer: false };

/** The form's fields, as the hub names them (a question variant's index is shown as its line). */
type FieldKey = 'team' | 'language' | 'questions' | 'answer' | 'published' | 'autoAnswer';
type FieldErrors = Partial<Record<FieldKey, string>>;

const FIELD_IDS: Record<FieldKey, string> = {
  team: 'faq-team',
  language: 'faq-language',
  questions: 'faq-questions',
  answer: 'faq-answer',
  published: 'faq-published',
  autoAnswer: 'faq-auto-answer',
};

/** The question variants to send, and the line (1-based, as the supervisor sees it) each came from. */
function questionLines(text: string): { questions: string[]; lines: number[] } {
  const questions: string[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim()) {
      questions.push(line.trim());
      lines.push(i + 1);
    }
  });
  return { questions, lines };
}

const byFirstQuestion = (a: FaqEntry, b: FaqEntry) => (a.questions[0] ?? '').localeCompare(b.questions[0] ?? '') || a.id.localeCompare(b.id);

export function FaqDialog(props: { open: boolean; onClose(): void; api: Api; agent: AgentSummary; teams: Team[] }) {
  const { api, agent } = props;
  const editable = props.teams.filter((t) => agent.role === 'admin' || (agent.role === 'supervisor' && agent.teamIds.includes(t.id)));
  const [teamId, setTeamId] = useState('');
  const team = editable.some((t) => t.id === teamId) ? teamId : (editable[0]?.id ?? '');
  const teamName = editable.find((t) => t.id === team)?.name ?? team;

  const [entries, setEntries] = useState<FaqEntry[]>([]);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<EntryForm>(EMPTY_FORM);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirmingId, setConfirmingId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [status, setStatus] = useState('');

  // The team's entries, each time the dialog opens or another team is picked.
  useEffect(() => {
    if (!props.open) return;
    setErrors({});
    setFormError(null);
    setConfirmingId(null);
    setStatus('');
    if (!team) return;
    let cancelled = false;
    setLoading(true);
    setLoadError(null);
    setEntries([]);
    void api.get<{ items: FaqEntry[] }>(`/api/faq?teamId=${encodeURIComponent(team)}`).then(
      (answer) => {
        if (cancelled) return;
        setEntries(answer.items.filter((e) => e.teamId === team).sort(byFirstQuestion));
        setLoading(false);
      },
      (error: unknown) => {
        if (cancelled) return;
        setLoadError(`Could not load this team’s common questions: ${describeError(error)}`);
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, props.open, team]);

  const edit = (change: Partial<EntryForm>) => setForm((f) => ({ ...f, ...change }));
  /** Ties an input to its hint and, when the hub named it, its error; the error under its field. */
  const { described, fieldError } = fieldErrorsOf(FIELD_IDS, errors);

  function resetForm() {
    setForm(EMPTY_FORM);
    setEditingId(null);
    setErrors({});
    setFormError(null);
  }

  function startEditing(entry: FaqEntry) {
    setEditingId(entry.id);
    setForm({ language: entry.language, questions: entry.questions.join('\n'), answer: entry.answer, published: entry.published, autoAnswer: entry.autoAnswer });
    setErrors({});
    setFormError(null);
    setConfirmingId(null);
    setStatus('');
    focusLater(FIELD_IDS.questions);
  }

  function changeTeam(next: string) {
    setTeamId(next);
    resetForm();
  }

  /** Shows a refusal next to the field the hub named (and moves focus there), else under the form. */
  function refused(error: unknown, lines: number[]) {
    const field = error instanceof ApiError && error.status === 400 ? error.field : undefined;
    const variant = field ? /^questions\.(\d+)$/.exec(field) : null;
    const key: FieldKey | null = variant
      ? 'questions'
      : field === 'teamId'
        ? 'team'
        : field && field in FIELD_IDS && field !== 'team'
          ? (field as FieldKey)
          : null;
    if (key && error instanceof ApiError) {
      const line = variant ? lines[Number(variant[1])] : undefined;
      setErrors({ [key]: `${line !== undefined ? `Line ${line}: ` : ''}${bareMessage(error)}` });
      setFormError(null);
      focusLater(FIELD_IDS[key]);
      return;
    }
    setErrors({});
    setFormError(`Not saved: ${describeError(error)}`);
  }

  async function save(event: Event) {
    event.preventDefault();
    if (saving || !team) return;
    const { questions, lines } = questionLines(form.questions);
    const body = { language: form.language, questions, answer: form.answer.trim(), published: form.published, autoAnswer: form.autoAnswer };
    setSaving(true);
    setErrors({});
    setFormError(null);
    setStatus('');
    try {
      if (editingId) {
        const saved = await api.patch<FaqEntry>(`/api/faq/${encodeURIComponent(editingId)}`, body);
        setEntries((list) => list.map((e) => (e.id === saved.id ? saved : e)).sort(byFirstQuestion));
        setStatus(`Saved “${saved.questions[0] ?? ''}”`);
      } else {
        const saved = await api.post<FaqEntry>('/api/faq', { teamId: team, ...body });
        setEntries((list) => [...list, saved].sort(byFirstQuestion));
        setStatus(`Added “${saved.questions[0] ?? ''}” to ${teamName}${saved.published ? '' : ' as a draft'}`);
      }
      resetForm();
    } catch (e) {
      refused(e, lines);
    } finally {
      setSaving(false);
    }
  }

  async function remove(entry: FaqEntry) {
    setDeleting(true);
    setFormError(null);
    try {
      await api.request('DELETE', `/api/faq/${encodeURIComponent(entry.id)}`);
      setEntries((list) => list.filter((e) => e.id !== entry.id));
      if (editingId === entry.id) resetForm();
      setConfirmingId(null);
      setStatus(`Deleted “${entry.questions[0] ?? ''}”`);
      focusLater('faq-list-heading');
    } catch (e) {
      setConfirmingId(null);
      setFormError(`Not deleted: ${describeError(e)}`);
      focusLater('faq-list-heading');
    } finally {
      setDeleting(false);
    }
  }

  return (
    <Modal open={props.open} title="Common questions" onClose={props.onClose} class="modal-wide">
      <div class="faq-admin" aria-busy={loading}>
        <p class="hint">Agents are offered these answers while they type a reply to this team’s patients. Only published entries are offered.</p>
        {editable.length === 0 ? (
          <p class="hint">You do not supervise any team.</p>
        ) : (
          <div class="team-picker">
            <label for={FIELD_IDS.team}>Team</label>
            <select id={FIELD_IDS.team} value={team} onChange={(e) => changeTeam(e.currentTarget.value)} {...described('team')}>
              {editable.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
            {loading && <span class="hint">Loading…</span>}
            {fieldError('team')}
          </div>
        )}
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}

        {team && (
          <section class="faq-entries-section" aria-labelledby="faq-list-heading">
            <h3 id="faq-list-heading" tabIndex={-1}>
              {teamName}’s common questions
            </h3>
            {!loading && !loadError && entries.length === 0 && <p class="hint">No common questions for this team yet.</p>}
            {entries.length > 0 && (
              <ul class="faq-entries" aria-labelledby="faq-list-heading">
                {entries.map((entry) => {
                  const title = entry.questions[0] ?? '';
                  const confirming = confirmingId === entry.id;
                  return (
                    <li key={entry.id} class={editingId === entry.id ? 'is-editing' : ''}>
                      <div class="faq-entry-head">
                        <strong class="faq-entry-question">{title}</strong>
                        <span class="tag tag-muted">{languageLabel(entry.language)}</span>
                        {entry.published ? <span class="tag tag-ok">Published</span> : <span class="tag tag-warn">Draft</span>}
                        {entry.autoAnswer && <span class="tag tag-auto">Answers after hours</span>}
                      </div>
                      {entry.questions.length > 1 && <p class="faq-entry-variants">Also asked as: {entry.questions.slice(1).join(' · ')}</p>}
                      <p class="faq-entry-answer">{entry.answer}</p>
                      {confirming ? (
                        <div class="faq-confirm" role="group" aria-labelledby={`faq-confirm-${entry.id}`}>
                          <p id={`faq-confirm-${entry.id}`}>Delete “{title}”? Agents and patients will no longer get this answer.</p>
                          <button type="button" class="danger" disabled={deleting} onClick={() => void remove(entry)}>
                            {deleting ? 'Deleting…' : 'Yes, delete'}
                          </button>
                          <button
                            type="button"
                            id={`faq-keep-${entry.id}`}
                            disabled={deleting}
                            onClick={() => {
                              setConfirmingId(null);
                              focusLater(`faq-delete-${entry.id}`);
                            }}
                          >
                            Cancel
                          </button>
                        </div>
                      ) : (
                        <div class="faq-entry-actions">
                          <button type="button" id={`faq-edit-${entry.id}`} aria-label={`Edit “${title}”`} onClick={() => startEditing(entry)}>
                            Edit
                          </button>
                          <button
                            type="button"
                            id={`faq-delete-${entry.id}`}
                            class="ghost row-remove"
                            aria-label={`Delete “${title}”`}
                            onClick={() => {
                              setConfirmingId(entry.id);
                              focusLater(`faq-keep-${entry.id}`);
                            }}
                          >
                            Delete
                          </button>
                        </div>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
        )}

        {team && (
          <form class="faq-form" aria-labelledby="faq-form-heading" noValidate onSubmit={(e) => void save(e)}>
            <h3 id="faq-form-heading">{editingId ? 'Edit a common question' : 'Add a common question'}</h3>
            <div class="faq-field faq-field-narrow">
              <label for={FIELD_IDS.language}>Language</label>
              <select id={FIELD_IDS.language} value={form.language} onChange={(e) => edit({ language: e.currentTarget.value as FaqLanguage })} {...described('language')}>
                {LANGUAGES.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.label}
                  </option>
                ))}
              </select>
              {fieldError('language')}
            </div>
            <div class="faq-field">
              <label for={FIELD_IDS.questions}>Questions</label>
              <textarea
                id={FIELD_IDS.questions}
                rows={3}
                value={form.questions}
                placeholder={'Where do I park?\nIs there parking?'}
                onInput={(e) => edit({ questions: e.currentTarget.value })}
                {...described('questions', 'faq-questions-hint')}
              />
              <p id="faq-questions-hint" class="hint">
                One per line: the ways patients ask it (3 to 200 characters each, up to 20).
              </p>
              {fieldError('questions')}
            </div>
            <div class="faq-field">
              <label for={FIELD_IDS.answer}>Answer</label>
              <textarea
                id={FIELD_IDS.answer}
                rows={3}
                maxLength={1000}
                value={form.answer}
                onInput={(e) => edit({ answer: e.currentTarget.value })}
                {...described('answer')}
              />
              {fieldError('answer')}
            </div>
            <div class="faq-check">
              <input
                id={FIELD_IDS.published}
                type="checkbox"
                checked={form.published}
                onChange={(e) => edit({ published: e.currentTarget.checked })}
                {...described('published', 'faq-published-hint')}
              />
              <label for={FIELD_IDS.published}>Published</label>
              <p id="faq-published-hint" class="hint">
                Unpublished entries are drafts: never suggested, never sent.
              </p>
              {fieldError('published')}
            </div>
            <div class="faq-check">
              <input
                id={FIELD_IDS.autoAnswer}
                type="checkbox"
                checked={form.autoAnswer}
                onChange={(e) => edit({ autoAnswer: e.currentTarget.checked })}
                {...described('autoAnswer', 'faq-auto-answer-hint')}
              />
              <label for={FIELD_IDS.autoAnswer}>Answer automatically after hours</label>
              <p id="faq-auto-answer-hint" class="hint">
                When the team is closed, a patient whose message clearly asks one of these questions gets this answer at once. Clinical questions
                (symptoms, medicines, results…) are never answered automatically, and an entry with a clinical word cannot be marked.
              </p>
              {fieldError('autoAnswer')}
            </div>
            <div class="settings-actions">
              <button type="submit" class="primary" disabled={saving || loading}>
                {saving ? 'Saving…' : editingId ? 'Save changes' : 'Add question'}
              </button>
              {editingId && (
                <button
                  type="button"
                  onClick={() => {
                    const id = editingId;
                    resetForm();
                    focusLater(`faq-edit-${id}`);
                  }}
                >
                  Cancel editing
                </button>
              )}
            </div>
            {formError && (
              <p class="error" role="alert">
                {formError}
              </p>
            )}
          </form>
        )}
        <p class="settings-saved" role="status">
          {status}
        </p>
      </div>
    </Modal>
  );
}
