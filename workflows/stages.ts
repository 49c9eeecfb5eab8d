/**
 * The pipeline stages a task and a team share: intent, route, confirm, respond, and what happens
 * when the work fails or is cancelled (for a task or team, and for a team's child). Each takes the
 * workflow's TaskHost. Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RuleRecord } from '../domain/policy';
import { routeTools } from '../domain/routing';
import type { Intent, Plan, TaskInput, TaskStatus, Verification } from '../domain/task';
import type { OfferedTool } from '../domain/mcp';
import type { HookPlan } from '../domain/hooks';
import type { PreparedMcp } from './memory-steps';
import { gate, llm } from './activity-proxies';
import type { TaskHost } from './task-host';
import { failureMessage, snapshotPolicy } from './tool-gate';

type TaskContext = Parameters<Activities['parseIntent']>[0];

/** Intent: the model says what the task is; its one-line summary names the task from then on. */
export async function parseIntent(host: TaskHost, ctx: TaskContext): Promise<Intent> {
  host.enter('intent');
  const { intent } = host.countUsage(await llm.parseIntent.executeWithOptions({ summary: 'parse intent' }, [ctx]));
  host.summary = intent.summary;
  host.note('llm', `intent: ${intent.kind} — ${intent.goal}`);
  return intent;
}

/**
 * Route: the tools the intent and plan call for, and the policy snapshot every tool call of the
 * task is judged by (the gate's; a team passes it to its children). `offered` starts the trace line.
 * The snapshot taken with recall before planning is `prepared`; older histories took it here.
 */
export async function route(
  host: TaskHost,
  input: Pick<TaskInput, 'workspace' | 'rules' | 'mode'>,
  intent: Intent,
  plan: Plan,
  offered: string,
  prepared?: { rules: RuleRecord[]; mcp?: PreparedMcp; hooks?: HookPlan },
): Promise<{ tools: OfferedTool[]; rules: RuleRecord[] }> {
  host.enter('route');
  // MCP tools are all offered: each asks unless its annotations say read-only or a rule allows it.
  const tools: OfferedTool[] = [...routeTools(intent, plan), ...(prepared?.mcp?.names ?? [])];
  const rules = prepared?.rules ?? (await snapshotPolicy(input.workspace, input.rules, host.note));
  host.gate.setPolicy(rules);
  host.gate.setMcpCatalog(prepared?.mcp?.ref ?? undefined);
  host.gate.hooks.set(prepared?.hooks);
  host.note('note', `${offered}: ${tools.join(', ')}; mode ${input.mode}; ${rules.length} policy rules`);
  return { tools, rules };
}

/**
 * Confirm, first half: enters the stage and says what the result earns — `stopped` (a refusal or a
 * limit) first, else completed when verified, denied when a human denied anything, else failed —
 * and whether a human must accept it before it counts (`confirmResult`). Synchronous, so a caller
 * that needs no human goes on in the same step (a team's history records its next command there).
 */
export function enterConfirm(host: TaskHost, confirmResult: TaskInput['confirmResult'], passed: boolean, stopped: TaskStatus | null = null): { status: TaskStatus; ask: boolean } {
  host.enter('confirm');
  const humanDenied = host.approvals().some((a) => a.outcome !== 'approved');
  const status = stopped ?? (passed ? 'completed' : humanDenied ? 'denied' : 'failed');
  return { status, ask: confirmResult === 'always' || (confirmResult === 'unverified' && status === 'failed') };
}

/**
 * Confirm, second half: asks a human to accept the result, bound to what was verified (and the
 * model's last words, when there are any). Completed when accepted; denied when refused or when
 * nobody answered in time.
 */
export async function confirmResult(host: TaskHost, workspace: string, verification: Verification, lastMessage?: string): Promise<TaskStatus> {
  const confirmInput = { verified: verification.passed, problems: verification.problems, ...(lastMessage !== undefined ? { lastMessage } : {}) };
  const hash = await gate.hashAction('accept_result', confirmInput, workspace);
  const record = await host.gate.requestApproval({
    kind: 'result',
    toolUseId: null,
    tool: 'accept_result',
    input: confirmInput,
    risk: verification.passed ? 'read-only' : 'unverified-result',
    reasons: verification.passed ? ['the policy asks for confirmation of every result'] : ['verification did not pass: ' + (verification.problems.join('; ') || 'no evidence')],
    actionHash: hash,
  });
  return record.outcome === 'approved' ? 'completed' : 'denied';
}

/** Respond: the model writes the answer for the person who asked. */
export async function respond(host: TaskHost, request: Parameters<Activities['composeAnswer']>[0]): Promise<string> {
  host.enter('respond');
  const { answer } = host.countUsage(await llm.composeAnswer.executeWithOptions({ summary: 'compose answer' }, [request]));
  return answer;
}

/**
 * A task or team failed or was cancelled: its status and the trace say which (and the error why),
 * and its pending requests go. Synchronous, so the status is published in the same step as the
 * failure arrived (histories record it there). The caller rethrows.
 */
export function recordFailure(host: TaskHost, err: unknown, cancelled = 'task cancelled'): void {
  if (wf.isCancellation(err)) {
    host.status = 'cancelled';
    host.note('note', cancelled);
  } else {
    host.status = 'failed';
    host.error = err instanceof Error ? failureMessage(err) : String(err);
    host.note('error', host.error);
  }
  host.gate.clearPending();
  host.publish();
}

/** A team's child failed or was cancelled: its pending requests go (the parent is told), and it ends so. The caller rethrows. */
export function endChild(host: TaskHost, err: unknown): void {
  host.gate.clearPending();
  host.end(wf.isCancellation(err) ? 'cancelled' : 'failed');
}
