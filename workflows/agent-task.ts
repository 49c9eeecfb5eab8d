/**
 * agentTask: one durable agent task. Reads top to bottom as the pipeline
 *   intent → plan → route → execute (tool loop) → verify → confirm → remember → respond.
 * Runs in Temporal's sandbox and is replayed: no I/O, no Node APIs; everything that touches the
 * world is an activity, and time comes from the workflow clock.
 */
import * as wf from '@temporalio/workflow';
import { pendingApprovalMarkdown } from '../domain/approval-view';
import { statusQuery } from '../domain/messages';
import { routeTools } from '../domain/routing';
import {
  type EpisodeForMemory,
  type PlanStepView,
  type Stage,
  type TaskInput,
  type TaskResult,
  type TaskStatus,
  type TaskStatusView,
  type Verification,
} from '../domain/task';
import type { ContextState } from '../domain/context';
import { checkAgainstLedger, planFromLedger } from '../domain/ledger-checks';
import { addModelUsage, emptyUsage, formatUsage, type ModelUsage } from '../domain/usage';
import { createPublisher, createTrace } from './task-trace';
import { createToolGate, failureMessage, gate, snapshotPolicy, state } from './tool-gate';
import { llm, runToolLoop } from './tool-loop';
import { memoryWrite, memoryWriteReport, recallMemory } from './memory-steps';
import { sinceRelease2026_12 } from './release';

// One proxy per retry class: the model proxy lives in tool-loop.ts, the gate, tool,
// chat and state-store proxies in tool-gate.ts, memory's in memory-steps.ts.

const MAX_TRACE_ENTRIES = 5_000;
/** The result carries the trace's tail; older entries stay available through the trace query. */
const RESULT_TRACE_ENTRIES = 1_000;

export async function agentTask(input: TaskInput): Promise<TaskResult> {
  const taskId = wf.workflowInfo().workflowId;
  const ctx = { taskId, prompt: input.prompt, workspace: input.workspace };

  let status: TaskStatus = 'running';
  let stage: Stage = 'intent';
  let summary = input.prompt.split('\n')[0]!.slice(0, 120);
  let planView: PlanStepView[] = [];
  let planTools: (string | undefined)[] = [];
  /** Model tokens this task used (all four kinds, and cost), for budgets (background agents, the team) and status. */
  const tokens = emptyUsage();
  const countUsage = <T extends { usage: ModelUsage }>(reply: T): T => {
    addModelUsage(tokens, reply.usage);
    return reply;
  };
  let context: ContextState | null = null;
  let turns = 0;
  let result: TaskResult | null = null;
  let error: string | null = null;
  /** The validated recalled-memory block (quoted reference data), passed to planning and execution. */
  let memoryBlock: string | undefined;
  const trace = createTrace(MAX_TRACE_ENTRIES, () => stage);
  const { note } = trace;

  const now = () => new Date().toISOString();
  const publishState = createPublisher();
  const publish = () => publishState({ status, stage, pending: [...pending.values()], details: renderDetails() });
  const enter = (next: Stage) => {
    stage = next;
    note('stage', `stage: ${next}`);
    publish();
  };
  const view = (): TaskStatusView => ({
    taskId,
    status,
    stage,
    summary,
    prompt: input.prompt,
    workspace: input.workspace,
    plan: planView,
    pendingApprovals: [...pending.values()],
    approvals,
    toolCalls: toolGate.toolCalls(),
    turns,
    tokens,
    ...(context ? { context: { tokens: context.lastInputTokens, window: context.window, compactions: context.compactions } } : {}),
    result,
    error,
  });
  const renderDetails = () => {
    const lines = [`**Status:** ${status} · **Stage:** ${stage}${turns ? ` · turn ${turns}` : ''} · ${toolGate.toolCalls()} tool calls`];
    if (tokens.input || tokens.output) lines.push('', `**Usage:** ${formatUsage(tokens)}`);
    if (context?.window) {
      lines.push(`**Context:** ${context.lastInputTokens.toLocaleString('en-US')} of ${context.window.toLocaleString('en-US')} tokens${context.compactions ? ` · compacted ${context.compactions}×` : ''}`);
    }
    if (planView.length) {
      lines.push('', '**Plan**');
      for (const s of planView) lines.push(`${s.index}. [${s.state === 'done' ? 'x' : ' '}] ${s.title}`);
    }
    for (const r of pending.values()) {
      lines.push('', pendingApprovalMarkdown(r, taskId));
    }
    if (result) lines.push('', `**Result (${result.status}):** ${result.answer.slice(0, 500)}`);
    if (error) lines.push('', `**Error:** ${error}`);
    return lines.join('\n');
  };

  wf.setHandler(statusQuery, view);
  const toolGate = createToolGate({
    taskId,
    input,
    summary: () => summary,
    note,
    publish: () => publish(),
    onPendingChange: (waiting) => {
      // Only while the task runs: clearing requests as it fails or is cancelled keeps that status.
      if (status === 'running' || status === 'waiting_approval') status = waiting.length > 0 ? 'waiting_approval' : 'running';
    },
  });
  const { pending, approvals } = toolGate;
  /** The memory writer after the task: the model proposes, deterministic code supersedes. Never fails the task. */
  async function writeMemory(episode: EpisodeForMemory): Promise<void> {
    try {
      const w = await memoryWrite.writeMemories.executeWithOptions({ summary: 'write memories' }, [{ episode, user: input.submittedBy }]);
      for (const line of memoryWriteReport(w)) note('note', line);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      note('error', `memory write failed (the task's result is unaffected): ${failureMessage(err as Error)}`);
    }
  }

  function markPlanProgress(tool: string) {
    const step = planView.find((s) => s.state === 'pending' && planTools[s.index - 1] === tool);
    if (step) step.state = 'done';
  }

  try {
    // 1. Intent
    enter('intent');
    const { intent } = countUsage(await llm.parseIntent.executeWithOptions({ summary: 'parse intent' }, [ctx]));
    summary = intent.summary;
    note('llm', `intent: ${intent.kind} — ${intent.goal}`);

    // 2. Plan, after recalling what earlier tasks established (validated; rejections are traced)
    enter('plan');
    if (wf.patched('agent-memory-recall')) memoryBlock = await recallMemory(taskId, input, intent, note);
    const { plan } = countUsage(
      await llm.makePlan.executeWithOptions({ summary: 'make plan' }, memoryBlock ? [ctx, intent, memoryBlock] : [ctx, intent]),
    );
    planView = plan.steps.map((s, i) => ({ index: i + 1, title: s.title, state: 'pending' }));
    planTools = plan.steps.map((s) => s.tool);
    note('llm', `plan: ${plan.steps.length} steps`);

    // 3. Route
    enter('route');
    const tools = routeTools(intent, plan);
    const policyRules = await snapshotPolicy(input.workspace, input.rules, note);
    toolGate.setPolicy(policyRules);
    note('note', `tools offered: ${tools.join(', ')}; mode ${input.mode}; ${policyRules.length} policy rules`);

    // 4. Execute: the tool loop
    enter('execute');
    const exec = await runToolLoop({
      taskId,
      tools,
      maxTurns: input.maxTurns,
      start: { ...ctx, goal: intent.goal, planSteps: plan.steps.map((s) => s.title), ...(memoryBlock ? { memory: memoryBlock } : {}) },
      gate: toolGate,
      note,
      publish,
      countUsage,
      onTurn: (turn) => (turns = turn),
      onToolOk: markPlanProgress,
      onContext: (c) => (context = c),
      budgetExceeded: () =>
        input.maxCostUsd !== undefined && (tokens.costUsd ?? 0) >= input.maxCostUsd ? `the cost cap ($${input.maxCostUsd}) was reached: $${(tokens.costUsd ?? 0).toFixed(4)} spent` : null,
    });
    await toolGate.stopBackgroundJobs();
    const ledgerRef = await toolGate.storeLedger();

    // 5. Verify
    enter('verify');
    const { verification: judged } = countUsage(
      await llm.verifyResult.executeWithOptions({ summary: 'verify result' }, [
        { ...ctx, goal: intent.goal, planSteps: plan.steps.map((s) => s.title), head: exec.head, ...(ledgerRef ? { ledgerRef } : {}) },
      ]),
    );
    // The record over the claim: histories from before this check keep the verifier's word.
    const checked = sinceRelease2026_12();
    const verification = checked ? checkAgainstLedger(judged, toolGate.ledger, intent.needsWrite) : judged;
    if (verification !== judged) note('note', `the verifier's pass does not match what happened: ${verification.problems.slice(0, 2).join(' | ').slice(0, 300)}`);
    note('llm', `verification ${verification.passed ? 'passed' : 'failed'}: ${[...verification.evidence, ...verification.problems].join(' | ').slice(0, 300)}`);
    if (checked) planView = planFromLedger(planView, planTools, toolGate.ledger, verification.passed);
    else if (verification.passed) for (const s of planView) s.state = 'done';

    // 6. Confirm with a human where the policy says so
    enter('confirm');
    const humanDenied = approvals.some((a) => a.outcome !== 'approved');
    // A limit that stopped the loop is said as such, verified or not: the work may be unfinished.
    const stopped = exec.refused ? 'refused' : exec.stoppedEarly && sinceRelease2026_12() ? 'incomplete' : null;
    let finalStatus: TaskStatus = stopped ?? (verification.passed ? 'completed' : humanDenied ? 'denied' : 'failed');
    const wantConfirm = input.confirmResult === 'always' || (input.confirmResult === 'unverified' && finalStatus === 'failed');
    if (wantConfirm) {
      const confirmInput = { verified: verification.passed, problems: verification.problems, lastMessage: exec.lastText.slice(0, 2_000) };
      const hash = await gate.hashAction('accept_result', confirmInput, input.workspace);
      const record = await toolGate.requestApproval({
        kind: 'result',
        toolUseId: null,
        tool: 'accept_result',
        input: confirmInput,
        risk: verification.passed ? 'read-only' : 'unverified-result',
        reasons: verification.passed ? ['the policy asks for confirmation of every result'] : ['verification did not pass: ' + (verification.problems.join('; ') || 'no evidence')],
        actionHash: hash,
      });
      finalStatus = record.outcome === 'approved' ? 'completed' : 'denied';
    }

    // 7. Remember
    enter('remember');
    const episode = {
      taskId,
      prompt: input.prompt,
      workspace: input.workspace,
      intent,
      planSteps: plan.steps.map((s) => s.title),
      verification,
      transcriptHead: exec.head,
      ...(ledgerRef ? { ledgerRef } : {}),
      status: finalStatus,
      toolCalls: toolGate.toolCalls(),
      recordedAt: now(),
    };
    await state.recordEpisode.executeWithOptions({ summary: 'record episode' }, [episode]);
    let remembering: Promise<void> | undefined;
    if (wf.patched('agent-memory-write')) {
      const { intent: _intent, ...rest } = episode;
      // The memory writer and the answer are two model calls that need nothing from each other: run
      // them side by side, so memory costs the task no wall time (older histories wrote first).
      remembering = writeMemory({ ...rest, goal: intent.goal });
      if (!sinceRelease2026_12()) await remembering;
    }

    // 8. Respond
    enter('respond');
    const { answer } = countUsage(
      await llm.composeAnswer.executeWithOptions({ summary: 'compose answer' }, [
        { ...ctx, head: exec.head, verification, outcomeNote: outcomeNote(finalStatus, verification, exec.stopReason), ...(ledgerRef ? { ledgerRef } : {}) },
      ]),
    );
    await remembering;
    result = {
      taskId,
      status: finalStatus,
      answer,
      verified: verification.passed,
      evidence: verification.evidence,
      problems: verification.problems,
      approvals,
      toolCalls: toolGate.toolCalls(),
      turns,
      tokens,
      ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
      ...(exec.context.compactions ? { compactions: exec.context.compactions } : {}),
      summary,
      plan: planView,
    };
    status = finalStatus;
    enter('done');
    return { ...result, trace: trace.tail(RESULT_TRACE_ENTRIES) };
  } catch (err) {
    await toolGate.stopBackgroundJobs().catch(() => {});
    if (wf.isCancellation(err)) {
      status = 'cancelled';
      note('note', 'task cancelled');
    } else {
      status = 'failed';
      error = err instanceof Error ? failureMessage(err) : String(err);
      note('error', error);
    }
    toolGate.clearPending();
    publish();
    throw err;
  }
}

function outcomeNote(status: TaskStatus, verification: Verification, stopReason: string | null): string {
  const base =
    status === 'completed'
      ? 'completed'
      : status === 'denied'
        ? 'a human denied an action or the result'
        : status === 'refused'
          ? 'the model refused to continue'
          : status === 'incomplete'
            ? 'incomplete: a limit stopped the work before the model finished'
            : 'not achieved';
  return `${base}${verification.passed ? ' (verified)' : ' (not verified)'}${stopReason ? `; stopped: ${stopReason}` : ''}`;
}
