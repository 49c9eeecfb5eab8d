/**
 * Crash safety with a real worker process killed by SIGKILL: the task continues where it was,
 * nothing is done twice, and a side effect that may have run is reported as "outcome unknown".
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, useWorkerProcesses, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const h = useWorkerProcesses({
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
    {
      // The second turn overflows once, so the loop compacts; the compaction is slow, so the worker dies in it.
      match: 'crash-in-compaction',
      stages: {
        execute: [
          { toolCalls: [{ name: 'list_files', input: {} }] },
          { text: 'finished after the compaction', errors: [{ status: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' }] },
        ],
        compact: { text: 'Summary of the work so far: listed the files.', delayMs: 4_000 },
      },
    },
  ],
});

// Tests that start worker processes (and wait out a dead worker's heartbeat timeout) take ~30-50 s idle; they get room for a loaded machine.
describe('worker SIGKILL', () => {
  it('during a side-effecting tool: the effect happens once and the model hears "outcome unknown"', { timeout: 240_000 }, async () => {
    const workspace = await makeWorkspace();
    const first = await h.startWorker();
    const taskId = await h.client.start({ prompt: 'crash-in-tool', workspace });
    const [request] = await waitFor(
      async () => {
        const view = await h.client.status(taskId);
        return view.pendingApprovals.length ? view.pendingApprovals : null;
      },
      'approval',
      45_000,
    );
    await h.client.decide(taskId, request!.requestId, { approve: true, decidedBy: 'tester', channel: 'cli' });

    await waitFor(async () => existsSync(path.join(workspace, 'started.marker')), 'the command to start');
    first.child.kill('SIGKILL');
    await first.done;

    await h.startWorker();
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const [toolResult] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(toolResult).toMatchObject({ is_error: true, content: expect.stringMatching(/^OUTCOME UNKNOWN: run_command was started/) });
    // The sandboxed command died with its worker (bubblewrap --die-with-parent), and the retry did not
    // start it again: it began exactly once and never finished.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await readFile(path.join(workspace, 'started.marker'), 'utf8')).toBe('started\n');
    expect(existsSync(path.join(workspace, 'effects.log'))).toBe(false);
    // Model calls before the crash were not repeated.
    expect(h.fake.requests.filter((r) => r.task === taskId && r.stage === 'intent')).toHaveLength(1);
    expect(h.fake.requests.filter((r) => r.task === taskId && r.stage === 'execute' && r.turn === 0)).toHaveLength(1);
  });

  it('during a compaction: the new worker compacts again and the transcript holds the summary once', { timeout: 240_000 }, async () => {
    const workspace = await makeWorkspace();
    const first = await h.startWorker();
    const taskId = await h.client.start({ prompt: 'crash-in-compaction', workspace, confirmResult: 'never' });
    await waitFor(async () => h.fake.requests.some((r) => r.task === taskId && r.stage === 'compact'), 'the compaction to start', 60_000);
    first.child.kill('SIGKILL');
    await first.done;

    await h.startWorker();
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.compactions).toBe(1);
    // The compaction ran again on the new worker; only its result entered the transcript, once.
    expect(h.fake.requests.filter((r) => r.task === taskId && r.stage === 'compact').length).toBeGreaterThanOrEqual(2);
    const last = h.fake.requests.filter((r) => r.task === taskId && r.stage === 'execute' && r.status === 200).at(-1)!;
    const first0 = JSON.stringify(last.body.messages[0]);
    expect(first0.match(/Summary of the work so far: listed the files\./g)).toHaveLength(1);
    expect(first0.match(/summary-of-earlier-work compactions/g)).toHaveLength(1);
    expect(result.trace!.filter((e) => /^compaction 1: /.test(e.message))).toHaveLength(1);
  });

  it('while waiting for approval: the request survives, the approved write happens exactly once', { timeout: 240_000 }, async () => {
    const workspace = await makeWorkspace();
    const first = await h.startWorker();
    const taskId = await h.client.start({ prompt: 'crash-at-approval', workspace });
    const pendingBefore = await waitFor(
      async () => {
        const view = await h.client.status(taskId);
        return view.pendingApprovals.length ? view.pendingApprovals : null;
      },
      'approval',
      45_000,
    );
    first.child.kill('SIGKILL');
    await first.done;

    await h.startWorker();
    const pendingAfter = await waitFor(
      async () => {
        const view = await h.client.status(taskId);
        return view.pendingApprovals.length ? view.pendingApprovals : null;
      },
      'approval after restart',
      45_000,
    );
    expect(pendingAfter).toEqual(pendingBefore);
    // A stray edit between request and approval must not be clobbered twice: the write runs once.
    await h.client.decide(taskId, undefined, { approve: true, decidedBy: 'tester', channel: 'cli' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.toolCalls).toBe(1);
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('written once\n');
    await writeFile(path.join(workspace, 'out.txt'), 'changed later\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('changed later\n');
    for (const stage of ['intent', 'plan', 'verify', 'respond']) {
      expect(
        h.fake.requests.filter((r) => r.task === taskId && r.stage === stage),
        stage,
      ).toHaveLength(1);
    }
  });
});
