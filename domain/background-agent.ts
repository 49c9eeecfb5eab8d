/**
 * Contracts of a background agent: a long-lived workflow with an inbox, a standing goal and
 * policy, daily budgets and optional schedule triggers. Each inbox item runs as a child agentTask.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { ApproverKeySchema } from './approver-signature';
import { MODES } from './policy';
import { processedTokens } from './usage';
import { approvalTimeoutMsSchema, type TaskStatus, type TokenUsage } from './task';

export const BACKGROUND_AGENT_WORKFLOW = 'backgroundAgent';
export const BACKGROUND_TICK_WORKFLOW = 'backgroundAgentTick';
/** Background agents are workflows named `bg-<name>`; their schedules `bg-<name>-schedule`. */
export const BACKGROUND_ID_PREFIX = 'bg-';
export const backgroundWorkflowId = (name: string) => `${BACKGROUND_ID_PREFIX}${name}`;
export const backgroundScheduleId = (name: string) => `${BACKGROUND_ID_PREFIX}${name}-schedule`;

export const BackgroundNameSchema = z.lazy(() =>
  z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'a background agent name is 1–48 characters: lowercase letters, digits and dashes, starting with a letter or digit'),
);

export const BudgetSchema = z.lazy(() =>
  z.strictObject({
    tasksPerDay: z.number().int().min(1).max(100_000).default(100),
    tokensPerDay: z.number().int().min(1_000).max(1_000_000_000).default(2_000_000),
  }),
);
export type Budget = z.infer<typeof BudgetSchema>;

export const BackgroundAgentConfigSchema = z.lazy(() =>
  z.strictObject({
    name: BackgroundNameSchema,
    goal: z.string().trim().min(1, 'the goal is empty').max(10_000),
    workspace: z.string().min(1),
    /** Unattended by default: what would ask a human is denied (see domain/policy.ts). */
    mode: z.enum(MODES).default('dont-ask'),
    rules: z.array(z.string().max(1_000)).max(100).default([]),
    budget: BudgetSchema.prefault({}),
    /** Cron expression or interval ("15m") of the schedule trigger, for status; the Schedule itself lives in Temporal. */
    every: z.string().max(200).optional(),
    maxTurns: z.number().int().min(1).max(200).default(25),
    approvalTimeoutMs: approvalTimeoutMsSchema(),
    /** How often an idle agent wakes to show it is alive. */
    heartbeatMs: z
      .number()
      .int()
      .min(1_000)
      .max(24 * 3600_000)
      .default(15 * 60_000),
    /** Continue-as-new past this many history events (Temporal also suggests it near its limits). */
    continueAsNewAfterEvents: z.number().int().min(50).max(40_000).default(10_000),
    submittedBy: z.string().max(200).default('cli'),
    /** Whose signed decisions the agent's tasks accept (approvals raised by its child tasks). */
    approverKeys: z.array(ApproverKeySchema).max(20).default([]),
  }),
);
export type BackgroundAgentConfig = z.infer<typeof BackgroundAgentConfigSchema>;
export type BackgroundAgentSubmission = z.input<typeof BackgroundAgentConfigSchema>;

export interface InboxItem {
  /** Client-chosen id: a re-sent signal with the same id is ignored (exactly once). */
  id: string;
  kind: 'message' | 'trigger';
  text: string;
  from: string;
  receivedAt: string;
}

export interface RunRecord {
  itemId: string;
  kind: InboxItem['kind'];
  taskId: string;
  status: TaskStatus;
  startedAt: string;
  finishedAt: string;
  tokens: number;
}

export interface DayUsage {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  tasks: number;
  tokens: number;
}

/** Everything carried across continue-as-new. */
export interface BackgroundAgentState {
  inbox: InboxItem[];
  paused: { reason: string; by: string; overBudget: boolean } | null;
  /** Ids of handled items (most recent last), so a duplicate signal is recognised after continue-as-new too. */
  handledIds: string[];
  usage: DayUsage;
  recentRuns: RunRecord[];
  handledTotal: number;
  /** Sequence of child tasks; child ids are `<workflowId>-<seq>`, unique across runs. */
  seq: number;
  generation: number;
}

export interface BackgroundStatusView {
  name: string;
  goal: string;
  workspace: string;
  mode: BackgroundAgentConfig['mode'];
  state: 'idle' | 'working' | 'paused' | 'stopping';
  pausedReason: string | null;
  inbox: Array<Pick<InboxItem, 'id' | 'kind' | 'from' | 'receivedAt'> & { preview: string }>;
  currentTaskId: string | null;
  lastHeartbeat: string;
  every: string | null;
  budget: Budget;
  usage: DayUsage;
  handledTotal: number;
  recentRuns: RunRecord[];
  /** Continue-as-new generation: how many times the history was rolled over. */
  generation: number;
  historyLength: number;
}

export interface MessageSignalInput {
  id: string;
  text: string;
  from: string;
  kind?: InboxItem['kind'];
}

export const messageSignal = defineSignal<[MessageSignalInput]>('bgMessage');
export const pauseSignal = defineSignal<[{ by: string; reason?: string }]>('bgPause');
export const resumeSignal = defineSignal<[{ by: string }]>('bgResume');
/** The kill switch: cancels the running child task and ends the agent. */
export const stopSignal = defineSignal<[{ by: string; reason?: string }]>('bgStop');
export const backgroundStatusQuery = defineQuery<BackgroundStatusView>('bgStatus');

/** Bounds that keep the carried state small. */
export const MAX_INBOX = 1_000;
export const HANDLED_IDS_KEPT = 2_000;
export const RECENT_RUNS_KEPT = 20;

/** Processed tokens of a task (cache writes and reads count: they are tokens the model read). */
export function tokensOf(usage: TokenUsage | undefined): number {
  return processedTokens(usage);
}
