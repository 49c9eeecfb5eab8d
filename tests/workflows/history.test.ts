/** History stays small: big tool outputs go by reference, and the transcript is never re-sent through history. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const { temporal } = proto;
const BIG = 'x'.repeat(99) + '\n';
const TURNS = 30;

const h = useTaskHarness(
  {
    scenarios: [
      scenario('big-output', { execute: [{ toolCalls: [{ name: 'read_file', input: { path: 'big.txt' } }] }, { text: 'read' }] }),
      scenario('many-turns', {
        execute: [...Array.from({ length: TURNS }, () => ({ toolCalls: [{ name: 'read_file', input: { path: 'medium.txt' } }] })), { text: 'done' }],
      }),
      scenario('cancel-me', {
        needsShell: true,
        execute: [{ toolCalls: [{ name: 'run_command', input: { command: 'while true; do echo tick >> ticks.log; sleep 0.1; done' } }] }, { text: 'never' }],
      }),
    ],
  },
  { AGENT_INLINE_OUTPUT_LIMIT: String(64 * 1024) },
);

async function historyPayloads(taskId: string) {
  const history = await h.client.handle(taskId).fetchHistory();
  const events = history.events!;
  // Bytes as the server stores them (protobuf), not JSON (which inflates binary payloads several times).
  const bytes = (e: (typeof events)[number]) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
  const sizes = events.map(bytes);
  // The completion event carries the result with the trace's tail; every other event is per-step.
  const stepSizes = events.filter((e) => !e.workflowExecutionCompletedEventAttributes).map(bytes);
  const completion = events.find((e) => e.workflowExecutionCompletedEventAttributes);
  return {
    events: events.length,
    total: sizes.reduce((a, b) => a + b, 0),
    largest: Math.max(...stepSizes),
    completion: completion ? bytes(completion) : 0,
  };
}

describe('history size', () => {
  it('a 300 KB tool output is truncated for the model and kept out of history', async () => {
    const workspace = await makeWorkspace({ 'big.txt': BIG.repeat(3_000) });
    const taskId = await h.client.start({ prompt: 'big-output', workspace });
    expect((await h.client.result(taskId)).status).toBe('completed');
    const [toolResult] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(toolResult!.content.length).toBeLessThan(70 * 1024);
    expect(toolResult!.content).toMatch(/\[output truncated: showing the first 65,536 of [\d,]+ bytes; read_output \{"id": "sha256:[0-9a-f]{64}", "offset": 65536\} shows more\]/);
    const { largest } = await historyPayloads(taskId);
    expect(largest).toBeLessThan(16 * 1024);
  });

  it('grows linearly, not quadratically, with the number of turns', async () => {
    const workspace = await makeWorkspace({ 'medium.txt': BIG.repeat(30) });
    const taskId = await h.client.start({ prompt: 'many-turns', workspace, maxTurns: 40 });
    expect((await h.client.result(taskId)).toolCalls).toBe(TURNS);
    const { total, largest, completion } = await historyPayloads(taskId);
    expect(completion).toBeLessThan(64 * 1024);
    // The model saw a transcript of 30 × 3 KB tool results each turn; none of it rides in history.
    const lastTurn = h.fake.requests.filter((r) => r.task === taskId && r.stage === 'execute').at(-1)!;
    expect(JSON.stringify(lastTurn.body.messages).length).toBeGreaterThan(TURNS * 3_000);
    // Per turn only refs and bookkeeping (~5 KB); re-sending the transcript would cost 30 × 3 KB more each turn.
    expect(largest).toBeLessThan(4 * 1024);
    expect(total).toBeLessThan(TURNS * 6 * 1024);
  });
});

describe('search attributes', () => {
  it('are upserted only when status or pending approval changes, not once per stage', async () => {
    const workspace = await makeWorkspace({ 'big.txt': 'small\n' });
    const taskId = await h.client.start({ prompt: 'big-output', workspace });
    expect((await h.client.result(taskId)).status).toBe('completed');
    const events = (await h.client.handle(taskId).fetchHistory()).events!;
    const upserts = events.flatMap((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
    // running, then completed: a task passes through seven stages, which used to be an upsert each.
    expect(upserts.filter((key) => key === 'AgentStatus')).toHaveLength(2);
    // Each patch upserts TemporalChangeVersion: this release's changes share one patch.
    expect(upserts.filter((key) => key === 'TemporalChangeVersion').length).toBeLessThanOrEqual(3);
    const description = await h.client.handle(taskId).describe();
    expect(description.searchAttributes).toMatchObject({ AgentStatus: ['completed'], AgentPendingApproval: [false] });
  });
});

describe('cancel', () => {
  it('cancelling a task kills its running command and ends it as cancelled', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'cancel-me', workspace });
    await waitFor(async () => (await h.client.status(taskId)).pendingApprovals.length > 0, 'approval');
    await h.client.decide(taskId, undefined, { approve: true, decidedBy: 'tester', channel: 'cli' });
    const ticks = path.join(workspace, 'ticks.log');
    await waitFor(async () => existsSync(ticks), 'the command to start');
    await h.client.cancel(taskId);
    await waitFor(async () => (await h.client.status(taskId)).status === 'cancelled', 'cancelled status');
    // The command runs in its own PID namespace, so watch its effect: once killed (the activity hears the
    // cancellation on its next heartbeat), the log stops growing for good.
    const size = async () => (await readFile(ticks, 'utf8')).length;
    await waitFor(
      async () => {
        const before = await size();
        await new Promise((r) => setTimeout(r, 700));
        return (await size()) === before;
      },
      'the command to be killed',
      15_000,
    );
    const stopped = await size();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await size()).toBe(stopped);
  });
});
