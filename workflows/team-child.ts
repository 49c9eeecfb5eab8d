/**
 * The host of a team's worker and verifier children: a TaskHost whose gate judges by the parent's
 * policy snapshot, whose status and Current Details name the step, and which tells the parent of
 * every change to its pending approvals and usage, so they show on (and count against) the team.
 */
import * as wf from '@temporalio/workflow';
import { childDetails } from '../domain/task-view';
import { teamChildProgressSignal, type TeamVerifierInput, type TeamWorkerInput } from '../domain/team';
import { TaskHost } from './task-host';

export function openChildHost(input: TeamWorkerInput | TeamVerifierInput, role: 'worker' | 'verifier'): TaskHost {
  const parent = wf.getExternalWorkflowHandle(input.parentTaskId);
  let seq = 0;
  const host: TaskHost = new TaskHost(
    {
      stage: role === 'worker' ? 'execute' : 'verify',
      summary: `${role} of step ${input.step.id}: ${input.step.title}`.slice(0, 120),
      prompt: input.step.instructions,
      input,
      requestPrefix: input.requestPrefix,
      traceEntries: 2_000,
      resultTraceEntries: 200,
    },
    {
      details: (view) => childDetails(view, { role, parentTaskId: input.parentTaskId, stepId: input.step.id, lastLine: host.lastNote() }),
      // A parent that already ended has nothing to show.
      onChange: () =>
        void parent
          .signal(teamChildProgressSignal, {
            childId: host.taskId,
            seq: ++seq,
            pending: [...host.gate.pending.values()],
            tokens: { ...host.tokens },
            toolCalls: host.gate.toolCalls(),
            approvals: [...host.gate.approvals],
          })
          .catch(() => undefined),
    },
  );
  host.gate.setPolicy(input.rules);
  host.gate.setMcpCatalog(input.mcpCatalogRef);
  host.gate.hooks.set(input.hooks);
  return host;
}
