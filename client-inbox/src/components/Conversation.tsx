/**
 * One conversation: its header (assign, priority, resolve/reopen), the
 * timeline across channels with live messages and earlier history, the reply
 * box and the patient panel. Joins the conversation's room on the socket
 * (for typing) and catches up after every reconnect.
 */
import type { MutableRef } from 'preact/hooks';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { recentlyActive } from '../activity.ts';
import { fullTime, priorityLabel, statusLabel } from '../format.ts';
import type { Realtime } from '../realtime.ts';
import { mergeMessages } from '../inbox-model.ts';
import type { AgentSummary, CannedResponse, ConversationRecord, MessageRecord, Page, PatientProfile, Priority, ReplyOptions } from '../types.ts';
import { AssignDialog } from './AssignDialog.tsx';
import { Composer, type ComposerHandle } from './Composer.tsx';
import { PatientPanel } from './PatientPanel.tsx';
import { Timeline } from './Timeline.tsx';
import type { Directory } from './Workspace.tsx';

export interface ConversationCommands {
  focusReply(): void;
  noteMode(): void;
  assignToMe(): void;
  resolveOrReopen(): void;
  openCanned(): void;
  togglePatient(): void;
}

const PAGE = 50;
const TYPING_TTL_MS = 8000;

const WIDE = '(min-width: 1100px)';
const wide = () => window.matchMedia(WIDE).matches;

export function Conversation(props: {
  id: string;
  api: Api;
  agent: AgentSummary;
  realtime: Realtime;
  directory: Directory;
  canned: CannedResponse[] | null;
  listed: ConversationRecord | null;
  commands: MutableRef<ConversationCommands | null>;
  onOpen(id: string): void;
  /** A patient's own page ("Open this patient" on a duplicate found while editing). */
  onOpenPatient(id: string): void;
  onClose(): void;
  onLocalUpdate(c: ConversationRecord): void;
}) {
  const { id, api, agent, realtime, directory } = props;
  const [conversation, setConversation] = useState<ConversationRecord | null>(props.listed);
  const [messages, setMessages] = useState<MessageRecord[]>([]);
  const [earlierCursor, setEarlierCursor] = useState<string | null>(null);
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [options, setOptions] = useState<ReplyOptions | null>(null);
  const [patientTyping, setPatientTyping] = useState(false);
  const [agentsTyping, setAgentsTyping] = useState<string[]>([]);
  const [panelOpen, setPanelOpen] = useState(wide);
  const [assignOpen, setAssignOpen] = useState(false);
  const [patientVersion, setPatientVersion] = useState(0);
  const [patient, setPatient] = useState<PatientProfile | null>(null);
  const [patientError, setPatientError] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  const composer = useRef<ComposerHandle>(null);
  const maxSeq = useRef(0);
  maxSeq.current = messages.at(-1)?.seq ?? 0;
  const typingTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const adopt = useCallback(
    (c: ConversationRecord) => {
      setConversation((prev) => (prev && prev.lastSeq > c.lastSeq && prev.id === c.id ? { ...c, lastSeq: prev.lastSeq } : c));
      props.onLocalUpdate(c);
    },
    [props.onLocalUpdate],
  );

  const refreshOptions = useCallback(() => {
    void api.get<ReplyOptions>(`/api/conversations/${encodeURIComponent(id)}/reply-options`).then(setOptions, () => undefined);
  }, [api, id]);

  const catchUp = useCallback(async () => {
    const items = await realtime.since(id, maxSeq.current);
    if (items?.length) setMessages((list) => mergeMessages(list, items));
  }, [realtime, id]);

  const markRead = useCallback(() => {
    void api.post<ConversationRecord>(`/api/conversations/${encodeURIComponent(id)}/read`).then(props.onLocalUpdate, () => undefined);
  }, [api, id, props.onLocalUpdate]);

  // Wide windows show the patient panel beside the thread; narrower ones open it as a drawer on demand.
  useEffect(() => {
    const query = window.matchMedia(WIDE);
    const onChange = () => setPanelOpen(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);

  // The patient (again when a consent keyword or a verification may have changed them).
  const patientId = conversation?.patientId;
  useEffect(() => {
    if (!patientId) return;
    let cancelled = false;
    api.get<PatientProfile>(`/api/patients/${encodeURIComponent(patientId)}`).then(
      (p) => {
        if (cancelled) return;
        setPatient(p);
        setPatientError(null);
      },
      (e) => !cancelled && setPatientError(describeError(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [api, patientId, patientVersion]);

  // First load.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [c, page] = await Promise.all([
          api.get<ConversationRecord>(`/api/conversations/${encodeURIComponent(id)}`),
          api.get<Page<MessageRecord>>(`/api/conversations/${encodeURIComponent(id)}/messages?limit=${PAGE}`),
        ]);
        if (cancelled) return;
        setConversation(c);
        setMessages((list) => mergeMessages(list, page.items));
        setEarlierCursor(page.nextCursor);
        setLoaded(true);
        if (c.unreadCount > 0) markRead();
      } catch (e) {
        if (!cancelled) setLoadError(describeError(e));
      }
    })();
    refreshOptions();
    return () => {
      cancelled = true;
    };
  }, [api, id]);

  // The conversation's room: typing, and catching up after reconnects.
  useEffect(() => {
    const socket = realtime.socket;
    const join = async () => {
      const lastSeq = await realtime.join(id);
      if (lastSeq !== null && lastSeq > maxSeq.current && maxSeq.current > 0) await catchUp();
    };
    void join();
    const onConnect = () => void join();
    const onCreated = ({ message, conversation: c }: { message: MessageRecord; conversation: ConversationRecord }) => {
      if (c.id !== id) return;
      adopt(c);
      const gap = message.seq > maxSeq.current + 1 && maxSeq.current > 0;
      setMessages((list) => mergeMessages(list, [message]));
      if (gap) void catchUp();
      if (message.direction === 'inbound') {
        setPatientTyping(false);
        setAnnounce(`New message from the patient: ${message.body.slice(0, 140)}`);
        if (recentlyActive() && document.hasFocus()) markRead();
      }
      if (message.direction === 'inbound' || message.direction === 'system') {
        if (recentlyActive()) {
          refreshOptions();
          setPatientVersion((v) => v + 1);
        }
      }
    };
    const onUpdated = ({ message, conversation: c }: { message: MessageRecord; conversation: ConversationRecord }) => {
      if (c.id !== id) return;
      adopt(c);
      setMessages((list) => mergeMessages(list, [message]));
    };
    const onConversation = ({ conversation: c }: { conversation: ConversationRecord }) => {
      if (c.id === id) adopt(c);
    };
    const onPatientTyping = (p: { conversationId: string; isTyping: boolean }) => {
      if (p.conversationId !== id) return;
      setPatientTyping(p.isTyping);
      clearTimeout(typingTimers.current.get('patient'));
      if (p.isTyping) typingTimers.current.set('patient', setTimeout(() => setPatientTyping(false), TYPING_TTL_MS));
    };
    const onAgentTyping = (p: { conversationId: string; agentId: string; isTyping: boolean }) => {
      if (p.conversationId !== id || p.agentId === agent.id) return;
      setAgentsTyping((list) => (p.isTyping ? [...new Set([...list, p.agentId])] : list.filter((a) => a !== p.agentId)));
      clearTimeout(typingTimers.current.get(p.agentId));
      if (p.isTyping) {
        typingTimers.current.set(p.agentId, setTimeout(() => setAgentsTyping((list) => list.filter((a) => a !== p.agentId)), TYPING_TTL_MS));
      }
    };
    socket.on('connect', onConnect);
    socket.on('message:created', onCreated);
    socket.on('message:updated', onUpdated);
    socket.on('conversation:updated', onConversation);
    socket.on('patient:typing', onPatientTyping);
    socket.on('typing', onAgentTyping);
    const timers = typingTimers.current;
    return () => {
      socket.off('connect', onConnect);
      socket.off('message:created', onCreated);
      socket.off('message:updated', onUpdated);
      socket.off('conversation:updated', onConversation);
      socket.off('patient:typing', onPatientTyping);
      socket.off('typing', onAgentTyping);
      for (const t of timers.values()) clearTimeout(t);
      realtime.leave(id);
    };
  }, [realtime, id, agent.id, adopt, catchUp, markRead, refreshOptions]);

  const loadEarlier = useCallback(async () => {
    if (!earlierCursor || loadingEarlier) return;
    setLoadingEarlier(true);
    try {
      const page = await api.get<Page<MessageRecord>>(`/api/conversations/${encodeURIComponent(id)}/messages?limit=${PAGE}&before=${encodeURIComponent(earlierCursor)}`);
      setMessages((list) => mergeMessages(list, page.items));
      setEarlierCursor(page.nextCursor);
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setLoadingEarlier(false);
    }
  }, [api, id, earlierCursor, loadingEarlier]);

  async function act(what: string, work: () => Promise<ConversationRecord>) {
    setBusy(true);
    setActionError(null);
    try {
      const c = await work();
      adopt(c);
      setAnnounce(what);
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const path = `/api/conversations/${encodeURIComponent(id)}`;
  const assign = (body: { assigneeId?: string | null; teamId?: string }, what: string) =>
    act(what, () => api.post<ConversationRecord>(`${path}/assign`, body));
  const assignToMe = () => {
    if (conversation?.assigneeId === agent.id) return;
    void assign({ assigneeId: 'me' }, 'Assigned to you');
  };
  const resolveOrReopen = () => {
    if (!conversation) return;
    if (conversation.status === 'resolved') void act('Conversation reopened', () => api.post<ConversationRecord>(`${path}/reopen`));
    else void act('Conversation resolved', () => api.post<ConversationRecord>(`${path}/resolve`));
  };
  const setPriority = (priority: Priority) => void act(`Priority set to ${priority}`, () => api.patch<ConversationRecord>(path, { priority }));

  props.commands.current = {
    focusReply: () => composer.current?.focus('reply'),
    noteMode: () => composer.current?.focus('note'),
    assignToMe,
    resolveOrReopen,
    openCanned: () => composer.current?.openCanned(),
    togglePatient: () => setPanelOpen((v) => !v),
  };
  useEffect(() => () => void (props.commands.current = null), []);

  if (loadError && !conversation) {
    return (
      <div class="empty-state">
        <h2>This conversation cannot be opened</h2>
        <p class="error" role="alert">
          {loadError}
        </p>
        <button type="button" class="ghost" onClick={props.onClose}>
          Close
        </button>
      </div>
    );
  }

  const c = conversation;
  const contact = patient?.identities.find((i) => i.kind === 'phone' || i.kind === 'email') ?? patient?.unverifiedContacts[0];
  const name = c?.patientName ?? patient?.name ?? c?.patientContact ?? contact?.value ?? 'Unknown patient';
  const typingNames = agentsTyping.map((a) => directory.agents.get(a)?.name ?? 'Another agent');

  return (
    <div class={`conversation${panelOpen ? ' panel-open' : ''}`}>
      <section class="thread" aria-labelledby="conversation-title">
        <header class="conv-head">
          <div class="conv-title">
            <h2 id="conversation-title">{name}</h2>
            {contact && contact.value !== name && <p class="conv-contact">{contact.value}</p>}
            {c && (
              <p class="conv-meta">
                <span class={`badge status-${c.status}`} data-testid="conversation-status">
                  {statusLabel(c.status)}
                </span>
                {c.triage && (
                  <span class="badge badge-triage" title={`Flagged ${fullTime(c.triage.at)}`}>
                    {c.triage.label}
                  </span>
                )}
                <span>Team: {directory.teamName(c.teamId)}</span>
                <span>
                  Assigned to: <strong>{directory.agentName(c.assigneeId)}</strong>
                </span>
              </p>
            )}
          </div>
          {c && (
            <div class="conv-actions">
              <button type="button" onClick={assignToMe} disabled={busy || c.assigneeId === agent.id} aria-keyshortcuts="a">
                Assign to me
              </button>
              <button type="button" onClick={() => setAssignOpen(true)} disabled={busy}>
                Assign…
              </button>
              <span class="inline-field">
                <label for={`priority-${id}`}>
                  Priority
                </label>
                <select id={`priority-${id}`} aria-label="Conversation priority" value={c.priority} disabled={busy} onChange={(e) => setPriority(e.currentTarget.value as Priority)}>
                  {(['low', 'normal', 'high', 'urgent'] as const).map((p) => (
                    <option key={p} value={p}>
                      {priorityLabel(p)}
                    </option>
                  ))}
                </select>
              </span>
              <button type="button" class={c.status === 'resolved' ? '' : 'primary'} onClick={resolveOrReopen} disabled={busy} aria-keyshortcuts="e">
                {c.status === 'resolved' ? 'Reopen' : 'Resolve'}
              </button>
              <button type="button" class="ghost" aria-expanded={panelOpen} aria-controls="patient-panel" onClick={() => setPanelOpen((v) => !v)} aria-keyshortcuts="i">
                Patient details
              </button>
            </div>
          )}
        </header>
        {actionError && (
          <p class="error banner" role="alert">
            {actionError}
          </p>
        )}
        {c?.possibleOptOut && (
          <div class="banner banner-warn" role="status" data-testid="possible-opt-out">
            <p>
              <strong>Possible opt-out.</strong> The patient may be asking to stop {c.possibleOptOut.channel === 'sms' ? 'text messages' : c.possibleOptOut.channel === 'email' ? 'email' : 'web chat'}.
              Consent is unchanged until you record it.
            </p>
            <button type="button" class="primary" disabled={busy} onClick={() => void act('Opt-out recorded', () => api.post<ConversationRecord>(`${path}/possible-opt-out`, { decision: 'record' }))}>
              Record opt-out
            </button>
            <button type="button" class="ghost" disabled={busy} onClick={() => void act('Marked as not an opt-out', () => api.post<ConversationRecord>(`${path}/possible-opt-out`, { decision: 'dismiss' }))}>
              Not an opt-out
            </button>
          </div>
        )}
        <Timeline
          messages={messages}
          loaded={loaded}
          hasEarlier={earlierCursor !== null}
          loadingEarlier={loadingEarlier}
          onEarlier={loadEarlier}
          api={api}
          conversationId={id}
          directory={directory}
          agentId={agent.id}
        />
        <div class="typing" aria-live="polite">
          {patientTyping && <span>Patient is typing…</span>}
          {typingNames.length > 0 && <span>{typingNames.join(', ')} {typingNames.length === 1 ? 'is' : 'are'} typing…</span>}
        </div>
        {c && (
          <Composer
            handle={composer}
            api={api}
            realtime={realtime}
            agentId={agent.id}
            conversation={c}
            options={options}
            canned={props.canned}
            onRefreshOptions={refreshOptions}
            onSent={(m) => setMessages((list) => mergeMessages(list, [m]))}
          />
        )}
        <div class="sr-only" aria-live="polite">
          {announce}
        </div>
      </section>
      {c && (
        <PatientPanel
          open={panelOpen}
          onClose={() => setPanelOpen(false)}
          api={api}
          patientId={c.patientId}
          patient={patient}
          error={patientError}
          onPatient={setPatient}
          conversation={c}
          version={patientVersion}
          onOpen={props.onOpen}
          onOpenPatient={props.onOpenPatient}
          role={agent.role}
          onChanged={() => {
            setPatientVersion((v) => v + 1);
            refreshOptions();
          }}
        />
      )}
      {c && (
        <AssignDialog
          open={assignOpen}
          onClose={() => setAssignOpen(false)}
          conversation={c}
          directory={directory}
          agent={agent}
          onAssign={(body, what) => assign(body, what)}
        />
      )}
    </div>
  );
}
