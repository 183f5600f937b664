/**
 * The agent's own status in the top bar (Online / Away / Offline): the hub
 * only assigns new conversations to agents who are Online. The inbox sets an
 * Online agent Away after AUTO_AWAY_AFTER_MS without a key press, click,
 * scroll or touch here, and back Online at their next one — only when it was
 * the inbox that set them Away.
 *
 * Every request counts as activity on the hub (automatic logoff), so the
 * automatic switch to Away is tried once per idle spell, never repeated,
 * and nothing is polled.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { idleMs, onActivity } from '../activity.ts';
import { describeError, type Api } from '../api.ts';
import { AGENT_STATUSES, agentStatusLabel } from '../format.ts';
import { autoAway } from '../storage.ts';
import type { AgentStatus, AgentSummary } from '../types.ts';

export const AUTO_AWAY_AFTER_MS = 5 * 60_000;
const CHECK_EVERY_MS = 30_000;

type How = 'manual' | 'auto-away' | 'auto-back';

export function StatusSelect(props: { api: Api; agent: AgentSummary; status: AgentStatus | undefined; onChanged(status: AgentStatus): void }) {
  const { api, agent } = props;
  const [shown, setShown] = useState<AgentStatus | undefined>(props.status);
  const [error, setError] = useState<string | null>(null);
  const [said, setSaid] = useState('');
  const current = useRef(shown);
  const busy = useRef(false);
  /** The inbox set the agent Away (not the agent): their next activity sets them Online again. */
  const auto = useRef(autoAway.get(agent.id));
  /** Already tried Away in this idle spell (successfully or not): not again until the agent is back. */
  const triedThisSpell = useRef(false);
  const onChanged = useRef(props.onChanged);
  onChanged.current = props.onChanged;

  const setAuto = (on: boolean) => {
    auto.current = on;
    autoAway.set(agent.id, on);
  };

  // What the hub says (GET /api/agents, then `agent:status` events, also from the agent's other tabs).
  useEffect(() => {
    if (props.status === undefined || busy.current) return;
    setShown(props.status);
    current.current = props.status;
    if (props.status !== 'away' && auto.current) setAuto(false);
  }, [props.status]);

  const change = useRef<(next: AgentStatus, how: How) => Promise<void>>(async () => undefined);
  change.current = async (next, how) => {
    const before = current.current;
    busy.current = true;
    current.current = next;
    setShown(next);
    setError(null);
    try {
      const updated = await api.patch<AgentSummary>(`/api/agents/${encodeURIComponent(agent.id)}`, { status: next });
      const status = updated?.status ?? next;
      current.current = status;
      setShown(status);
      setAuto(how === 'auto-away');
      onChanged.current(status);
      if (how === 'auto-away') setSaid('No activity for 5 minutes: your status is now Away. It goes back to Online when you return.');
      else if (how === 'auto-back') setSaid('Welcome back: your status is Online again.');
      else setSaid(`Status: ${agentStatusLabel(status)}`);
    } catch (e) {
      current.current = before;
      setShown(before);
      setError(`Status not changed: ${describeError(e)}`);
    } finally {
      busy.current = false;
    }
  };

  // Away after a while without activity (checked every 30 seconds; one request at most per idle spell).
  useEffect(() => {
    const timer = setInterval(() => {
      if (current.current !== 'online' || busy.current || triedThisSpell.current) return;
      if (idleMs() < AUTO_AWAY_AFTER_MS) return;
      triedThisSpell.current = true;
      void change.current('away', 'auto-away');
    }, CHECK_EVERY_MS);
    const stop = onActivity(() => {
      triedThisSpell.current = false;
      if (auto.current && current.current === 'away' && !busy.current) void change.current('online', 'auto-back');
    });
    return () => {
      clearInterval(timer);
      stop();
    };
  }, []);

  return (
    <span class={`status-field status-${shown ?? 'unknown'}`}>
      <label for="agent-status">Status</label>
      <select
        id="agent-status"
        value={shown ?? ''}
        aria-describedby={error ? 'agent-status-error' : undefined}
        onChange={(e) => {
          const next = e.currentTarget.value as AgentStatus;
          if (next && next !== current.current) void change.current(next, 'manual');
        }}
      >
        {shown === undefined && (
          <option value="" disabled>
            Loading…
          </option>
        )}
        {AGENT_STATUSES.map((s) => (
          <option key={s} value={s}>
            {agentStatusLabel(s)}
          </option>
        ))}
      </select>
      {error && (
        <span id="agent-status-error" class="status-error" role="alert">
          {error}
        </span>
      )}
      <span class="sr-only" aria-live="polite">
        {said}
      </span>
    </span>
  );
}
