/**
 * Banners at the top of the workspace, newest first, until dismissed: an
 * emergency or crisis signal in a patient's message (`triage:alert`, to the
 * team's supervisors, the admins and the on-call team), and the less
 * prominent "a conversation has waited N minutes" (`queue:escalation`).
 * The events carry no PHI; opening the conversation loads it as usual.
 * DatabaseBanner (below) shows the hub's own state (`hub:status`) while its database is unreachable.
 */
import { useRef } from 'preact/hooks';
import { plural, shortTime } from '../format.ts';
import type { WorkspaceAlert } from '../types.ts';

export function alertKey(alert: WorkspaceAlert): string {
  return `${alert.kind}:${alert.conversationId}`;
}

/** Adds an alert on top; a newer one for the same conversation (and kind) replaces the older. */
export function pushAlert(list: WorkspaceAlert[], alert: WorkspaceAlert): WorkspaceAlert[] {
  const key = alertKey(alert);
  return [alert, ...list.filter((a) => alertKey(a) !== key)];
}

export function AlertBanners(props: {
  alerts: WorkspaceAlert[];
  teamName(id: string): string;
  onOpen(conversationId: string): void;
  onDismiss(alert: WorkspaceAlert): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  // A dismissed banner takes the focus with it: hand it to the next banner, or to the conversation.
  const dismiss = (alert: WorkspaceAlert) => {
    props.onDismiss(alert);
    requestAnimationFrame(() => {
      const next = box.current?.querySelector<HTMLElement>('.alert-open') ?? document.getElementById('conversation-main');
      next?.focus();
    });
  };
  return (
    <div class="alerts" ref={box}>
      {props.alerts.map((alert) => {
        const key = alertKey(alert);
        const textId = `alert-text-${key.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
        const team = props.teamName(alert.teamId);
        return alert.kind === 'triage' ? (
          <div key={key} class="alert-banner alert-triage" role="alert">
            <p id={textId} class="alert-text">
              <strong>Urgent: {alert.label}</strong>
              <span class="alert-meta">
                {team ? ` · ${team}` : ''} · {shortTime(alert.at)}
              </span>
            </p>
            <span class="alert-dash" aria-hidden="true">
              —
            </span>
            <button type="button" class="alert-open" aria-describedby={textId} onClick={() => props.onOpen(alert.conversationId)}>
              Open
            </button>
            <button type="button" class="ghost alert-dismiss" aria-label={`Dismiss: Urgent: ${alert.label}`} onClick={() => dismiss(alert)}>
              ×
            </button>
          </div>
        ) : (
          <div key={key} class="alert-banner alert-escalation" role="status">
            <p id={textId} class="alert-text">
              A conversation has waited {plural(alert.waitedMinutes, 'minute')} for an agent
              <span class="alert-meta">
                {team ? ` · ${team}` : ''} · {shortTime(alert.at)}
              </span>
            </p>
            <span class="alert-dash" aria-hidden="true">
              —
            </span>
            <button type="button" class="alert-open" aria-describedby={textId} onClick={() => props.onOpen(alert.conversationId)}>
              Open
            </button>
            <button
              type="button"
              class="ghost alert-dismiss"
              aria-label={`Dismiss: a conversation has waited ${plural(alert.waitedMinutes, 'minute')}`}
              onClick={() => dismiss(alert)}
            >
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}

/**
 * The hub cannot reach its database: shown while it lasts (no dismiss: it is a state, and goes away by itself).
 * Announced once when it appears; the workspace announces the recovery.
 */
export function DatabaseBanner(props: { degraded: boolean }) {
  if (!props.degraded) return null;
  return (
    <div class="alert-banner alert-degraded" role="alert">
      <p class="alert-text">
        <strong>The hub cannot reach its database.</strong> Replies cannot be sent and new patient messages may arrive late.
        This notice clears by itself when it is back.
      </p>
    </div>
  );
}
