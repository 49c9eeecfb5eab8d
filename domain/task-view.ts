/**
 * How a task-like workflow reads to people: the Web UI's Current Details (Markdown) of a task, a
 * team and a team's child, each rendered from the status view the status query returns, a team's
 * steps as a plan, and the outcome an answer is written around. Pure and sandbox-safe.
 */
import { pendingApprovalMarkdown } from './approval-view';
import type { ApprovalRequest, PlanStepView, TaskStatus, TaskStatusView, Verification } from './task';
import type { TeamStepView, TeamView } from './team-view';
import { formatUsage, groupThousands } from './usage';

/** Each pending request with how to decide it (`agent approve <decideOn> ...`), a paragraph each. */
function waitingLines(pending: readonly ApprovalRequest[], decideOn: string): string[] {
  return pending.flatMap((r) => ['', pendingApprovalMarkdown(r, decideOn)]);
}

/** How a task's or a team's details end: what waits for a human, then the result or the error. */
function closingLines(view: TaskStatusView): string[] {
  const lines = waitingLines(view.pendingApprovals, view.taskId);
  if (view.result) lines.push('', `**Result (${view.result.status}):** ${view.result.answer.slice(0, 500)}`);
  if (view.error) lines.push('', `**Error:** ${view.error}`);
  return lines;
}

/** A task's Current Details: status and stage, usage, how full the context is, the plan with its progress. */
export function taskDetails(view: TaskStatusView): string {
  const { tokens, context } = view;
  const lines = [`**Status:** ${view.status} · **Stage:** ${view.stage}${view.turns ? ` · turn ${view.turns}` : ''} · ${view.toolCalls} tool calls`];
  if (tokens && (tokens.input || tokens.output)) lines.push('', `**Usage:** ${formatUsage(tokens)}`);
  if (context?.window) {
    lines.push(`**Context:** ${groupThousands(context.tokens)} of ${groupThousands(context.window)} tokens${context.compactions ? ` · compacted ${context.compactions}×` : ''}`);
  }
  if (view.plan.length) {
    lines.push('', '**Plan**');
    for (const s of view.plan) lines.push(`${s.index}. [${s.state === 'done' ? 'x' : ' '}] ${s.title}`);
  }
  return [...lines, ...closingLines(view)].join('\n');
}

/** A team's Current Details: its budgets, usage, and a table of its steps and their children. */
export function teamDetails(view: TaskStatusView, team: TeamView): string {
  const b = team.budget;
  // Separate paragraphs: Markdown runs adjacent lines together. A `|` in a title would split its table cell.
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const lines = [
    `**Team** · **Status:** ${view.status} · **Stage:** ${view.stage}`,
    '',
    `steps ${b.stepsStarted}/${b.maxSteps} · tokens ${b.tokensUsed}/${b.maxTokens} · re-plans ${b.replans}/${b.maxReplans} · parallel ≤ ${b.maxParallel}${b.exhausted ? ` · **budget exhausted:** ${b.exhausted}` : ''}`,
    '',
    `**Usage:** ${formatUsage(view.tokens)}`,
  ];
  if (team.steps.length) {
    lines.push('', '| step | state | depends on | child |', '| --- | --- | --- | --- |');
    for (const s of team.steps) {
      lines.push(`| ${cell(`${s.id}: ${s.title.slice(0, 60)}`)} | ${s.state} | ${cell(s.dependsOn.join(', ')) || '—'} | ${s.workerId ? `\`${s.workerId}\`` : '—'} |`);
    }
  }
  return [...lines, ...closingLines(view)].join('\n');
}

/** What a team's child shows besides its status view; decisions on its requests go through the parent. */
export interface ChildLabel {
  role: 'worker' | 'verifier';
  parentTaskId: string;
  stepId: string;
  /** The child's latest trace line. */
  lastLine: string;
}

/** A team child's Current Details: whose step it works on, what waits for a human, its latest trace line. */
export function childDetails(view: TaskStatusView, child: ChildLabel): string {
  const lines = [
    `**Team ${child.role}** for \`${child.parentTaskId}\` · step \`${child.stepId}\` · ${view.status}${view.turns ? ` · turn ${view.turns}` : ''} · ${view.toolCalls} tool calls`,
    ...waitingLines(view.pendingApprovals, child.parentTaskId),
  ];
  if (child.lastLine) lines.push('', child.lastLine.slice(0, 300));
  return lines.join('\n');
}

/** A team's steps as the plan of its status view: a step is done once its verifier passed it. */
export function teamPlan(steps: readonly TeamStepView[]): PlanStepView[] {
  return steps.map((s, i) => ({ index: i + 1, title: `${s.id}: ${s.title}`, state: s.state === 'passed' ? 'done' : 'pending' }));
}

const OUTCOMES: Partial<Record<TaskStatus, string>> = {
  completed: 'completed',
  denied: 'a human denied an action or the result',
  refused: 'the model refused to continue',
  incomplete: 'incomplete: a limit stopped the work before the model finished',
};
const outcome = (status: TaskStatus): string => OUTCOMES[status] ?? 'not achieved';

/** What the answer of a task is told of its outcome: the status, whether it was verified, why the loop stopped. */
export function taskOutcomeNote(status: TaskStatus, verification: Verification, stopReason: string | null): string {
  return `${outcome(status)}${verification.passed ? ' (verified)' : ' (not verified)'}${stopReason ? `; stopped: ${stopReason}` : ''}`;
}

/** What the answer of a team is told: the outcome, the budget that stopped it, and each worker's report to cite. */
export function teamOutcomeNote(status: TaskStatus, steps: number, exhausted: string | null, reports: string): string {
  return `${outcome(status)} by a team of ${steps} steps${exhausted ? `; stopped: ${exhausted}` : ''}. Cite the evidence by step id.\nWorker reports:\n${reports || '- none'}`;
}
