/**
 * A team's steps, children and budgets, and the scheduler that runs them. Every step whose
 * dependencies passed starts as a worker child, then a verifier child: at most maxParallel at once,
 * never two that change the same file. A rejected step lets the running ones finish, then what has
 * not passed is re-planned (at most maxReplans times). A budget that runs out (steps, tokens, wall
 * time) starts nothing more and cancels the running steps with their children. The parent's host
 * shows all of it: its children's approvals and usage, the steps and the budgets.
 * Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { RuleRecord } from '../domain/policy';
import type { EpisodeRecord, Intent, TaskStatus, Verification } from '../domain/task';
import { teamDetails, teamOutcomeNote, teamPlan } from '../domain/task-view';
import { sharedWrite, type StepVerdict, type TeamChildProgress, type TeamInput, type TeamPlan, type TeamStep, type TeamWorkerResult } from '../domain/team';
import type { TeamStepView, TeamView } from '../domain/team-view';
import type { OfferedTool } from '../domain/mcp';
import { processedTokens, type TokenUsage } from '../domain/usage';
import { llm } from './activity-proxies';
import { firstLine, TaskHost } from './task-host';
import { TeamChildren } from './team-children';
import { teamVerifier } from './team-verifier';
import { teamWorker } from './team-worker';
import { failureMessage } from './tool-gate';

/** Children outlive nothing: cancelling or ending the parent cancels them, and the parent waits for their clean-up. */
export const CHILD_OPTIONS = {
  cancellationType: wf.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
  parentClosePolicy: wf.ParentClosePolicy.REQUEST_CANCEL,
} as const;
/** Past the team's wall time, a child that cannot even process its cancellation is timed out by the server after this. */
const CHILD_GRACE_MS = 5 * 60_000;
/** What a dependent step is told of each step it depends on. */
const DEPENDENCY_TEXT_CHARS = 4_000;

interface StepRun {
  step: TeamStep;
  view: TeamStepView;
  worker: TeamWorkerResult | null;
}

/** What every step is given: the task's intent, the tools its workers are offered, the policy snapshot, recalled memory, the project's instructions. */
export interface StepWork {
  intent: Intent;
  tools: OfferedTool[];
  rules: RuleRecord[];
  memory: string | undefined;
  instructions?: string;
}

const now = () => new Date().toISOString();

export class TeamScheduler {
  readonly host: TaskHost;
  private readonly children: TeamChildren;
  private readonly startedAt = Date.now();
  /** Every step of every plan round, by id; a re-planned id replaces its entry (attempt + 1). */
  private readonly runs = new Map<string, StepRun>();
  private readonly attempts = new Map<string, number>();
  private stepsStarted = 0;
  private replans = 0;
  private exhausted: string | null = null;
  /** The execute stage's scope: cancelled (with its children) when a budget runs out mid-work. */
  private work: wf.CancellationScope | null = null;
  private workStopped = false;

  /** Creates the team's host (its gate holds the team's own approvals: accepting an unverified result). */
  constructor(private readonly input: TeamInput) {
    this.host = new TaskHost(
      { stage: 'intent', summary: firstLine(input.prompt), prompt: input.prompt, input, traceEntries: 5_000, resultTraceEntries: 1_000 },
      {
        details: (view) => teamDetails(view, this.view()),
        plan: () => teamPlan(this.stepViews()),
        pending: () => [...this.host.gate.pending.values(), ...this.children.pending()],
        approvals: () => [...this.host.gate.approvals, ...this.children.approvals()],
        toolCalls: () => this.children.toolCalls(),
        tokens: () => this.tokens(),
        team: () => this.view(),
      },
    );
    this.children = new TeamChildren(this.host.note);
  }

  private get options() {
    return this.input.team;
  }

  /** The team's usage: its own model calls and its children's. */
  tokens(): TokenUsage {
    return this.children.tokens(this.host.tokens);
  }

  /** Processed tokens (uncached, cache writes and reads, output): what the token budget counts. */
  private tokensUsed(): number {
    return processedTokens(this.tokens());
  }

  /** The steps and budgets, for the status view and the result. */
  view(): TeamView {
    const o = this.options;
    return {
      steps: this.stepViews(),
      budget: {
        maxParallel: o.maxParallel,
        maxSteps: o.maxSteps,
        stepsStarted: this.stepsStarted,
        maxTokens: o.maxTokens,
        tokensUsed: this.tokensUsed(),
        maxWallMs: o.maxWallMs,
        elapsedMs: Date.now() - this.startedAt,
        maxReplans: o.maxReplans,
        replans: this.replans,
        exhausted: this.exhausted,
      },
    };
  }

  private stepViews(): TeamStepView[] {
    return [...this.runs.values()].map((r) => r.view);
  }

  private stepsIn(state: TeamStepView['state']): StepRun[] {
    return [...this.runs.values()].filter((r) => r.view.state === state);
  }

  /** A child's progress report (the teamChildProgress signal): its usage counts against the token budget at once. */
  onChildProgress(report: TeamChildProgress): void {
    if (!this.children.report(report)) return;
    if (!this.exhausted && this.tokensUsed() >= this.options.maxTokens) this.stopWork(`max tokens (${this.options.maxTokens}) reached: ${this.tokensUsed()} used`);
    this.host.publish();
  }

  /** The team failed or was cancelled: reports of its children change nothing any more. */
  end(): void {
    this.children.endAll();
  }

  addPlan(steps: TeamStep[]): void {
    for (const step of steps) {
      const attempt = (this.attempts.get(step.id) ?? 0) + 1;
      this.attempts.set(step.id, attempt);
      this.runs.set(step.id, {
        step,
        worker: null,
        view: {
          id: step.id,
          title: step.title,
          dependsOn: step.dependsOn,
          risk: step.risk,
          state: 'pending',
          attempt,
          workerId: null,
          evidence: [],
          problems: [],
          tokens: 0,
          toolCalls: 0,
          startedAt: null,
          endedAt: null,
        },
      });
    }
  }

  /**
   * Execute: runs the plan in a scope of its own under the wall-time budget. `done` resolves when
   * no step runs any more (all ended, a budget ran out, no re-plans left) and rejects only when the
   * task is cancelled. The wall clock is the caller's to cancel once `done` settles: histories
   * record the timer's cancellation after the caller's next commands, so it must not come earlier.
   */
  execute(work: StepWork): { done: Promise<void>; wallClock: wf.CancellationScope } {
    const scope = new wf.CancellationScope();
    this.work = scope;
    // The wall-time timer lives in its own scope, cancelled when this stage ends (or with the task).
    const wallClock = new wf.CancellationScope();
    void wallClock
      .run(() => wf.sleep(Math.max(1, this.options.maxWallMs - (Date.now() - this.startedAt))))
      .then(
        () => this.stopWork(`max wall time (${Math.round(this.options.maxWallMs / 1000)}s) reached`),
        () => undefined,
      );
    return { done: this.runWork(scope, work), wallClock };
  }

  private async runWork(scope: wf.CancellationScope, work: StepWork): Promise<void> {
    try {
      await scope.run(() => this.runPlan(work));
    } catch (err) {
      // A budget's own cancellation ends the work; a cancellation of the task itself goes on up.
      if (!(wf.isCancellation(err) && this.workStopped && !wf.CancellationScope.current().consideredCancelled)) throw err;
    } finally {
      this.work = null;
    }
  }

  /** A budget ran out mid-work: record why and cancel the running steps (their children with them). */
  private stopWork(reason: string): void {
    this.exhausted = reason;
    if (!this.work || this.workStopped) return;
    this.workStopped = true;
    this.host.note('error', `budget: ${reason}; cancelling running steps`);
    this.work.cancel();
  }

  private overBudget(): string | null {
    if (this.stepsStarted >= this.options.maxSteps) return `max steps (${this.options.maxSteps}) reached`;
    if (this.tokensUsed() >= this.options.maxTokens) return `max tokens (${this.options.maxTokens}) reached: ${this.tokensUsed()} used`;
    return null;
  }

  /** Starts ready steps while any are, and re-plans around rejected ones while it may. */
  private async runPlan(work: StepWork): Promise<void> {
    const running = new Map<string, Promise<void>>();
    const waitNoted = new Set<string>();
    for (;;) {
      const failed = this.stepsIn('failed');
      if (failed.length === 0 && this.exhausted === null) this.startReady(work, running, waitNoted);
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
      if (failed.length === 0 || this.exhausted !== null) return;
      // A rejected step and nothing running: re-plan what remains, or stop.
      if (!(await this.replan(work, failed))) return;
    }
  }

  /** Starts every step whose dependencies passed, as far as the parallel limit and the budgets allow. */
  private startReady(work: StepWork, running: Map<string, Promise<void>>, waitNoted: Set<string>): void {
    const passed = new Set(this.stepsIn('passed').map((r) => r.step.id));
    const ready = this.stepsIn('pending').filter((r) => r.step.dependsOn.every((d) => passed.has(d)));
    for (const r of ready) {
      if (running.size >= this.options.maxParallel) break;
      // Two steps that change the same file never overlap (the verifier's re-read included).
      const busy = [...this.runs.values()].filter((b) => b.view.state === 'running' || b.view.state === 'verifying');
      const clash = busy.map((b) => ({ b, file: sharedWrite(b.step, r.step) })).find((c) => c.file !== null);
      if (clash) {
        if (!waitNoted.has(r.step.id)) this.host.note('note', `step ${r.step.id} waits for ${clash.b.step.id}: both change ${clash.file}`);
        waitNoted.add(r.step.id);
        continue;
      }
      const over = this.overBudget();
      if (over) {
        this.exhausted = over;
        this.host.note('error', `budget: ${over}; no further steps start`);
        break;
      }
      running.set(
        r.step.id,
        this.runStep(r, { ...work, rules: [...work.rules, ...this.children.grants] }).finally(() => running.delete(r.step.id)),
      );
    }
    this.host.publish();
  }

  /** Re-plans everything that has not passed, if re-plans and budget are left: true when the work goes on. Only cancellation throws. */
  private async replan(work: StepWork, failed: StepRun[]): Promise<boolean> {
    if (this.replans >= this.options.maxReplans) {
      this.host.note('error', `verifier rejected ${failed.map((r) => r.step.id).join(', ')}; no re-plans left (${this.options.maxReplans})`);
      return false;
    }
    const over = this.overBudget();
    if (over) {
      this.exhausted = over;
      this.host.note('error', `budget: ${over}; no re-plan`);
      return false;
    }
    this.replans++;
    this.host.enter('plan');
    const passed = this.stepsIn('passed');
    let plan: TeamPlan;
    try {
      ({ plan } = this.host.countUsage(
        await llm.planTeam.executeWithOptions({ summary: `re-plan ${this.replans}` }, [
          { taskId: this.host.taskId, prompt: this.input.prompt, workspace: this.input.workspace },
          work.intent,
          {
            ...(work.memory ? { memory: work.memory } : {}),
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
      this.host.note('error', `re-plan ${this.replans} failed: ${failureMessage(err as Error)}`);
      this.host.enter('execute');
      return false;
    }
    // The new plan replaces everything that has not passed (the trace keeps the history); a reused id is a new attempt.
    for (const r of [...this.runs.values()]) if (r.view.state !== 'passed') this.runs.delete(r.step.id);
    this.addPlan(plan.steps);
    this.host.note('llm', `re-plan ${this.replans}: ${plan.steps.length} steps — ${plan.steps.map((s) => s.id).join(', ')}`);
    this.host.enter('execute');
    return true;
  }

  /** One step: its worker child, then its verifier child. Never throws except for cancellation. */
  private async runStep(r: StepRun, work: StepWork): Promise<void> {
    const { step, view: v } = r;
    const label = `${step.id}.${v.attempt}`;
    const workerId = `${this.host.taskId}.${label}`;
    const verifierId = `${workerId}.verify`;
    this.stepsStarted++;
    v.state = 'running';
    v.workerId = workerId;
    v.startedAt = now();
    this.host.note('note', `step ${step.id} started: ${step.title} (worker ${workerId})`);
    this.host.publish();
    // Never past the team's wall time (plus a grace for clean-up), even if a child cannot process its cancellation.
    const workflowExecutionTimeout = Math.max(1_000, this.options.maxWallMs - (Date.now() - this.startedAt)) + CHILD_GRACE_MS;
    const base = this.childInput(step, work.rules);
    try {
      this.children.started(workerId);
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
            tools: work.tools,
            dependencyResults: step.dependsOn.map((d) => ({
              id: d,
              title: this.runs.get(d)?.step.title ?? d,
              text: (this.runs.get(d)?.worker?.text ?? '').slice(0, DEPENDENCY_TEXT_CHARS),
            })),
            maxTurns: this.options.stepMaxTurns,
            maxTokens: Math.max(0, this.options.maxTokens - this.tokensUsed()),
            ...(work.memory ? { memory: work.memory } : {}),
            ...(work.instructions ? { instructions: work.instructions } : {}),
          },
        ],
      });
      this.workerEnded(r, workerId, worker);
      this.children.started(verifierId);
      const verdict: StepVerdict = await wf.executeChild(teamVerifier, {
        ...CHILD_OPTIONS,
        workflowExecutionTimeout,
        workflowId: verifierId,
        staticSummary: `verify step ${step.id}: ${step.title}`.slice(0, 200),
        args: [{ ...base, requestPrefix: `${label}.v-`, workerHead: worker.head, workerText: worker.text }],
      });
      this.verdictIn(r, verifierId, worker, verdict);
    } catch (err) {
      // What a failed or cancelled child spent and decided stays counted (its last report).
      this.children.ended(workerId, null);
      this.children.ended(verifierId, null);
      // Cancelled with the team (task or budget): pass it on. A child cancelled on its own (Web UI,
      // `agent cancel <child>`) is a failed step, which the planner can work around.
      if (wf.isCancellation(err) && wf.CancellationScope.current().consideredCancelled) {
        v.state = 'cancelled';
        throw err;
      }
      v.state = 'failed';
      v.problems = [`the step failed: ${wf.isCancellation(err) ? 'its child workflow was cancelled' : failureMessage(err as Error)}`];
      this.host.note('error', `step ${step.id} failed: ${v.problems[0]}`);
    } finally {
      v.endedAt = now();
      this.host.publish();
    }
  }

  /** What a worker and a verifier child of a step both get: the step and how to run tools under the parent's rules. */
  private childInput(step: TeamStep, rules: RuleRecord[]) {
    const { input } = this;
    return {
      parentTaskId: this.host.taskId,
      prompt: input.prompt,
      step,
      workspace: input.workspace,
      mode: input.mode,
      rules,
      ...(this.host.gate.mcpCatalogRef ? { mcpCatalogRef: this.host.gate.mcpCatalogRef } : {}),
      ...(this.host.gate.hooks.plan ? { hooks: this.host.gate.hooks.plan } : {}),
      approvalTimeoutMs: input.approvalTimeoutMs,
      submittedBy: input.submittedBy,
      approverKeys: input.approverKeys ?? [],
    };
  }

  /** The worker of a step returned: what it spent, and the step goes on to its verifier. */
  private workerEnded(r: StepRun, workerId: string, worker: TeamWorkerResult): void {
    const { step, view: v } = r;
    this.children.ended(workerId, worker);
    r.worker = worker;
    v.tokens += processedTokens(worker.tokens);
    v.toolCalls += worker.toolCalls;
    this.host.note('note', `step ${step.id}: worker ${worker.status}${worker.stopReason ? ` (${worker.stopReason})` : ''}, ${worker.toolCalls} tool calls`);
    v.state = 'verifying';
    this.host.publish();
  }

  /** The verifier of a step returned: the step passed or was rejected, with its evidence and problems. */
  private verdictIn(r: StepRun, verifierId: string, worker: TeamWorkerResult, verdict: StepVerdict): void {
    const { step, view: v } = r;
    this.children.ended(verifierId, verdict);
    v.tokens += processedTokens(verdict.tokens);
    v.toolCalls += verdict.toolCalls;
    v.evidence = verdict.evidence;
    v.problems = [...(worker.status === 'stopped' ? [`worker stopped early: ${worker.stopReason}`] : []), ...verdict.problems];
    v.state = verdict.passed ? 'passed' : 'failed';
    this.host.note(
      verdict.passed ? 'note' : 'error',
      `step ${step.id} ${verdict.passed ? 'verified' : 'rejected'}: ${(verdict.passed ? verdict.evidence : v.problems).join(' | ').slice(0, 300)}`,
    );
  }

  /**
   * Verify: steps that never started are blocked and interrupted ones cancelled; the team passed
   * when every step did. The evidence and problems name their step.
   */
  verify(): Verification {
    for (const r of this.runs.values()) {
      if (r.view.state === 'pending') r.view.state = 'blocked';
      if (r.view.state === 'running' || r.view.state === 'verifying') r.view.state = 'cancelled';
    }
    this.host.enter('verify');
    const steps = [...this.runs.values()];
    const passed = steps.filter((r) => r.view.state === 'passed');
    const allPassed = steps.length > 0 && passed.length === steps.length;
    this.host.note('note', `team ${allPassed ? 'passed' : 'did not pass'}: ${passed.length}/${steps.length} steps verified`);
    return {
      passed: allPassed,
      evidence: steps.flatMap((r) => r.view.evidence.map((e) => `[${r.step.id}] ${e}`)).slice(0, 20),
      problems: [
        ...(this.exhausted ? [`budget exhausted: ${this.exhausted}`] : []),
        ...steps.filter((r) => r.view.state !== 'passed').map((r) => `[${r.step.id}] ${r.view.state}${r.view.problems.length ? `: ${r.view.problems.join('; ')}` : ''}`),
      ].slice(0, 20),
    };
  }

  /** What the memory agent learns from: the task, each step with how it ended, the last worker's transcript. */
  episode(intent: Intent, verification: Verification, status: TaskStatus): EpisodeRecord {
    const steps = [...this.runs.values()];
    return {
      taskId: this.host.taskId,
      prompt: this.input.prompt,
      workspace: this.input.workspace,
      intent,
      planSteps: steps.map((r) => `${r.step.id}: ${r.step.title} (${r.view.state})`),
      verification,
      transcriptHead: [...steps].reverse().find((r) => r.worker?.head)?.worker?.head ?? null,
      status,
      toolCalls: this.children.toolCalls(),
      recordedAt: now(),
    };
  }

  /** What the answer is told: the outcome, the budget that stopped the team, and each worker's report to cite by step id. */
  outcomeNote(status: TaskStatus): string {
    const steps = [...this.runs.values()];
    const reports = steps
      .filter((r) => r.worker?.text)
      .map((r) => `[${r.step.id}] ${r.step.title} (${r.view.state}): ${r.worker!.text.slice(0, 1_000)}`)
      .join('\n');
    return teamOutcomeNote(status, steps.length, this.exhausted, reports);
  }
}
