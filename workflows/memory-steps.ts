/**
 * The memory stages every task-like workflow runs: recall before planning, and the report of what
 * the memory writer changed. Memory is an aid: recall failures are traced and the work goes on
 * without it. Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../domain/failures';
import type { Intent, TaskInput, TraceEntry } from '../domain/task';
import { failureMessage } from './tool-gate';

/**
 * Memory recall: database reads and a few small file checks, so a local activity. A task never
 * depends on memory: after these attempts it goes on without it ('MemoryUnavailable' = the store
 * cannot be opened, e.g. the embedded database is held by another process).
 */
const memoryRecall = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['MemoryUnavailable'] } });
/** The memory writer calls the model: heartbeat like every model call, but few attempts — the task's answer waits on it. */
export const memoryWrite = wf.proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES, 'MemoryUnavailable'] },
});
/** Trace lines per kind of memory event, so a large recall cannot flood the trace. */
const MEMORY_TRACE_LINES = 20;

type Note = (kind: TraceEntry['kind'], message: string) => void;

/** Recall for planning: the validated memory block, or undefined. Traces what was recalled and rejected; only cancellation throws. */
export async function recallMemory(taskId: string, input: Pick<TaskInput, 'prompt' | 'workspace' | 'submittedBy'>, intent: Intent, note: Note): Promise<string | undefined> {
  try {
    const r = await memoryRecall.recallMemories.executeWithOptions({ summary: 'recall memory' }, [
      { taskId, query: `${input.prompt}\n${intent.goal}`, workspace: input.workspace, user: input.submittedBy },
    ]);
    if (!r.enabled) return undefined;
    note(
      'note',
      `memory: recalled ${r.items.length} (${r.usedTokens}/${r.budgetTokens} tokens, ${r.ms} ms)` +
        `${r.rejected.length ? `, rejected ${r.rejected.length}` : ''}${r.omitted ? `, ${r.omitted} left out for the budget` : ''}`,
    );
    for (const i of r.items.slice(0, MEMORY_TRACE_LINES)) {
      note('note', `memory recalled: ${i.key} = ${JSON.stringify(i.value)} [${i.scope}]${i.verified ? ` (${i.verified})` : ''}`);
    }
    for (const x of r.rejected.slice(0, MEMORY_TRACE_LINES)) note('note', `memory rejected: ${x.key} = ${JSON.stringify(x.value)} [${x.scope}] — ${x.rule}: ${x.reason}`);
    return r.block || undefined;
  } catch (err) {
    if (wf.isCancellation(err)) throw err;
    note('error', `memory recall failed, continuing without memory: ${failureMessage(err as Error)}`);
    return undefined;
  }
}

/** What the memory writer did, as trace lines: a summary, then each change and each rejected proposal. */
export function memoryWriteReport(w: Awaited<ReturnType<Activities['writeMemories']>>): string[] {
  const count = (action: string) => w.outcomes.filter((o) => o.action === action).length;
  return [
    `memory: ${count('created')} new, ${count('superseded')} updated, ${count('confirmed')} confirmed, ${count('stale')} stale` +
      `${w.rejected.length ? `, ${w.rejected.length} proposals rejected` : ''}${w.dreamTriggered ? '; consolidation started' : ''}`,
    ...w.outcomes
      .filter((o) => o.action !== 'confirmed')
      .slice(0, MEMORY_TRACE_LINES)
      .map((o) => `memory ${o.action}: ${o.key} = ${JSON.stringify(o.value)} [${o.scope}] — ${o.reason}`),
    ...w.rejected.slice(0, MEMORY_TRACE_LINES).map((r) => `memory proposal rejected: ${r.reason} — ${r.preview}`),
  ];
}
