/**
 * Every history a test file made, replayed against the workflow code when the file ends. A
 * nondeterminism shows only when a worker replays, which a test rarely makes happen (its worker's
 * cache holds each workflow to the end); replaying everything makes a workflow that cannot be
 * replayed fail the file that produced it, every time its history takes that shape.
 */
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';

/** Replays every workflow of the task queue; throws naming each one that did not replay and why. */
export async function replayTaskQueue(client: Client, taskQueue: string): Promise<void> {
  const histories = client.workflow.list({ query: `TaskQueue = '${taskQueue}'` }).intoHistories();
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  if (failures.length) throw new Error(`${failures.length} workflow(s) of ${taskQueue} did not replay against the current code:\n${failures.join('\n')}`);
}
