/**
 * Starting consolidation runs and keeping their schedule, through the Temporal client. Used by
 * `agent dream`, and by the worker (schedule at start-up, episode-threshold trigger after tasks).
 */
import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Config } from '../services/config';
import { dreamWorkflowId, scopeKindOf } from '../services/memory/keys';
import type { dream } from '../workflows/dream';

export const DREAM_WORKFLOW = 'dream';
export const DREAM_TICK_WORKFLOW = 'dreamTick';

/** The schedule's id names the task queue: two deployments sharing a namespace keep separate schedules. */
export const dreamScheduleId = (config: Config) => `agent-dream-${config.temporal.taskQueue}`;

function budgets(config: Config) {
  return { tokenBudget: config.memory.dream.tokenBudget, timeBudgetMs: config.memory.dream.timeBudgetMs };
}

/** Starts consolidation of a scope, or joins the run already in progress. Returns the run. */
export async function startDream(
  client: Client,
  config: Config,
  scope: string,
  trigger: string,
  options: { batchSize?: number } = {},
): Promise<{ workflowId: string; runId: string }> {
  scopeKindOf(scope);
  const workflowId = dreamWorkflowId(scope);
  const handle = await client.workflow.start<typeof dream>(DREAM_WORKFLOW, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [{ scope, trigger, ...budgets(config), ...options }],
    // Concurrent triggers join the running consolidation; a finished one may run again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `consolidate ${scope}`.slice(0, 200),
    staticDetails: `**Consolidation** of \`${scope}\`, triggered by ${trigger}`,
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}

/**
 * Creates the nightly schedule, or updates it when the cron changed. Idempotent; safe from every
 * worker at start-up. Returns what it did.
 */
export async function ensureDreamSchedule(
  client: Client,
  config: Config,
): Promise<{ scheduleId: string; cron: string | null; action: 'created' | 'updated' | 'unchanged' | 'disabled' }> {
  const scheduleId = dreamScheduleId(config);
  const cron = config.memory.dream.schedule;
  if (!cron) return { scheduleId, cron, action: 'disabled' };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: DREAM_TICK_WORKFLOW,
    workflowId: `dream-tick-${createHash('sha256').update(config.temporal.taskQueue).digest('hex').slice(0, 12)}`,
    taskQueue: config.temporal.taskQueue,
    args: [budgets(config)],
    // Cron strings come back from the server as calendar specs; the action's memo keeps what was asked for.
    memo: { cron },
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [cron] },
      action,
      // A tick still running when the next is due is skipped; a missed night is caught up within an hour.
      policies: { overlap: 'SKIP', catchupWindow: '1h' },
    });
    return { scheduleId, cron, action: 'created' };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  const previous = current.action as { args?: unknown[]; memo?: { cron?: string } };
  const sameArgs = JSON.stringify(previous.args ?? []) === JSON.stringify(action.args);
  const currentCron = previous.memo?.cron;
  if (currentCron === cron && sameArgs) return { scheduleId, cron, action: 'unchanged' };
  await handle.update((prev) => ({ ...prev, spec: { cronExpressions: [cron] }, action }));
  return { scheduleId, cron, action: 'updated' };
}
