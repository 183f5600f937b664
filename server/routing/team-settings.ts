/** A team's stored hours and routing, read with the defaults a team without its own gets. */
import type { Config } from '../config.ts';
import type { RoutingSettings, TeamDoc } from '../db/documents.ts';
import { teamHoursSchema, type TeamHours } from './business-hours.ts';

/** The clinic's hours (WIDGET_BUSINESS_HOURS in CLINIC_TIMEZONE) for teams without their own; null = always open. */
export function clinicDefaultHours(config: Pick<Config, 'widget' | 'clinicTimeZone'>): TeamHours | null {
  return config.widget.businessHours ? { timeZone: config.clinicTimeZone, weekly: [...config.widget.businessHours], holidays: [] } : null;
}

export const DEFAULT_ROUTING: RoutingSettings = { mode: 'manual', maxOpenPerAgent: 5, escalateAfterMinutes: 10 };

/** The team's hours, else the clinic's default; null = always open. Stored hours were validated when put. */
export function teamHoursOf(team: Pick<TeamDoc, 'hours'> | null, fallback: TeamHours | null): TeamHours | null {
  if (!team?.hours) return fallback;
  const parsed = teamHoursSchema.safeParse(team.hours);
  return parsed.success ? parsed.data : fallback;
}

export function routingOf(team: Pick<TeamDoc, 'routing'> | null): RoutingSettings {
  return { ...DEFAULT_ROUTING, ...(team?.routing ?? {}) };
}
