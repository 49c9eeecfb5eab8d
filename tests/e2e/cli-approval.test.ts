/**
 * End to end through the `agent` CLI against the real Temporal server: a scripted task reads a
 * file, asks to write one, is approved (or denied) with `agent approve|deny`, and answers.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { makeWorkspace, pendingViaCli, runCli, spawnCli, stopLeftoverClis, testEnv, waitFor } from '../support/harness';
import { stepScenario, teamScenario, writes } from '../support/team-scripts';

const copyScenario = (match: string) => ({
  match,
  stages: {
    intent: { input: { goal: 'copy a.txt to b.txt', kind: 'change', needsWrite: true, needsShell: false, summary: `Copy a.txt (${match})` } },
    plan: {
      input: {
        steps: [
          { title: 'Read a.txt', tool: 'read_file' },
          { title: 'Write b.txt', tool: 'write_file' },
        ],
      },
    },
    execute: [
      { toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }] },
      { toolCalls: [{ name: 'write_file', input: { path: 'b.txt', content: 'alpha\n' } }] },
      { text: 'Finished.' },
    ],
    verify: { input: { passed: match === 'approve-me', evidence: ['write_file created b.txt'], problems: match === 'approve-me' ? [] : ['b.txt was not written'] } },
    respond: { text: match === 'approve-me' ? 'Copied a.txt to b.txt.' : 'I could not write b.txt: the write was denied.' },
  },
});

let fake: FakeLlm;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        copyScenario('approve-me'),
        copyScenario('deny-me'),
        copyScenario('detach-me'),
        stepScenario('ct', writes('t.txt', 'team\n')),
        teamScenario('cli-team', [{ id: 'ct', evidence: [{ kind: 'file_contains', path: 't.txt', text: 'team' }] }]),
      ],
    }),
  );
  env = await testEnv(fake.url);
});
// All tests here share one task queue: a CLI left running by a failed test must not serve the next one.
afterEach(stopLeftoverClis);

afterAll(async () => {
  await fake.close();
});

const pendingRequest = (taskId: string) => pendingViaCli(taskId, env, 90_000);

// Tests that start worker processes (and wait out a dead worker's heartbeat timeout) take ~30-50 s idle; they get room for a loaded machine.
describe('agent run with approvals through the CLI', { timeout: 150_000 }, () => {
  it('approves a write, writes the file once, verifies and answers', async () => {
    const workspace = await makeWorkspace({ 'a.txt': 'alpha\n' });
    const taskId = `task-approve-${Date.now()}`;
    const run = spawnCli(['run', 'approve-me: copy a.txt to b.txt', '--workspace', workspace, '--json', '--id', taskId], env);

    const view = await pendingRequest(taskId);
    expect(view.status).toBe('waiting_approval');
    expect(view.pendingApprovals[0]).toMatchObject({ tool: 'write_file', input: { path: 'b.txt', content: 'alpha\n' }, risk: 'workspace-write' });
    expect(view.pendingApprovals[0].actionHash).toMatch(/^[0-9a-f]{64}$/);
    await expect(stat(path.join(workspace, 'b.txt'))).rejects.toThrow();

    const approve = await runCli(['approve', taskId, '--json'], env);
    expect(approve.stderr).toBe('');
    expect(JSON.parse(approve.stdout)).toMatchObject({ outcome: 'approved', channel: 'cli', tool: 'write_file' });

    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ taskId, status: 'completed', result: { verified: true, answer: 'Copied a.txt to b.txt.', toolCalls: 2 } });
    expect(out.approvals).toHaveLength(1);
    expect(out.approvals[0]).toMatchObject({ outcome: 'approved', requestId: view.pendingApprovals[0].requestId });
    expect(await readFile(path.join(workspace, 'b.txt'), 'utf8')).toBe('alpha\n');

    // A second decision on the same request is rejected with a reason, and nothing changes.
    const again = await runCli(['deny', taskId, view.pendingApprovals[0].requestId], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/completed; there is nothing to approve/);

    const logs = await runCli(['logs', taskId], env);
    expect(logs.stdout).toMatch(/write_file b.txt → ok/);
    expect(logs.stdout).toMatch(/approval apr-1 approved by/);
  });

  it('denies a write: nothing is written, the model is told, the task ends denied', async () => {
    const workspace = await makeWorkspace({ 'a.txt': 'alpha\n' });
    const taskId = `task-deny-${Date.now()}`;
    const run = spawnCli(['run', 'deny-me: copy a.txt to b.txt', '--workspace', workspace, '--json', '--id', taskId], env);
    await pendingRequest(taskId);

    const deny = await runCli(['deny', taskId, '--reason', 'not today'], env);
    expect(deny.code, deny.stderr).toBe(0);
    expect(deny.stdout).toMatch(/denied/);

    const result = await run.done;
    expect(result.code).toBe(3);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ status: 'denied', result: { verified: false } });
    expect(out.approvals[0]).toMatchObject({ outcome: 'denied', reason: 'not today' });
    await expect(stat(path.join(workspace, 'b.txt'))).rejects.toThrow();

    // The model heard the outcome as a tool_result error for its write_file call.
    const turn3 = fake.requests.find((r) => r.task === taskId && r.stage === 'execute' && r.turn === 2)!;
    const lastMessage = turn3.body.messages.at(-1)!;
    expect(lastMessage.content).toEqual([expect.objectContaining({ type: 'tool_result', is_error: true, content: expect.stringMatching(/the user denied it \(not today\)/) })]);
  });
});

describe('agent run --team', { timeout: 150_000 }, () => {
  it('runs the team, prints its evidence, and status shows steps and budgets', async () => {
    const workspace = await makeWorkspace();
    const taskId = `task-team-${Date.now()}`;
    const run = await runCli(
      ['run', 'cli-team: write t.txt', '--team', '--parallel', '2', '--max-time', '10m', '--mode', 'accept-edits', '--workspace', workspace, '--id', taskId, '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ taskId, status: 'completed', result: { verified: true, evidence: ['[ct] t.txt contains "team"'] } });
    expect(out.result.team.budget).toMatchObject({ maxParallel: 2, maxWallMs: 600_000, stepsStarted: 1 });

    const status = await runCli(['status', taskId], env);
    expect(status.stdout).toMatch(/Team: steps 1\/20, tokens \d+\/2000000, wall \d+s\/600s, re-plans 0\/2, parallel ≤ 2/);
    expect(status.stdout).toMatch(new RegExp(`passed +ct: step ct +\\[${taskId}\\.ct\\.1\\]`));
    expect(status.stdout).toMatch(/✔ t\.txt contains "team"/);
  });

  it('agent demo --team: parallel children ask for approvals on the parent; approving both finishes the team', { timeout: 150_000 }, async () => {
    const workspace = await makeWorkspace();
    const demo = spawnCli(['demo', '--team', '--workspace', workspace, '--json'], env);
    // The demo names its task on stderr with each request (other test files run demos on this server too).
    const ids = await waitFor(
      async () => {
        const announced = [...demo.output().stderr.matchAll(/^waiting for approval (\S+) of (\S+):/gm)];
        if (announced.length < 2) return null;
        const taskId = announced[0]![2]!;
        const view = JSON.parse((await runCli(['status', taskId, '--json'], env)).stdout);
        return view.pendingApprovals.length === 2 ? { taskId, requests: view.pendingApprovals.map((r: { requestId: string }) => r.requestId).sort() } : null;
      },
      'both children to ask',
      90_000,
    );
    expect(ids.requests).toEqual(['count.1-apr-1', 'list.1-apr-1']);
    for (const requestId of ids.requests) {
      const res = await runCli(['approve', ids.taskId, requestId], env);
      expect(res.code, res.stderr).toBe(0);
    }
    const result = await demo.done;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', result: { verified: true } });
    expect(await readFile(path.join(workspace, 'todos.md'), 'utf8')).toBe('- buy milk\n- write the docs\n');
    const logs = await runCli(['logs', ids.taskId], env);
    expect(logs.stdout).toMatch(/approval count\.1-apr-1 approved by .* via cli/);
  });

  it('budget flags without --team, and bad budget values, are usage errors', async () => {
    const stray = await runCli(['run', 'x', '--parallel', '2', '--workspace', '/tmp'], env);
    expect(stray.code).toBe(2);
    expect(stray.stderr.trim()).toBe('agent: --parallel only applies with --team');
    const bad = await runCli(['run', 'x', '--team', '--parallel', '0', '--workspace', '/tmp'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid task: team\.maxParallel: .*1/);
    const cost = await runCli(['run', 'x', '--max-cost', 'lots', '--workspace', '/tmp'], env);
    expect(cost).toMatchObject({ code: 2, stderr: 'agent: --max-cost must be a positive amount in USD, e.g. 2.50, got "lots"\n' });
    const turns = await runCli(['run', 'x', '--max-turns', '0', '--workspace', '/tmp'], env);
    expect(turns).toMatchObject({ code: 2, stderr: 'agent: --max-turns must be a positive integer, got "0"\n' });
    const id = await runCli(['run', 'x', '--id', '../../etc', '--no-wait', '--workspace', '/tmp'], env);
    expect(id.code).toBe(2);
    expect(id.stderr).toMatch(/^agent: task id "\.\.\/\.\.\/etc" is not allowed: use 1–100 letters, digits/);
    const tooMany = await runCli(['run', 'x', '--max-turns', '9999', '--workspace', '/tmp'], env);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/invalid task: maxTurns: .*500/);
  });
});

describe('stopping the follower', () => {
  it('SIGTERM detaches with one line and exit 143; the task lives on and another CLI finishes it', { timeout: 150_000 }, async () => {
    const workspace = await makeWorkspace({ 'a.txt': 'alpha\n' });
    const taskId = `task-detach-${Date.now()}`;
    const run = spawnCli(['run', 'detach-me: copy a.txt to b.txt', '--workspace', workspace, '--id', taskId], env);
    await pendingRequest(taskId);
    await waitFor(async () => run.output().stderr.includes('waiting for approval'), 'the CLI to announce the request');

    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(143);
    // Without a terminal the pending request was announced on stderr first; the detach is one line after it.
    expect(result.stderr).toMatch(/^waiting for approval apr-1 of task-detach-/);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('interrupted: the task keeps running in Temporal (see `agent list`, `agent status <id>`)');

    // Its in-process worker went with it: status says so plainly rather than hanging.
    const orphaned = await runCli(['status', taskId], env);
    expect(orphaned.code, orphaned.stderr).toBe(1);
    expect(orphaned.stderr).toMatch(/is running but no worker answered.*agent worker/);

    // With no worker to answer, a decision is queued (signed, as a signal) rather than refused...
    const queued = await runCli(['deny', taskId, '--reason', 'not now'], env);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/^apr-1 \(\w+\) denial queued: no worker is running this task; it is applied when one does/);
    // ...and a request that does not exist is still named, from the task's recorded state.
    const unknown = await runCli(['approve', taskId, 'apr-9'], env);
    expect(unknown).toMatchObject({ code: 1, stderr: `agent: task ${taskId} has no pending approval request apr-9\n` });

    // A fresh `agent worker` picks the task up and applies the queued denial: nobody decides again.
    const worker = spawnCli(['worker'], env);
    try {
      const ended = await waitFor(
        async () => {
          const view = JSON.parse((await runCli(['status', taskId, '--json'], env)).stdout);
          return view.status === 'denied' ? view : null;
        },
        `${taskId} to end denied`,
        60_000,
      );
      expect(ended.result).toMatchObject({ verified: false });
      expect(ended.approvals).toEqual([expect.objectContaining({ requestId: 'apr-1', outcome: 'denied', reason: 'not now', signedBy: expect.stringMatching(/^cli:/) })]);
    } finally {
      worker.child.kill('SIGINT');
      await worker.done;
    }
  });
});

// Each case starts a CLI process or several (seconds each on a loaded machine).
describe('CLI errors are one clear line', { timeout: 120_000 }, () => {
  it('unknown task id', async () => {
    const res = await runCli(['status', 'task-nope'], env);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('agent: no task with id task-nope (see `agent list`)');
  });

  it('workspace that does not exist', async () => {
    const res = await runCli(['run', 'x', '--workspace', '/definitely/not/here'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/workspace \/definitely\/not\/here does not exist/);
  });

  it('missing API key says how to set it or run the demo', async () => {
    const { ANTHROPIC_API_KEY: _drop, ...noKey } = env;
    const res = await runCli(['run', 'x', '--workspace', '/tmp'], noKey);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/ANTHROPIC_API_KEY is not set.*agent demo/);
  });

  it('server unreachable says how to start one', async () => {
    const res = await runCli(['list'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot reach the Temporal server at 127.0.0.1:1.*agent up/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('unknown command and bad flags exit 2 with usage', async () => {
    const res = await runCli(['frobnicate'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown command "frobnicate"/);
    const bad = await runCli(['list', '--limit', 'many'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit must be a positive integer/);
  });

  it('agent up with half-configured chat approvals stops before starting anything, naming each fix', async () => {
    const res = await runCli(['up'], { ...env, AGENT_DEV_SERVER: 'auto', AGENT_APPROVAL_WEBHOOK_KEYS: 'ops=0123456789abcdef0123456789abcdef' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('cannot serve approvals');
    expect(res.stderr).toContain('AGENT_APPROVERS is empty');
    expect(res.stderr).toContain('add webhook:ops');
    expect(res.stdout).not.toMatch(/worker polling|dev server/);
  });
});
