/** Assign to an agent and/or transfer to a team. */
import { useEffect, useState } from 'preact/hooks';
import type { AgentSummary, ConversationRecord } from '../types.ts';
import { Modal } from './Modal.tsx';
import type { Directory } from './Workspace.tsx';

const NOBODY = '__nobody__';

export function AssignDialog(props: {
  open: boolean;
  onClose(): void;
  conversation: ConversationRecord;
  directory: Directory;
  agent: AgentSummary;
  onAssign(body: { assigneeId?: string | null; teamId?: string }, what: string): Promise<void>;
}) {
  const { conversation, directory } = props;
  const [teamId, setTeamId] = useState(conversation.teamId);
  const [assignee, setAssignee] = useState(conversation.assigneeId ?? NOBODY);

  useEffect(() => {
    if (props.open) {
      setTeamId(conversation.teamId);
      setAssignee(conversation.assigneeId ?? NOBODY);
    }
  }, [props.open]);

  const candidates = [...directory.agents.values()].filter((a) => a.role === 'admin' || a.teamIds.includes(teamId));
  const teams = directory.teams.length ? directory.teams : [{ id: conversation.teamId, name: conversation.teamId }];

  async function submit(event: Event) {
    event.preventDefault();
    const body: { assigneeId?: string | null; teamId?: string } = {};
    if (teamId !== conversation.teamId) body.teamId = teamId;
    const wanted = assignee === NOBODY ? null : assignee;
    const assigneeStillValid = wanted === null || candidates.some((a) => a.id === wanted);
    if (wanted !== conversation.assigneeId || body.teamId) body.assigneeId = assigneeStillValid ? wanted : null;
    if (body.teamId === undefined && body.assigneeId === undefined) {
      props.onClose();
      return;
    }
    const what = [
      body.teamId ? `Transferred to ${directory.teamName(body.teamId)}` : '',
      body.assigneeId !== undefined ? (body.assigneeId ? `Assigned to ${directory.agentName(body.assigneeId)}` : 'Unassigned') : '',
    ]
      .filter(Boolean)
      .join(', ');
    props.onClose();
    await props.onAssign(body, what);
  }

  return (
    <Modal open={props.open} title="Assign conversation" onClose={props.onClose}>
      <form class="assign-form" onSubmit={submit}>
        <label for="assign-team">Team</label>
        <select id="assign-team" value={teamId} onChange={(e) => setTeamId(e.currentTarget.value)}>
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="assign-agent">Agent</label>
        <select id="assign-agent" value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)}>
          <option value={NOBODY}>Nobody (unassigned)</option>
          {candidates.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id === props.agent.id ? `${a.name} (you)` : a.name}
            </option>
          ))}
        </select>
        <div class="modal-actions">
          <button type="button" class="ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Assign
          </button>
        </div>
      </form>
    </Modal>
  );
}
