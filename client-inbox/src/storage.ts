/**
 * What the inbox keeps in sessionStorage (this tab only, gone when it closes):
 * the refresh token, so a reload keeps the agent logged in; which
 * conversation was open; and unsent drafts per agent and conversation, so an
 * automatic logoff never loses a half-written reply. Drafts of another agent
 * are removed when someone else logs in in this tab.
 */
import type { ChannelId } from './types.ts';

const PREFIX = 'carethread.inbox.';
const SESSION_KEY = `${PREFIX}session`;
const OPEN_KEY = `${PREFIX}open`;
const DRAFT_PREFIX = `${PREFIX}draft.`;
const AUTO_AWAY_KEY = `${PREFIX}autoAway`;

function store(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function read<T>(key: string): T | null {
  try {
    const raw = store()?.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === null) store()?.removeItem(key);
    else store()?.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the inbox still works, without persistence
  }
}

export interface SavedSession {
  refreshToken: string;
  agentId: string;
}

export const savedSession = {
  get: () => read<SavedSession>(SESSION_KEY),
  set: (value: SavedSession | null) => write(SESSION_KEY, value),
};

/**
 * Whether the inbox itself set this agent Away because they were idle (so that their next
 * keystroke or click sets them Online again), kept across a reload or an automatic logoff.
 */
export const autoAway = {
  get: (agentId: string) => read<{ agentId: string }>(AUTO_AWAY_KEY)?.agentId === agentId,
  set: (agentId: string, on: boolean) => write(AUTO_AWAY_KEY, on ? { agentId } : null),
};

export interface SavedOpen {
  agentId: string;
  conversationId: string;
}

export const savedOpen = {
  get: (agentId: string) => {
    const open = read<SavedOpen>(OPEN_KEY);
    return open && open.agentId === agentId ? open.conversationId : null;
  },
  set: (agentId: string, conversationId: string | null) => write(OPEN_KEY, conversationId ? { agentId, conversationId } : null),
};

export type ComposerMode = 'reply' | 'note';

export interface Draft {
  mode: ComposerMode;
  body: string;
  subject: string;
  channel: ChannelId | 'auto';
}

const draftKey = (agentId: string, conversationId: string) => `${DRAFT_PREFIX}${agentId}.${conversationId}`;

export const drafts = {
  get: (agentId: string, conversationId: string) => read<Draft>(draftKey(agentId, conversationId)),
  set(agentId: string, conversationId: string, draft: Draft | null): void {
    const empty = !draft || (draft.body === '' && draft.subject === '' && draft.channel === 'auto' && draft.mode === 'reply');
    write(draftKey(agentId, conversationId), empty ? null : draft);
  },
  /** Removes drafts that belong to other agents than this one (or all, with null). */
  keepOnly(agentId: string | null): void {
    const s = store();
    if (!s) return;
    const doomed: string[] = [];
    for (let i = 0; i < s.length; i++) {
      const key = s.key(i);
      if (key?.startsWith(DRAFT_PREFIX) && (agentId === null || !key.startsWith(`${DRAFT_PREFIX}${agentId}.`))) doomed.push(key);
    }
    for (const key of doomed) s.removeItem(key);
  },
};
