/**
 * "Find a patient" (Ctrl+K): one box for a name, phone (any format), email,
 * date of birth or MRN, searched as the agent pauses typing. A combobox: the
 * focus stays in the box, up and down move through the results (each
 * patient, each of their open conversations, and "New conversation"), Enter
 * opens the highlighted one. When nobody matches, "Add patient" starts the
 * form with what was typed, in the field its shape suggests.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import { bareMessage } from '../field-errors.tsx';
import { channelLabel, plural, shortTime, statusLabel, fullTime } from '../format.ts';
import { prefillFrom, SEARCH_DEBOUNCE_MS, SEARCH_MIN_CHARS, type PatientPrefill } from '../patients.ts';
import type { PatientSearchPage, PatientSearchRecord } from '../types.ts';
import { Modal } from './Modal.tsx';
import type { Directory } from './Workspace.tsx';

const PAGE_SIZE = 10;
const LISTBOX_ID = 'patient-search-results';
const optionId = (index: number) => `patient-search-option-${index}`;
const COMPLETE_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$/;

type Thread = PatientSearchRecord['openConversations'][number];

/** One row of the list: a patient, one of their open conversations, or writing to them. */
type Entry =
  | { kind: 'patient'; patient: PatientSearchRecord }
  | { kind: 'thread'; patient: PatientSearchRecord; thread: Thread }
  | { kind: 'write'; patient: PatientSearchRecord };

const patientName = (p: Pick<PatientSearchRecord, 'name'>) => p.name ?? 'Patient without a name';

function entriesOf(items: PatientSearchRecord[]): Entry[] {
  return items.flatMap((patient): Entry[] => [
    { kind: 'patient', patient },
    ...patient.openConversations.map((thread): Entry => ({ kind: 'thread', patient, thread })),
    { kind: 'write', patient },
  ]);
}

export function PatientSearchDialog(props: {
  open: boolean;
  onClose(): void;
  api: Api;
  directory: Directory;
  onOpenPatient(id: string): void;
  onOpenConversation(id: string): void;
  onNewConversation(patient: { id: string; name: string | null }): void;
  onAddPatient(prefill: PatientPrefill): void;
  returnFocusTo?(): HTMLElement | null | undefined;
}) {
  const { api, directory } = props;
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<PatientSearchRecord[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  /** The query the items answer (null: nothing searched yet). */
  const [answered, setAnswered] = useState<string | null>(null);
  const [searching, setSearching] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** The hub's 400 for the query as typed so far ("not a complete email address"): a hint, not an alarm. */
  const [refusal, setRefusal] = useState<string | null>(null);
  const [active, setActive] = useState(-1);
  const seq = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const q = query.trim();
  // An email is looked up whole: nothing is asked for (nor audited) while it is still being typed.
  const partialEmail = q.includes('@') && !COMPLETE_EMAIL.test(q);

  // A fresh box each time the dialog opens.
  useEffect(() => {
    if (!props.open) return;
    seq.current++;
    setQuery('');
    setItems([]);
    setNextCursor(null);
    setAnswered(null);
    setSearching(false);
    setError(null);
    setRefusal(null);
    setActive(-1);
    requestAnimationFrame(() => input.current?.focus());
  }, [props.open]);

  // Searched once the agent pauses typing; a later keystroke drops an answer still on its way.
  useEffect(() => {
    const mine = ++seq.current;
    if (!props.open || q.length < SEARCH_MIN_CHARS || partialEmail) {
      setSearching(false);
      setItems([]);
      setNextCursor(null);
      setAnswered(null);
      setError(null);
      setRefusal(null);
      setActive(-1);
      return;
    }
    setSearching(true);
    const timer = setTimeout(() => {
      const params = new URLSearchParams({ q, limit: String(PAGE_SIZE) });
      api.get<PatientSearchPage>(`/api/patients?${params}`).then(
        (page) => {
          if (mine !== seq.current) return;
          setItems(page.items);
          setNextCursor(page.nextCursor);
          setAnswered(q);
          setError(null);
          setRefusal(null);
          setActive(page.items.length > 0 ? 0 : -1);
          setSearching(false);
        },
        (e: unknown) => {
          if (mine !== seq.current) return;
          setItems([]);
          setNextCursor(null);
          setAnswered(q);
          if (e instanceof ApiError && e.status === 400) {
            setRefusal(bareMessage(e));
            setError(null);
          } else {
            setRefusal(null);
            setError(`The search failed: ${describeError(e)}`);
          }
          setActive(-1);
          setSearching(false);
        },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, props.open]);

  async function more() {
    if (!nextCursor || loadingMore) return;
    const mine = seq.current;
    setLoadingMore(true);
    try {
      const params = new URLSearchParams({ q, limit: String(PAGE_SIZE), cursor: nextCursor });
      const page = await api.get<PatientSearchPage>(`/api/patients?${params}`);
      if (mine !== seq.current) return;
      setItems((list) => [...list, ...page.items.filter((p) => !list.some((x) => x.id === p.id))]);
      setNextCursor(page.nextCursor);
    } catch (e) {
      if (mine === seq.current) setError(`More results could not be loaded: ${describeError(e)}`);
    } finally {
      setLoadingMore(false);
      input.current?.focus();
    }
  }

  const entries = entriesOf(items);
  const activeEntry = active >= 0 && active < entries.length ? entries[active] : undefined;

  function choose(entry: Entry) {
    if (entry.kind === 'thread') props.onOpenConversation(entry.thread.id);
    else if (entry.kind === 'write') props.onNewConversation({ id: entry.patient.id, name: entry.patient.name });
    else props.onOpenPatient(entry.patient.id);
  }

  function moveTo(index: number) {
    setActive(index);
    requestAnimationFrame(() => document.getElementById(optionId(index))?.scrollIntoView({ block: 'nearest' }));
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.isComposing) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (entries.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      moveTo(active < 0 ? (step > 0 ? 0 : entries.length - 1) : (active + step + entries.length) % entries.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (activeEntry && answered === q) choose(activeEntry);
    }
  }

  const done = answered !== null && answered === q && !searching;
  const found = done && !error && !refusal ? items.length : null;
  const summary =
    q.length > 0 && q.length < SEARCH_MIN_CHARS
      ? `Type at least ${SEARCH_MIN_CHARS} characters`
      : partialEmail
        ? 'Type the whole email address'
        : done && refusal
          ? `Not searched: ${refusal}`
          : searching
        ? 'Searching…'
        : found === null
          ? ''
          : found === 0
            ? 'No patient found'
            : `${plural(found, 'patient')} found${nextCursor ? ', more below' : ''}. Up and down arrows move through them, Enter opens.`;
  const expanded = done && items.length > 0;

  let index = 0;
  return (
    <Modal open={props.open} title="Find a patient" onClose={props.onClose} class="modal-wide patient-search" returnFocusTo={props.returnFocusTo}>
      <div class="ps-box">
        <label for="patient-search-input">Name, phone, email, date of birth or MRN</label>
        <input
          ref={input}
          id="patient-search-input"
          type="search"
          role="combobox"
          autoFocus
          autoComplete="off"
          spellcheck={false}
          maxLength={100}
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={expanded ? LISTBOX_ID : undefined}
          aria-activedescendant={expanded && activeEntry ? optionId(active) : undefined}
          aria-describedby="patient-search-hint"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        <p id="patient-search-hint" class="hint">
          A phone number in any format, a full email address, a date of birth (YYYY-MM-DD or MM/DD/YYYY), an MRN, or the first letters of a name.
        </p>
      </div>
      <p class={`ps-summary${found === 0 ? ' is-empty' : ''}`} role="status">
        {summary}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {expanded && (
        <div class="ps-results">
          <div id={LISTBOX_ID} role="listbox" aria-label="Patients found">
            {items.map((patient) => {
              const groupId = `patient-search-group-${patient.id}`;
              const facts = [
                patient.maskedPhone,
                patient.maskedEmail,
                patient.dateOfBirth ? `Born ${patient.dateOfBirth}` : null,
                patient.mrn ? `MRN ${patient.mrn}` : null,
              ].filter(Boolean);
              const patientIndex = index++;
              const threadIndexes = patient.openConversations.map(() => index++);
              const writeIndex = index++;
              const option = (i: number, entry: Entry) => ({
                id: optionId(i),
                role: 'option' as const,
                'aria-selected': i === active,
                class: `ps-option ps-option-${entry.kind}${i === active ? ' is-active' : ''}`,
                onMouseDown: (e: MouseEvent) => e.preventDefault(),
                onMouseMove: () => {
                  if (i !== active) setActive(i);
                },
                onClick: () => choose(entry),
              });
              return (
                <div key={patient.id} role="group" class="ps-group" aria-labelledby={groupId}>
                  <div {...option(patientIndex, { kind: 'patient', patient })}>
                    <span class="ps-name" id={groupId}>
                      {patientName(patient)}
                    </span>
                    <span class="ps-facts">
                      {facts.map((f, i) => (
                        <span key={i} class="ps-fact">
                          {f}
                        </span>
                      ))}
                      <span class="ps-fact">
                        {patient.lastContactAt ? (
                          <>
                            Last contact <time dateTime={patient.lastContactAt} title={fullTime(patient.lastContactAt)}>{shortTime(patient.lastContactAt)}</time>
                          </>
                        ) : (
                          'No contact yet'
                        )}
                      </span>
                    </span>
                  </div>
                  {patient.openConversations.map((thread, i) => (
                    <div key={thread.id} {...option(threadIndexes[i]!, { kind: 'thread', patient, thread })} data-conversation-option={thread.id}>
                      <span class="ps-thread-label">Open conversation</span>
                      <span class="ps-facts">
                        {thread.channels.map((ch) => (
                          <span key={ch} class={`badge badge-${ch}`}>
                            {channelLabel(ch)}
                          </span>
                        ))}
                        <span class={`badge status-${thread.status}`}>{statusLabel(thread.status)}</span>
                        <span class="ps-fact">{directory.teamName(thread.teamId)}</span>
                        <span class="ps-fact">{directory.agentName(thread.assigneeId)}</span>
                        {thread.lastMessageAt && (
                          <span class="ps-fact">
                            <time dateTime={thread.lastMessageAt} title={fullTime(thread.lastMessageAt)}>
                              {shortTime(thread.lastMessageAt)}
                            </time>
                          </span>
                        )}
                      </span>
                    </div>
                  ))}
                  <div {...option(writeIndex, { kind: 'write', patient })}>
                    <span class="ps-thread-label">New conversation…</span>
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      )}
      <div class="modal-actions ps-actions">
        {nextCursor && expanded && (
          <button type="button" class="ghost" disabled={loadingMore} onClick={() => void more()}>
            {loadingMore ? 'Loading…' : 'More results'}
          </button>
        )}
        <span class="spacer" />
        <button type="button" class={found === 0 ? 'primary' : ''} onClick={() => props.onAddPatient(prefillFrom(q))}>
          Add patient
        </button>
      </div>
    </Modal>
  );
}
