/**
 * Who gets a new or reopened conversation in a team. Pure: the hub passes the
 * team's agents with their load and writes `reason` to the timeline.
 *
 * Only online agents under the team's cap are candidates. Among them, those
 * speaking the patient's language win if any do; among those, the ones with
 * the skill asked for if any have it. Round robin then takes whoever was
 * assigned longest ago (never first), least busy the fewest open
 * conversations, then longest ago; ties go by agent id, so the same input
 * always gives the same agent.
 */
import { z } from 'zod';

export const ASSIGNMENT_MODES = ['manual', 'round_robin', 'least_busy'] as const;
export type AssignmentMode = (typeof ASSIGNMENT_MODES)[number];
export const AGENT_STATUSES = ['online', 'away', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface AssignmentCandidate {
  agentId: string;
  status: AgentStatus;
  openCount: number;
  /** Language codes like "es". */
  languages: string[];
  skills: string[];
  lastAssignedAt: Date | null;
}

export interface AssignmentInput {
  mode: AssignmentMode;
  maxOpenPerAgent: number;
  candidates: AssignmentCandidate[];
  /** The patient's language ("es", "es-MX"); null when unknown. */
  language?: string | null;
  skill?: string | null;
}

/** Null: leave the conversation unassigned (manual mode, or nobody available). */
export function chooseAssignee(input: AssignmentInput): { agentId: string; reason: string } | null {
  if (input.mode === 'manual') return null;
  let pool = input.candidates.filter((c) => c.status === 'online' && c.openCount < input.maxOpenPerAgent);
  if (pool.length === 0) return null;
  const notes: string[] = [];

  const language = primaryLanguage(input.language);
  if (language) {
    const speakers = pool.filter((c) => c.languages.some((l) => primaryLanguage(l) === language));
    if (speakers.length) pool = speakers;
    notes.push(speakers.length ? `speaks ${languageName(language)}` : `nobody available speaks ${languageName(language)}`);
  }
  const skill = input.skill?.trim().toLowerCase();
  if (skill) {
    const skilled = pool.filter((c) => c.skills.includes(skill));
    if (skilled.length) pool = skilled;
    notes.push(skilled.length ? `has the "${skill}" skill` : `nobody available has the "${skill}" skill`);
  }

  const chosen = [...pool].sort(input.mode === 'least_busy' ? (a, b) => a.openCount - b.openCount || longestAgoFirst(a, b) : longestAgoFirst)[0]!;
  const how = input.mode === 'least_busy' ? `least busy (${chosen.openCount} open)` : 'round robin';
  return { agentId: chosen.agentId, reason: [how, ...notes].join('; ') };
}

function longestAgoFirst(a: AssignmentCandidate, b: AssignmentCandidate): number {
  const at = (c: AssignmentCandidate) => c.lastAssignedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (at(a) !== at(b)) return at(a) < at(b) ? -1 : 1;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

/** "es-MX" → "es"; an agent who speaks Spanish serves any Spanish. */
function primaryLanguage(code: string | null | undefined): string {
  return (code ?? '').trim().toLowerCase().split(/[-_]/)[0]!;
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });

function languageName(code: string): string {
  try {
    return languageNames.of(code) ?? code;
  } catch {
    return code; // Not a well-formed code.
  }
}

// --- settings ---------------------------------------------------------------

const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.number(message).int(message).min(min, message).max(max, message);
};

/** The body of PUT /api/teams/:id/routing. */
export const routingSettingsSchema = z.object({
  mode: z.enum(ASSIGNMENT_MODES),
  maxOpenPerAgent: wholeNumber(1, 100).default(5),
  escalateAfterMinutes: wholeNumber(1, 1440).default(10),
});
export type RoutingSettings = z.output<typeof routingSettingsSchema>;

const SKILL = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The body of PATCH /api/agents/:id; languages are lowercased and listed once. */
export const agentProfileSchema = z
  .object({
    status: z.enum(AGENT_STATUSES).optional(),
    languages: z
      .array(z.string().trim().toLowerCase().regex(/^[a-z]{2,3}$/, 'must be a 2 or 3 letter language code like "es"'))
      .max(10, 'at most 10 languages')
      .transform((codes) => [...new Set(codes)])
      .optional(),
    skills: z
      .array(
        z.string()
          .min(1, 'must be 1 to 40 characters')
          .max(40, 'must be 1 to 40 characters')
          .regex(SKILL, 'must be a lowercase slug (a-z, 0-9, hyphens between) like "lab-results"'),
      )
      .max(20, 'at most 20 skills')
      .transform((skills) => [...new Set(skills)])
      .optional(),
  })
  .refine((p) => p.status !== undefined || p.languages !== undefined || p.skills !== undefined, {
    message: 'give at least one of status, languages, skills',
  });
export type AgentProfilePatch = z.output<typeof agentProfileSchema>;
