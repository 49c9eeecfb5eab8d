/**
 * agentTeam: one task done by a team of cooperating workflows. Reads top to bottom:
 *   intent → recall → planner (steps with dependencies and expected evidence)
 *   → workers (child workflows; independent steps in parallel, at most maxParallel at once)
 *   → a verifier child per step → re-plan on a rejected step (at most maxReplans)
 *   → confirm → memory agent (child) → answer citing the evidence.
 * The parent enforces the budgets (steps, tokens, wall time) and shows them in status; children run
 * tools only through the same gate as a single task, and their approvals show on the parent.
 * Cancelling the parent cancels its children. The scheduling is in team-scheduler.ts.
 */
import * as wf from '@temporalio/workflow';
import type { EpisodeRecord, TaskResult } from '../domain/task';
import { teamChildProgressSignal, type TeamInput } from '../domain/team';
import { llm } from './activity-proxies';
import { memoryAgent } from './memory-agent';
import { prepareTask, recallMemory, traceMemoryWrite } from './memory-steps';
import { sinceRelease2026_12_06 } from './release';
import { confirmResult, enterConfirm, parseIntent, recordFailure, respond, route } from './stages';
import { CHILD_OPTIONS, TeamScheduler } from './team-scheduler';

export async function agentTeam(input: TeamInput): Promise<TaskResult> {
  const team = new TeamScheduler(input);
  const { host } = team;
  // Registered after the host's gate: buffered signals are delivered inside setHandler and read it.
  wf.setHandler(teamChildProgressSignal, (report) => team.onChildProgress(report));
  const ctx = { taskId: host.taskId, prompt: input.prompt, workspace: input.workspace };

  try {
    // 1. Intent
    const intent = await parseIntent(host, ctx);

    // 2. Plan: recall (with the policy snapshot), then the planner
    host.enter('plan');
    const prepared = sinceRelease2026_12_06() ? await prepareTask(host.taskId, input, intent, host.note) : null;
    const memory = prepared ? prepared.memory : await recallMemory(host.taskId, input, intent, host.note);
    const { plan } = host.countUsage(await llm.planTeam.executeWithOptions({ summary: 'plan the team' }, [ctx, intent, memory ? { memory } : {}]));
    team.addPlan(plan.steps);
    host.note('llm', `team plan: ${plan.steps.length} steps — ${plan.steps.map((s) => `${s.id}${s.dependsOn.length ? ` (after ${s.dependsOn.join(', ')})` : ''}`).join(', ')}`);

    // 3. Route: one policy snapshot for every child
    const { tools, rules } = await route(host, input, intent, { steps: plan.steps.map((s) => ({ title: s.title })) }, 'tools offered to workers', prepared ?? undefined);

    // 4-5. Execute and verify, step by step as dependencies allow, inside the wall-time budget
    host.enter('execute');
    const { done, wallClock } = team.execute({ intent, tools, rules, memory, ...(prepared?.instructions ? { instructions: prepared.instructions } : {}) });
    try {
      await done;
    } finally {
      wallClock.cancel();
    }
    // Nothing is awaited from here to the confirmation's request or the memory agent's start:
    // histories record the wall clock's cancellation after them.
    const verification = team.verify();

    // 6. Confirm with a human where the policy says so
    const earned = enterConfirm(host, input.confirmResult, verification.passed);
    const status = earned.ask ? await confirmResult(host, input.workspace, verification) : earned.status;

    // 7. Remember: the memory agent (a child; its failure never changes the outcome)
    host.enter('remember');
    await traceMemoryWrite(host.note, startMemoryAgent(team.episode(intent, verification, status), input.submittedBy), 'memory agent');

    // 8. Respond, citing the evidence
    const answer = await respond(host, { ...ctx, head: null, verification, outcomeNote: team.outcomeNote(status) });
    await host.gate.hooks.ended(status);
    return host.finish({ status, answer, verification });
  } catch (err) {
    team.end();
    recordFailure(host, err, 'task cancelled; its running steps were cancelled with it');
    await wf.CancellationScope.nonCancellable(() => host.gate.hooks.ended(wf.isCancellation(err) ? 'cancelled' : 'failed')).catch(() => {});
    throw err;
  }
}

/** The memory agent child on the team's episode (it starts at once); resolves to its report lines. */
function startMemoryAgent(episode: EpisodeRecord, user: string): Promise<string[]> {
  return wf
    .executeChild(memoryAgent, {
      ...CHILD_OPTIONS,
      workflowId: `${episode.taskId}.memory`,
      staticSummary: `memory agent of ${episode.taskId}`,
      args: [{ episode, user }],
    })
    .then((result) => result.lines);
}
