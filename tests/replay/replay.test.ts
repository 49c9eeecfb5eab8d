/**
 * Determinism: recorded histories must replay against the current workflow code. A failure here
 * means a change would break running tasks on deploy: guard it with patched() instead.
 * Refresh the fixture only on purpose: RECORD_HISTORY=1 npx vitest run tests/replay
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario } from '../support/scripts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const { History } = proto.temporal.api.history.v1;

const h = useTaskHarness({
  scenarios: [
    scenario('replay-me', {
      needsWrite: true,
      needsShell: true,
      execute: [
        { toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }, { name: 'list_files', input: {} }] },
        { toolCalls: [{ name: 'write_file', input: { path: 'b.txt', content: 'b\n' } }, { name: 'read_file', input: { paht: 'bad' } }] },
        { toolCalls: [{ name: 'run_command', input: { command: 'cat b.txt > c.txt' } }] },
        { text: 'done' },
      ],
      verifyPassed: false,
    }),
  ],
});

/** Runs a task through approvals (approve, deny), a tool error and result confirmation, and returns its history. */
async function recordTask() {
  const taskId = await h.client.start({ prompt: 'replay-me', workspace: await makeWorkspace({ 'a.txt': 'a\n' }), confirmResult: 'always' });
  for (const approve of [true, false, true]) {
    const [request] = await waitFor(async () => {
      const view = await h.client.status(taskId);
      return view.pendingApprovals.length ? view.pendingApprovals : null;
    }, 'approval');
    await h.client.sendDecision(taskId, { requestId: request!.requestId, actionHash: request!.actionHash, approve, always: false, decidedBy: 'replay', channel: 'cli' });
  }
  const result = await h.client.result(taskId);
  expect(result.status).toBe('completed');
  expect(result.approvals.map((a) => a.outcome)).toEqual(['approved', 'denied', 'approved']);
  return await h.client.handle(taskId).fetchHistory();
}

describe('replay', () => {
  it('a freshly recorded history replays against the current code', async () => {
    const history = await recordTask();
    if (process.env.RECORD_HISTORY === '1') await writeFile(path.join(FIXTURES, 'agent-task-approvals.binpb'), History.encode(history).finish());
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history);
  });

  it('committed histories from earlier versions still replay', async () => {
    // Stored as binary protobuf: exactly what the server returns, no JSON mapping in between.
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.binpb'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history = History.decode(await readFile(path.join(FIXTURES, file)));
      await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history), file).resolves.toBeUndefined();
    }
  });
});
