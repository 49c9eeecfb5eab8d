/**
 * Every activity proxy of the workflows, one per retry class, with why its timeouts and retries
 * are what they are. The options are recorded in history with each scheduled activity: changing
 * one changes how running tasks retry, so a change here is a behaviour change. Workflow code.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../domain/failures';

/** Model calls: slow and rate limited. Backoff; 429/529 wait for the provider's retry-after (nextRetryDelay). */
export const llm = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

/** The gate and hashing are CPU-only on the worker: local activities, no server round trip. */
export const gate = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });

/** Idempotent tools (reads): retried freely; the heartbeat notices a dead worker within seconds. */
export const idempotentTools = wf.proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 5 },
});

/**
 * Side-effecting tools: a retry goes through the effect journal, which answers "outcome unknown"
 * instead of running the effect twice, so retrying the activity itself is safe.
 */
export const sideEffectTools = wf.proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});

/**
 * Chat notifications of approvals (Slack, webhook): best effort, so a few quick attempts; a chat
 * service that is down must not hold up a decided task for long, and the approval works from the
 * CLI regardless. The activity marks permanent failures (bad token, unknown channel) non-retryable.
 */
export const chat = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * State-store writes: one small idempotent write (last write wins), so a local activity — no server
 * round trip — retried generously.
 */
export const state = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 10 } });

/**
 * Memory recall: database reads and a few small file checks, so a local activity. A task never
 * depends on memory: after these attempts it goes on without it ('MemoryUnavailable' = the store
 * cannot be opened, e.g. the embedded database is held by another process).
 */
export const memoryRecall = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['MemoryUnavailable'] } });

/**
 * A task's preparation: its policy snapshot (files on this worker) and memory recall, one local
 * activity. Recall failures come back as data, so only a policy that cannot be read fails it.
 */
export const prepare = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5 } });

/** The memory writer calls the model: heartbeat like every model call, but few attempts — the task's answer waits on it. */
export const memoryWrite = wf.proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES, 'MemoryUnavailable'] },
});

/** Consolidation's database steps: short and idempotent, retried generously. */
export const dreamStore = wf.proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { initialInterval: '500ms', maximumAttempts: 10 } });

/** Consolidation's model batches: retried like every model call, with a heartbeat so a dead worker is noticed in seconds. */
export const dreamModel = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

/**
 * Lifecycle hooks: user commands on the worker, each bounded by its own timeout (at most 10 min),
 * so a local activity with room for the slowest; one retry covers a worker that failed to start one.
 */
export const hooks = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '11m', retry: { maximumAttempts: 2 } });
