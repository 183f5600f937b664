/** The hub's shapes, as the inbox uses them. Records come from the server's own declarations. */
import type { FaqEntryRecord as FaqEntry, FaqLanguage, FaqSuggestion } from '../../server/routing/faq.ts';
import type { ConversationRecord, MessageRecord, PatientRecord, PatientSearchRecord } from '../../server/timeline/records.ts';

export type { ConversationRecord, MessageRecord, PatientRecord, PatientSearchRecord };
/** A team's FAQ entry as GET /api/faq answers it; a suggestion from GET /api/faq/suggest. */
export type { FaqEntry, FaqLanguage, FaqSuggestion };

export type ChannelId = 'sms' | 'email' | 'webchat';
export type Role = 'admin' | 'supervisor' | 'agent';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type Status = 'open' | 'pending' | 'resolved';

export type AgentStatus = 'online' | 'away' | 'offline';

export interface AgentSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  teamIds: string[];
  /** From GET /api/agents (the login answer may not carry them). */
  status?: AgentStatus;
  languages?: string[];
  skills?: string[];
}

export interface Team {
  id: string;
  name: string;
}

export interface LoginAnswer {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  agent: AgentSummary;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Unavailability = 'no_verified_identity' | 'identity_not_verified' | 'undeliverable' | 'no_consent' | 'opted_out';

export interface ReplyOptions {
  auto: { channel: ChannelId | null; reason: string };
  channels: { channel: ChannelId; unavailable: Unavailability | null; detail?: string | null }[];
  /** Guardians and caregivers: chosen explicitly, never by auto. */
  contacts?: { recipientId: string; relation: string; name: string | null; channel: ChannelId; value: string; unavailable: string | null }[];
}

export interface PatientProfile extends PatientRecord {
  conversations?: ConversationRecord[];
}

export interface CannedResponse {
  id: string;
  teamId: string | null;
  shortcut: string;
  title: string;
  body: string;
}

export interface SmsCount {
  encoding: string;
  segments: number;
  characters: number;
  tooLong: boolean;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A team's business hours (PUT /api/teams/:id/hours takes this body). */
export interface TeamHours {
  timeZone: string;
  weekly: { day: Weekday; from: string; to: string }[];
  holidays: { date: string; name?: string }[];
}

/** GET /api/teams/:id/hours: the team's own hours or the clinic's default (`own` false); null hours = always open. */
export interface TeamHoursAnswer {
  own: boolean;
  hours: TeamHours | null;
  open: boolean;
  nextOpenAt: string | null;
}

export type RoutingMode = 'manual' | 'round_robin' | 'least_busy';

export interface TeamRouting {
  mode: RoutingMode;
  maxOpenPerAgent: number;
  escalateAfterMinutes: number;
}

/** A banner at the top of the workspace: an emergency signal, or a conversation waiting too long. */
export type WorkspaceAlert =
  | { kind: 'triage'; conversationId: string; teamId: string; category: string; label: string; at: string }
  | { kind: 'escalation'; conversationId: string; teamId: string; waitedMinutes: number; at: string };

/** GET /api/patients?q=: a page of patients (contacts masked), and what kind of query the hub took `q` for. */
export interface PatientSearchPage {
  items: PatientSearchRecord[];
  nextCursor: string | null;
  matchedBy?: string;
  kind?: string;
}

/** A patient a new (or edited) one matches (409 DUPLICATE_PATIENT); id and name null for one the agent may not see. */
export interface DuplicatePatient {
  id: string | null;
  name: string | null;
  reason: 'phone' | 'email' | 'mrn' | 'name_and_date_of_birth';
}

/** What POST and PATCH /api/patients take (absent: unchanged; null: cleared, when editing). */
export interface PatientFieldsBody {
  name?: string;
  dateOfBirth?: string | null;
  mrn?: string | null;
  phone?: string;
  email?: string;
  preferredChannel?: ChannelId | null;
  language?: string | null;
  timezone?: string | null;
  teamId?: string;
  allowDuplicate?: boolean;
}

/** POST /api/patients/:id/conversations: the clinic writes first. */
export interface StartedConversation {
  conversation: ConversationRecord;
  message: MessageRecord;
  /** false: the message continued the patient's open conversation. */
  opened: boolean;
}

export type ConsentMethod = 'verbal' | 'written' | 'portal' | 'form';
