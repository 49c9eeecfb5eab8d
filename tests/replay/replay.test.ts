/**
 * Determinism: recorded histories must replay against the current workflow code. A failure here
 * means a change would break running tasks on deploy: guard it with patched() instead.
 * Refresh the fixtures only on purpose: RECORD_HISTORY=1 (the task), RECORD_HISTORY=team (the team) or
 * RECORD_HISTORY=mcp (a task with MCP tools and hooks) npx vitest run tests/replay
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
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
    scenario('replay-mcp', {
      execute: [
        { toolCalls: [{ name: 'mcp__test__echo', input: { text: 'hi' } }] },
        { toolCalls: [{ name: 'mcp__test__record', input: { note: 'once' } }] },
        { text: 'finished too early' },
        { text: 'done' },
      ],
    }),
  ],
});

/**
 * Runs a task with an MCP server and every kind of hook: a read-only MCP call, one approved, a
 * PostToolUse note, a Stop hook that sends the model back once. Returns its history.
 */
async function recordMcpTask() {
  const home = h.env.AGENT_HOME!;
  const server = {
    command: process.execPath,
    args: ['--import', import.meta.resolve('tsx'), path.join(PROJECT_ROOT, 'tests', 'support', 'mcp-test-server.ts')],
    readOnly: [PROJECT_ROOT],
  };
  await writeFile(path.join(home, 'mcp.json'), JSON.stringify({ mcpServers: { test: server } }));
  const hook = (command: string, matcher?: string) => [{ ...(matcher ? { matcher } : {}), hooks: [{ type: 'command', command }] }];
  const hooks = {
    PreToolUse: hook('exit 0', 'mcp__.*'),
    PostToolUse: hook(`echo '{"hookSpecificOutput":{"additionalContext":"noted"}}'`, 'mcp__test__echo'),
    Stop: hook(`test -f stopped-once || { touch stopped-once; echo 'not yet' >&2; exit 2; }`),
    Notification: hook('exit 0'),
    SessionEnd: hook('exit 0'),
  };
  await writeFile(path.join(home, 'hooks.json'), JSON.stringify({ hooks }));
  try {
    const taskId = await h.client.start({ prompt: 'replay-mcp', workspace: await makeWorkspace() });
    const [request] = await waitFor(async () => {
      const view = await h.client.status(taskId);
      return view.pendingApprovals.length ? view.pendingApprovals : null;
    }, 'the MCP call to ask');
    await h.client.decide(taskId, request!.requestId, { approve: true, decidedBy: 'replay', channel: 'cli' });
    expect((await h.client.result(taskId)).status).toBe('completed');
    const trace = (await h.client.trace(taskId)).map((e) => e.message);
    expect(trace).toContain('hooks: a Stop hook sent the model back: not yet');
    return { taskId, history: await h.client.handle(taskId).fetchHistory() };
  } finally {
    await rm(path.join(home, 'mcp.json'));
    await rm(path.join(home, 'hooks.json'));
  }
}

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

const { EventType } = proto.temporal.api.enums.v1;

/**
 * Replays a history recorded by the current code, after checking that it asked for every patch in
 * its first workflow task: a patch first asked for after a local activity that spanned a
 * workflow-task heartbeat does not replay (workflows/release.ts), and when that happens depends on
 * load, so it is checked where it shows every time.
 */
async function replaysAsRecorded(history: proto.temporal.api.history.v1.IHistory, workflowId: string): Promise<void> {
  const events = history.events ?? [];
  const firstTaskDone = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  const secondTask = events.findIndex((e, i) => i > firstTaskDone && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  const late = events.slice(secondTask).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  expect(
    late.map((e) => `event ${e.eventId}: ${Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data']?.payloads?.[0]?.data ?? []).toString()}`),
    `${workflowId} asked for patches after its first workflow task`,
  ).toEqual([]);
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, workflowId);
}

describe('replay', () => {
  it('freshly recorded team histories (parent and worker child) replay against the current code', async () => {
    const { taskId, parent, worker } = await recordTeam();
    // The parent derives its children's ids from its own, so its fixture name carries the workflow id.
    if (process.env.RECORD_HISTORY === 'team') {
      await writeFile(path.join(FIXTURES, `agent-team@${taskId}.binpb`), History.encode(parent).finish());
      await writeFile(path.join(FIXTURES, `team-worker@${taskId}.rpa.1.binpb`), History.encode(worker).finish());
    }
    await replaysAsRecorded(parent, taskId);
    await replaysAsRecorded(worker, `${taskId}.rpa.1`);
  });

  it('a freshly recorded history replays against the current code', async () => {
    const { taskId, history } = await recordTask();
    // Decisions are signed over the workflow id, so a history replays under its own id (as Temporal always replays it).
    if (process.env.RECORD_HISTORY === '1') await writeFile(path.join(FIXTURES, `agent-task-approvals@${taskId}.binpb`), History.encode(history).finish());
    await replaysAsRecorded(history, taskId);
  });

  it('a freshly recorded task with MCP tools and every hook replays against the current code', { timeout: 120_000 }, async () => {
    const { taskId, history } = await recordMcpTask();
    if (process.env.RECORD_HISTORY === 'mcp') await writeFile(path.join(FIXTURES, `agent-task-mcp-hooks@${taskId}.binpb`), History.encode(history).finish());
    await replaysAsRecorded(history, taskId);
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
