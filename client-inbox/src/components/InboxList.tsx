/** The left column: views, filters and the conversations, newest activity first, with infinite scroll. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { channelLabel, fullTime, plural, priorityLabel, shortTime, statusLabel, waitingLabel } from '../format.ts';
import { waitedMinutes, type InboxFilters, type StatusFilter, type ViewId, type ViewSpec } from '../inbox-model.ts';
import type { ChannelId, ConversationRecord, Priority } from '../types.ts';
import type { Directory } from './Workspace.tsx';

export interface InboxListProps {
  views: ViewSpec[];
  /** Unread conversations per view (GET /api/conversations/counts); absent until loaded. */
  unreadByView?: Partial<Record<string, number>>;
  view: ViewId;
  onView(view: ViewId): void;
  filters: InboxFilters;
  onFilters(filters: InboxFilters): void;
  items: ConversationRecord[];
  /** The view's urgent open and pending conversations, pinned above the rest (shown once, there). */
  urgent: ConversationRecord[];
  loading: boolean;
  complete: boolean;
  error: string | null;
  onMore(): void;
  onRetry(): void;
  openId: string | null;
  onOpen(id: string): void;
  directory: Directory;
}

export function InboxList(props: InboxListProps) {
  const { filters } = props;
  const sentinel = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const more = useRef(props.onMore);
  more.current = props.onMore;
  const canLoad = !props.complete && !props.loading && !props.error;

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !canLoad) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) more.current();
    }, { root: scroller.current, rootMargin: '200px' });
    observer.observe(target);
    return () => observer.disconnect();
  }, [canLoad, props.items.length]);

  const urgentIds = new Set(props.urgent.map((c) => c.id));
  const rest = props.items.filter((c) => !urgentIds.has(c.id));
  const shown = props.urgent.length + rest.length;
  const unread = props.urgent.filter((c) => c.unreadCount > 0).length + rest.filter((c) => c.unreadCount > 0).length;

  // "waiting N min" moves on by itself: once every 30 seconds, and only while something is waiting.
  const [now, setNow] = useState(() => Date.now());
  const anyWaiting = props.urgent.some((c) => c.waitingSince) || rest.some((c) => c.waitingSince);
  useEffect(() => {
    if (!anyWaiting) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, [anyWaiting]);

  return (
    <nav class="inbox" aria-label="Inbox">
      <div class="views" role="group" aria-label="Views">
        {props.views.map((v) => (
          <button key={v.id} type="button" class="view-button" aria-pressed={v.id === props.view} onClick={() => props.onView(v.id)}>
            {v.label}
            {(props.unreadByView?.[v.id] ?? 0) > 0 && (
              <span class="view-unread" data-testid={`unread-${v.id}`}>
                <span class="sr-only">, </span>
                {props.unreadByView![v.id]}
                <span class="sr-only"> unread</span>
              </span>
            )}
          </button>
        ))}
      </div>
      <div class="filters">
        <label>
          <span>Status</span>
          <select id="filter-status" value={filters.status} onChange={(e) => props.onFilters({ ...filters, status: e.currentTarget.value as StatusFilter })}>
            <option value="active">Open and pending</option>
            <option value="open">Open</option>
            <option value="pending">Pending</option>
            <option value="resolved">Resolved</option>
            <option value="any">Any status</option>
          </select>
        </label>
        <label>
          <span>Channel</span>
          <select id="filter-channel" value={filters.channel} onChange={(e) => props.onFilters({ ...filters, channel: e.currentTarget.value as ChannelId | '' })}>
            <option value="">Any channel</option>
            <option value="sms">SMS</option>
            <option value="email">Email</option>
            <option value="webchat">Web chat</option>
          </select>
        </label>
        <label>
          <span>Priority</span>
          <select id="filter-priority" value={filters.priority} onChange={(e) => props.onFilters({ ...filters, priority: e.currentTarget.value as Priority | '' })}>
            <option value="">Any priority</option>
            <option value="urgent">Urgent</option>
            <option value="high">High</option>
            <option value="normal">Normal</option>
            <option value="low">Low</option>
          </select>
        </label>
      </div>
      <p class="list-summary" aria-live="polite">
        {props.loading && shown === 0
          ? 'Loading conversations…'
          : `${plural(shown, 'conversation')}${props.complete ? '' : '+'}${props.urgent.length ? ` · ${props.urgent.length} urgent` : ''}${unread ? ` · ${unread} unread` : ''}`}
      </p>
      <div class="list-scroll" ref={scroller}>
        <ul class="conversation-list" aria-label="Conversations">
          {props.urgent.length > 0 && (
            <li class="list-group urgent-group">
              <h2 class="list-group-head" id="urgent-heading">
                Urgent <span class="list-group-count">({props.urgent.length})</span>
              </h2>
              <ul class="conversation-list" aria-labelledby="urgent-heading">
                {props.urgent.map((c) => (
                  <ConversationItem key={c.id} c={c} now={now} open={c.id === props.openId} onOpen={props.onOpen} directory={props.directory} />
                ))}
              </ul>
            </li>
          )}
          {rest.map((c) => (
            <ConversationItem key={c.id} c={c} now={now} open={c.id === props.openId} onOpen={props.onOpen} directory={props.directory} />
          ))}
        </ul>
        {shown === 0 && !props.loading && !props.error && <p class="list-empty">No conversations here.</p>}
        {props.error && (
          <p class="error" role="alert">
            {props.error}{' '}
            <button type="button" class="link" onClick={props.onRetry}>
              Try again
            </button>
          </p>
        )}
        {!props.complete && !props.error && (
          <div ref={sentinel} class="list-more">
            <button type="button" class="ghost" disabled={props.loading} onClick={props.onMore}>
              {props.loading ? 'Loading…' : 'Load more conversations'}
            </button>
          </div>
        )}
      </div>
    </nav>
  );
}

function ConversationItem(props: { c: ConversationRecord; now: number; open: boolean; onOpen(id: string): void; directory: Directory }) {
  const { c } = props;
  const preview = c.preview.body ?? '';
  const who = c.preview.direction === 'outbound' ? 'You: ' : c.preview.direction === 'note' ? 'Note: ' : '';
  const waited = waitedMinutes(c, props.now);
  return (
    <li class={`conversation-item${props.open ? ' is-open' : ''}${c.unreadCount > 0 ? ' is-unread' : ''}${c.triage ? ' is-triage' : ''}`}>
      <button
        type="button"
        data-conversation-id={c.id}
        aria-current={props.open ? 'true' : undefined}
        onClick={() => props.onOpen(c.id)}
      >
        <span class="item-top">
          <span class="item-name">{c.patientName ?? c.patientContact ?? 'Unknown patient'}</span>
          <time dateTime={c.lastMessageAt} class="item-time">
            {shortTime(c.lastMessageAt)}
          </time>
        </span>
        {c.triage && (
          <span class="triage-line">
            <span class="badge badge-triage" data-testid="triage-badge" title={`Flagged ${fullTime(c.triage.at)}`}>
              {c.triage.label}
            </span>
          </span>
        )}
        <span class="item-preview">
          {who}
          {preview}
        </span>
        <span class="item-tags">
          {c.channels.map((ch) => (
            <span key={ch} class={`badge badge-${ch}`}>
              {channelLabel(ch)}
            </span>
          ))}
          {c.priority !== 'normal' && <span class={`badge priority-${c.priority}`}>{priorityLabel(c.priority)}</span>}
          {c.status !== 'open' && <span class={`badge status-${c.status}`}>{statusLabel(c.status)}</span>}
          {waited !== null && (
            <span class={`item-waiting${waited >= 10 ? ' is-long' : ''}`} title={`Waiting for an agent since ${fullTime(c.waitingSince)}`}>
              {waitingLabel(waited)}
            </span>
          )}
          <span class="item-assignee">{props.directory.agentName(c.assigneeId)}</span>
          {c.unreadCount > 0 && (
            <span class="unread" title={`${c.unreadCount} unread`}>
              {c.unreadCount}
              <span class="sr-only"> unread</span>
            </span>
          )}
        </span>
      </button>
    </li>
  );
}
