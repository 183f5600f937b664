/**
 * The supervisor dashboard (supervisors and admins; `#/dashboard`): a period
 * and a team, the contact-center KPIs for it (tiles for the period, charts
 * per day), the live queue (GET /api/reports/queue, then `queue:stats` as it
 * changes) and what patients wrote in their satisfaction answers, each with a
 * link to its conversation. Loaded on demand (its own chunk with Chart.js), so
 * agents' inbox does not carry it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import type { Realtime } from '../realtime.ts';
import {
  dayLabel,
  formatCount,
  formatDuration,
  formatRate,
  formatScore,
  kpiQueryString,
  lastDays,
  NO_DATA,
  periodDay,
  periodProblem,
  reportQueryString,
  toMinutes,
  type CsatComment,
  type CsatCommentsPage,
  type KpiAnswer,
  type KpiFigures,
  type QueueStats,
  type ReportQuery,
} from '../reports.ts';
import type { AgentSummary, Team } from '../types.ts';
import { DayChart, type DaySeries } from './DayChart.tsx';

type Load<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'missing' } | { state: 'error'; message: string };

const COLORS = { primary: '#1f4fd1', orange: '#9a3412', green: '#14632d' } as const;

function useReport<T>(api: Api, path: string | null, reload: number): Load<T> {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    setLoad({ state: 'loading' });
    api.get<T>(path).then(
      (data) => !cancelled && setLoad({ state: 'ok', data }),
      (error: unknown) => {
        if (cancelled) return;
        // A hub without this report yet (an older version) answers 404: said plainly, not as a failure.
        if (error instanceof ApiError && (error.status === 404 || error.status === 405)) setLoad({ state: 'missing' });
        else setLoad({ state: 'error', message: describeError(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, path, reload]);
  return load;
}

export function Dashboard(props: { api: Api; agent: AgentSummary; teams: Team[]; realtime: Realtime | null; onOpenConversation(id: string): void }) {
  const { api, agent, realtime } = props;
  const isAdmin = agent.role === 'admin';
  const teamChoices = useMemo(() => (isAdmin ? props.teams : props.teams.filter((t) => agent.teamIds.includes(t.id))), [props.teams, agent, isAdmin]);
  const [from, setFrom] = useState(() => lastDays(7).from);
  const [to, setTo] = useState(() => lastDays(7).to);
  const [teamPicked, setTeamPicked] = useState<string | null>(null);
  // Admins see every team at once by default; a supervisor their team (all theirs, if they have several).
  const everyTeam = isAdmin || teamChoices.length > 1;
  const team = teamPicked ?? (everyTeam ? '' : (teamChoices[0]?.id ?? agent.teamIds[0] ?? ''));
  const problem = periodProblem(from, to);
  const query: ReportQuery | null = problem ? null : { from, to, team };
  const [reload, setReload] = useState(0);
  const teamName = (id: string) => props.teams.find((t) => t.id === id)?.name ?? id;

  const kpis = useReport<KpiAnswer>(api, query ? `/api/reports/kpis?${kpiQueryString(query)}` : null, reload);
  // Opened: focus on its heading, so a screen reader says where the agent is.
  useEffect(() => document.getElementById('dashboard-title')?.focus(), []);

  return (
    <div class="dashboard">
      <div class="dashboard-head">
        <h2 id="dashboard-title" tabIndex={-1}>
          Supervisor dashboard
        </h2>
        <form class="dashboard-controls" aria-label="Period and team" onSubmit={(e) => e.preventDefault()}>
          <div class="field">
            <label for="dashboard-from">From</label>
            <input
              id="dashboard-from"
              type="date"
              value={from}
              max={to || undefined}
              aria-invalid={problem?.field === 'from' ? 'true' : undefined}
              aria-describedby={problem?.field === 'from' ? 'dashboard-period-error' : undefined}
              onChange={(e) => setFrom((e.target as HTMLInputElement).value)}
            />
          </div>
          <div class="field">
            <label for="dashboard-to">To</label>
            <input
              id="dashboard-to"
              type="date"
              value={to}
              min={from || undefined}
              aria-invalid={problem?.field === 'to' ? 'true' : undefined}
              aria-describedby={problem?.field === 'to' ? 'dashboard-period-error' : undefined}
              onChange={(e) => setTo((e.target as HTMLInputElement).value)}
            />
          </div>
          <div class="field">
            <label for="dashboard-team">Team</label>
            <select id="dashboard-team" value={team} onChange={(e) => setTeamPicked((e.target as HTMLSelectElement).value)}>
              {everyTeam && <option value="">{isAdmin ? 'All teams' : 'All my teams'}</option>}
              {teamChoices.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </div>
          <p class="hint dashboard-granularity">Figures per day</p>
          <button type="button" class="ghost" onClick={() => setReload((n) => n + 1)} disabled={!query}>
            Refresh
          </button>
          {problem && (
            <p id="dashboard-period-error" class="field-error" role="alert">
              {problem.message}
            </p>
          )}
        </form>
      </div>

      <LiveQueue api={api} realtime={realtime} team={team} teamName={teamName} />

      <section class="dashboard-section" aria-labelledby="kpi-title" aria-busy={kpis.state === 'loading' && query ? 'true' : 'false'}>
        <h3 id="kpi-title">
          Key figures{query ? `, ${dayLabel(query.from)} to ${dayLabel(query.to)}` : ''}
          {team ? ` · ${teamName(team)}` : isAdmin ? ' · all teams' : ' · your teams'}
        </h3>
        {!query ? (
          <p class="hint">Choose a valid period to see the figures.</p>
        ) : kpis.state === 'loading' ? (
          <p class="hint">Loading the figures…</p>
        ) : kpis.state === 'missing' ? (
          <p class="notice">The KPI report is not available on this hub yet.</p>
        ) : kpis.state === 'error' ? (
          <p class="error" role="alert">
            The figures could not be loaded: {kpis.message}{' '}
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Try again
            </button>
          </p>
        ) : (
          <Kpis answer={kpis.data} from={query.from} />
        )}
      </section>

      {query && <CsatComments api={api} query={query} reload={reload} onOpenConversation={props.onOpenConversation} />}
    </div>
  );
}

function Tile(props: { label: string; value: string; sub?: string; testId: string }) {
  return (
    <div class="tile" data-testid={props.testId}>
      <dt>{props.label}</dt>
      <dd class="tile-value">
        {props.value === NO_DATA ? (
          <>
            <span aria-hidden="true">{NO_DATA}</span>
            <span class="sr-only">no data</span>
          </>
        ) : (
          props.value
        )}
      </dd>
      {props.sub && <dd class="tile-sub">{props.sub}</dd>}
    </div>
  );
}

function Kpis(props: { answer: KpiAnswer; from: string }) {
  const items = props.answer.items ?? [];
  const totals: Partial<KpiFigures> = props.answer.totals ?? {};
  const p90 = (q: { p90?: number | null } | null | undefined) => (q?.p90 === null || q?.p90 === undefined ? undefined : `90th percentile: ${formatDuration(q.p90)}`);
  const days = useMemo(() => items.map((item, i) => periodDay(item.period, i, props.from)), [items, props.from]);
  const labels = useMemo(() => days.map(dayLabel), [days]);
  const volume: DaySeries[] = useMemo(
    () => [{ label: 'Conversations', kind: 'bar', color: COLORS.primary, values: items.map((i) => i.conversations ?? null), format: (v) => formatCount(v) }],
    [items],
  );
  const minutes = (v: number | null) => (v === null ? NO_DATA : formatDuration(v * 60));
  const times: DaySeries[] = useMemo(
    () => [
      { label: 'First response (median)', kind: 'line', color: COLORS.primary, values: items.map((i) => toMinutes(i.firstResponseSeconds?.median)), format: minutes },
      { label: 'Time in queue (median)', kind: 'line', color: COLORS.orange, dashed: true, values: items.map((i) => toMinutes(i.queueSeconds?.median)), format: minutes },
    ],
    [items],
  );
  const csat = totals.csat ?? null;
  return (
    <>
      <dl class="tiles">
        <Tile testId="kpi-conversations" label="Conversations" value={formatCount(totals.conversations)} />
        <Tile testId="kpi-first-response" label="First response (median)" value={formatDuration(totals.firstResponseSeconds?.median)} sub={p90(totals.firstResponseSeconds)} />
        <Tile testId="kpi-response" label="Response time (median)" value={formatDuration(totals.responseSeconds?.median)} sub={p90(totals.responseSeconds)} />
        <Tile testId="kpi-queue" label="Time in queue (median)" value={formatDuration(totals.queueSeconds?.median)} sub={p90(totals.queueSeconds)} />
        <Tile testId="kpi-handle" label="Handle time (median)" value={formatDuration(totals.handleSeconds?.median)} />
        <Tile testId="kpi-abandonment" label="Abandoned" value={formatRate(totals.abandonmentRate)} />
        <Tile testId="kpi-fcr" label="Resolved at first contact" value={formatRate(totals.firstContactResolutionRate)} />
        <Tile
          testId="kpi-csat"
          label="Patient satisfaction"
          value={formatScore(csat?.average)}
          sub={csat?.responses ? `${formatRate(csat.satisfiedRate)} satisfied · ${formatCount(csat.responses)} ${csat.responses === 1 ? 'answer' : 'answers'}` : 'No answers'}
        />
      </dl>
      {items.length === 0 ? (
        <p class="hint">No conversations in this period.</p>
      ) : (
        <div class="charts">
          <DayChart id="chart-volume" title="Conversations per day" unit="conversations" days={days} labels={labels} series={volume} />
          <DayChart id="chart-times" title="Response times per day" unit="minutes" days={days} labels={labels} series={times} />
        </div>
      )}
    </>
  );
}

function LiveQueue(props: { api: Api; realtime: Realtime | null; team: string; teamName(id: string): string }) {
  const { api, realtime } = props;
  const [byTeam, setByTeam] = useState<Map<string, QueueStats>>(new Map());
  const [load, setLoad] = useState<'loading' | 'ok' | 'error'>('loading');
  const [error, setError] = useState('');

  // The figures now, then as they change (the hub pushes a team at most once a second).
  useEffect(() => {
    let cancelled = false;
    const adopt = (stats: QueueStats) =>
      setByTeam((map) => {
        const known = map.get(stats.teamId);
        if (known && known.at > stats.at) return map;
        return new Map(map).set(stats.teamId, stats);
      });
    api.get<{ items: QueueStats[] }>('/api/reports/queue').then(
      (answer) => {
        if (cancelled) return;
        answer.items.forEach(adopt);
        setLoad('ok');
      },
      (e: unknown) => {
        if (cancelled) return;
        setError(describeError(e));
        setLoad('error');
      },
    );
    const socket = realtime?.socket;
    const onStats = (stats: QueueStats) => {
      adopt(stats);
      setLoad('ok');
    };
    socket?.on('queue:stats', onStats);
    return () => {
      cancelled = true;
      socket?.off('queue:stats', onStats);
    };
  }, [api, realtime]);

  const shown = [...byTeam.values()].filter((s) => !props.team || s.teamId === props.team).sort((a, b) => a.teamName.localeCompare(b.teamName));
  const latest = shown.reduce<string | null>((at, s) => (at === null || s.at > at ? s.at : at), null);
  return (
    <section class="dashboard-section" aria-labelledby="queue-title">
      <div class="section-head">
        <h3 id="queue-title">Live queue</h3>
        {latest && <span class="hint">Updated {new Date(latest).toLocaleTimeString('en-US')}</span>}
      </div>
      {load === 'error' && shown.length === 0 ? (
        <p class="error" role="alert">
          The live queue could not be loaded: {error}
        </p>
      ) : load === 'loading' && shown.length === 0 ? (
        <p class="hint">Loading the queue…</p>
      ) : shown.length === 0 ? (
        <p class="hint">No team to show.</p>
      ) : (
        shown.map((s) => (
          <div class="queue-team" key={s.teamId} data-testid={`queue-${s.teamId}`}>
            {(!props.team || shown.length > 1) && <h4>{props.teamName(s.teamId) || s.teamName}</h4>}
            <dl class="tiles tiles-queue" aria-label={`Live queue of ${s.teamName}`}>
              <Tile testId="queue-waiting" label="Waiting" value={formatCount(s.waiting)} />
              <Tile testId="queue-longest" label="Longest wait" value={s.waiting > 0 ? formatDuration(s.longestWaitSeconds) : 'nobody waiting'} />
              <Tile testId="queue-online" label="Agents online" value={formatCount(s.agents.online)} />
              <Tile testId="queue-busy" label="Busy (at capacity)" value={formatCount(s.agents.busy)} />
              <Tile testId="queue-away" label="Away" value={formatCount(s.agents.away)} />
            </dl>
          </div>
        ))
      )}
    </section>
  );
}

function CsatComments(props: { api: Api; query: ReportQuery; reload: number; onOpenConversation(id: string): void }) {
  const { api, query } = props;
  const [items, setItems] = useState<CsatComment[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ok' | 'missing' | 'error'>('loading');
  const [error, setError] = useState('');
  const base = `/api/reports/csat/comments?${reportQueryString(query)}`;

  const fetchPage = (cursor: string | null, replace: boolean) => {
    setState('loading');
    return api.get<CsatCommentsPage>(cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base).then(
      (page) => {
        setItems((list) => (replace ? page.items : [...list, ...page.items]));
        setNext(page.nextCursor ?? null);
        setState('ok');
      },
      (e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
          setState('missing');
        } else {
          setError(describeError(e));
          setState('error');
        }
      },
    );
  };

  useEffect(() => {
    setItems([]);
    setNext(null);
    void fetchPage(null, true);
  }, [base, props.reload]);

  return (
    <section class="dashboard-section" aria-labelledby="csat-title" aria-busy={state === 'loading' ? 'true' : 'false'}>
      <h3 id="csat-title">What patients said</h3>
      {state === 'missing' ? (
        <p class="notice">Satisfaction comments are not available on this hub yet.</p>
      ) : state === 'error' ? (
        <p class="error" role="alert">
          The comments could not be loaded: {error}
        </p>
      ) : items.length === 0 ? (
        <p class="hint">{state === 'loading' ? 'Loading the comments…' : 'No comments in this period.'}</p>
      ) : (
        <ul class="csat-comments">
          {items.map((c) => (
            <li key={`${c.conversationId}:${c.at}`}>
              <blockquote>{c.comment}</blockquote>
              <p class="csat-meta">
                <span class={`csat-score csat-score-${Math.max(1, Math.min(5, Math.round(c.score)))}`}>Score {c.score} of 5</span>
                <span>{new Date(c.at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}</span>
                <a
                  href={`#/conversations/${encodeURIComponent(c.conversationId)}`}
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    props.onOpenConversation(c.conversationId);
                  }}
                >
                  Open the conversation
                </a>
              </p>
            </li>
          ))}
        </ul>
      )}
      {next && state === 'ok' && (
        <button type="button" onClick={() => void fetchPage(next, false)}>
          More comments
        </button>
      )}
    </section>
  );
}
