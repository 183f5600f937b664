/**
 * The conversation's one timeline across channels: patient messages, replies
 * with their delivery state, internal notes (styled apart) and system events
 * (centered, muted). Earlier history loads when scrolled to the top; new
 * messages keep the view at the bottom when it was there.
 * Every body is rendered as text; only an email's original HTML (sanitised by
 * the hub when it arrived) is rendered as HTML, on request.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { channelLabel, channelReasonLabel, deliveryLabel, fileSize, fullTime, isDeliveryProblem, messageBadge, shortTime } from '../format.ts';
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
          <MessageItem key={m.id} m={m} linked={fallbackLinks(messages, m)} {...props} />
        ))}
      </ol>
    </div>
  );
}

/** A channel fallback's chain around `m` (DELIVERY_FALLBACK): the message it stands in for, and the one sent instead of it. */
function fallbackLinks(messages: MessageRecord[], m: MessageRecord): FallbackLinks {
  const find = (id: string | null | undefined) => (id ? messages.find((other) => other.id === id) : undefined);
  return { of: find(m.fallback?.of), next: find(m.fallback?.next) };
}
type FallbackLinks = { of: MessageRecord | undefined; next: MessageRecord | undefined };

/** Moves the reader (and focus, for the keyboard and screen readers) to a message of the timeline. */
function showMessage(id: string): void {
  const item = document.querySelector<HTMLElement>(`li[data-message-id="${CSS.escape(id)}"]`);
  item?.scrollIntoView({ block: 'center' });
  item?.focus();
}

function MessageItem(props: { m: MessageRecord; linked: FallbackLinks; api: Api; conversationId: string; directory: Directory; agentId: string }) {
  const { m, directory, linked } = props;
  if (m.direction === 'system' && m.kind === 'automatic_reply') {
    // A machine's mail (out-of-office, auto-reply): shown apart, never as the patient's words.
    return (
      <li class="msg msg-system msg-automatic" data-seq={m.seq} data-message-id={m.id} data-testid="automatic-reply">
        <span class="msg-body">
          Automatic reply by {channelLabel(m.channel)}: {m.body}
        </span>{' '}
        <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
          {shortTime(m.createdAt)}
        </time>
        {m.hasOriginal && <OriginalToggle api={props.api} conversationId={props.conversationId} messageId={m.id} />}
      </li>
    );
  }
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
    <li class={`msg msg-${m.direction}${m.kind === 'vcard' ? ' msg-vcard' : ''}`} data-seq={m.seq} data-message-id={m.id} tabIndex={-1}>
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
      {m.receptionNote && (
        <p class="msg-sender-warning" data-testid="reception-note">
          <span class="tag tag-warn">{m.receptionNote}</span>
        </p>
      )}
      <p class="msg-body">{m.body}</p>
      {m.hasOriginal && <OriginalToggle api={props.api} conversationId={props.conversationId} messageId={m.id} />}
      {m.attachments.length > 0 && (
        <ul class="attachments" aria-label="Attachments">
          {m.attachments.map((a, index) => (
            <li key={index}>
              {a.unavailable === 'importing' ? (
                <span class="muted">{a.name ?? `attachment-${index + 1}`}: being fetched from the provider…</span>
              ) : a.unavailable ? (
                <span class="error" data-testid="attachment-unavailable">
                  {a.name ?? `attachment-${index + 1}`} is unavailable: {a.unavailable}
                </span>
              ) : (
                <AttachmentLink api={props.api} path={`/api/conversations/${encodeURIComponent(props.conversationId)}/messages/${encodeURIComponent(m.id)}/attachments/${index}`} name={a.name ?? `attachment-${index + 1}`} size={a.size} />
              )}
            </li>
          ))}
        </ul>
      )}
      {(delivery || reason || linked.of || linked.next) && (
        <div class="msg-foot">
          {delivery && (
            <span class={`delivery delivery-${m.delivery.status}`} data-testid="delivery">
              {problem && m.delivery.error?.message
                ? `${delivery}: ${m.delivery.error.message}${m.delivery.error.suggestion ? `. ${m.delivery.error.suggestion}` : ''}`
                : delivery}
            </span>
          )}
          {reason && <span class="msg-reason">{reason}</span>}
          {linked.next && (
            <button type="button" class="link" data-testid="fallback-next" onClick={() => showMessage(linked.next!.id)}>
              Sent again by {channelLabel(linked.next.channel)} <span aria-hidden="true">↓</span>
            </button>
          )}
          {linked.of && (
            <button type="button" class="link" data-testid="fallback-of" onClick={() => showMessage(linked.of!.id)}>
              Instead of the {channelLabel(linked.of.channel)} message <span aria-hidden="true">↑</span>
            </button>
          )}
        </div>
      )}
    </li>
  );
}

/** "Show original": the whole email as it arrived, its inline images fetched with the agent's token. */
function OriginalToggle(props: { api: Api; conversationId: string; messageId: string }) {
  const [open, setOpen] = useState(false);
  const [original, setOriginal] = useState<{ text: string | null; html: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const htmlBox = useRef<HTMLDivElement>(null);
  const base = `/api/conversations/${encodeURIComponent(props.conversationId)}/messages/${encodeURIComponent(props.messageId)}`;
  async function toggle() {
    if (open) return setOpen(false);
    setOpen(true);
    if (original) return;
    try {
      setOriginal(await props.api.get(`${base}/original`));
    } catch (e) {
      setError(describeError(e));
    }
  }
  useEffect(() => {
    const box = htmlBox.current;
    if (!open || !box || !original?.html) return;
    const urls: string[] = [];
    // Sanitised when it arrived (formatting, links, its own inline images only); images load through the hub.
    const doc = new DOMParser().parseFromString(original.html, 'text/html');
    doc.querySelectorAll('a').forEach((link) => {
      link.setAttribute('rel', 'noopener noreferrer');
      link.setAttribute('target', '_blank');
    });
    // The hub's URLs need the agent's token: each image is fetched and shown from a blob.
    doc.querySelectorAll('img[data-attachment-index]').forEach((img) => img.removeAttribute('src'));
    box.replaceChildren(...Array.from(doc.body.childNodes));
    box.querySelectorAll('img[data-attachment-index]').forEach((img) => {
      void props.api.blob(`${base}/attachments/${img.getAttribute('data-attachment-index')}`).then((blob) => {
        const url = URL.createObjectURL(blob);
        urls.push(url);
        img.setAttribute('src', url);
      }, () => img.setAttribute('alt', 'inline image unavailable'));
    });
    return () => urls.forEach((url) => URL.revokeObjectURL(url));
  }, [open, original]);
  return (
    <div class="original">
      <button type="button" class="link" aria-expanded={open} onClick={() => void toggle()} data-testid="show-original">
        {open ? 'Hide original' : 'Show original'}
      </button>
      {open && error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
      {open && original && (
        <div class="original-body" data-testid="original">
          {original.html ? <div class="original-html" ref={htmlBox} /> : <pre class="original-text">{original.text}</pre>}
        </div>
      )}
    </div>
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
