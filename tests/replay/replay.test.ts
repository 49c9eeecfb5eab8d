/**
 * Determinism: recorded histories must replay against the current workflow code. A failure here
 * means a change would break running tasks on deploy: guard it with patched() instead.
 * Refresh the fixtures only on purpose: RECORD_HISTORY=1 (the task) or RECORD_HISTORY=team (the team) npx vitest run tests/replay
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario } from '../support/scripts';
import { replanScenario, stepScenario, teamScenario, writes } from '../support/team-scripts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const { History } = proto.temporal.api.history.v1;

const h = useTaskHarness({
  scenarios: [
    scenario('replay-me', {
      needsWrite: true,
      needsShell: true,
      execute: [
        {
          toolCalls: [
            { name: 'read_file', input: { path: 'a.txt' } },
            { name: 'list_files', input: {} },
          ],
        },
        {
          toolCalls: [
            { name: 'write_file', input: { path: 'b.txt', content: 'b\n' } },
            { name: 'read_file', input: { paht: 'bad' } },
          ],
        },
        { toolCalls: [{ name: 'run_command', input: { command: 'cat b.txt > c.txt' } }] },
        { text: 'done' },
      ],
      verifyPassed: false,
    }),
    // A team: a child approval, a rejected step, a re-plan, a judged step after a dependency.
    stepScenario('rpa', writes('x.txt', 'wrong\n')),
    stepScenario('rpb', writes('x.txt', 'right\n')),
    stepScenario('rpc', [{ toolCalls: [{ name: 'read_file', input: { path: 'x.txt' } }] }, { text: 'x.txt is right' }]),
    replanScenario('replay-team', [
      { id: 'rpb', evidence: [{ kind: 'file_contains', path: 'x.txt', text: 'right' }] },
      { id: 'rpc', dependsOn: ['rpb'], evidence: [{ kind: 'judgement', criteria: 'x.txt was read' }] },
    ]),
    teamScenario('replay-team', [{ id: 'rpa', evidence: [{ kind: 'file_contains', path: 'x.txt', text: 'right' }] }]),
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
  return { taskId, history: await h.client.handle(taskId).fetchHistory() };
}

/** Runs a team through a child approval, a rejected step and a re-plan; returns the parent's and one worker's history. */
async function recordTeam() {
  const taskId = await h.client.start({ prompt: 'replay-team', workspace: await makeWorkspace() }, { team: {} });
  const decided = new Set<string>();
  for (let i = 0; i < 2; i++) {
    // The parent learns of its children's decisions by signal, so a request just decided may still show for a moment.
    const request = await waitFor(async () => (await h.client.status(taskId)).pendingApprovals.find((r) => !decided.has(r.requestId)), 'team approval');
    decided.add(request.requestId);
    await h.client.decide(taskId, request.requestId, { approve: true, decidedBy: 'replay', channel: 'cli' });
  }
  const result = await h.client.result(taskId);
  expect(result.status).toBe('completed');
  expect(result.team!.budget.replans).toBe(1);
  return { taskId, parent: await h.client.handle(taskId).fetchHistory(), worker: await h.client.handle(`${taskId}.rpa.1`).fetchHistory() };
}

describe('replay', () => {
  it('freshly recorded team histories (parent and worker child) replay against the current code', async () => {
    const { taskId, parent, worker } = await recordTeam();
    // The parent derives its children's ids from its own, so its fixture name carries the workflow id.
    if (process.env.RECORD_HISTORY === 'team') {
      await writeFile(path.join(FIXTURES, `agent-team@${taskId}.binpb`), History.encode(parent).finish());
      await writeFile(path.join(FIXTURES, `team-worker@${taskId}.rpa.1.binpb`), History.encode(worker).finish());
    }
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, parent, taskId);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, worker, `${taskId}.rpa.1`);
  });

  it('a freshly recorded history replays against the current code', async () => {
    const { taskId, history } = await recordTask();
    // Decisions are signed over the workflow id, so a history replays under its own id (as Temporal always replays it).
    if (process.env.RECORD_HISTORY === '1') await writeFile(path.join(FIXTURES, `agent-task-approvals@${taskId}.binpb`), History.encode(history).finish());
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, taskId);
  });

  it('committed histories from earlier versions still replay', async () => {
    // Stored as binary protobuf: exactly what the server returns, no JSON mapping in between.
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.binpb'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history = History.decode(await readFile(path.join(FIXTURES, file)));
      const workflowId = /@(.+)\.binpb$/.exec(file)?.[1];
      await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, workflowId), file).resolves.toBeUndefined();
    }
  });
});
