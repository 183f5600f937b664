/** The hub's shapes, as the inbox uses them. Records come from the server's own declarations. */
import type { ConversationRecord, MessageRecord, PatientRecord } from '../../server/timeline/records.ts';

export type { ConversationRecord, MessageRecord, PatientRecord };

export type ChannelId = 'sms' | 'email' | 'webchat';
export type Role = 'admin' | 'supervisor' | 'agent';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type Status = 'open' | 'pending' | 'resolved';

export interface AgentSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  teamIds: string[];
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
