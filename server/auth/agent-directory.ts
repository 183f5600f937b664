/** Agents and teams: creation, the first admin, the default team new conversations land in. */
import { Types } from 'mongoose';
import { z } from 'zod';
import type { AgentDoc, Role } from '../db/documents.ts';
import { isDuplicateKeyError, type Models } from '../db/models.ts';
import { AppError } from '../errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export const DEFAULT_TEAM = { id: 'front-desk', name: 'Front desk' } as const;

export const newAgentSchema = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  name: z.string().trim().min(1).max(120),
  password: z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(256),
  role: z.enum(['admin', 'supervisor', 'agent']).default('agent'),
  teamIds: z.array(z.string().min(1)).default([DEFAULT_TEAM.id]),
});
export type NewAgent = z.input<typeof newAgentSchema>;

export async function ensureTeam(models: Models, id: string, name: string, now: Date): Promise<void> {
  await models.Team.updateOne({ _id: id }, { $setOnInsert: { name, createdAt: now } }, { upsert: true }).catch((error) => {
    if (!isDuplicateKeyError(error)) throw error;
  });
}

export async function createAgent(models: Models, input: NewAgent, now: Date): Promise<AgentDoc> {
  const parsed = newAgentSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('INVALID_INPUT', `${issue.path.join('.')}: ${issue.message}`, { field: issue.path.join('.') });
  }
  const agent = parsed.data;
  const teams = await models.Team.find({ _id: { $in: agent.teamIds } }).lean();
  const missing = agent.teamIds.filter((t) => !teams.some((team) => team._id === t));
  if (missing.length) throw new AppError('INVALID_INPUT', `Unknown team(s): ${missing.join(', ')}`, { field: 'teamIds' });
  const doc: AgentDoc = {
    _id: new Types.ObjectId().toHexString(),
    email: agent.email,
    name: agent.name,
    role: agent.role as Role,
    teamIds: agent.teamIds,
    passwordHash: await hashPassword(agent.password),
    totpSecretEnc: null,
    totpEnabledAt: null,
    disabledAt: null,
    createdAt: now,
  };
  try {
    await models.Agent.create(doc);
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new AppError('CONFLICT', 'An agent with that email already exists', { field: 'email' });
    throw error;
  }
  return doc;
}

/** On first start, the admin named by BOOTSTRAP_ADMIN_EMAIL; nothing once any agent exists. */
export async function bootstrapAdmin(models: Models, admin: { email: string; password: string } | undefined, now: Date): Promise<AgentDoc | null> {
  await ensureTeam(models, DEFAULT_TEAM.id, DEFAULT_TEAM.name, now);
  if (!admin || (await models.Agent.estimatedDocumentCount()) > 0) return null;
  try {
    return await createAgent(models, { ...admin, name: 'Administrator', role: 'admin', teamIds: [DEFAULT_TEAM.id] }, now);
  } catch (error) {
    // Two nodes starting together: the other one created it.
    if (error instanceof AppError && error.code === 'CONFLICT') return null;
    throw error;
  }
}
