/**
 * Crash safety with a real worker process killed by SIGKILL: the task continues where it was,
 * nothing is done twice, and a side effect that may have run is reported as "outcome unknown".
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../client/fake-llm/fake-llm-server';
import { parseScript } from '../../client/fake-llm/script';
import type { TaskClient } from '../../client/task-client';
import { connectClient, makeWorkspace, spawnCli, testEnv, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

let fake: FakeLlm;
let env: Record<string, string>;
let client: TaskClient;
const workers: ReturnType<typeof spawnCli>[] = [];

function startWorkerProcess() {
  const worker = spawnCli(['worker'], env);
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        scenario('crash-in-tool', {
          needsShell: true,
          execute: [
            { toolCalls: [{ name: 'run_command', input: { command: 'echo started > started.marker; sleep 3; echo effect >> effects.log' } }] },
            { text: 'The command outcome is unknown; I checked and stopped.' },
          ],
        }),
        scenario('crash-at-approval', {
          needsWrite: true,
          execute: [{ toolCalls: [{ name: 'write_file', input: { path: 'out.txt', content: 'written once\n' } }] }, { text: 'done' }],
        }),
      ],
    }),
  );
  env = await testEnv(fake.url);
  client = await connectClient(env);
});
afterEach(async () => {
  // Each test owns its workers: a survivor would silently serve the next test.
  for (const w of workers.splice(0)) {
    w.child.kill('SIGKILL');
    await w.done;
  }
});
afterAll(async () => {
  await client?.close();
  await fake?.close();
});

// Tests that start worker processes (and wait out a dead worker's heartbeat timeout) take ~30-50 s idle; they get room for a loaded machine.
describe('worker SIGKILL', () => {
  it('during a side-effecting tool: the effect happens once and the model hears "outcome unknown"', { timeout: 150_000 }, async () => {
    const workspace = await makeWorkspace();
    const first = startWorkerProcess();
    const taskId = await client.start({ prompt: 'crash-in-tool', workspace });
    const [request] = await waitFor(async () => {
      const view = await client.status(taskId);
      return view.pendingApprovals.length ? view.pendingApprovals : null;
    }, 'approval', 45_000);
    await client.decide(taskId, request!.requestId, { approve: true, decidedBy: 'tester', channel: 'cli' });

    await waitFor(async () => existsSync(path.join(workspace, 'started.marker')), 'the command to start');
    first.child.kill('SIGKILL');
    await first.done;

    startWorkerProcess();
    const result = await client.result(taskId);
    expect(result.status).toBe('completed');
    const [toolResult] = toolResultsAt(fake.requests, taskId, 1);
    expect(toolResult).toMatchObject({ is_error: true, content: expect.stringMatching(/^OUTCOME UNKNOWN: run_command was started/) });
    // The sandboxed command died with its worker (bubblewrap --die-with-parent), and the retry did not
    // start it again: it began exactly once and never finished.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await readFile(path.join(workspace, 'started.marker'), 'utf8')).toBe('started\n');
    expect(existsSync(path.join(workspace, 'effects.log'))).toBe(false);
    // Model calls before the crash were not repeated.
    expect(fake.requests.filter((r) => r.task === taskId && r.stage === 'intent')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.task === taskId && r.stage === 'execute' && r.turn === 0)).toHaveLength(1);
  });

  it('while waiting for approval: the request survives, the approved write happens exactly once', { timeout: 150_000 }, async () => {
    const workspace = await makeWorkspace();
    const first = startWorkerProcess();
    const taskId = await client.start({ prompt: 'crash-at-approval', workspace });
    const pendingBefore = await waitFor(async () => {
      const view = await client.status(taskId);
      return view.pendingApprovals.length ? view.pendingApprovals : null;
    }, 'approval', 45_000);
    first.child.kill('SIGKILL');
    await first.done;

    startWorkerProcess();
    const pendingAfter = await waitFor(async () => {
      const view = await client.status(taskId);
      return view.pendingApprovals.length ? view.pendingApprovals : null;
    }, 'approval after restart', 45_000);
    expect(pendingAfter).toEqual(pendingBefore);
    // A stray edit between request and approval must not be clobbered twice: the write runs once.
    await client.decide(taskId, undefined, { approve: true, decidedBy: 'tester', channel: 'cli' });
    const result = await client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.toolCalls).toBe(1);
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('written once\n');
    await writeFile(path.join(workspace, 'out.txt'), 'changed later\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('changed later\n');
    for (const stage of ['intent', 'plan', 'verify', 'respond']) {
      expect(fake.requests.filter((r) => r.task === taskId && r.stage === stage), stage).toHaveLength(1);
    }
  });
});
