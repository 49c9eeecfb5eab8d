/**
 * What a team's worker and verifier children share: a trace and status view of their own (so
 * `agent status <child>` and the Web UI show them), the one tool gate under the parent's policy
 * snapshot, and telling the parent which approvals are pending so they show on the team's status.
 */
import * as wf from '@temporalio/workflow';
import { pendingApprovalMarkdown } from '../domain/approval-view';
import { statusQuery } from '../domain/messages';
import type { ApprovalRequest, Stage, TaskStatus, TaskStatusView, TokenUsage, TraceEntry } from '../domain/task';
import { teamChildProgressSignal, type TeamVerifierInput, type TeamWorkerInput } from '../domain/team';
import { addModelUsage, emptyUsage, type ModelUsage } from '../domain/usage';
import { createPublisher, createTrace } from './task-trace';
import { createToolGate } from './tool-gate';

const MAX_TRACE_ENTRIES = 2_000;
const RESULT_TRACE_ENTRIES = 200;

export function startChildHost(input: TeamWorkerInput | TeamVerifierInput, role: 'worker' | 'verifier') {
  const childId = wf.workflowInfo().workflowId;
  const parent = wf.getExternalWorkflowHandle(input.parentTaskId);
  const summary = `${role} of step ${input.step.id}: ${input.step.title}`.slice(0, 120);
  const trace = createTrace(MAX_TRACE_ENTRIES, () => stage);
  const tokens: TokenUsage = emptyUsage();
  let status: TaskStatus = 'running';
  let stage: Stage = role === 'worker' ? 'execute' : 'verify';
  let turns = 0;
  let lastLine = '';
  let seq = 0;
  /** Tells the parent where this child stands; a parent that already ended has nothing to show. */
  const report = () => {
    parent
      .signal(teamChildProgressSignal, { childId, seq: ++seq, pending: [...gate.pending.values()], tokens: { ...tokens }, toolCalls: gate.toolCalls(), approvals: [...gate.approvals] })
      .catch(() => undefined);
  };

  const note = (kind: TraceEntry['kind'], message: string) => {
    trace.note(kind, message);
    lastLine = message;
  };
  const publishState = createPublisher();
  const publish = () => {
    const lines = [`**Team ${role}** for \`${input.parentTaskId}\` · step \`${input.step.id}\` · ${status}${turns ? ` · turn ${turns}` : ''} · ${gate.toolCalls()} tool calls`];
    for (const r of gate.pending.values()) lines.push('', pendingApprovalMarkdown(r, input.parentTaskId));
    if (lastLine) lines.push('', lastLine.slice(0, 300));
    publishState({ status, stage, pending: [...gate.pending.values()], details: lines.join('\n') });
  };
  const gate = createToolGate({
    taskId: childId,
    input,
    summary: () => summary,
    note,
    publish,
    requestPrefix: input.requestPrefix,
    onPendingChange: (pending: ApprovalRequest[]) => {
      status = pending.length > 0 ? 'waiting_approval' : 'running';
      report();
    },
  });
  gate.setPolicy(input.rules);

  const view = (): TaskStatusView => ({
    taskId: childId,
    status,
    stage,
    summary,
    prompt: input.step.instructions,
    workspace: input.workspace,
    plan: [],
    pendingApprovals: [...gate.pending.values()],
    approvals: gate.approvals,
    toolCalls: gate.toolCalls(),
    turns,
    tokens,
    result: null,
    error: null,
  });
  wf.setHandler(statusQuery, view);

  return {
    childId,
    gate,
    note,
    publish,
    tokens,
    countUsage<T extends { usage: ModelUsage }>(reply: T): T {
      addModelUsage(tokens, reply.usage);
      report();
      return reply;
    },
    setTurn(turn: number) {
      turns = turn;
    },
    turns: () => turns,
    /** The tail carried in the child's result; the parent's history holds it, so keep it short. */
    traceTail: () => trace.tail(RESULT_TRACE_ENTRIES),
    finish(final: TaskStatus) {
      status = final;
      stage = 'done';
      publish();
    },
  };
}
