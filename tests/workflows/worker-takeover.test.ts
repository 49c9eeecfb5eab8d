/**
 * A worker started after another was killed on the same AGENT_HOME takes over its work at once:
 * the activity the dead worker was running fails with WorkerDied and runs again on the new worker,
 * instead of waiting out its heartbeat timeout. A live worker's work is never taken.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import type { TaskClient } from '../../client/task-client';
import { WORKER_DIED } from '../../workers/orphan-recovery';
import { connectClient, makeWorkspace, spawnCli, spawnPollingWorker, testEnv, waitFor } from '../support/harness';
import { scenario } from '../support/scripts';

let fake: FakeLlm;
let env: Record<string, string>;
let client: TaskClient;
let raw: Client;
const workers: ReturnType<typeof spawnCli>[] = [];

/** A worker process of this file's environment, stopped after each test. */
async function startWorkerProcess() {
  const worker = await spawnPollingWorker(env);
  workers.push(worker);
  return worker;
}

async function kill(worker: ReturnType<typeof spawnCli>) {
  worker.child.kill('SIGKILL');
  await worker.done;
}

/** The model call in flight, as the server sees it. */
async function pendingModelCall(taskId: string) {
  const described = await raw.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: taskId } });
  return (described.pendingActivities ?? []).find((a) => a.activityType?.name === 'executeStep');
}

beforeAll(async () => {
  // The model answers only after a minute, so the worker is always killed inside the call.
  fake = await startFakeLlm(parseScript({ scenarios: [scenario('slow-model', { execute: [{ text: 'answered', delayMs: 60_000 }] })] }));
  env = await testEnv(fake.url, { AGENT_MEMORY: 'off' });
  client = await connectClient(env);
  raw = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS!, connectTimeout: 20_000 }) });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await kill(w);
});
afterAll(async () => {
  await client?.close();
  await raw?.connection.close();
  await fake?.close();
});

describe('worker take-over', () => {
  it("a new worker fails the killed worker's model call at once, and it runs again there", { timeout: 240_000 }, async () => {
    const first = await startWorkerProcess();
    const taskId = await client.start({ prompt: 'slow-model', workspace: await makeWorkspace() });
    const executeCalls = () => fake.requests.filter((r) => r.task === taskId && r.stage === 'execute').length;
    await waitFor(async () => executeCalls() >= 1, 'the model call to start', 60_000);
    await kill(first);

    await startWorkerProcess();
    // The model call's heartbeat timeout is 30 s; the take-over does not wait for it.
    const retried = await waitFor(
      async () => {
        const call = await pendingModelCall(taskId);
        return call && (call.attempt ?? 0) >= 2 && executeCalls() >= 2 ? call : null;
      },
      'the model call to run again',
      120_000,
    );
    expect(retried.lastFailure?.applicationFailureInfo?.type).toBe(WORKER_DIED);
    expect(retried.lastFailure?.message).toMatch(/was killed/);
    // The dead worker's record is gone; the live one's remains.
    expect(await readdir(path.join(env.AGENT_HOME!, 'workers'))).toHaveLength(1);
    await client.cancel(taskId);
  });

  it('a second worker beside a live one takes nothing over', { timeout: 240_000 }, async () => {
    await startWorkerProcess();
    const taskId = await client.start({ prompt: 'slow-model', workspace: await makeWorkspace() });
    const executeCalls = () => fake.requests.filter((r) => r.task === taskId && r.stage === 'execute').length;
    await waitFor(async () => executeCalls() >= 1, 'the model call to start', 60_000);
    const before = await pendingModelCall(taskId);
    await startWorkerProcess();
    expect(await readdir(path.join(env.AGENT_HOME!, 'workers'))).toHaveLength(2);
    const after = await pendingModelCall(taskId);
    expect(after?.attempt).toBe(before?.attempt);
    expect(after?.lastFailure ?? null).toBeNull();
    expect(executeCalls()).toBe(1);
    await client.cancel(taskId);
  });
});
