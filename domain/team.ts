/**
 * Contracts of an agent team: the planner's plan (steps with dependencies, expected evidence and
 * risk), the budgets the parent enforces, what worker and verifier children take and return, and
 * the team part of the status view. Pure and sandbox-safe.
 */
import type { HookPlan } from './hooks';
import type { OfferedTool } from './mcp';
import { defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { once } from './lazy-schema';
import type { Mode, RuleRecord } from './policy';
import type { ApproverKey } from './approver-signature';
import { taskInputObject, type ApprovalRecord, type ApprovalRequest, type TraceEntry } from './task';
import type { TokenUsage } from './usage';
import { TEAM_RISKS } from './team-view';

export const AGENT_TEAM_WORKFLOW = 'agentTeam';

const StepId = once(() => z.string().regex(/^[a-z0-9][a-z0-9-]{0,23}$/, 'a step id is 1-24 lowercase letters, digits or dashes'));

/** What shows a step worked. Files and commands are checked mechanically; judgement is the verifier model's call. */
export const EvidenceCheckSchema = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('file_exists'), path: z.string().min(1).max(500) }),
    z.strictObject({ kind: z.literal('file_contains'), path: z.string().min(1).max(500), text: z.string().min(1).max(2_000) }),
    /** Passes when the command exits 0; it runs through the same permission gate as any tool call. */
    z.strictObject({ kind: z.literal('command'), command: z.string().min(1).max(2_000) }),
    z.strictObject({ kind: z.literal('judgement'), criteria: z.string().min(1).max(2_000) }),
  ]),
);
export type EvidenceCheck = z.infer<typeof EvidenceCheckSchema>;

export const TeamStepSchema = z.lazy(() =>
  z.strictObject({
    id: StepId(),
    title: z.string().min(1).max(300),
    /** What the worker is told to do; it also sees the task and the results of the steps it depends on. */
    instructions: z.string().min(1).max(4_000),
    dependsOn: z.array(StepId()).max(20).default([]),
    /** Workspace files the step will create or change: steps that share one never run at the same time. */
    writes: z.array(z.string().min(1).max(500)).max(50).default([]),
    evidence: z.array(EvidenceCheckSchema).min(1).max(10),
    risk: z.enum(TEAM_RISKS),
  }),
);
export type TeamStep = z.infer<typeof TeamStepSchema>;

export const TeamPlanSchema = z.lazy(() => z.strictObject({ steps: z.array(TeamStepSchema).min(1).max(20) }));
export type TeamPlan = z.infer<typeof TeamPlanSchema>;

/**
 * Structural problems of a plan: duplicate ids, unknown dependencies, cycles. `passed` are the ids
 * of steps that already passed (a re-plan may depend on them but must not reuse them). Empty = valid.
 */
export function teamPlanProblems(plan: TeamPlan, passed: readonly string[] = []): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const step of plan.steps) {
    if (ids.has(step.id)) problems.push(`step id "${step.id}" is used twice`);
    if (passed.includes(step.id)) problems.push(`step id "${step.id}" already passed; give new work a new id`);
    ids.add(step.id);
  }
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) {
      if (dep === step.id) problems.push(`step "${step.id}" depends on itself`);
      else if (!ids.has(dep) && !passed.includes(dep)) problems.push(`step "${step.id}" depends on unknown step "${dep}"`);
    }
  }
  // Depth-first search for a cycle among the new steps (passed steps have no open dependencies).
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): boolean => {
    if (state.get(id) === 'done') return false;
    if (state.get(id) === 'visiting') {
      problems.push(`dependency cycle: ${[...path.slice(path.indexOf(id)), id].join(' → ')}`);
      return true;
    }
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependsOn ?? []) if (dep !== id && byId.has(dep) && visit(dep, [...path, id])) return true;
    state.set(id, 'done');
    return false;
  };
  for (const step of plan.steps) if (visit(step.id, [])) break;
  return problems;
}

/** A file both steps say they change (paths compared after dropping `./` and empty segments), or null. */
export function sharedWrite(a: Pick<TeamStep, 'writes'>, b: Pick<TeamStep, 'writes'>): string | null {
  const normalise = (p: string) =>
    p
      .split('/')
      .filter((s) => s && s !== '.')
      .join('/');
  // `?? []`: plans recorded before steps declared their writes replay without the field.
  const mine = new Set((a.writes ?? []).map(normalise));
  return (b.writes ?? []).map(normalise).find((p) => mine.has(p)) ?? null;
}

/** Budgets the parent enforces over the whole team (every child and every re-plan). */
export const TeamOptionsSchema = z.lazy(() =>
  z.strictObject({
    /** Worker children running at once. */
    maxParallel: z.number().int().min(1).max(16).default(3),
    /** Re-plans after the verifier rejects a step. */
    maxReplans: z.number().int().min(0).max(5).default(2),
    /** Worker children started in all, re-runs included. */
    maxSteps: z.number().int().min(1).max(100).default(20),
    /** Processed model tokens (uncached input, cache writes and reads, output) of the parent and all children together. */
    maxTokens: z.number().int().min(1).max(100_000_000).default(2_000_000),
    /** Wall time from the start; running children are cancelled when it runs out. */
    maxWallMs: z
      .number()
      .int()
      .min(5_000)
      .max(7 * 24 * 3600_000)
      .default(2 * 3600_000),
    /** Model turns per worker child. */
    stepMaxTurns: z.number().int().min(1).max(100).default(15),
  }),
);
export type TeamOptions = z.infer<typeof TeamOptionsSchema>;

export const TeamInputSchema = z.lazy(() => taskInputObject().extend({ team: TeamOptionsSchema.prefault({}) }));
export type TeamInput = z.infer<typeof TeamInputSchema>;
export type TeamSubmission = z.input<typeof TeamInputSchema>;

/** What every child needs to run tools under the parent's rules. */
interface ChildBase {
  parentTaskId: string;
  /** Prefix of the child's approval request ids, unique within the team (e.g. `build.1-`). */
  requestPrefix: string;
  /** The team's task text, for context. */
  prompt: string;
  step: TeamStep;
  workspace: string;
  mode: Mode;
  /** The parent's policy snapshot: every child judges by the same rules. */
  rules: RuleRecord[];
  /** The parent's MCP catalog, when MCP tools are among the tools offered. */
  mcpCatalogRef?: string;
  /** The parent's hooks: every child's tool calls run them too. */
  hooks?: HookPlan;
  approvalTimeoutMs: number;
  submittedBy: string;
  /** The keys whose signed decisions the team accepts (absent in histories recorded before signing). */
  approverKeys?: ApproverKey[];
}

export interface TeamWorkerInput extends ChildBase {
  goal: string;
  tools: OfferedTool[];
  /** What the steps this one depends on reported. */
  dependencyResults: { id: string; title: string; text: string }[];
  maxTurns: number;
  /** Tokens left in the team's budget when the child started; the child stops its loop past it. */
  maxTokens: number;
  memory?: string;
  /** The project's instruction files, as the parent loaded them. */
  instructions?: string;
}

export interface TeamWorkerResult {
  stepId: string;
  /** done: the model finished; stopped: turn limit or token budget (see stopReason). */
  status: 'done' | 'stopped';
  stopReason: string | null;
  text: string;
  head: string | null;
  toolCalls: number;
  turns: number;
  tokens: TokenUsage;
  approvals: ApprovalRecord[];
  /** Rules granted by "always" answers in this child; the parent passes them to children started later. */
  grants: RuleRecord[];
  /** The trace's tail, so `agent logs <child>` works after it ended. */
  trace?: TraceEntry[];
}

export interface TeamVerifierInput extends ChildBase {
  /** The worker's transcript and last words, for judgement checks. */
  workerHead: string | null;
  workerText: string;
}

export interface StepVerdict {
  stepId: string;
  passed: boolean;
  evidence: string[];
  problems: string[];
  tokens: TokenUsage;
  toolCalls: number;
  approvals: ApprovalRecord[];
  grants: RuleRecord[];
  trace?: TraceEntry[];
}

/**
 * A child's running report to its parent: pending approvals (shown on the team's status), tokens
 * used (charged against the team's budget as they are spent), tool calls and decisions so far (kept
 * even if the child is later cancelled). Whole values, numbered: the parent keeps the highest seq.
 */
export interface TeamChildProgress {
  childId: string;
  seq: number;
  pending: ApprovalRequest[];
  tokens: TokenUsage;
  toolCalls: number;
  approvals: ApprovalRecord[];
}
export const teamChildProgressSignal = defineSignal<[TeamChildProgress]>('teamChildProgress');
