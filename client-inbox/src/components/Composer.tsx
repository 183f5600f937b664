/**
 * The reply box: reply or internal note; the channel picker (auto by default,
 * saying which channel it will use and why; unavailable channels disabled
 * with their reason); the SMS counter; the email subject on a conversation's
 * first email; canned responses on "/" at the start; the team's published
 * FAQ answers suggested below the box while a reply is typed. The draft is
 * kept in sessionStorage on every keystroke, so a logoff never loses it.
 */
import type { MutableRef } from 'preact/hooks';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type Api, type UploadedFile } from '../api.ts';
import { autoReason, channelLabel, CHANNELS, plural, unavailableLabel } from '../format.ts';
import type { Realtime } from '../realtime.ts';
import { countSms } from '../sms-count.ts';
import { drafts, type ComposerMode, type Draft } from '../storage.ts';
import type { CannedResponse, ChannelId, ConversationRecord, FaqSuggestion, MessageRecord, ReplyOptions, SmsCount } from '../types.ts';

export interface ComposerHandle {
  focus(mode: ComposerMode): void;
  openCanned(): void;
}

const TYPING_REFRESH_MS = 3000;
const TYPING_IDLE_MS = 4000;
/**
 * FAQ suggestions: asked for only after this pause in typing, for a draft of
 * at least FAQ_MIN_CHARS (each request is audited by the hub, and carries the
 * draft: never more often than that). The end of a long draft is enough.
 */
const FAQ_DEBOUNCE_MS = 500;
const FAQ_MIN_CHARS = 3;
const FAQ_MAX_QUERY = 500;
const FAQ_SHOWN = 3;
const FAQ_PREVIEW = 140;

const preview = (text: string) => (text.length > FAQ_PREVIEW ? `${text.slice(0, FAQ_PREVIEW - 1).trimEnd()}…` : text);

const newClientId = () => `inbox-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

export function Composer(props: {
  handle: MutableRef<ComposerHandle | null>;
  api: Api;
  realtime: Realtime;
  agentId: string;
  conversation: ConversationRecord;
  options: ReplyOptions | null;
  canned: CannedResponse[] | null;
  onRefreshOptions(): void;
  onSent(message: MessageRecord): void;
}) {
  const { api, conversation, options, realtime } = props;
  const conversationId = conversation.id;
  const initial = useMemo<Draft>(() => drafts.get(props.agentId, conversationId) ?? { mode: 'reply', body: '', subject: '', channel: 'auto' }, []);
  const [mode, setMode] = useState<ComposerMode>(initial.mode);
  const [body, setBody] = useState(initial.body);
  const [subject, setSubject] = useState(initial.subject);
  const [channel, setChannel] = useState<ChannelId | 'auto'>(initial.channel);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [serverCount, setServerCount] = useState<{ body: string; count: SmsCount } | null>(null);
  const [files, setFiles] = useState<UploadedFile[]>([]);
  const [uploading, setUploading] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const [cannedIndex, setCannedIndex] = useState(0);
  const [cannedDismissed, setCannedDismissed] = useState(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const clientId = useRef(newClientId());
  const typing = useRef({ on: false, sentAt: 0, timer: undefined as ReturnType<typeof setTimeout> | undefined });
  // The draft as the agent last typed it (not as inserted or restored): what FAQ suggestions are asked for.
  const [faqQuery, setFaqQuery] = useState('');
  const [suggestions, setSuggestions] = useState<FaqSuggestion[]>([]);
  const faqAsked = useRef<{ q: string; items: FaqSuggestion[] } | null>(null);
  const faqSeq = useRef(0);

  // Every change is saved at once.
  useEffect(() => {
    drafts.set(props.agentId, conversationId, { mode, body, subject, channel });
  }, [mode, body, subject, channel]);

  // A channel that became unavailable falls back to auto.
  useEffect(() => {
    if (!options || channel === 'auto') return;
    if (options.channels.find((c) => c.channel === channel)?.unavailable) setChannel('auto');
  }, [options]);

  // A guardian or caregiver, chosen here explicitly (auto never picks one); null: the patient.
  const [recipientId, setRecipientId] = useState<string | null>(null);
  const contacts = options?.contacts ?? [];
  const contact = contacts.find((c) => c.recipientId === recipientId) ?? null;
  const effective: ChannelId | null = contact ? contact.channel : channel === 'auto' ? (options?.auto.channel ?? null) : channel;
  const isReply = mode === 'reply';
  const showSms = isReply && effective === 'sms';
  const showSubject = isReply && effective === 'email' && !conversation.subject;

  // SMS counter: counted here at once, then as the hub counts it (debounced).
  const localCount = useMemo(() => countSms(body), [body]);
  useEffect(() => {
    if (!showSms || body === '') return;
    const timer = setTimeout(() => {
      void api.post<SmsCount>('/api/sms/segments', { body }).then((count) => setServerCount({ body, count }), () => undefined);
    }, 400);
    return () => clearTimeout(timer);
  }, [body, showSms]);
  const count = serverCount?.body === body ? serverCount.count : localCount;

  // Canned responses: "/" at the start of the box.
  const cannedMatch = /^\/(\S*)$/.exec(body);
  const cannedOpen = Boolean(cannedMatch) && !cannedDismissed;
  const cannedQuery = (cannedMatch?.[1] ?? '').toLowerCase();
  const cannedItems = useMemo(
    () =>
      (props.canned ?? []).filter(
        (c) => c.shortcut.toLowerCase().includes(cannedQuery) || c.title.toLowerCase().includes(cannedQuery),
      ),
    [props.canned, cannedQuery],
  );
  const activeCanned = cannedOpen ? cannedItems[Math.min(cannedIndex, cannedItems.length - 1)] : undefined;

  useEffect(() => setCannedIndex(0), [cannedQuery]);

  // FAQ suggestions: replies only, once the agent pauses typing; a later keystroke, a note or a send drops an answer still on its way.
  useEffect(() => {
    const seq = ++faqSeq.current;
    const q = faqQuery.trim().slice(-FAQ_MAX_QUERY).trim();
    if (mode !== 'reply' || q.length < FAQ_MIN_CHARS || q.startsWith('/')) {
      setSuggestions([]);
      return;
    }
    const timer = setTimeout(() => {
      const asked = faqAsked.current;
      if (asked?.q === q) {
        setSuggestions(asked.items);
        return;
      }
      const query = new URLSearchParams({ q, conversationId, limit: String(FAQ_SHOWN) });
      void api.get<{ items: FaqSuggestion[] }>(`/api/faq/suggest?${query}`).then(
        (answer) => {
          if (seq !== faqSeq.current) return;
          const items = answer.items.slice(0, FAQ_SHOWN);
          faqAsked.current = { q, items };
          setSuggestions(items);
        },
        // Suggestions are a help, not a feature the reply depends on: a failure only hides them.
        () => {
          if (seq === faqSeq.current) setSuggestions([]);
        },
      );
    }, FAQ_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [faqQuery, mode]);
  useEffect(() => {
    if (!cannedMatch) setCannedDismissed(false);
  }, [Boolean(cannedMatch)]);

  function stopTyping() {
    const t = typing.current;
    clearTimeout(t.timer);
    if (t.on) {
      t.on = false;
      realtime.typing(conversationId, false);
    }
  }
  useEffect(() => stopTyping, []);

  function noteTyping() {
    // Agents' typing reaches the patient's web chat: only for replies, never for notes.
    if (mode !== 'reply') return;
    const t = typing.current;
    const now = Date.now();
    if (!t.on || now - t.sentAt > TYPING_REFRESH_MS) {
      t.on = true;
      t.sentAt = now;
      realtime.typing(conversationId, true);
    }
    clearTimeout(t.timer);
    t.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function insertCanned(item: CannedResponse) {
    setBody(item.body);
    setCannedDismissed(true);
    setStatus(`Inserted “${item.title}”`);
    requestAnimationFrame(() => {
      const el = textarea.current;
      if (el) {
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      }
    });
  }

  /** Puts a FAQ answer at the cursor (replacing the selection), never sending it. */
  function insertSuggestion(item: FaqSuggestion) {
    const el = textarea.current;
    const start = el ? Math.min(el.selectionStart, body.length) : body.length;
    const end = el ? Math.min(Math.max(el.selectionEnd, start), body.length) : body.length;
    const before = body.slice(0, start);
    const after = body.slice(end);
    const head = `${before}${before && !/\s$/.test(before) ? ' ' : ''}${item.answer}`;
    const next = `${head}${after && !/^\s/.test(after) ? ' ' : ''}${after}`;
    setBody(next);
    setSuggestions([]);
    setError(null);
    setStatus(`Inserted the answer to “${item.question}”`);
    requestAnimationFrame(() => {
      const box = textarea.current;
      if (box) {
        box.focus();
        box.setSelectionRange(head.length, head.length);
      }
    });
  }

  props.handle.current = {
    focus(next) {
      if (next !== mode) {
        stopTyping();
        setMode(next);
      }
      requestAnimationFrame(() => textarea.current?.focus());
    },
    openCanned() {
      setMode('reply');
      if (body === '') setBody('/');
      setCannedDismissed(false);
      requestAnimationFrame(() => {
        const el = textarea.current;
        if (el) {
          el.focus();
          el.setSelectionRange(el.value.length, el.value.length);
        }
      });
    },
  };

  async function attach(input: HTMLInputElement) {
    const chosen = Array.from(input.files ?? []);
    input.value = '';
    if (!chosen.length) return;
    setUploading(true);
    setError(null);
    try {
      for (const file of chosen.slice(0, 5 - files.length)) {
        if (file.size > 8 * 1024 * 1024) throw new Error(`${file.name} is larger than 8 MB`);
        const uploaded = await api.upload(file);
        setFiles((list) => [...list, uploaded]);
      }
    } catch (e) {
      setError(describeError(e));
    } finally {
      setUploading(false);
    }
  }

  async function submit(event?: Event) {
    event?.preventDefault();
    const text = body.trim();
    if (!text || sending) return;
    if (isReply && !effective) {
      setError(options?.auto.reason ?? 'No channel reaches this patient now');
      return;
    }
    setSending(true);
    setError(null);
    stopTyping();
    try {
      const path = `/api/conversations/${encodeURIComponent(conversationId)}`;
      const message = isReply
        ? await api.post<MessageRecord>(`${path}/messages`, {
            body: text,
            channel: contact ? contact.channel : channel,
            ...(contact ? { recipientId: contact.recipientId } : {}),
            clientId: clientId.current,
            ...(showSubject && subject.trim() ? { subject: subject.trim() } : {}),
            ...(files.length ? { attachmentIds: files.map((f) => f.attachmentId) } : {}),
          })
        : await api.post<MessageRecord>(`${path}/notes`, { body: text });
      props.onSent(message);
      clientId.current = newClientId();
      setBody('');
      setFaqQuery('');
      setSuggestions([]);
      faqSeq.current++;
      if (isReply) setFiles([]);
      setSubject('');
      setChannel('auto');
      setRecipientId(null);
      setStatus(isReply ? `Reply queued for ${channelLabel(message.channel)}` : 'Note added');
      if (isReply) props.onRefreshOptions();
    } catch (e) {
      setError(describeError(e));
      if (e instanceof ApiError && e.status === 409) props.onRefreshOptions();
    } finally {
      setSending(false);
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (cannedOpen) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const n = cannedItems.length;
        if (n > 0) setCannedIndex((i) => (Math.min(i, n - 1) + (event.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (event.key === 'Enter' && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
        event.preventDefault();
        if (activeCanned) insertCanned(activeCanned);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setCannedDismissed(true);
        return;
      }
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
      return;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      textarea.current?.blur();
    }
  }

  const showFaq = isReply && !cannedOpen && body.trim() !== '' && suggestions.length > 0;
  const unavailable = options?.channels.filter((c) => c.unavailable) ?? [];
  const autoLabel = options
    ? options.auto.channel
      ? `Auto: ${channelLabel(options.auto.channel)} — ${autoReason(options.auto.reason, options.auto.channel)}`
      : `Auto: no channel — ${options.auto.reason}`
    : 'Auto: checking which channel reaches the patient…';

  return (
    <form class={`composer composer-${mode}`} onSubmit={submit} aria-label={isReply ? 'Reply to the patient' : 'Internal note'}>
      <div class="composer-top">
        <div class="mode-switch" role="group" aria-label="Write">
          <button type="button" aria-pressed={isReply} onClick={() => props.handle.current?.focus('reply')} aria-keyshortcuts="r">
            Reply
          </button>
          <button type="button" aria-pressed={!isReply} onClick={() => props.handle.current?.focus('note')} aria-keyshortcuts="n">
            Internal note
          </button>
        </div>
        {isReply && contacts.length > 0 && (
          <label class="recipient">
            To{' '}
            <select value={recipientId ?? ''} onChange={(e) => setRecipientId(e.currentTarget.value || null)}>
              <option value="">The patient</option>
              {contacts.map((c) => (
                <option key={c.recipientId} value={c.recipientId} disabled={Boolean(c.unavailable)}>
                  {`${c.relation === 'guardian' ? 'Guardian' : 'Caregiver'}: ${c.name ?? c.value} (${channelLabel(c.channel)}${c.unavailable ? `, ${c.unavailable === 'no_consent' ? 'no consent' : c.unavailable.replace('_', ' ')}` : ''})`}
                </option>
              ))}
            </select>
          </label>
        )}
        {isReply && !contact && (
          <fieldset class="picker">
            <legend class="sr-only">Send by</legend>
            <span class="picker-label" aria-hidden="true">
              Send by
            </span>
            <label class={`chip${channel === 'auto' ? ' is-checked' : ''}${options && !options.auto.channel ? ' is-disabled' : ''}`}>
              <input
                type="radio"
                name={`channel-${conversationId}`}
                value="auto"
                checked={channel === 'auto'}
                disabled={Boolean(options && !options.auto.channel)}
                onChange={() => setChannel('auto')}
              />
              <span>Auto</span>
            </label>
            {CHANNELS.map((ch) => {
              const option = options?.channels.find((c) => c.channel === ch);
              const why = option?.unavailable ?? null;
              return (
                <label key={ch} class={`chip${channel === ch ? ' is-checked' : ''}${why ? ' is-disabled' : ''}`} title={why ? unavailableLabel(why, ch, option?.detail) : undefined}>
                  <input
                    type="radio"
                    name={`channel-${conversationId}`}
                    value={ch}
                    checked={channel === ch}
                    disabled={Boolean(why)}
                    onChange={() => setChannel(ch)}
                  />
                  <span>{channelLabel(ch)}</span>
                  {why && <span class="sr-only"> (unavailable: {unavailableLabel(why, ch, option?.detail)})</span>}
                </label>
              );
            })}
          </fieldset>
        )}
      </div>
      {isReply && (
        <p class="auto-line" data-testid="auto-line">
          <span>
            {contact
              ? `To the ${contact.relation} ${contact.name ?? ''} by ${channelLabel(contact.channel)}, chosen by you (not the patient)`
              : channel === 'auto'
                ? autoLabel
                : `${channelLabel(channel)}, chosen by you`}
          </span>
          {unavailable.length > 0 && ' '}
          {unavailable.length > 0 && (
            <span class="unavailable-line">
              Unavailable: {unavailable.map(({ channel: ch, unavailable: why, detail }) => `${channelLabel(ch)} — ${unavailableLabel(why!, ch, detail)}`).join('; ')}.
            </span>
          )}
        </p>
      )}
      {!isReply && <p class="note-line">Internal note: visible to agents only, never sent to the patient.</p>}
      {showSubject && (
        <div class="field">
          <label for={`subject-${conversationId}`}>Email subject</label>
          <input id={`subject-${conversationId}`} type="text" maxLength={200} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        </div>
      )}
      <div class="composer-box">
        <label for={`composer-${conversationId}`} class="sr-only">
          {isReply ? 'Reply' : 'Note'}
        </label>
        <textarea
          id={`composer-${conversationId}`}
          ref={textarea}
          rows={3}
          value={body}
          placeholder={isReply ? 'Write a reply… (type / for canned responses, Ctrl+Enter to send)' : 'Write an internal note… (Ctrl+Enter to add)'}
          aria-describedby={`composer-hint-${conversationId}`}
          aria-activedescendant={activeCanned ? `canned-${activeCanned.id}` : undefined}
          onInput={(e) => {
            setBody(e.currentTarget.value);
            setFaqQuery(e.currentTarget.value);
            setError(null);
            noteTyping();
          }}
          onKeyDown={onKeyDown}
          onBlur={stopTyping}
        />
        {cannedOpen && (
          <div class="canned" id={`canned-popup-${conversationId}`}>
            {props.canned === null ? (
              <p class="canned-empty">Canned responses are not available.</p>
            ) : props.canned.length === 0 ? (
              <p class="canned-empty">Your teams have no canned responses yet.</p>
            ) : cannedItems.length === 0 ? (
              <p class="canned-empty">No canned response matches “/{cannedQuery}”.</p>
            ) : (
              <ul role="listbox" aria-label="Canned responses" class="canned-list">
                {cannedItems.map((item) => (
                  <li
                    key={item.id}
                    id={`canned-${item.id}`}
                    role="option"
                    aria-selected={item === activeCanned}
                    class={item === activeCanned ? 'is-active' : ''}
                    onMouseDown={(e) => {
                      e.preventDefault();
                      insertCanned(item);
                    }}
                  >
                    <span class="canned-shortcut">/{item.shortcut}</span> <span class="canned-title">{item.title}</span>
                    <span class="canned-preview">{item.body}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      {isReply && (
        <div class="faq-suggestions" aria-live="polite">
          {showFaq && (
            <section aria-labelledby={`faq-heading-${conversationId}`}>
              <h3 id={`faq-heading-${conversationId}`} class="faq-heading">
                Suggested answers
              </h3>{' '}
              <span id={`faq-hint-${conversationId}`} class="faq-hint">
                from your team’s common questions: inserted into the reply, not sent
              </span>
              <ul class="faq-list">
                {suggestions.map((item) => (
                  <li key={item.id}>
                    <button
                      type="button"
                      class="faq-suggestion"
                      aria-describedby={`faq-hint-${conversationId}`}
                      // A click keeps the reply box focused, with its cursor and selection.
                      onMouseDown={(e) => e.preventDefault()}
                      onClick={() => insertSuggestion(item)}
                    >
                      <strong class="faq-question">{item.question}</strong>
                      <span class="faq-answer">{preview(item.answer)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      )}
      <p id={`composer-hint-${conversationId}`} class="sr-only">
        {cannedOpen ? 'Canned responses: arrow keys to choose, Enter to insert, Escape to close.' : 'Control Enter sends.'}
      </p>
      <div class="composer-foot">
        {showSms && (
          <span class={`counter${count.tooLong ? ' is-over' : ''}`} data-testid="sms-counter">
            {plural(count.characters, 'character')} · {plural(count.segments, 'segment')}
            {count.encoding === 'UCS-2' ? ' (Unicode)' : ''}
            {count.tooLong ? ' — too long for SMS (1,600 max)' : ''}
          </span>
        )}
        {isReply && (
          <>
            <input ref={fileInput} type="file" class="sr-only" tabIndex={-1} aria-hidden="true" multiple
              accept="application/pdf,image/jpeg,image/png,image/gif,image/heic,image/webp,text/plain" onChange={(e) => void attach(e.currentTarget)} />
            <button type="button" disabled={uploading || files.length >= 5} onClick={() => fileInput.current?.click()}>
              {uploading ? 'Uploading…' : 'Attach a file'}
            </button>
            {files.length > 0 && (
              <ul class="attached" aria-label="Attached files">
                {files.map((f) => (
                  <li key={f.attachmentId}>
                    {f.name}
                    <button type="button" aria-label={`Remove ${f.name}`} onClick={() => setFiles((list) => list.filter((x) => x !== f))}>×</button>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        <span class="spacer" />
        <button type="submit" class="primary" disabled={sending || uploading || body.trim() === '' || (isReply && (!effective || (showSms && count.tooLong)))}>
          {sending ? (isReply ? 'Sending…' : 'Adding…') : isReply ? 'Send' : 'Add note'}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="sr-only" role="status">
        {status}
      </p>
    </form>
  );
}
