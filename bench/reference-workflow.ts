/**
 * The orchestration bench's reference point: the least a five-step Temporal workflow can be. Five
 * no-op activities in sequence on the same dev server, with the same worker options as the agent's
 * worker, so what Temporal itself costs per step can be told apart from what agentTask adds
 * (model calls through the SDK, state store, trace, memory, search attributes).
 * Workflow code: bundled by the worker on its own task queue, never imported at run time.
 */
import * as wf from '@temporalio/workflow';

export interface ReferenceActivities {
  noop(step: number): Promise<void>;
}

/** The same kind of activity as the agent's model calls (a regular activity, not a local one), with nothing inside. */
const { noop } = wf.proxyActivities<ReferenceActivities>({ startToCloseTimeout: '1m' });

/** Five, as the five model stages; the bench divides by STEPS.reference, which must match. */
export async function referenceWorkflow(): Promise<void> {
  for (let step = 1; step <= 5; step++) await noop(step);
}
