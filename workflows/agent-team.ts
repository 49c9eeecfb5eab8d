/**
 * agentTeam: one task done by a team of cooperating workflows. Reads top to bottom:
 *   intent → recall → planner (steps with dependencies and expected evidence)
 *   → workers (child workflows; independent steps in parallel, at most maxParallel at once)
 *   → a verifier child per step → re-plan on a rejected step (at most maxReplans)
 *   → confirm → memory agent (child) → answer citing the evidence.
 * The parent enforces the budgets (steps, tokens, wall time) and shows them in status; children run
 * tools only through the same gate as a single task, and their approvals show on the parent.
 * Cancelling the parent cancels its children.
 */
import * as wf from '@temporalio/workflow';
import type { RuleRecord } from '../domain/policy';
import type { StepVerdict, TeamChildProgress, TeamInput, TeamStep, TeamWorkerResult } from '../domain/team';
import type { TeamStepView, TeamView } from '../domain/team-view';
import { sharedWrite, teamChildProgressSignal } from '../domain/team';
import { statusQuery } from '../domain/messages';
import { routeTools } from '../domain/routing';
import type { ApprovalRequest, Intent, Stage, TaskResult, TaskStatus, TaskStatusView, TokenUsage, Verification } from '../domain/task';
import { recallMemory } from './memory-steps';
import { memoryAgent } from './memory-agent';
import { teamVerifier } from './team-verifier';
import { teamWorker } from './team-worker';
import { createPublisher, createTrace } from './task-trace';
import { pendingApprovalMarkdown } from '../domain/approval-view';
import { addModelUsage, emptyUsage, formatUsage, processedTokens, sumUsage, type ModelUsage } from '../domain/usage';
import { createToolGate, failureMessage, gate, snapshotPolicy } from './tool-gate';
import { llm } from './tool-loop';

const MAX_TRACE_ENTRIES = 5_000;
const RESULT_TRACE_ENTRIES = 1_000;
/** What a dependent step is told of each step it depends on. */
const DEPENDENCY_TEXT_CHARS = 4_000;

/** Children outlive nothing: cancelling or ending the parent cancels them, and the parent waits for their clean-up. */
const CHILD_OPTIONS = {
  cancellationType: wf.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
  parentClosePolicy: wf.ParentClosePolicy.REQUEST_CANCEL,
} as const;
/** Past the team's wall time, a child that cannot even process its cancellation is timed out by the server after this. */
const CHILD_GRACE_MS = 5 * 60_000;

interface StepRun {
  step: TeamStep;
  view: TeamStepView;
  worker: TeamWorkerResult | null;
}

export async function agentTeam(input: TeamInput): Promise<TaskResult> {
  const taskId = wf.workflowInfo().workflowId;
  const ctx = { taskId, prompt: input.prompt, workspace: input.workspace };
  const options = input.team;
  const startedAt = Date.now();

  let status: TaskStatus = 'running';
  let stage: Stage = 'intent';
  let summary = input.prompt.split('\n')[0]!.slice(0, 120);
  let result: TaskResult | null = null;
  let error: string | null = null;
  /** The parent's own model calls; children's come from their reports (below). */
  const ownTokens: TokenUsage = emptyUsage();
  const countUsage = <T extends { usage: ModelUsage }>(reply: T): T => {
    addModelUsage(ownTokens, reply.usage);
    return reply;
  };
  /** Every child this run started, with its latest report (its result once it ended). */
  const children = new Map<string, TeamChildProgress & { ended: boolean }>();
  const tokens = (): TokenUsage => [...children.values()].reduce<TokenUsage>((t, c) => sumUsage(t, c.tokens), { ...ownTokens });
  /** Processed tokens (uncached, cache writes and reads, output): what the token budget counts. */
  const tokensUsed = () => processedTokens(tokens());
  const childApprovals = () => [...children.values()].flatMap((c) => c.approvals);
  const childToolCalls = () => [...children.values()].reduce((n, c) => n + c.toolCalls, 0);
  /** "Always" answers given in children: children started later judge by them too. */
  const grants: RuleRecord[] = [];
  const trace = createTrace(MAX_TRACE_ENTRIES, () => stage);
  const { note } = trace;
  /** Every step of every plan round, by id; a re-planned id replaces its entry (attempt + 1). */
  const runs = new Map<string, StepRun>();
  const attempts = new Map<string, number>();
  let stepsStarted = 0;
  let replans = 0;
  let exhausted: string | null = null;
  /** The execute stage's scope: cancelled (with its children) when a budget runs out mid-work. */
  let work: wf.CancellationScope | null = null;
  let workStopped = false;

  const now = () => new Date().toISOString();
  const allPending = (): ApprovalRequest[] => [
    ...ownGate.pending.values(),
    ...[...children.values()].flatMap((c) => (c.ended ? [] : c.pending.map((r) => ({ ...r, taskId: c.childId })))),
  ];
  const effectiveStatus = (): TaskStatus => (status === 'running' && allPending().length > 0 ? 'waiting_approval' : status);
  const teamView = (): TeamView => ({
    steps: [...runs.values()].map((r) => r.view),
    budget: {
      maxParallel: options.maxParallel,
      maxSteps: options.maxSteps,
      stepsStarted,
      maxTokens: options.maxTokens,
      tokensUsed: tokensUsed(),
      maxWallMs: options.maxWallMs,
      elapsedMs: Date.now() - startedAt,
      maxReplans: options.maxReplans,
      replans,
      exhausted,
    },
  });
  const publishState = createPublisher();
  const publish = () => publishState({ status: effectiveStatus(), stage, pending: allPending(), details: renderDetails() });
  const enter = (next: Stage) => {
    stage = next;
    note('stage', `stage: ${next}`);
    publish();
  };
  const view = (): TaskStatusView => ({
    taskId,
    status: effectiveStatus(),
    stage,
    summary,
    prompt: input.prompt,
    workspace: input.workspace,
    plan: [...runs.values()].map((r, i) => ({ index: i + 1, title: `${r.step.id}: ${r.step.title}`, state: r.view.state === 'passed' ? 'done' : 'pending' })),
    pendingApprovals: allPending(),
    approvals: [...ownGate.approvals, ...childApprovals()],
    toolCalls: childToolCalls(),
    turns: 0,
    tokens: tokens(),
    result,
    error,
    team: teamView(),
  });
  const renderDetails = () => {
    const b = teamView().budget;
    // Separate paragraphs: Markdown runs adjacent lines together. A `|` in a title would split its table cell.
    const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
    const lines = [
      `**Team** · **Status:** ${effectiveStatus()} · **Stage:** ${stage}`,
      '',
      `steps ${b.stepsStarted}/${b.maxSteps} · tokens ${b.tokensUsed}/${b.maxTokens} · re-plans ${b.replans}/${b.maxReplans} · parallel ≤ ${b.maxParallel}${b.exhausted ? ` · **budget exhausted:** ${b.exhausted}` : ''}`,
      '',
      `**Usage:** ${formatUsage(tokens())}`,
    ];
    if (runs.size) {
      lines.push('', '| step | state | depends on | child |', '| --- | --- | --- | --- |');
      for (const r of runs.values()) {
        lines.push(`| ${cell(`${r.step.id}: ${r.step.title.slice(0, 60)}`)} | ${r.view.state} | ${cell(r.step.dependsOn.join(', ')) || '—'} | ${r.view.workerId ? `\`${r.view.workerId}\`` : '—'} |`);
      }
    }
    for (const r of allPending()) lines.push('', pendingApprovalMarkdown(r, taskId));
    if (result) lines.push('', `**Result (${result.status}):** ${result.answer.slice(0, 500)}`);
    if (error) lines.push('', `**Error:** ${error}`);
    return lines.join('\n');
  };

  wf.setHandler(statusQuery, view);
  // The parent runs no tools itself; its gate holds its own approvals (accepting an unverified result).
  const ownGate = createToolGate({ taskId, input, summary: () => summary, note, publish, onPendingChange: () => undefined });
  // Registered after the gate: buffered signals are delivered inside setHandler and read it.
  wf.setHandler(teamChildProgressSignal, (report) => {
    const child = children.get(report.childId);
    // Reports of children this run did not start, of ended children and out-of-order ones change nothing.
    if (!child || child.ended || report.seq <= child.seq) return;
    const before = new Set(child.pending.map((r) => r.requestId));
    for (const r of report.pending) if (!before.has(r.requestId)) note('approval', `approval ${r.requestId} requested by ${report.childId}: ${r.tool} (${r.risk}) — ${r.reasons.join('; ')}`);
    const decided = new Set(child.approvals.map((a) => a.requestId));
    for (const a of report.approvals) {
      if (!decided.has(a.requestId)) note('approval', `approval ${a.requestId} ${a.outcome} by ${a.decidedBy} via ${a.channel}${a.reason ? `: ${a.reason}` : ''}`);
    }
    children.set(report.childId, { ...report, ended: false });
    if (!exhausted && tokensUsed() >= options.maxTokens) stopWork(`max tokens (${options.maxTokens}) reached: ${tokensUsed()} used`);
    publish();
  });

  /** A budget ran out mid-work: record why and cancel the running steps (their children with them). */
  function stopWork(reason: string) {
    exhausted = reason;
    if (!work || workStopped) return;
    workStopped = true;
    note('error', `budget: ${reason}; cancelling running steps`);
    work.cancel();
  }

  const childStarted = (childId: string) => children.set(childId, { childId, seq: 0, pending: [], tokens: { input: 0, output: 0 }, toolCalls: 0, approvals: [], ended: false });
  /** A child ended: its result (when it returned one) replaces its last report; its pending requests are gone. */
  const childEnded = (childId: string, final: { approvals: TeamChildProgress['approvals']; toolCalls: number; tokens: TokenUsage; grants: RuleRecord[] } | null) => {
    const child = children.get(childId);
    if (!child) return;
    child.ended = true;
    child.pending = [];
    if (final) {
      child.approvals = final.approvals;
      child.toolCalls = final.toolCalls;
      child.tokens = final.tokens;
      for (const g of final.grants) if (!grants.some((x) => x.text === g.text)) grants.push(g);
    }
  };

  const overBudget = (): string | null => {
    if (stepsStarted >= options.maxSteps) return `max steps (${options.maxSteps}) reached`;
    if (tokensUsed() >= options.maxTokens) return `max tokens (${options.maxTokens}) reached: ${tokensUsed()} used`;
    return null;
  };

  try {
    // 1. Intent
    enter('intent');
    const { intent } = countUsage(await llm.parseIntent.executeWithOptions({ summary: 'parse intent' }, [ctx]));
    summary = intent.summary;
    note('llm', `intent: ${intent.kind} — ${intent.goal}`);

    // 2. Plan: recall, then the planner
    enter('plan');
    const memory = await recallMemory(taskId, input, intent, note);
    const { plan } = countUsage(await llm.planTeam.executeWithOptions({ summary: 'plan the team' }, [ctx, intent, memory ? { memory } : {}]));
    addPlan(plan.steps);
    note('llm', `team plan: ${plan.steps.length} steps — ${plan.steps.map((s) => `${s.id}${s.dependsOn.length ? ` (after ${s.dependsOn.join(', ')})` : ''}`).join(', ')}`);

    // 3. Route: one policy snapshot for every child
    enter('route');
    const tools = routeTools(intent, { steps: plan.steps.map((s) => ({ title: s.title })) });
    const rules = await snapshotPolicy(input.workspace, input.rules, note);
    ownGate.setPolicy(rules);
    note('note', `tools offered to workers: ${tools.join(', ')}; mode ${input.mode}; ${rules.length} policy rules`);

    // 4-5. Execute and verify, step by step as dependencies allow, inside the wall-time budget
    enter('execute');
    work = new wf.CancellationScope();
    // The wall-time timer lives in its own scope, cancelled when this stage ends (or with the task).
    const timer = new wf.CancellationScope();
    void timer.run(() => wf.sleep(Math.max(1, options.maxWallMs - (Date.now() - startedAt)))).then(
      () => stopWork(`max wall time (${Math.round(options.maxWallMs / 1000)}s) reached`),
      () => undefined,
    );
    try {
      await work.run(() => runPlan(intent, tools, rules, memory));
    } catch (err) {
      // A budget's own cancellation ends the work; a cancellation of the task itself goes on up.
      if (!(wf.isCancellation(err) && workStopped && !wf.CancellationScope.current().consideredCancelled)) throw err;
    } finally {
      work = null;
      timer.cancel();
    }
    for (const r of runs.values()) {
      if (r.view.state === 'pending') r.view.state = 'blocked';
      if (r.view.state === 'running' || r.view.state === 'verifying') r.view.state = 'cancelled';
    }

    enter('verify');
    const steps = [...runs.values()];
    const allPassed = steps.length > 0 && steps.every((r) => r.view.state === 'passed');
    const verification: Verification = {
      passed: allPassed,
      evidence: steps.flatMap((r) => r.view.evidence.map((e) => `[${r.step.id}] ${e}`)).slice(0, 20),
      problems: [
        ...(exhausted ? [`budget exhausted: ${exhausted}`] : []),
        ...steps.filter((r) => r.view.state !== 'passed').map((r) => `[${r.step.id}] ${r.view.state}${r.view.problems.length ? `: ${r.view.problems.join('; ')}` : ''}`),
      ].slice(0, 20),
    };
    note('note', `team ${allPassed ? 'passed' : 'did not pass'}: ${steps.filter((r) => r.view.state === 'passed').length}/${steps.length} steps verified`);

    // 6. Confirm with a human where the policy says so
    enter('confirm');
    const humanDenied = [...ownGate.approvals, ...childApprovals()].some((a) => a.outcome !== 'approved');
    let finalStatus: TaskStatus = allPassed ? 'completed' : humanDenied ? 'denied' : 'failed';
    if (input.confirmResult === 'always' || (input.confirmResult === 'unverified' && finalStatus === 'failed')) {
      const confirmInput = { verified: allPassed, problems: verification.problems };
      const hash = await gate.hashAction('accept_result', confirmInput, input.workspace);
      const record = await ownGate.requestApproval({
        kind: 'result',
        toolUseId: null,
        tool: 'accept_result',
        input: confirmInput,
        risk: allPassed ? 'read-only' : 'unverified-result',
        reasons: allPassed ? ['the policy asks for confirmation of every result'] : ['verification did not pass: ' + (verification.problems.join('; ') || 'no evidence')],
        actionHash: hash,
      });
      finalStatus = record.outcome === 'approved' ? 'completed' : 'denied';
    }

    // 7. Remember: the memory agent (a child; its failure never changes the outcome)
    enter('remember');
    const lastHead = [...steps].reverse().find((r) => r.worker?.head)?.worker?.head ?? null;
    try {
      const memo = await wf.executeChild(memoryAgent, {
        ...CHILD_OPTIONS,
        workflowId: `${taskId}.memory`,
        staticSummary: `memory agent of ${taskId}`,
        args: [
          {
            episode: {
              taskId,
              prompt: input.prompt,
              workspace: input.workspace,
              intent,
              planSteps: steps.map((r) => `${r.step.id}: ${r.step.title} (${r.view.state})`),
              verification,
              transcriptHead: lastHead,
              status: finalStatus,
              toolCalls: childToolCalls(),
              recordedAt: now(),
            },
            user: input.submittedBy,
          },
        ],
      });
      for (const line of memo.lines) note('note', line);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      note('error', `memory agent failed (the task's result is unaffected): ${failureMessage(err as Error)}`);
    }

    // 8. Respond, citing the evidence
    enter('respond');
    const reports = steps
      .filter((r) => r.worker?.text)
      .map((r) => `[${r.step.id}] ${r.step.title} (${r.view.state}): ${r.worker!.text.slice(0, 1_000)}`)
      .join('\n');
    const { answer } = countUsage(
      await llm.composeAnswer.executeWithOptions({ summary: 'compose answer' }, [
        {
          ...ctx,
          head: null,
          verification,
          outcomeNote: `${finalStatus === 'completed' ? 'completed' : finalStatus === 'denied' ? 'a human denied an action or the result' : 'not achieved'} by a team of ${steps.length} steps` +
            `${exhausted ? `; stopped: ${exhausted}` : ''}. Cite the evidence by step id.\nWorker reports:\n${reports || '- none'}`,
        },
      ]),
    );
    result = {
      taskId,
      status: finalStatus,
      answer,
      verified: allPassed,
      evidence: verification.evidence,
      problems: verification.problems,
      approvals: [...ownGate.approvals, ...childApprovals()],
      toolCalls: childToolCalls(),
      turns: 0,
      tokens: tokens(),
      summary,
      plan: view().plan,
      team: teamView(),
    };
    status = finalStatus;
    enter('done');
    return { ...result, trace: trace.tail(RESULT_TRACE_ENTRIES) };
  } catch (err) {
    if (wf.isCancellation(err)) {
      status = 'cancelled';
      note('note', 'task cancelled; its running steps were cancelled with it');
    } else {
      status = 'failed';
      error = err instanceof Error ? failureMessage(err) : String(err);
      note('error', error);
    }
    ownGate.clearPending();
    for (const c of children.values()) c.ended = true;
    publish();
    throw err;
  }

  function addPlan(steps: TeamStep[]) {
    for (const step of steps) {
      const attempt = (attempts.get(step.id) ?? 0) + 1;
      attempts.set(step.id, attempt);
      runs.set(step.id, {
        step,
        worker: null,
        view: { id: step.id, title: step.title, dependsOn: step.dependsOn, risk: step.risk, state: 'pending', attempt, workerId: null, evidence: [], problems: [], tokens: 0, toolCalls: 0, startedAt: null, endedAt: null },
      });
    }
  }

  /**
   * The scheduler: starts every step whose dependencies passed, up to maxParallel at once; when a
   * step is rejected it lets the running ones finish, then re-plans what remains (maxReplans times).
   */
  async function runPlan(intent: Intent, tools: TeamWorkerInputTools, rules: Awaited<ReturnType<typeof gate.loadPolicy>>, memory: string | undefined) {
    const running = new Map<string, Promise<void>>();
    const waitNoted = new Set<string>();
    for (;;) {
      const failed = [...runs.values()].filter((r) => r.view.state === 'failed');
      if (failed.length === 0 && exhausted === null) {
        for (const r of readySteps()) {
          if (running.size >= options.maxParallel) break;
          // Two steps that change the same file never overlap (the verifier's re-read included).
          const busy = [...runs.values()].filter((b) => b.view.state === 'running' || b.view.state === 'verifying');
          const clash = busy.map((b) => ({ b, file: sharedWrite(b.step, r.step) })).find((c) => c.file !== null);
          if (clash) {
            if (!waitNoted.has(r.step.id)) note('note', `step ${r.step.id} waits for ${clash.b.step.id}: both change ${clash.file}`);
            waitNoted.add(r.step.id);
            continue;
          }
          const over = overBudget();
          if (over) {
            exhausted = over;
            note('error', `budget: ${over}; no further steps start`);
            break;
          }
          running.set(r.step.id, runStep(r, tools, [...rules, ...grants], memory).finally(() => running.delete(r.step.id)));
        }
        publish();
      }
      if (running.size > 0) {
        try {
          await Promise.race(running.values());
        } catch (err) {
          // Cancelled (task or budget): every running step finishes its cancellation before the team moves on.
          await Promise.allSettled(running.values());
          throw err;
        }
        continue;
      }
      if (failed.length === 0 || exhausted !== null) return;
      // A rejected step and nothing running: re-plan what remains, or stop.
      if (replans >= options.maxReplans) {
        note('error', `verifier rejected ${failed.map((r) => r.step.id).join(', ')}; no re-plans left (${options.maxReplans})`);
        return;
      }
      const over = overBudget();
      if (over) {
        exhausted = over;
        note('error', `budget: ${over}; no re-plan`);
        return;
      }
      replans++;
      enter('plan');
      const passed = [...runs.values()].filter((r) => r.view.state === 'passed');
      let plan;
      try {
        ({ plan } = countUsage(
          await llm.planTeam.executeWithOptions({ summary: `re-plan ${replans}` }, [
            ctx,
            intent,
            {
              ...(memory ? { memory } : {}),
              feedback: {
                passed: passed.map((r) => ({ id: r.step.id, title: r.step.title, evidence: r.view.evidence })),
                failed: failed.map((r) => ({ id: r.step.id, title: r.step.title, problems: r.view.problems })),
              },
            },
          ]),
        ));
      } catch (err) {
        // A planner that cannot re-plan ends the work; what passed stays passed and the task reports the rest.
        if (wf.isCancellation(err)) throw err;
        note('error', `re-plan ${replans} failed: ${failureMessage(err as Error)}`);
        enter('execute');
        return;
      }
      // The new plan replaces everything that has not passed (the trace keeps the history); a reused id is a new attempt.
      for (const r of [...runs.values()]) if (r.view.state !== 'passed') runs.delete(r.step.id);
      addPlan(plan.steps);
      note('llm', `re-plan ${replans}: ${plan.steps.length} steps — ${plan.steps.map((s) => s.id).join(', ')}`);
      enter('execute');
    }
  }

  function readySteps(): StepRun[] {
    const passed = new Set([...runs.values()].filter((r) => r.view.state === 'passed').map((r) => r.step.id));
    return [...runs.values()].filter((r) => r.view.state === 'pending' && r.step.dependsOn.every((d) => passed.has(d)));
  }

  /** One step: its worker child, then its verifier child. Never throws except for cancellation. */
  async function runStep(r: StepRun, tools: TeamWorkerInputTools, rules: RuleRecord[], memory: string | undefined) {
    const { step, view: v } = r;
    const label = `${step.id}.${v.attempt}`;
    const workerId = `${taskId}.${label}`;
    stepsStarted++;
    v.state = 'running';
    v.workerId = workerId;
    v.startedAt = now();
    note('note', `step ${step.id} started: ${step.title} (worker ${workerId})`);
    publish();
    // Never past the team's wall time (plus a grace for clean-up), even if a child cannot process its cancellation.
    const workflowExecutionTimeout = Math.max(1_000, options.maxWallMs - (Date.now() - startedAt)) + CHILD_GRACE_MS;
    const base = {
      parentTaskId: taskId,
      prompt: input.prompt,
      step,
      workspace: input.workspace,
      mode: input.mode,
      rules,
      approvalTimeoutMs: input.approvalTimeoutMs,
      submittedBy: input.submittedBy,
      approverKeys: input.approverKeys ?? [],
    };
    const verifierId = `${workerId}.verify`;
    try {
      childStarted(workerId);
      const worker = await wf.executeChild(teamWorker, {
        ...CHILD_OPTIONS,
        workflowExecutionTimeout,
        workflowId: workerId,
        staticSummary: `step ${step.id}: ${step.title}`.slice(0, 200),
        args: [
          {
            ...base,
            requestPrefix: `${label}-`,
            goal: step.title,
            tools,
            dependencyResults: step.dependsOn.map((d) => ({ id: d, title: runs.get(d)?.step.title ?? d, text: (runs.get(d)?.worker?.text ?? '').slice(0, DEPENDENCY_TEXT_CHARS) })),
            maxTurns: options.stepMaxTurns,
            maxTokens: Math.max(0, options.maxTokens - tokensUsed()),
            ...(memory ? { memory } : {}),
          },
        ],
      });
      childEnded(workerId, worker);
      r.worker = worker;
      v.tokens += processedTokens(worker.tokens);
      v.toolCalls += worker.toolCalls;
      note('note', `step ${step.id}: worker ${worker.status}${worker.stopReason ? ` (${worker.stopReason})` : ''}, ${worker.toolCalls} tool calls`);

      v.state = 'verifying';
      publish();
      childStarted(verifierId);
      const verdict: StepVerdict = await wf.executeChild(teamVerifier, {
        ...CHILD_OPTIONS,
        workflowExecutionTimeout,
        workflowId: verifierId,
        staticSummary: `verify step ${step.id}: ${step.title}`.slice(0, 200),
        args: [{ ...base, requestPrefix: `${label}.v-`, workerHead: worker.head, workerText: worker.text }],
      });
      childEnded(verifierId, verdict);
      v.tokens += processedTokens(verdict.tokens);
      v.toolCalls += verdict.toolCalls;
      v.evidence = verdict.evidence;
      v.problems = [...(worker.status === 'stopped' ? [`worker stopped early: ${worker.stopReason}`] : []), ...verdict.problems];
      v.state = verdict.passed ? 'passed' : 'failed';
      note(verdict.passed ? 'note' : 'error', `step ${step.id} ${verdict.passed ? 'verified' : 'rejected'}: ${(verdict.passed ? verdict.evidence : v.problems).join(' | ').slice(0, 300)}`);
    } catch (err) {
      // What a failed or cancelled child spent and decided stays counted (its last report).
      childEnded(workerId, null);
      childEnded(verifierId, null);
      // Cancelled with the team (task or budget): pass it on. A child cancelled on its own (Web UI,
      // `agent cancel <child>`) is a failed step, which the planner can work around.
      if (wf.isCancellation(err) && wf.CancellationScope.current().consideredCancelled) {
        v.state = 'cancelled';
        throw err;
      }
      v.state = 'failed';
      v.problems = [`the step failed: ${wf.isCancellation(err) ? 'its child workflow was cancelled' : failureMessage(err as Error)}`];
      note('error', `step ${step.id} failed: ${v.problems[0]}`);
    } finally {
      v.endedAt = now();
      publish();
    }
  }
}

type TeamWorkerInputTools = ReturnType<typeof routeTools>;
