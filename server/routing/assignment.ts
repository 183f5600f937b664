/**
 * Assignment on the store: who is a candidate for a team's new conversation
 * (its active agents, their effective status, open load, languages and
 * skills), the choice (assignment-policy.ts), and the conversation's wait:
 * nobody free, it waits unassigned and supervisors are alerted after the
 * team's `escalateAfterMinutes`. Assignments of one team are made one at a
 * time in this process, so round robin and capacity hold under bursts; with
 * several nodes each assignment is still a conditional update (never two
 * agents for one conversation), but two nodes may each give an agent one
 * conversation at the same moment (server/db/STORE-CONTRACT.md).
 */
import type { ConversationDoc, TeamDoc } from '../db/documents.ts';
import { appendMessage } from '../timeline/append-message.ts';
import { toConversationRecord, toMessageRecord, type ConversationRecord } from '../timeline/records.ts';
import type { TimelineContext } from '../timeline/timeline-context.ts';
import { chooseAssignee } from './assignment-policy.ts';
import { routingOf } from './team-settings.ts';

const WAITING: ConversationDoc['status'][] = ['open', 'pending'];
/** The skill an urgent (triaged) conversation prefers. */
export const TRIAGE_SKILL = 'triage';

export class AssignmentService {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ctx: () => TimelineContext,
    private readonly options: {
      isAgentOnline(agentId: string): Promise<boolean>;
      escalation(conversation: ConversationRecord, waitedMinutes: number): void;
    },
  ) {}

  /** A conversation just opened or reopened: to an agent now, or it starts waiting. */
  async assignNew(conversationId: string): Promise<void> {
    const ctx = this.ctx();
    const conversation = await ctx.models.Conversation.findById(conversationId, { teamId: 1 }).lean();
    if (!conversation) return;
    await this.inTeamQueue(conversation.teamId, () => this.tryAssign(conversationId, { startWaiting: true }));
  }

  /** Offers waiting conversations (oldest first) to agents who are free now, and escalates those waiting too long. */
  async sweep(): Promise<void> {
    const ctx = this.ctx();
    const waiting = await ctx.models.Conversation.find({ assigneeId: null, status: { $in: WAITING }, waitingSince: { $ne: null } }, { _id: 1, teamId: 1 })
      .sort({ waitingSince: 1 })
      .limit(500)
      .lean();
    for (const { _id, teamId } of waiting) await this.inTeamQueue(teamId, () => this.tryAssign(_id, { startWaiting: false }));
    const now = ctx.clock();
    const teams = new Map((await ctx.models.Team.find({}).lean()).map((t) => [t._id, t]));
    const stillWaiting = await ctx.models.Conversation.find({ assigneeId: null, status: { $in: WAITING }, waitingSince: { $ne: null }, escalatedAt: null }).lean();
    for (const conversation of stillWaiting) {
      const { escalateAfterMinutes } = routingOf(teams.get(conversation.teamId) ?? null);
      const waitedMinutes = Math.floor((now.getTime() - new Date(conversation.waitingSince!).getTime()) / 60_000);
      if (waitedMinutes < escalateAfterMinutes) continue;
      const marked = await ctx.locks.run(`conversation:${conversation._id}`, () =>
        ctx.models.Conversation.findOneAndUpdate(
          { _id: conversation._id, escalatedAt: null, assigneeId: null, status: { $in: WAITING }, waitingSince: conversation.waitingSince },
          { $set: { escalatedAt: now } },
          { returnDocument: 'after', lean: true },
        ),
      );
      if (!marked) continue;
      const record = await this.event(marked, `Waiting ${waitedMinutes} minutes for an agent: supervisors alerted`, null);
      this.options.escalation(record, waitedMinutes);
      ctx.logger.warn({ conversationId: conversation._id, teamId: conversation.teamId, waitedMinutes }, 'conversation waiting too long; supervisors alerted');
    }
  }

  private inTeamQueue<T>(teamId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(teamId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(teamId, settled);
    void settled.then(() => {
      if (this.queues.get(teamId) === settled) this.queues.delete(teamId);
    });
    return next;
  }

  private async tryAssign(conversationId: string, options: { startWaiting: boolean }): Promise<void> {
    const ctx = this.ctx();
    const conversation = await ctx.models.Conversation.findById(conversationId).lean();
    if (!conversation || conversation.assigneeId || !WAITING.includes(conversation.status)) return;
    const team = await ctx.models.Team.findById(conversation.teamId).lean();
    const routing = routingOf(team);
    const choice = routing.mode === 'manual' ? null : await this.choose(conversation, team, routing);
    const now = ctx.clock();
    if (!choice) {
      if (options.startWaiting && !conversation.waitingSince) {
        const waiting = await ctx.locks.run(`conversation:${conversation._id}`, () =>
          ctx.models.Conversation.findOneAndUpdate(
            { _id: conversation._id, waitingSince: null, assigneeId: null, status: { $in: WAITING } },
            { $set: { waitingSince: now, escalatedAt: null } },
            { returnDocument: 'after', lean: true },
          ),
        );
        // The inbox shows how long it has waited.
        if (waiting) ctx.events.conversationUpdated(toConversationRecord(waiting, ctx.cipher));
      }
      return;
    }
    const agent = await ctx.models.Agent.findById(choice.agentId, { name: 1 }).lean();
    const assigned = await ctx.locks.run(`conversation:${conversation._id}`, () =>
      // Still unassigned, still waiting, still in the team the agent was chosen from: an agent's action meanwhile stands.
      ctx.models.Conversation.findOneAndUpdate(
        { _id: conversation._id, assigneeId: null, status: { $in: WAITING }, teamId: conversation.teamId },
        { $set: { assigneeId: choice.agentId, assignedAt: now, waitingSince: null, escalatedAt: null, updatedAt: now } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (!assigned) return;
    await ctx.models.Team.updateOne({ _id: conversation.teamId }, { $set: { [`lastAssignedAt.${choice.agentId}`]: now } });
    await this.event(assigned, `Assigned to ${agent?.name ?? 'an agent'} automatically (${choice.reason})`, null);
  }

  private async choose(conversation: ConversationDoc, team: TeamDoc | null, routing: ReturnType<typeof routingOf>) {
    const ctx = this.ctx();
    const agents = await ctx.models.Agent.find({ teamIds: conversation.teamId, disabledAt: null }).lean();
    if (agents.length === 0) return null;
    const patient = await ctx.models.Patient.findById(conversation.patientId, { preferences: 1 }).lean();
    const candidates = [];
    for (const agent of agents) {
      const online = (agent.status ?? 'offline') === 'online' && (await this.options.isAgentOnline(agent._id));
      const openCount = online ? await ctx.models.Conversation.countDocuments({ assigneeId: agent._id, status: { $in: WAITING } }) : 0;
      const last = team?.lastAssignedAt?.[agent._id];
      candidates.push({
        agentId: agent._id,
        status: online ? ('online' as const) : ((agent.status === 'online' ? 'away' : (agent.status ?? 'offline')) as 'away' | 'offline'),
        openCount,
        languages: agent.languages ?? [],
        skills: agent.skills ?? [],
        lastAssignedAt: last ? new Date(last) : null,
      });
    }
    return chooseAssignee({
      mode: routing.mode,
      maxOpenPerAgent: routing.maxOpenPerAgent,
      candidates,
      language: patient?.preferences?.language ?? null,
      // An emergency signal prefers an agent with the `triage` skill (a nurse); other conversations name no skill yet.
      skill: conversation.triage ? TRIAGE_SKILL : null,
    });
  }

  private async event(conversation: ConversationDoc, body: string, agentId: string | null): Promise<ConversationRecord> {
    const ctx = this.ctx();
    const appended = await appendMessage(ctx, conversation, {
      direction: 'system', channel: 'internal', kind: 'event', body, author: { type: 'system', agentId }, deliveryStatus: 'none',
    });
    const record = toConversationRecord(appended.conversation, ctx.cipher);
    ctx.events.messageCreated(toMessageRecord(appended.message, ctx.cipher), record);
    ctx.events.conversationUpdated(record);
    return record;
  }
}
