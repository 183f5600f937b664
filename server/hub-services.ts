/** What routes and socket handlers get: the hub's wired services, built once in buildHub. */
import type { AuditLog } from './audit/audit-log.ts';
import type { AuthService } from './auth/auth-service.ts';
import type { Config } from './config.ts';
import type { Database } from './db/connect.ts';
import type { AgentsRealtime } from './realtime/agents-namespace.ts';
import type { TimelineContext } from './timeline/timeline-context.ts';

import type { ChannelAdapter } from '../channels/contract.ts';
import type { ChannelId } from '../channels/channel-id.ts';

export interface HubServices {
  adapters: Record<ChannelId, ChannelAdapter>;
  config: Config;
  db: Database;
  timeline: TimelineContext;
  auth: AuthService;
  audit: AuditLog;
  realtime: AgentsRealtime;
}
