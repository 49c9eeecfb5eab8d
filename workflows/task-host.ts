/**
 * The one host of every task-like workflow (a task, a team, a team's worker and verifier
 * children): its status, stage, summary, model usage and trace; what it publishes (search
 * attributes, memo, the Web UI's Current Details) and its status query; and the tool gate every
 * tool call and approval of the workflow goes through. What differs between the kinds of task
 * (a task's plan and context window, a team's children and budgets) comes in as a TaskShape.
 * Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import { decideApprovalUpdate, queuedDecisionSignal, statusQuery } from '../domain/messages';
import type { ApprovalRecord, ApprovalRequest, PlanStepView, Stage, TaskResult, TaskStatus, TaskStatusView, TokenUsage, TraceEntry, Verification } from '../domain/task';
import type { TeamView } from '../domain/team-view';
import { addModelUsage, emptyUsage, type ModelUsage } from '../domain/usage';
import { createPublisher, createTrace } from './task-trace';
import { ToolGate, type GateHost } from './tool-gate';
import type { ToolLoopOptions } from './tool-loop';

export interface TaskHostOptions {
  /** The stage the workflow starts in. */
  stage: Stage;
  /** One line naming the task (a task replaces it with its intent's). */
  summary: string;
  /** The request the status view shows (a team's child shows its step's instructions). */
  prompt: string;
  /** What the gate reads of the workflow's input. */
  input: GateHost['input'];
  /** Prefix of approval request ids; a team's children set one so ids stay unique across the team. */
  requestPrefix?: string;
  /** Trace entries the workflow keeps; the oldest drop off. */
  traceEntries: number;
  /** Trace entries its result carries: a child's result is in its parent's history too, so it keeps fewer. */
  resultTraceEntries: number;
}

/**
 * What a kind of task shows beyond what the host keeps: each part it leaves out is the host's own
 * (the gate's requests, approvals and tool calls, the host's tokens, no plan).
 */
export interface TaskShape {
  /** The Web UI's Current Details (Markdown) of a status view. */
  details(view: TaskStatusView): string;
  plan?(): PlanStepView[];
  /** Requests waiting for a human; a team's include its running children's. */
  pending?(): ApprovalRequest[];
  approvals?(): ApprovalRecord[];
  toolCalls?(): number;
  tokens?(): TokenUsage;
  context?(): TaskStatusView['context'];
  team?(): TeamView;
  /** Told after the workflow's pending requests or model usage changed (a team's child tells its parent). */
  onChange?(): void;
}

/** How a task ended, for its result; the rest of the result is the host's. */
export interface TaskOutcome {
  status: TaskStatus;
  answer: string;
  verification: Verification;
  stopReason?: string | null;
  compactions?: number;
}

/** One line for a task until its intent names it. */
export const firstLine = (prompt: string): string => prompt.split('\n')[0]!.slice(0, 120);

/**
 * The state of a task-like workflow. Constructing it registers the trace and status queries,
 * creates the gate and registers the gate's approval update and queued-decision signal, so a
 * workflow builds its host before anything else.
 */
export class TaskHost {
  readonly taskId = wf.workflowInfo().workflowId;
  status: TaskStatus = 'running';
  stage: Stage;
  summary: string;
  /** Tokens of this workflow's own model calls (a team's status adds its children's). */
  readonly tokens: TokenUsage = emptyUsage();
  turns = 0;
  result: TaskResult | null = null;
  error: string | null = null;
  readonly gate: ToolGate;
  private readonly trace: ReturnType<typeof createTrace>;
  private readonly publishState = createPublisher();

  constructor(
    private readonly options: TaskHostOptions,
    private readonly shape: TaskShape,
  ) {
    this.stage = options.stage;
    this.summary = options.summary;
    this.trace = createTrace(options.traceEntries, () => this.stage);
    wf.setHandler(statusQuery, () => this.statusView());
    this.gate = new ToolGate({
      taskId: this.taskId,
      input: options.input,
      summary: () => this.summary,
      note: this.note,
      publish: this.publish,
      requestPrefix: options.requestPrefix,
      onPendingChange: (pending) => {
        // Only while the task runs: clearing requests as it fails or is cancelled keeps that status.
        if (this.status === 'running' || this.status === 'waiting_approval') this.status = pending.length > 0 ? 'waiting_approval' : 'running';
        this.shape.onChange?.();
      },
    });
    // Registered before the workflow first waits: an update or signal that arrived with the first
    // activation is delivered inside setHandler, and the desk must already exist to judge it.
    const { desk } = this.gate;
    wf.setHandler(decideApprovalUpdate, desk.decide, { validator: desk.validate });
    wf.setHandler(queuedDecisionSignal, desk.applyQueued);
  }

  readonly note = (kind: TraceEntry['kind'], message: string): void => this.trace.note(kind, message);

  /** Publishes the status view: search attributes and memo when they changed, and the Current Details. */
  readonly publish = (): void => {
    const view = this.statusView();
    this.publishState({ status: view.status, stage: view.stage, pending: view.pendingApprovals, details: this.shape.details(view) });
  };

  /** Adds a reply's model usage to the workflow's and returns the reply. */
  readonly countUsage = <T extends { usage: ModelUsage }>(reply: T): T => {
    addModelUsage(this.tokens, reply.usage);
    this.shape.onChange?.();
    return reply;
  };

  enter(stage: Stage): void {
    this.stage = stage;
    this.note('stage', `stage: ${stage}`);
    this.publish();
  }

  approvals(): ApprovalRecord[] {
    return this.shape.approvals?.() ?? this.gate.approvals;
  }

  /** The latest trace line. */
  lastNote(): string {
    return this.trace.tail(1)[0]?.message ?? '';
  }

  /** The trace's tail a result carries, so `agent logs` of an ended workflow needs no worker. */
  traceTail(): TraceEntry[] {
    return this.trace.tail(this.options.resultTraceEntries);
  }

  /** What the tool loop needs of its host. */
  toolLoopHost(): Pick<ToolLoopOptions, 'taskId' | 'gate' | 'note' | 'publish' | 'countUsage' | 'onTurn'> {
    return { taskId: this.taskId, gate: this.gate, note: this.note, publish: this.publish, countUsage: this.countUsage, onTurn: (turn) => (this.turns = turn) };
  }

  /** What the status query returns; a team waits for approval while any of its children does. */
  statusView(): TaskStatusView {
    const s = this.shape;
    const pending = s.pending?.() ?? [...this.gate.pending.values()];
    const context = s.context?.();
    const team = s.team?.();
    return {
      taskId: this.taskId,
      status: this.status === 'running' && pending.length > 0 ? 'waiting_approval' : this.status,
      stage: this.stage,
      summary: this.summary,
      prompt: this.options.prompt,
      workspace: this.options.input.workspace,
      plan: s.plan?.() ?? [],
      pendingApprovals: pending,
      approvals: this.approvals(),
      toolCalls: s.toolCalls?.() ?? this.gate.toolCalls(),
      turns: this.turns,
      tokens: s.tokens?.() ?? this.tokens,
      ...(context ? { context } : {}),
      result: this.result,
      error: this.error,
      ...(team ? { team } : {}),
    };
  }

  /** The task is done: its result and status, the done stage. Returns the result with the trace's tail. */
  finish(outcome: TaskOutcome): TaskResult {
    const view = this.statusView();
    const { status, verification, stopReason, compactions } = outcome;
    this.result = {
      taskId: this.taskId,
      status,
      answer: outcome.answer,
      verified: verification.passed,
      evidence: verification.evidence,
      problems: verification.problems,
      approvals: view.approvals,
      toolCalls: view.toolCalls,
      turns: view.turns,
      tokens: view.tokens,
      ...(stopReason ? { stopReason } : {}),
      ...(compactions ? { compactions } : {}),
      summary: this.summary,
      plan: view.plan,
      ...(view.team ? { team: view.team } : {}),
    };
    this.status = status;
    this.enter('done');
    return { ...this.result, trace: this.traceTail() };
  }

  /** A team's child ended (done, failed or cancelled): its status, at the done stage. */
  end(status: TaskStatus): void {
    this.status = status;
    this.stage = 'done';
    this.publish();
  }
}
