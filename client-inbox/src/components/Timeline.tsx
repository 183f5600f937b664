/**
 * The conversation's one timeline across channels: patient messages, replies
 * with their delivery state, internal notes (styled apart) and system events
 * (centered, muted). Earlier history loads when scrolled to the top; new
 * messages keep the view at the bottom when it was there.
 * Every body is rendered as text.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { channelReasonLabel, deliveryLabel, fileSize, fullTime, isDeliveryProblem, messageBadge, shortTime } from '../format.ts';
import type { MessageRecord } from '../types.ts';
import type { Directory } from './Workspace.tsx';

export function Timeline(props: {
  messages: MessageRecord[];
  loaded: boolean;
  hasEarlier: boolean;
  loadingEarlier: boolean;
  onEarlier(): void;
  api: Api;
  conversationId: string;
  directory: Directory;
  agentId: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const before = useRef<{ firstId: string | undefined; height: number; top: number }>({ firstId: undefined, height: 0, top: 0 });
  const { messages } = props;
  const firstId = messages[0]?.id;

  // Keep the reading position when earlier messages are prepended; follow new ones at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = before.current;
    if (prev.firstId && firstId !== prev.firstId && el.scrollHeight > prev.height && !stick.current) {
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
  }, [messages]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    before.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < 80 && props.hasEarlier && !props.loadingEarlier) props.onEarlier();
  }

  return (
    <div class="timeline" ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label="Timeline">
      {props.hasEarlier && (
        <div class="earlier">
          <button type="button" class="ghost" disabled={props.loadingEarlier} onClick={() => {
            stick.current = false;
            props.onEarlier();
          }}>
            {props.loadingEarlier ? 'Loading earlier messages…' : 'Load earlier messages'}
          </button>
        </div>
      )}
      {!props.loaded && <p class="timeline-loading">Loading messages…</p>}
      <ol class="messages" aria-label="Messages">
        {messages.map((m) => (
          <MessageItem key={m.id} m={m} {...props} />
        ))}
      </ol>
    </div>
  );
}

function MessageItem(props: { m: MessageRecord; api: Api; conversationId: string; directory: Directory; agentId: string }) {
  const { m, directory } = props;
  if (m.direction === 'system') {
    return (
      <li class="msg msg-system" data-seq={m.seq}>
        <span class="msg-body">{m.body}</span>{' '}
        <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
          {shortTime(m.createdAt)}
        </time>
      </li>
    );
  }
  const author =
    m.direction === 'inbound'
      ? m.sender && !m.sender.verified
        ? 'Sender not verified'
        : 'Patient'
      : m.author.agentId
        ? m.author.agentId === props.agentId
          ? 'You'
          : (directory.agents.get(m.author.agentId)?.name ?? 'Agent')
        : m.author.type === 'system'
          ? 'CareThread'
          : 'Agent';
  const isNote = m.direction === 'note';
  const delivery = m.direction === 'outbound' ? deliveryLabel(m.delivery.status) : null;
  const problem = isDeliveryProblem(m.delivery.status);
  const reason = m.direction === 'outbound' ? channelReasonLabel(m.channelReason, m.channel) : null;
  return (
    <li class={`msg msg-${m.direction}${m.kind === 'vcard' ? ' msg-vcard' : ''}`} data-seq={m.seq} data-message-id={m.id}>
      <div class="msg-meta">
        {isNote ? (
          <span class="badge badge-note">Internal note</span>
        ) : (
          <span class={`badge badge-${m.kind === 'vcard' ? 'vcard' : m.channel}`}>{messageBadge(m)}</span>
        )}
        <span class="msg-author">{author}</span>
        <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
          {shortTime(m.createdAt)}
        </time>
      </div>
      {m.sender?.note && (
        <p class="msg-sender-warning" data-testid="sender-warning">
          <span class="tag tag-warn">{m.sender.note}</span>
        </p>
      )}
      <p class="msg-body">{m.body}</p>
      {m.attachments.length > 0 && (
        <ul class="attachments" aria-label="Attachments">
          {m.attachments.map((a, index) => (
            <li key={index}>
              <AttachmentLink api={props.api} path={`/api/conversations/${encodeURIComponent(props.conversationId)}/messages/${encodeURIComponent(m.id)}/attachments/${index}`} name={a.name ?? `attachment-${index + 1}`} size={a.size} />
            </li>
          ))}
        </ul>
      )}
      {(delivery || reason) && (
        <div class="msg-foot">
          {delivery && (
            <span class={`delivery delivery-${m.delivery.status}`} data-testid="delivery">
              {problem && m.delivery.error?.message ? `${delivery}: ${m.delivery.error.message}` : delivery}
            </span>
          )}
          {reason && <span class="msg-reason">{reason}</span>}
        </div>
      )}
    </li>
  );
}

function AttachmentLink(props: { api: Api; path: string; name: string; size: number }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      const blob = await props.api.blob(props.path);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = props.name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" class="link" onClick={download} disabled={busy}>
        Download {props.name} ({fileSize(props.size)})
      </button>
      {error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}
