/**
 * agentTask: one durable agent task. Reads top to bottom as the pipeline
 *   intent → plan → route → execute (tool loop) → verify → confirm → remember → respond.
 * Runs in Temporal's sandbox and is replayed: no I/O, no Node APIs; everything that touches the
 * world is an activity, and time comes from the workflow clock.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ContextState, LedgerEntry } from '../domain/context';
import { checkAgainstLedger, planFromLedger } from '../domain/ledger-checks';
import type { EpisodeRecord, Plan, PlanStepView, TaskInput, TaskResult, TokenUsage, Verification } from '../domain/task';
import { taskDetails, taskOutcomeNote } from '../domain/task-view';
import { llm } from './activity-proxies';
import { prepareTask, recallMemory, remember, traceMemoryWrite } from './memory-steps';
import { legacyPatch, sinceRelease2026_12, sinceRelease2026_12_06 } from './release';
import { confirmResult, enterConfirm, parseIntent, recordFailure, respond, route } from './stages';
import { firstLine, TaskHost } from './task-host';
import { runToolLoop } from './tool-loop';

export async function agentTask(input: TaskInput): Promise<TaskResult> {
  const plan = new PlanProgress();
  let context: ContextState | null = null;
  const host = new TaskHost(
    // The result carries the trace's tail; older entries stay available through the trace query.
    { stage: 'intent', summary: firstLine(input.prompt), prompt: input.prompt, input, traceEntries: 5_000, resultTraceEntries: 1_000 },
    {
      details: taskDetails,
      plan: () => plan.steps,
      context: () => (context ? { tokens: context.lastInputTokens, window: context.window, compactions: context.compactions } : undefined),
    },
  );
  const { gate, taskId } = host;
  const ctx = { taskId, prompt: input.prompt, workspace: input.workspace };

  try {
    // 1. Intent
    const intent = await parseIntent(host, ctx);

    // 2. Plan, after recalling what earlier tasks established (validated; rejections are traced),
    // with the policy snapshot loaded in the same step
    host.enter('plan');
    const prepared = sinceRelease2026_12_06() ? await prepareTask(taskId, input, intent, host.note) : null;
    const memory = prepared ? prepared.memory : legacyPatch('agent-memory-recall') ? await recallMemory(taskId, input, intent, host.note) : undefined;
    const planned = host.countUsage(await llm.makePlan.executeWithOptions({ summary: 'make plan' }, memory ? [ctx, intent, memory] : [ctx, intent])).plan;
    const planSteps = plan.start(planned);
    host.note('llm', `plan: ${planned.steps.length} steps`);

    // 3. Route
    const { tools } = await route(host, input, intent, planned, 'tools offered', prepared ?? undefined);

    // 4. Execute: the tool loop
    host.enter('execute');
    const exec = await runToolLoop({
      ...host.toolLoopHost(),
      tools,
      maxTurns: input.maxTurns,
      start: { ...ctx, goal: intent.goal, planSteps, ...(memory ? { memory } : {}), ...(prepared?.instructions ? { instructions: prepared.instructions } : {}) },
      onToolOk: plan.toolOk,
      onContext: (c) => (context = c),
      budgetExceeded: () => costCapReached(input.maxCostUsd, host.tokens),
    });
    await gate.stopBackgroundJobs();
    const ledgerRef = await gate.storeLedger();
    const refs = ledgerRef ? { ledgerRef } : {};

    // 5. Verify
    const verification = await verify(host, { ...ctx, goal: intent.goal, planSteps, head: exec.head, ...refs }, intent.needsWrite, plan);

    // 6. Confirm with a human where the policy says so. A limit that stopped the loop is said as
    // such, verified or not: the work may be unfinished.
    const stopped = exec.refused ? 'refused' : exec.stoppedEarly && sinceRelease2026_12() ? 'incomplete' : null;
    const earned = enterConfirm(host, input.confirmResult, verification.passed, stopped);
    const status = earned.ask ? await confirmResult(host, input.workspace, verification, exec.lastText.slice(0, 2_000)) : earned.status;

    // 7. Remember
    host.enter('remember');
    const episode: EpisodeRecord = {
      taskId,
      prompt: input.prompt,
      workspace: input.workspace,
      intent,
      planSteps,
      verification,
      transcriptHead: exec.head,
      ...refs,
      status,
      toolCalls: gate.toolCalls(),
      recordedAt: new Date().toISOString(),
    };
    const writing = await remember(episode, input.submittedBy, () => legacyPatch('agent-memory-write'));
    // The memory writer and the answer are two model calls that need nothing from each other: run
    // them side by side, so memory costs the task no wall time (older histories wrote first).
    const remembering = writing && traceMemoryWrite(host.note, writing.lines, 'memory write');
    if (remembering && !sinceRelease2026_12()) await remembering;

    // 8. Respond
    const outcomeNote = taskOutcomeNote(status, verification, exec.stopReason);
    const answer = await respond(host, { ...ctx, head: exec.head, verification, outcomeNote, ...refs });
    await remembering;
    await gate.hooks.ended(status);
    return host.finish({ status, answer, verification, stopReason: exec.stopReason, compactions: exec.context.compactions });
  } catch (err) {
    await gate.stopBackgroundJobs().catch(() => {});
    recordFailure(host, err);
    await wf.CancellationScope.nonCancellable(() => gate.hooks.ended(wf.isCancellation(err) ? 'cancelled' : 'failed')).catch(() => {});
    throw err;
  }
}

/** The cost cap, when the task has one and its model spend reached it: why the tool loop stops. */
function costCapReached(maxCostUsd: number | undefined, tokens: TokenUsage): string | null {
  return maxCostUsd !== undefined && (tokens.costUsd ?? 0) >= maxCostUsd ? `the cost cap ($${maxCostUsd}) was reached: $${(tokens.costUsd ?? 0).toFixed(4)} spent` : null;
}

/**
 * Verify: the verifier model's judgement, held against the ledger of what the tools did (the record
 * over the claim), which also settles the plan's progress. Histories from before this check keep
 * the verifier's word.
 */
async function verify(host: TaskHost, request: Parameters<Activities['verifyResult']>[0], needsWrite: boolean, plan: PlanProgress): Promise<Verification> {
  host.enter('verify');
  const { verification: judged } = host.countUsage(await llm.verifyResult.executeWithOptions({ summary: 'verify result' }, [request]));
  const checked = sinceRelease2026_12();
  const { ledger } = host.gate;
  const verification = checked ? checkAgainstLedger(judged, ledger, needsWrite) : judged;
  if (verification !== judged) host.note('note', `the verifier's pass does not match what happened: ${verification.problems.slice(0, 2).join(' | ').slice(0, 300)}`);
  host.note('llm', `verification ${verification.passed ? 'passed' : 'failed'}: ${[...verification.evidence, ...verification.problems].join(' | ').slice(0, 300)}`);
  plan.settle(ledger, verification.passed, checked);
  return verification;
}

/** The plan as the status view shows it: a step is ticked when a call of the tool it names succeeds. */
class PlanProgress {
  steps: PlanStepView[] = [];
  private tools: (string | undefined)[] = [];

  /** Takes the planner's plan; returns its step titles. */
  start(plan: Plan): string[] {
    this.steps = plan.steps.map((s, i) => ({ index: i + 1, title: s.title, state: 'pending' }));
    this.tools = plan.steps.map((s) => s.tool);
    return plan.steps.map((s) => s.title);
  }

  readonly toolOk = (tool: string): void => {
    const step = this.steps.find((s) => s.state === 'pending' && this.tools[s.index - 1] === tool);
    if (step) step.state = 'done';
  };

  /** After verification: the ledger says which steps happened (older histories tick every step of a verified task). */
  settle(ledger: LedgerEntry[], passed: boolean, checked: boolean): void {
    if (checked) this.steps = planFromLedger(this.steps, this.tools, ledger, passed);
    else if (passed) for (const s of this.steps) s.state = 'done';
  }
}
