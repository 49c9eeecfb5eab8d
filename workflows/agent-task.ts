/**
 * agentTask: one durable agent task. Reads top to bottom as the pipeline
 *   intent → plan → route → execute (tool loop) → verify → confirm → remember → respond.
 * Runs in Temporal's sandbox and is replayed: no I/O, no Node APIs; everything that touches the
 * world is an activity, and time comes from the workflow clock.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EpisodeForMemory } from '../activities/memory';
import type { ToolResultForModel } from '../services/llm/agent-model';
import { NON_RETRYABLE_FAILURES } from '../domain/failures';
import { decideApprovalUpdate, statusQuery, traceQuery } from '../domain/messages';
import type { RuleRecord } from '../domain/policy';
import { routeTools } from '../domain/routing';
import { AGENT_PENDING_APPROVAL, AGENT_STAGE, AGENT_STATUS } from '../domain/search-attributes';
import {
  ApprovalDecisionSchema,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalRequest,
  type Intent,
  type Plan,
  type PlanStepView,
  type Stage,
  type TaskInput,
  type TaskResult,
  type TaskStatus,
  type TaskStatusView,
  type TraceEntry,
  type Verification,
} from '../domain/task';
import { TOOL_SPECS, type ToolName } from '../domain/tool-catalog';

type ExecuteStepResult = Awaited<ReturnType<Activities['executeStep']>>;

// One proxy per retry class (design rule 2).

/** Model calls: slow and rate limited. Backoff; 429/529 wait for the provider's retry-after (nextRetryDelay). */
const llm = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});
/** The gate and hashing are CPU-only on the worker: local activities, no server round trip. */
const gate = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });
/** Idempotent tools (reads): retried freely; the heartbeat notices a dead worker within seconds. */
const idempotentTools = wf.proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 5 },
});
/**
 * Side-effecting tools: a retry goes through the effect journal, which answers "outcome unknown"
 * instead of running the effect twice, so retrying the activity itself is safe.
 */
const sideEffectTools = wf.proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});
/**
 * Chat notifications of approvals (Slack, webhook): best effort, so a few quick attempts; a chat
 * service that is down must not hold up a decided task for long, and the approval works from the
 * CLI regardless. The activity marks permanent failures (bad token, unknown channel) non-retryable.
 */
const chat = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});
/**
 * State-store writes: one small idempotent write (last write wins), so a local activity — no server
 * round trip — retried generously.
 */
const state = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 10 } });
/**
 * Memory recall: database reads and a few small file checks, so a local activity. A task never
 * depends on memory: after these attempts it goes on without it ('MemoryUnavailable' = the store
 * cannot be opened, e.g. the embedded database is held by another process).
 */
const memoryRecall = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['MemoryUnavailable'] } });
/** The memory writer calls the model: heartbeat like every model call, but few attempts — the task's answer waits on it. */
const memoryWrite = wf.proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES, 'MemoryUnavailable'] },
});
/** Trace lines per kind of memory event, so a large recall cannot flood the trace. */
const MEMORY_TRACE_LINES = 20;

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
  let toolCalls = 0;
  /** Model tokens this task used, for budgets (background agents, the team) and status. */
  const tokens = { input: 0, output: 0 };
  const countUsage = <T extends { usage: { inputTokens: number; outputTokens: number } }>(reply: T): T => {
    tokens.input += reply.usage.inputTokens;
    tokens.output += reply.usage.outputTokens;
    return reply;
  };
  let turns = 0;
  let result: TaskResult | null = null;
  let error: string | null = null;
  /** The validated recalled-memory block (quoted reference data), passed to planning and execution. */
  let memoryBlock: string | undefined;
  const trace: TraceEntry[] = [];
  const pending = new Map<string, ApprovalRequest>();
  const decisions = new Map<string, ApprovalRecord>();
  const approvals: ApprovalRecord[] = [];
  /** The policy snapshot taken at the route stage, then "always" answers given during the task. */
  let policyRules: RuleRecord[] = [];
  const sessionRules: RuleRecord[] = [];
  let approvalSeq = 0;
  /** Set once a run_command started a background job, so the task stops its jobs when it ends. */
  let startedBackgroundJobs = false;

  const now = () => new Date().toISOString();
  const note = (kind: TraceEntry['kind'], message: string) => {
    trace.push({ seq: trace.length === 0 ? 1 : trace[trace.length - 1]!.seq + 1, at: now(), stage, kind, message });
    if (trace.length > MAX_TRACE_ENTRIES) trace.shift();
  };
  const publish = () => {
    wf.upsertSearchAttributes([
      { key: AGENT_STATUS, value: status },
      { key: AGENT_STAGE, value: stage },
      { key: AGENT_PENDING_APPROVAL, value: pending.size > 0 },
    ]);
    wf.setCurrentDetails(renderDetails());
  };
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
    toolCalls,
    turns,
    tokens,
    result,
    error,
  });
  const renderDetails = () => {
    const lines = [`**Status:** ${status} · **Stage:** ${stage}${turns ? ` · turn ${turns}` : ''} · ${toolCalls} tool calls`];
    if (planView.length) {
      lines.push('', '**Plan**');
      for (const s of planView) lines.push(`${s.index}. [${s.state === 'done' ? 'x' : ' '}] ${s.title}`);
    }
    for (const r of pending.values()) {
      lines.push('', `**Waiting for approval** \`${r.requestId}\`: ${r.tool} (${r.risk}) — \`agent approve ${taskId} ${r.requestId}\``);
    }
    if (result) lines.push('', `**Result (${result.status}):** ${result.answer.slice(0, 500)}`);
    if (error) lines.push('', `**Error:** ${error}`);
    return lines.join('\n');
  };

  wf.setHandler(statusQuery, view);
  wf.setHandler(traceQuery, (fromSeq = 0) => trace.filter((e) => e.seq >= fromSeq));
  wf.setHandler(
    decideApprovalUpdate,
    (decision: ApprovalDecision): ApprovalRecord => {
      const request = pending.get(decision.requestId)!;
      const record: ApprovalRecord = {
        requestId: request.requestId,
        tool: request.tool,
        actionHash: request.actionHash,
        outcome: decision.approve ? 'approved' : 'denied',
        always: decision.approve && decision.always,
        reason: decision.reason ?? null,
        decidedBy: decision.decidedBy,
        channel: decision.channel,
        decidedAt: now(),
      };
      decisions.set(request.requestId, record);
      return record;
    },
    {
      // Rejected updates never reach history: a stale, duplicate or tampered decision changes nothing.
      validator: (raw: ApprovalDecision) => {
        const decision = ApprovalDecisionSchema.parse(raw);
        const decided = decisions.get(decision.requestId) ?? approvals.find((a) => a.requestId === decision.requestId);
        if (decided) {
          throw new Error(`approval request ${decision.requestId} was already ${decided.outcome} by ${decided.decidedBy} at ${decided.decidedAt}`);
        }
        const request = pending.get(decision.requestId);
        if (!request) throw new Error(`task ${taskId} has no approval request ${decision.requestId}`);
        if (Date.now() >= Date.parse(request.expiresAt)) throw new Error(`approval request ${decision.requestId} expired at ${request.expiresAt}`);
        if (decision.actionHash !== request.actionHash) {
          throw new Error(`approval request ${decision.requestId} is for a different action (action hash mismatch); nothing was approved`);
        }
      },
    },
  );

  /**
   * Raises an approval request and waits for a decision; silence until expiry means deny.
   * `alwaysOffered`: an "always" answer would grant something, so chat offers that button.
   */
  async function requestApproval(
    ask: Omit<ApprovalRequest, 'requestId' | 'requestedAt' | 'expiresAt'>,
    options: { alwaysOffered?: boolean } = {},
  ): Promise<ApprovalRecord> {
    const requestId = `apr-${++approvalSeq}`;
    const requestedAt = Date.now();
    const request: ApprovalRequest = {
      ...ask,
      requestId,
      requestedAt: new Date(requestedAt).toISOString(),
      expiresAt: new Date(requestedAt + input.approvalTimeoutMs).toISOString(),
    };
    pending.set(requestId, request);
    status = 'waiting_approval';
    note('approval', `approval ${requestId} requested: ${ask.tool} (${ask.risk}) — ${ask.reasons.join('; ')}`);
    publish();
    // Chat (Slack, webhook) is told while the workflow waits, so a slow notification never delays a
    // decision. Whether chat is configured is the worker's business: without it the activity returns
    // at once. That costs one activity per approval but keeps deployment config out of the task input
    // and the workflow. Patched: histories recorded before this change have no such activity.
    const shown = wf.patched('chat-approval-notify') ? showInChat(request, options.alwaysOffered ?? false) : null;
    const answered = await wf.condition(() => decisions.has(requestId), input.approvalTimeoutMs);
    pending.delete(requestId);
    const record: ApprovalRecord = answered
      ? decisions.get(requestId)!
      : {
          requestId,
          tool: ask.tool,
          actionHash: ask.actionHash,
          outcome: 'expired',
          always: false,
          reason: `no decision within ${Math.round(input.approvalTimeoutMs / 1000)}s`,
          decidedBy: 'timeout',
          channel: 'timeout',
          decidedAt: now(),
        };
    approvals.push(record);
    status = pending.size > 0 ? 'waiting_approval' : 'running';
    note('approval', `approval ${requestId} ${record.outcome} by ${record.decidedBy} via ${record.channel}${record.reason ? `: ${record.reason}` : ''}`);
    publish();
    // Awaited (bounded by the chat proxy's timeouts) so the message shows the outcome before the task moves on or ends.
    if (shown) await showOutcomeInChat(await shown, request, record);
    return record;
  }

  type ChatPosting = NonNullable<Awaited<ReturnType<Activities['notifyApprovalRequested']>>>;

  /** Best effort: every failure goes to the trace and resolves to null; never throws, as nobody awaits it right away. */
  async function showInChat(request: ApprovalRequest, alwaysOffered: boolean): Promise<ChatPosting | null> {
    try {
      const posting = await chat.notifyApprovalRequested.executeWithOptions({ summary: `show ${request.requestId} in chat` }, [
        { taskId, summary, workspace: input.workspace, submittedBy: input.submittedBy, request, alwaysOffered },
      ]);
      for (const e of posting?.errors ?? []) note('note', `chat: ${request.requestId} not shown in ${e}`);
      return posting;
    } catch (err) {
      note('note', `chat: ${request.requestId} not shown: ${failureMessage(err as Error)}`);
      return null;
    }
  }

  /** Replaces the buttons with the outcome wherever the request was shown. A failure is traced; cancellation still cancels. */
  async function showOutcomeInChat(posting: ChatPosting | null, request: ApprovalRequest, record: ApprovalRecord): Promise<void> {
    if (!posting || (!posting.slack && !posting.webhook)) return;
    try {
      const errors = await chat.notifyApprovalResolved.executeWithOptions({ summary: `show outcome of ${request.requestId} in chat` }, [
        { taskId, summary, workspace: input.workspace, request, record, posting },
      ]);
      for (const e of errors) note('note', `chat: outcome of ${request.requestId} not shown in ${e}`);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      note('note', `chat: outcome of ${request.requestId} not shown: ${failureMessage(err as Error)}`);
    }
  }

  /** Every tool call passes the gate; the answer is always a tool_result, whatever happens. */
  async function callTool(call: { id: string; name: string; input: Record<string, unknown> }, offered: ToolName[]): Promise<ToolResultForModel> {
    const fail = (content: string): ToolResultForModel => ({ toolUseId: call.id, isError: true, content });
    const verdict = await gate.authorizeToolCall.executeWithOptions({ summary: `gate ${call.name}` }, [
      { tool: call.name, input: call.input, workspace: input.workspace, offeredTools: offered, mode: input.mode, rules: [...policyRules, ...sessionRules] },
    ]);
    if (verdict.kind === 'invalid') {
      note('error', `${call.name}: ${verdict.message}`);
      return fail(`Error: ${verdict.message}`);
    }
    const { decision, risk, reasons, matchedRule } = verdict.verdict;
    note('policy', `${verdict.tool} → ${decision} (${risk}; ${matchedRule ?? 'no rule'}): ${reasons.slice(0, 3).join('; ')}`);
    if (decision === 'deny') return fail(`Denied by policy: ${reasons.join('; ')}. Do not retry this action.`);
    if (decision === 'ask') {
      const record = await requestApproval(
        { kind: 'tool', toolUseId: call.id, tool: verdict.tool, input: verdict.input, risk, reasons, actionHash: verdict.actionHash },
        { alwaysOffered: verdict.grantRules.length > 0 },
      );
      if (record.outcome !== 'approved') {
        const why = record.outcome === 'expired' ? 'nobody approved it in time, so it was treated as denied' : `the user denied it${record.reason ? ` (${record.reason})` : ''}`;
        return fail(`Not run: ${why}. Do not retry the same action; adapt the plan or explain what is blocked.`);
      }
      if (record.always && verdict.grantRules.length) {
        sessionRules.push(...verdict.grantRules);
        note('policy', `remembered for this workspace: ${verdict.grantRules.map((r) => r.text).join(', ')}`);
        await state.persistGrants.executeWithOptions({ summary: 'remember "always" rules' }, [input.workspace, verdict.grantRules.map((r) => r.text)]);
      }
    }
    const proxy = TOOL_SPECS[verdict.tool].idempotent ? idempotentTools : sideEffectTools;
    const outcome = await proxy.runTool.executeWithOptions({ summary: describeCall(verdict.tool, verdict.input) }, [
      {
        toolUseId: call.id,
        tool: verdict.tool,
        input: verdict.input,
        workspace: input.workspace,
        user: input.submittedBy,
        allowNetwork: verdict.verdict.allowNetwork ?? false,
        // Allowed without a human because it would be sandboxed: a worker without a sandbox must not run it.
        requireSandbox: decision === 'allow',
      },
    ]);
    toolCalls++;
    if (verdict.tool === 'run_command' && verdict.input.background === true) startedBackgroundJobs = true;
    if (outcome.status === 'ok') markPlanProgress(verdict.tool);
    note('tool', `${describeCall(verdict.tool, verdict.input)} → ${outcome.status}${outcome.truncated ? ` (${outcome.bytes} bytes, truncated)` : ''}: ${outcome.preview.split('\n')[0]!.slice(0, 160)}`);
    publish();
    return { toolUseId: call.id, isError: outcome.isError, content: outcome.content, contentRef: outcome.contentRef };
  }

  /** Background jobs never outlive the execute stage (or a failed/cancelled task). */
  async function stopBackgroundJobs() {
    if (!startedBackgroundJobs || !wf.patched('stop-background-jobs')) return;
    startedBackgroundJobs = false;
    const stopped = await wf.CancellationScope.nonCancellable(() =>
      state.stopBackgroundJobs.executeWithOptions({ summary: 'stop background jobs' }, [taskId]),
    );
    if (stopped > 0) note('note', `stopped ${stopped} background job${stopped === 1 ? '' : 's'} still running`);
  }

  /** Recall for planning. Memory is an aid: a failure is traced and the task goes on without it (cancellation still cancels). */
  async function recallMemory(intent: Intent): Promise<string | undefined> {
    try {
      const r = await memoryRecall.recallMemories.executeWithOptions({ summary: 'recall memory' }, [
        { taskId, query: `${input.prompt}\n${intent.goal}`, workspace: input.workspace, user: input.submittedBy },
      ]);
      if (!r.enabled) return undefined;
      note(
        'note',
        `memory: recalled ${r.items.length} (${r.usedTokens}/${r.budgetTokens} tokens, ${r.ms} ms)` +
          `${r.rejected.length ? `, rejected ${r.rejected.length}` : ''}${r.omitted ? `, ${r.omitted} left out for the budget` : ''}`,
      );
      for (const i of r.items.slice(0, MEMORY_TRACE_LINES)) {
        note('note', `memory recalled: ${i.key} = ${JSON.stringify(i.value)} [${i.scope}]${i.verified ? ` (${i.verified})` : ''}`);
      }
      for (const x of r.rejected.slice(0, MEMORY_TRACE_LINES)) note('note', `memory rejected: ${x.key} = ${JSON.stringify(x.value)} [${x.scope}] — ${x.rule}: ${x.reason}`);
      return r.block || undefined;
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      note('error', `memory recall failed, continuing without memory: ${failureMessage(err as Error)}`);
      return undefined;
    }
  }

  /** The memory writer after the task: the model proposes, deterministic code supersedes. Never fails the task. */
  async function writeMemory(episode: EpisodeForMemory): Promise<void> {
    try {
      const w = await memoryWrite.writeMemories.executeWithOptions({ summary: 'write memories' }, [{ episode, user: input.submittedBy }]);
      const count = (action: string) => w.outcomes.filter((o) => o.action === action).length;
      note(
        'note',
        `memory: ${count('created')} new, ${count('superseded')} updated, ${count('confirmed')} confirmed, ${count('stale')} stale` +
          `${w.rejected.length ? `, ${w.rejected.length} proposals rejected` : ''}${w.dreamTriggered ? '; consolidation started' : ''}`,
      );
      for (const o of w.outcomes.filter((o) => o.action !== 'confirmed').slice(0, MEMORY_TRACE_LINES)) {
        note('note', `memory ${o.action}: ${o.key} = ${JSON.stringify(o.value)} [${o.scope}] — ${o.reason}`);
      }
      for (const r of w.rejected.slice(0, MEMORY_TRACE_LINES)) note('note', `memory proposal rejected: ${r.reason} — ${r.preview}`);
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
    if (wf.patched('agent-memory-recall')) memoryBlock = await recallMemory(intent);
    const { plan } = countUsage(
      await llm.makePlan.executeWithOptions({ summary: 'make plan' }, memoryBlock ? [ctx, intent, memoryBlock] : [ctx, intent]),
    );
    planView = plan.steps.map((s, i) => ({ index: i + 1, title: s.title, state: 'pending' }));
    planTools = plan.steps.map((s) => s.tool);
    note('llm', `plan: ${plan.steps.length} steps`);

    // 3. Route
    enter('route');
    const tools = routeTools(intent, plan);
    policyRules = await gate.loadPolicy.executeWithOptions({ summary: 'load policy' }, [input.workspace, input.rules]);
    note('note', `tools offered: ${tools.join(', ')}; mode ${input.mode}; ${policyRules.length} policy rules`);

    // 4. Execute: the tool loop
    enter('execute');
    const exec = await executeLoop(intent, plan, tools);
    await stopBackgroundJobs();

    // 5. Verify
    enter('verify');
    const { verification } = countUsage(
      await llm.verifyResult.executeWithOptions({ summary: 'verify result' }, [
        { ...ctx, goal: intent.goal, planSteps: plan.steps.map((s) => s.title), head: exec.head },
      ]),
    );
    note('llm', `verification ${verification.passed ? 'passed' : 'failed'}: ${[...verification.evidence, ...verification.problems].join(' | ').slice(0, 300)}`);
    if (verification.passed) for (const s of planView) s.state = 'done';

    // 6. Confirm with a human where the policy says so
    enter('confirm');
    const humanDenied = approvals.some((a) => a.outcome !== 'approved');
    let finalStatus: TaskStatus = verification.passed ? 'completed' : humanDenied ? 'denied' : 'failed';
    const wantConfirm = input.confirmResult === 'always' || (input.confirmResult === 'unverified' && finalStatus === 'failed');
    if (wantConfirm) {
      const confirmInput = { verified: verification.passed, problems: verification.problems, lastMessage: exec.lastText.slice(0, 2_000) };
      const hash = await gate.hashAction('accept_result', confirmInput, input.workspace);
      const record = await requestApproval({
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
      status: finalStatus,
      toolCalls,
      recordedAt: now(),
    };
    await state.recordEpisode.executeWithOptions({ summary: 'record episode' }, [episode]);
    if (wf.patched('agent-memory-write')) {
      const { intent: _intent, ...rest } = episode;
      await writeMemory({ ...rest, goal: intent.goal });
    }

    // 8. Respond
    enter('respond');
    const { answer } = countUsage(
      await llm.composeAnswer.executeWithOptions({ summary: 'compose answer' }, [
        { ...ctx, head: exec.head, verification, outcomeNote: outcomeNote(finalStatus, verification, exec.stoppedEarly) },
      ]),
    );
    result = {
      taskId,
      status: finalStatus,
      answer,
      verified: verification.passed,
      evidence: verification.evidence,
      problems: verification.problems,
      approvals,
      toolCalls,
      turns,
      tokens,
      summary,
      plan: planView,
    };
    status = finalStatus;
    enter('done');
    return { ...result, trace: trace.slice(-RESULT_TRACE_ENTRIES) };
  } catch (err) {
    await stopBackgroundJobs().catch(() => {});
    if (wf.isCancellation(err)) {
      status = 'cancelled';
      note('note', 'task cancelled');
    } else {
      status = 'failed';
      error = err instanceof Error ? failureMessage(err) : String(err);
      note('error', error);
    }
    pending.clear();
    publish();
    throw err;
  }

  async function executeLoop(intent: Intent, plan: Plan, tools: ToolName[]) {
    let head: string | null = null;
    let toolResults: ToolResultForModel[] = [];
    let lastText = '';
    for (turns = 1; turns <= input.maxTurns; turns++) {
      const step: ExecuteStepResult = countUsage(await llm.executeStep.executeWithOptions({ summary: `model turn ${turns}` }, [
        {
          taskId,
          tools,
          head,
          toolResults,
          ...(head === null
            ? { start: { ...ctx, goal: intent.goal, planSteps: plan.steps.map((s) => s.title), ...(memoryBlock ? { memory: memoryBlock } : {}) } }
            : {}),
        },
      ]));
      head = step.head;
      if (step.text) lastText = step.text;
      note('llm', `turn ${turns}: ${step.toolCalls.length ? step.toolCalls.map((c) => c.name).join(', ') : 'final answer'}${step.text ? ` — ${step.text.slice(0, 160)}` : ''}`);
      publish();
      if (step.toolCalls.length === 0) return { head, lastText, stoppedEarly: false };
      toolResults = [];
      for (const call of step.toolCalls) toolResults.push(await callTool(call, tools));
    }
    turns = input.maxTurns;
    note('note', `stopped after the turn limit (${input.maxTurns})`);
    return { head, lastText, stoppedEarly: true };
  }
}

function describeCall(tool: string, input: Record<string, unknown>): string {
  const arg =
    typeof input.command === 'string'
      ? `${input.background === true ? '[background] ' : ''}${input.command}`
      : typeof input.pattern === 'string'
        ? `/${input.pattern}/${typeof input.path === 'string' && input.path !== '.' ? ` in ${input.path}` : ''}`
        : typeof input.path === 'string'
          ? input.path
          : typeof input.jobId === 'string'
            ? `${input.jobId}${input.stop === true ? ' (stop)' : ''}`
            : typeof input.subject === 'string'
              ? `${input.subject}:${String(input.attribute)}`
              : typeof input.key === 'string'
                ? input.key
                : '';
  return `${tool}${arg ? ` ${arg.length > 80 ? `${arg.slice(0, 80)}…` : arg}` : ''}`;
}

function outcomeNote(status: TaskStatus, verification: Verification, stoppedEarly: boolean): string {
  const base = status === 'completed' ? 'completed' : status === 'denied' ? 'a human denied an action or the result' : 'not achieved';
  return `${base}${verification.passed ? ' (verified)' : ' (not verified)'}${stoppedEarly ? '; stopped at the turn limit' : ''}`;
}

/** The innermost cause is what a person needs (e.g. "model API 400 error: ..."), not "Activity task failed". */
function failureMessage(err: Error): string {
  let current: Error = err;
  while ((current as { cause?: unknown }).cause instanceof Error) current = (current as { cause: Error }).cause;
  return current.message;
}
