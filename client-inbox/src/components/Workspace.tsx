/**
 * A logged-in agent's screen: the top bar, the inbox list, the open
 * conversation (with the patient panel), the live connection and the
 * keyboard shortcuts.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import {
  applyLive,
  compareConversations,
  DEFAULT_FILTERS,
  InboxPager,
  matchesUrgent,
  matchesView,
  queriesFor,
  urgentQueriesFor,
  viewsFor,
  type InboxFilters,
  type ViewId,
} from '../inbox-model.ts';
import { Realtime } from '../realtime.ts';
import { savedOpen } from '../storage.ts';
import type { PatientPrefill } from '../patients.ts';
import type { AgentStatus, AgentSummary, CannedResponse, ConversationRecord, Page, Team, WorkspaceAlert } from '../types.ts';
import { AlertBanners, alertKey, DatabaseBanner, pushAlert } from './AlertBanners.tsx';
import { Conversation, type ConversationCommands } from './Conversation.tsx';
import { FaqDialog } from './FaqDialog.tsx';
import { NumbersDialog } from './NumbersDialog.tsx';
import { InboxList } from './InboxList.tsx';
import { NewConversationDialog } from './NewConversationDialog.tsx';
import { PatientFormDialog } from './PatientFormDialog.tsx';
import { PatientPage } from './PatientPage.tsx';
import { PatientSearchDialog } from './PatientSearchDialog.tsx';
import { ShortcutsDialog } from './ShortcutsDialog.tsx';
import { SavedRepliesDialog } from './SavedRepliesDialog.tsx';
import { StatusSelect } from './StatusSelect.tsx';
import { TeamSettingsDialog } from './TeamSettingsDialog.tsx';

/** The pinned urgent section asks for this many pages at most (of 50): emergencies are few. */
const URGENT_MAX_PAGES = 4;

export interface Directory {
  agents: Map<string, AgentSummary>;
  teams: Team[];
  agentName(id: string | null | undefined): string;
  teamName(id: string | null | undefined): string;
}

const HASH_PREFIX = '#/conversations/';
const PATIENT_HASH_PREFIX = '#/patients/';
/** The supervisor dashboard (supervisors and admins), loaded on demand with its charts. */
const DASHBOARD_HASH = '#/dashboard';
type DashboardView = (typeof import('./Dashboard.tsx'))['Dashboard'];

function conversationFromHash(): string | null {
  return location.hash.startsWith(HASH_PREFIX) ? decodeURIComponent(location.hash.slice(HASH_PREFIX.length)) || null : null;
}

function patientFromHash(): string | null {
  return location.hash.startsWith(PATIENT_HASH_PREFIX) ? decodeURIComponent(location.hash.slice(PATIENT_HASH_PREFIX.length)) || null : null;
}

/** Ctrl+K (⌘K on a Mac): "Find a patient", from anywhere, even while typing ("/" is the canned responses'). */
function isFindShortcut(event: KeyboardEvent): boolean {
  return (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k';
}

export function isTypingTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  if (tag === 'input') return !['radio', 'checkbox', 'button', 'submit', 'reset'].includes((el as HTMLInputElement).type);
  return tag === 'textarea' || tag === 'select' || el.isContentEditable;
}

export function Workspace(props: { api: Api; agent: AgentSummary; onSessionEnded(message: string): void; onLogout(): Promise<void> }) {
  const { api, agent } = props;
  const [connection, setConnection] = useState<'connecting' | 'online' | 'offline'>('connecting');
  const [databaseDown, setDatabaseDown] = useState(false);
  const databaseWasDown = useRef(false);
  const [agents, setAgents] = useState<Map<string, AgentSummary>>(new Map());
  const [teams, setTeams] = useState<Team[]>([]);
  const [canned, setCanned] = useState<CannedResponse[] | null>(null);
  const [view, setView] = useState<ViewId>('teams');
  const [filters, setFilters] = useState<InboxFilters>(DEFAULT_FILTERS);
  const [items, setItems] = useState<ConversationRecord[]>([]);
  const [urgent, setUrgent] = useState<ConversationRecord[]>([]);
  const [alerts, setAlerts] = useState<WorkspaceAlert[]>([]);
  const [showTeamSettings, setShowTeamSettings] = useState(false);
  const [loading, setLoading] = useState(false);
  const [complete, setComplete] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(() => conversationFromHash() ?? (patientFromHash() ? null : savedOpen.get(agent.id)));
  // A patient opened on their own (from "Find a patient", or just added), while no conversation is open.
  const [patientOpen, setPatientOpen] = useState<{ id: string; notice: string | null } | null>(() => {
    const id = conversationFromHash() ? null : patientFromHash();
    return id ? { id, notice: null } : null;
  });
  const [showSearch, setShowSearch] = useState(false);
  const [addPatient, setAddPatient] = useState<PatientPrefill | null>(null);
  const [writeTo, setWriteTo] = useState<{ id: string; name: string | null } | null>(null);
  /** Where focus goes once a patient dialog closed on something it opened (the conversation, the patient's page). */
  const focusAfterDialog = useRef<'conversation' | 'patient' | null>(null);
  const lastWriteTo = useRef<{ id: string; name: string | null }>({ id: '', name: null });
  if (writeTo) lastWriteTo.current = writeTo;
  const [showShortcuts, setShowShortcuts] = useState(false);
  const mayDashboard = agent.role !== 'agent';
  const [dashboard, setDashboard] = useState(() => mayDashboard && location.hash === DASHBOARD_HASH);
  const [DashboardView, setDashboardView] = useState<DashboardView | null>(null);
  const [dashboardError, setDashboardError] = useState<string | null>(null);
  const [showSavedReplies, setShowSavedReplies] = useState(false);
  const [showFaq, setShowFaq] = useState(false);
  const [showNumbers, setShowNumbers] = useState(false);
  const [unreadByView, setUnreadByView] = useState<Partial<Record<string, number>>>({});
  const countsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // The views' unread numbers: loaded once, then again (at most every second) as live changes arrive.
  const refreshCounts = useCallback(() => {
    clearTimeout(countsTimer.current);
    countsTimer.current = setTimeout(() => {
      void api.get<Record<string, { active: number; unread: number }>>('/api/conversations/counts').then(
        (counts) => setUnreadByView(Object.fromEntries(Object.entries(counts).map(([view, c]) => [view, c.unread]))),
        () => undefined,
      );
    }, 1000);
  }, [api]);
  const [announcement, setAnnouncement] = useState('');
  const [realtime, setRealtime] = useState<Realtime | null>(null);

  const pager = useRef<InboxPager | null>(null);
  const generation = useRef(0);
  const live = useRef({ view, filters, complete, openId });
  live.current = { view, filters, complete, openId };
  const commands = useRef<ConversationCommands | null>(null);
  const onEnded = useRef(props.onSessionEnded);
  onEnded.current = props.onSessionEnded;

  const directory: Directory = useMemo(
    () => ({
      agents,
      teams,
      agentName: (id) => (id ? (id === agent.id ? `${agents.get(id)?.name ?? agent.name} (you)` : (agents.get(id)?.name ?? 'another agent')) : 'Unassigned'),
      teamName: (id) => (id ? (teams.find((t) => t.id === id)?.name ?? id) : ''),
    }),
    [agents, teams, agent],
  );

  // The directory: agents, teams and canned responses, once.
  useEffect(() => {
    void api.get<{ items: AgentSummary[] }>('/api/agents').then((r) => setAgents(new Map(r.items.map((a) => [a.id, a]))), () => undefined);
    void api.get<{ items: Team[] }>('/api/teams').then((r) => setTeams(r.items), () => undefined);
    void api.get<{ items: CannedResponse[] }>('/api/canned-responses').then((r) => setCanned(r.items), () => setCanned(null));
  }, [api]);

  const inFlight = useRef<InboxPager | null>(null);
  const loadMore = useCallback(async () => {
    const p = pager.current;
    if (!p || p.done || inFlight.current === p) return;
    inFlight.current = p;
    const gen = generation.current;
    setLoading(true);
    setListError(null);
    try {
      const next = await p.next();
      if (gen !== generation.current) return;
      setItems((list) => {
        const ids = new Set(list.map((c) => c.id));
        return [...list, ...next.filter((c) => !ids.has(c.id))];
      });
      setComplete(p.done);
    } catch (e) {
      if (gen === generation.current) setListError(describeError(e));
    } finally {
      if (inFlight.current === p) inFlight.current = null;
      if (gen === generation.current) setLoading(false);
    }
  }, []);

  // The view's urgent open and pending conversations, pinned at the top: asked for separately, so they show
  // however far the list has been paged; live changes move them in and out like the rest of the list.
  const urgentGeneration = useRef(0);
  const loadUrgent = useCallback(async () => {
    const gen = ++urgentGeneration.current;
    const queries = urgentQueriesFor(view, filters, agent);
    setUrgent([]);
    if (queries.length === 0) return;
    const urgentPager = new InboxPager(queries, (query) => api.get<Page<ConversationRecord>>(`/api/conversations?${query}`));
    try {
      for (let page = 0; page < URGENT_MAX_PAGES && !urgentPager.done; page++) {
        const next = await urgentPager.next();
        if (gen !== urgentGeneration.current) return;
        setUrgent((list) => {
          const ids = new Set(list.map((c) => c.id));
          return [...list, ...next.filter((c) => !ids.has(c.id))].sort(compareConversations);
        });
      }
    } catch {
      // The list itself shows the hub's error (the same queries, unpinned); these stay where they are in it.
    }
  }, [api, agent, view, filters]);

  const reload = useCallback(() => {
    generation.current++;
    pager.current = new InboxPager(queriesFor(view, filters, agent), (query) => api.get<Page<ConversationRecord>>(`/api/conversations?${query}`));
    setItems([]);
    setComplete(false);
    void loadMore();
    void loadUrgent();
  }, [api, agent, view, filters, loadMore, loadUrgent]);

  useEffect(reload, [reload]);

  const upsertLive = useCallback(
    (c: ConversationRecord) => {
      const { view: v, filters: f, complete: done } = live.current;
      const belongs = matchesView(c, v, f, agent);
      if (!belongs) pager.current?.forget(c.id);
      setItems((list) => applyLive(list, c, belongs, done));
      const pinned = matchesUrgent(c, v, f, agent);
      setUrgent((list) => (pinned || list.some((x) => x.id === c.id) ? applyLive(list, c, pinned, true) : list));
    },
    [agent],
  );

  const open = useCallback(
    (id: string | null) => {
      setOpenId(id);
      setPatientOpen(null);
      setDashboard(false);
      savedOpen.set(agent.id, id);
      const hash = id ? `${HASH_PREFIX}${encodeURIComponent(id)}` : '';
      // Each opened conversation is a history entry, so the browser's back and forward move between them.
      if (location.hash !== hash) history.pushState(null, '', hash ? hash : location.pathname + location.search);
    },
    [agent],
  );

  /** A patient's page in the main pane (no conversation open); a history entry too. */
  const openPatient = useCallback(
    (id: string, notice: string | null = null) => {
      setOpenId(null);
      setPatientOpen({ id, notice });
      setDashboard(false);
      savedOpen.set(agent.id, null);
      const hash = `${PATIENT_HASH_PREFIX}${encodeURIComponent(id)}`;
      if (location.hash !== hash) history.pushState(null, '', hash);
    },
    [agent],
  );

  useEffect(() => {
    const onPop = () => {
      const id = conversationFromHash();
      const patientId = id ? null : patientFromHash();
      setOpenId(id);
      setPatientOpen(patientId ? { id: patientId, notice: null } : null);
      setDashboard(mayDashboard && location.hash === DASHBOARD_HASH);
      savedOpen.set(agent.id, id);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [agent]);

  const reloadRef = useRef(reload);
  reloadRef.current = reload;

  // The live connection.
  useEffect(() => {
    const rt = new Realtime(api, {
      onConnect: (again) => {
        if (again) reloadRef.current();
      },
      onStatus: setConnection,
      onSessionEnded: (message) => onEnded.current(message),
      onHubStatus: (state) => {
        const down = state === 'degraded';
        if (databaseWasDown.current && !down) setAnnouncement('The hub reached its database again');
        databaseWasDown.current = down;
        setDatabaseDown(down);
      },
    });
    const socket = rt.socket;
    refreshCounts();
    socket.on('message:created', ({ message, conversation }) => {
      upsertLive(conversation);
      refreshCounts();
      if (message.direction === 'inbound' && conversation.id !== live.current.openId) {
        setAnnouncement(`New message from ${conversation.patientName ?? 'a patient'}`);
      }
    });
    socket.on('message:updated', ({ conversation }) => upsertLive(conversation));
    socket.on('conversation:updated', ({ conversation }) => {
      upsertLive(conversation);
      refreshCounts();
    });
    socket.on('conversation:merged', ({ fromConversationId, conversation }) => {
      pager.current?.forget(fromConversationId);
      setItems((list) => list.filter((c) => c.id !== fromConversationId));
      setUrgent((list) => list.filter((c) => c.id !== fromConversationId));
      upsertLive(conversation);
      if (live.current.openId === fromConversationId) open(conversation.id);
    });
    // Transferred out of the agent's teams, an emergency grant ended, or merged where they may not follow.
    socket.on('conversation:closed', ({ conversationId, reason }) => {
      pager.current?.forget(conversationId);
      setItems((list) => list.filter((c) => c.id !== conversationId));
      setUrgent((list) => list.filter((c) => c.id !== conversationId));
      refreshCounts();
      if (live.current.openId === conversationId) {
        open(null);
        setAnnouncement(reason === 'grant_expired' ? 'Emergency access ended: the conversation was closed' : 'You no longer have access to that conversation: it was closed');
      }
    });
    // An emergency signal (supervisors of the team, admins, the on-call team) and long waits (supervisors, admins).
    socket.on('triage:alert', (alert) => setAlerts((list) => pushAlert(list, { kind: 'triage', ...alert })));
    socket.on('queue:escalation', (alert) => setAlerts((list) => pushAlert(list, { kind: 'escalation', ...alert })));
    socket.on('agent:status', ({ agentId, status }) => {
      setAgents((map) => {
        const known = map.get(agentId);
        if (!known || known.status === status) return map;
        return new Map(map).set(agentId, { ...known, status });
      });
    });
    setRealtime(rt);
    return () => {
      rt.close();
      setRealtime(null);
    };
  }, [api, upsertLive, open]);

  // The list as shown: the pinned urgent conversations first, then the rest (each once).
  const shownItems = useMemo(() => {
    if (urgent.length === 0) return items;
    const pinned = new Set(urgent.map((c) => c.id));
    return [...urgent, ...items.filter((c) => !pinned.has(c.id))];
  }, [urgent, items]);

  // Unread conversations in the current view, in the tab's title.
  const unread = shownItems.filter((c) => c.unreadCount > 0).length;
  useEffect(() => {
    document.title = `${unread > 0 ? `(${unread}) ` : ''}Inbox · CareThread`;
  }, [unread]);

  // Ctrl+K: "Find a patient", also while typing; not over another dialog (the search box itself gets focus again).
  useEffect(() => {
    function onFind(event: KeyboardEvent) {
      if (event.defaultPrevented || !isFindShortcut(event)) return;
      const dialog = document.querySelector('dialog[open]');
      if (dialog && !dialog.classList.contains('patient-search')) return;
      event.preventDefault();
      if (dialog) document.getElementById('patient-search-input')?.focus();
      else setShowSearch(true);
    }
    document.addEventListener('keydown', onFind);
    return () => document.removeEventListener('keydown', onFind);
  }, []);

  // Keyboard shortcuts (not while typing in a field, except Escape).
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTypingTarget(event.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const move = (delta: number) => {
        const list = shownItems;
        if (list.length === 0) return;
        const at = list.findIndex((c) => c.id === live.current.openId);
        const next = list[at === -1 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + delta))]!;
        open(next.id);
        requestAnimationFrame(() => {
          const button = document.querySelector<HTMLElement>(`[data-conversation-id="${CSS.escape(next.id)}"]`);
          button?.focus();
          button?.scrollIntoView({ block: 'nearest' });
        });
      };
      const c = commands.current;
      let handled = true;
      switch (event.key) {
        case 'j':
          move(1);
          break;
        case 'k':
          move(-1);
          break;
        case '?':
          setShowShortcuts(true);
          break;
        case 'r':
          c?.focusReply();
          break;
        case 'n':
          c?.noteMode();
          break;
        case 'a':
          c?.assignToMe();
          break;
        case 'e':
          c?.resolveOrReopen();
          break;
        case '/':
          c?.openCanned();
          break;
        case 'i':
          c?.togglePatient();
          break;
        default:
          handled = false;
      }
      if (handled) event.preventDefault();
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [shownItems, open]);

  const dialogFocus = useCallback(() => {
    const where = focusAfterDialog.current;
    focusAfterDialog.current = null;
    if (where === 'patient') return document.getElementById('patient-page-title') ?? document.getElementById('conversation-main');
    if (where === 'conversation') return document.getElementById('conversation-main');
    return null;
  }, []);

  // The dashboard's code (and Chart.js) is fetched the first time it is shown.
  useEffect(() => {
    if (!dashboard || DashboardView) return;
    import('./Dashboard.tsx').then(
      (module) => setDashboardView(() => module.Dashboard),
      () => setDashboardError('The dashboard could not be loaded; check the connection and try again'),
    );
  }, [dashboard, DashboardView]);
  const showDashboard = useCallback(() => {
    setDashboardError(null);
    setDashboard(true);
    if (location.hash !== DASHBOARD_HASH) history.pushState(null, '', DASHBOARD_HASH);
  }, []);

  const views = viewsFor(agent);
  const openInList = shownItems.find((c) => c.id === openId) ?? null;
  const setMyStatus = useCallback(
    (status: AgentStatus) =>
      setAgents((map) => {
        const me = map.get(agent.id);
        return me ? new Map(map).set(agent.id, { ...me, status }) : map;
      }),
    [agent.id],
  );

  return (
    <div class={`shell${openId ? ' has-open' : ''}`}>
      {dashboard ? (
        <a
          class="skip-link"
          href="#dashboard-main"
          onClick={(e) => {
            e.preventDefault();
            document.getElementById('dashboard-main')?.focus();
          }}
        >
          Skip to the dashboard
        </a>
      ) : (
        <a class="skip-link" href="#conversation-main">
          Skip to the conversation
        </a>
      )}
      <header class="topbar">
        <h1 class="brand">CareThread Inbox</h1>
        <span class={`connection connection-${connection}`} role="status">
          {connection === 'online' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Offline, reconnecting…'}
        </span>
        <button type="button" class="find-patient" onClick={() => setShowSearch(true)} aria-keyshortcuts="Control+K">
          Find a patient
          <kbd class="find-patient-key" aria-hidden="true">
            Ctrl+K
          </kbd>
        </button>
        <span class="spacer" />
        <StatusSelect api={api} agent={agent} status={agents.get(agent.id)?.status} onChanged={setMyStatus} />
        {mayDashboard && (
          <button type="button" class="ghost" aria-pressed={dashboard} onClick={() => (dashboard ? open(openId) : showDashboard())}>
            Dashboard
          </button>
        )}
        {agent.role === 'admin' && (
          <button type="button" class="ghost" onClick={() => setShowTeamSettings(true)}>
            Team settings
          </button>
        )}
        {agent.role === 'admin' && (
          <button type="button" class="ghost" onClick={() => setShowNumbers(true)}>
            Numbers
          </button>
        )}
        {agent.role !== 'agent' && (
          <button type="button" class="ghost" onClick={() => setShowSavedReplies(true)}>
            Saved replies
          </button>
        )}
        {agent.role !== 'agent' && (
          <button type="button" class="ghost" onClick={() => setShowFaq(true)}>
            Common questions
          </button>
        )}
        <button type="button" class="ghost" onClick={() => setShowShortcuts(true)} aria-keyshortcuts="?">
          Keyboard shortcuts
        </button>
        <span class="whoami">
          {agent.name}
          <span class="sr-only">, </span>
          <span class="role">{agent.role}</span>
        </span>
        <button type="button" class="ghost" onClick={() => void props.onLogout()}>
          Log out
        </button>
      </header>
      <DatabaseBanner degraded={databaseDown} />
      <AlertBanners
        alerts={alerts}
        teamName={directory.teamName}
        onOpen={(id) => {
          open(id);
          requestAnimationFrame(() => document.getElementById('conversation-main')?.focus());
        }}
        onDismiss={(alert) => setAlerts((list) => list.filter((a) => alertKey(a) !== alertKey(alert)))}
      />
      {dashboard ? (
        <main id="dashboard-main" class="dashboard-pane" tabIndex={-1} aria-labelledby="dashboard-title">
          {DashboardView ? (
            <DashboardView api={api} agent={agent} teams={teams} realtime={realtime} onOpenConversation={open} />
          ) : (
            <p id="dashboard-title" class={dashboardError ? 'error' : 'hint'} role={dashboardError ? 'alert' : undefined}>
              {dashboardError ?? 'Loading the dashboard…'}
            </p>
          )}
        </main>
      ) : (
        <div class="panes">
          <InboxList
            views={views}
            unreadByView={unreadByView}
            view={view}
            onView={setView}
            filters={filters}
            onFilters={setFilters}
            items={items}
            urgent={urgent}
            loading={loading}
            complete={complete}
            error={listError}
            onMore={loadMore}
            onRetry={reload}
            openId={openId}
            onOpen={open}
            directory={directory}
          />
          <main id="conversation-main" class="conversation-pane" tabIndex={-1}>
            {openId && realtime ? (
              <Conversation
                key={openId}
                id={openId}
                api={api}
                agent={agent}
                realtime={realtime}
                directory={directory}
                canned={canned}
                listed={openInList}
                commands={commands}
                onOpen={open}
                onOpenPatient={(id) => openPatient(id)}
                onClose={() => open(null)}
                onLocalUpdate={upsertLive}
              />
            ) : !openId && patientOpen ? (
              <PatientPage
                key={patientOpen.id}
                api={api}
                patientId={patientOpen.id}
                role={agent.role}
                notice={patientOpen.notice}
                onOpen={open}
                onOpenPatient={(id) => openPatient(id)}
                onClose={() => open(null)}
              />
            ) : (
              <div class="empty-state">
                <h2>No conversation open</h2>
                <p>Pick a conversation from the list, or press j and k to move through it. Press ? for all shortcuts.</p>
                <p>
                  To find a patient or add one, press <kbd>Ctrl+K</kbd>.
                </p>
              </div>
            )}
          </main>
        </div>
      )}
      <PatientSearchDialog
        open={showSearch}
        onClose={() => setShowSearch(false)}
        api={api}
        directory={directory}
        onOpenPatient={(id) => {
          focusAfterDialog.current = 'patient';
          setShowSearch(false);
          openPatient(id);
        }}
        onOpenConversation={(id) => {
          focusAfterDialog.current = 'conversation';
          setShowSearch(false);
          open(id);
        }}
        onNewConversation={(patient) => {
          setShowSearch(false);
          setWriteTo(patient);
        }}
        onAddPatient={(prefill) => {
          setShowSearch(false);
          setAddPatient(prefill);
        }}
        returnFocusTo={dialogFocus}
      />
      <PatientFormDialog
        open={addPatient !== null}
        onClose={() => setAddPatient(null)}
        api={api}
        agent={agent}
        teams={teams}
        prefill={addPatient ?? {}}
        onSaved={(patient) => {
          focusAfterDialog.current = 'patient';
          setAddPatient(null);
          openPatient(patient.id, `${patient.name ?? 'The patient'} was added. Record their consent, then start a new conversation.`);
          setAnnouncement(`${patient.name ?? 'The patient'} was added`);
        }}
        onOpenPatient={(id) => {
          focusAfterDialog.current = 'patient';
          setAddPatient(null);
          openPatient(id);
        }}
        returnFocusTo={dialogFocus}
      />
      <NewConversationDialog
          open={writeTo !== null}
          onClose={() => setWriteTo(null)}
          api={api}
          patient={writeTo ?? lastWriteTo.current}
          onStarted={(result) => {
            focusAfterDialog.current = 'conversation';
            setWriteTo(null);
            open(result.conversation.id);
            setAnnouncement(result.opened ? 'Conversation opened: the message is queued' : 'Message queued in the patient’s open conversation');
          }}
          onShowPatient={() => {
            focusAfterDialog.current = 'patient';
            setWriteTo(null);
            openPatient(lastWriteTo.current.id);
          }}
          returnFocusTo={dialogFocus}
        />
      <ShortcutsDialog open={showShortcuts} onClose={() => setShowShortcuts(false)} />
      {agent.role === 'admin' && <TeamSettingsDialog open={showTeamSettings} onClose={() => setShowTeamSettings(false)} api={api} teams={teams} />}
      {agent.role === 'admin' && <NumbersDialog open={showNumbers} onClose={() => setShowNumbers(false)} api={api} />}
      {agent.role !== 'agent' && (
        <SavedRepliesDialog
          open={showSavedReplies}
          onClose={() => setShowSavedReplies(false)}
          api={api}
          agent={agent}
          teams={teams}
          items={canned ?? []}
          onChanged={setCanned}
        />
      )}
      {agent.role !== 'agent' && <FaqDialog open={showFaq} onClose={() => setShowFaq(false)} api={api} agent={agent} teams={teams} />}
      <div class="sr-only" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
}
