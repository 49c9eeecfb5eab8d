/**
 * The agent team on a real Temporal server: workers are child workflows that really overlap in
 * time, the verifier checks files and commands through the gate, a rejected step is re-planned,
 * a child's approval shows on the parent and is decided through it, the parent's policy binds the
 * children, budgets stop the team, and cancelling the parent cancels its children.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { replanScenario, stepScenario, teamScenario, writes } from '../support/team-scripts';

const h = useTaskHarness({
  scenarios: [
    // parallel: pa, pb, pc are independent (each takes ~1.5 s of model time); pd needs all three
    stepScenario('pa', writes('a.txt', 'alpha\n', 750)),
    stepScenario('pb', writes('b.txt', 'bravo\n', 750)),
    stepScenario('pc', writes('c.txt', 'charlie\n', 750)),
    stepScenario('pd', [{ toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }] }, { text: 'read the parts' }], {
      verify: { input: { passed: true, evidence: ['read_file a.txt showed alpha'], problems: [] } },
    }),
    teamScenario('parallel-team', [
      { id: 'pa', evidence: [{ kind: 'file_contains', path: 'a.txt', text: 'alpha' }] },
      { id: 'pb', evidence: [{ kind: 'file_contains', path: 'b.txt', text: 'bravo' }] },
      { id: 'pc', evidence: [{ kind: 'file_exists', path: 'c.txt' }] },
      { id: 'pd', dependsOn: ['pa', 'pb', 'pc'], evidence: [{ kind: 'judgement', criteria: 'the parts were read' }] },
    ]),

    // shared file: sa and sb are independent but both change shared.txt, so they take turns
    stepScenario('sa', [
      { toolCalls: [{ name: 'edit_file', input: { path: 'shared.txt', oldString: 'one', newString: 'ONE' } }], delayMs: 600 },
      { text: 'edited one', delayMs: 600 },
    ]),
    stepScenario('sb', [
      { toolCalls: [{ name: 'edit_file', input: { path: 'shared.txt', oldString: 'two', newString: 'TWO' } }], delayMs: 600 },
      { text: 'edited two', delayMs: 600 },
    ]),
    teamScenario('shared-team', [
      { id: 'sa', writes: ['shared.txt'], evidence: [{ kind: 'file_contains', path: 'shared.txt', text: 'ONE' }] },
      { id: 'sb', writes: ['./shared.txt'], evidence: [{ kind: 'file_contains', path: 'shared.txt', text: 'TWO' }] },
    ]),

    // re-plan: ra writes the wrong text, the verifier rejects it, the re-plan's rb fixes it
    stepScenario('ra', writes('out.txt', 'bad\n')),
    stepScenario('rb', writes('out.txt', 'good\n')),
    replanScenario('replan-team', [{ id: 'rb', evidence: [{ kind: 'file_contains', path: 'out.txt', text: 'good' }] }]),
    teamScenario('replan-team', [{ id: 'ra', evidence: [{ kind: 'file_contains', path: 'out.txt', text: 'good' }] }]),

    // re-plan budget: the fix never comes
    stepScenario('na', writes('never.txt', 'bad\n')),
    replanScenario('stuck-team', [{ id: 'na', evidence: [{ kind: 'file_contains', path: 'never.txt', text: 'good' }] }]),
    teamScenario('stuck-team', [{ id: 'na', evidence: [{ kind: 'file_contains', path: 'never.txt', text: 'good' }] }]),

    // approvals: a worker's write asks; the verifier's check command runs through the same gate
    stepScenario('aw', writes('approved.txt', 'yes\n')),
    teamScenario(
      'approval-team',
      [
        {
          id: 'aw',
          evidence: [
            { kind: 'file_contains', path: 'approved.txt', text: 'yes' },
            { kind: 'command', command: 'grep -q yes approved.txt' },
          ],
        },
      ],
      { needsShell: true },
    ),

    // one gate: the task's deny rule binds the child
    stepScenario('gx', [{ toolCalls: [{ name: 'run_command', input: { command: 'echo pwned > pwned.txt' } }] }, { text: 'tried' }]),
    teamScenario('gate-team', [{ id: 'gx', evidence: [{ kind: 'file_exists', path: 'pwned.txt' }] }], { needsShell: true }),

    // budgets: two independent steps, one at a time, at most one step
    stepScenario('ba', writes('ba.txt', 'x\n')),
    stepScenario('bb', writes('bb.txt', 'x\n')),
    teamScenario('budget-team', [
      { id: 'ba', evidence: [{ kind: 'file_exists', path: 'ba.txt' }] },
      { id: 'bb', evidence: [{ kind: 'file_exists', path: 'bb.txt' }] },
    ]),

    // live token budget: a worker that would read files for 30 turns
    stepScenario('tk', [...Array.from({ length: 30 }, (_, i) => ({ toolCalls: [{ name: 'read_file', input: { path: `f${i}.txt` } }] })), { text: 'read them all' }]),
    teamScenario('token-team', [{ id: 'tk', evidence: [{ kind: 'file_exists', path: 'f0.txt' }] }]),

    // cancel: the worker waits on an approval when the task is cancelled
    stepScenario('ca', writes('cancel.txt', 'x\n')),
    teamScenario('cancel-team', [{ id: 'ca', evidence: [{ kind: 'file_exists', path: 'cancel.txt' }] }]),
  ],
});

async function childTimes(workflowId: string) {
  const d = await h.client.client.workflow.getHandle(workflowId).describe();
  return { start: d.startTime.getTime(), end: d.closeTime!.getTime(), status: d.status.name };
}

describe('agent team', () => {
  it('runs independent steps as parallel child workflows, dependent ones after, each verified with evidence', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'parallel-team: write three parts, then read them', workspace, mode: 'accept-edits' }, { team: { maxParallel: 3 } });
    const result = await h.client.result(taskId);
    expect(result.status, JSON.stringify(result.team?.steps)).toBe('completed');
    expect(result.verified).toBe(true);
    expect(await readFile(path.join(workspace, 'b.txt'), 'utf8')).toBe('bravo\n');

    const [a, b, c, d] = await Promise.all(['pa', 'pb', 'pc', 'pd'].map((id) => childTimes(`${taskId}.${id}.1`)));
    // Parallel: each of pa, pb, pc started before any of them ended (each takes >= 1.5 s).
    expect(Math.max(a!.start, b!.start, c!.start)).toBeLessThan(Math.min(a!.end, b!.end, c!.end));
    // Dependent: pd started only after all three ended and passed.
    expect(d!.start).toBeGreaterThanOrEqual(Math.max(a!.end, b!.end, c!.end));
    for (const t of [a, b, c, d]) expect(t!.status).toBe('COMPLETED');

    const steps = Object.fromEntries(result.team!.steps.map((s) => [s.id, s]));
    expect(steps.pa).toMatchObject({ state: 'passed', evidence: ['a.txt contains "alpha"'] });
    expect(steps.pc!.evidence[0]).toMatch(/^c\.txt exists/);
    expect(steps.pd).toMatchObject({ state: 'passed', evidence: ['judged: read_file a.txt showed alpha'] });
    // The answer's evidence cites each step.
    expect(result.evidence).toEqual(expect.arrayContaining(['[pa] a.txt contains "alpha"', '[pd] judged: read_file a.txt showed alpha']));
    expect(result.team!.budget).toMatchObject({ stepsStarted: 4, replans: 0, exhausted: null });
    expect(result.tokens!.input).toBeGreaterThan(0);
    // The verifier of each step is a child of its own.
    expect((await childTimes(`${taskId}.pa.1.verify`)).status).toBe('COMPLETED');
    expect((await childTimes(`${taskId}.memory`)).status).toBe('COMPLETED');
    // A finished child still answers status and logs on its own.
    expect(await h.client.status(`${taskId}.pa.1`)).toMatchObject({ status: 'completed', toolCalls: 1 });
    expect((await h.client.trace(`${taskId}.pa.1`)).map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^write_file a\.txt → ok/)]));
  });

  it('independent steps that change the same file take turns instead of overlapping', async () => {
    const workspace = await makeWorkspace({ 'shared.txt': 'one\ntwo\n' });
    const taskId = await h.client.start({ prompt: 'shared-team', workspace, mode: 'accept-edits' }, { team: { maxParallel: 3 } });
    const result = await h.client.result(taskId);
    expect(result.status, JSON.stringify(result.team?.steps)).toBe('completed');
    expect(await readFile(path.join(workspace, 'shared.txt'), 'utf8')).toBe('ONE\nTWO\n');
    const a = await childTimes(`${taskId}.sa.1`);
    const b = await childTimes(`${taskId}.sb.1`);
    const aVerified = await childTimes(`${taskId}.sa.1.verify`);
    // sb starts only after sa's worker and verifier are done.
    expect(b.start).toBeGreaterThanOrEqual(Math.max(a.end, aVerified.end));
    expect((result.trace ?? []).map((e) => e.message)).toContain('step sb waits for sa: both change shared.txt');
  });

  it('re-plans when the verifier rejects a step, and passes with the new step', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'replan-team: write good output', workspace, mode: 'accept-edits' }, { team: {} });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.team!.budget.replans).toBe(1);
    expect(result.team!.steps.map((s) => [s.id, s.state])).toEqual([['rb', 'passed']]);
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('good\n');
    const trace = (result.trace ?? []).map((e) => e.message);
    expect(trace).toEqual(
      expect.arrayContaining([expect.stringMatching(/^step ra rejected: out\.txt does not contain "good"/), expect.stringMatching(/^re-plan 1: 1 steps — rb/)]),
    );
    // The planner heard what was rejected and why.
    const replan = h.fake.requests.find((r) => r.task === taskId && r.stage === 'plan' && JSON.stringify(r.body).includes('Re-plan'));
    expect(JSON.stringify(replan!.body)).toMatch(/ra: step ra — out\.txt does not contain/);
  });

  it('stops after maxReplans and fails with the problems', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'stuck-team', workspace, mode: 'accept-edits', confirmResult: 'never' }, { team: { maxReplans: 1 } });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.verified).toBe(false);
    expect(result.team!.budget.replans).toBe(1);
    expect(result.team!.steps[0]).toMatchObject({ id: 'na', state: 'failed', attempt: 2 });
    expect(result.problems[0]).toMatch(/\[na\] failed: never\.txt does not contain "good"/);
  });

  it("a child's risky call raises an approval on the parent's status, blocks until decided, and is decided through the parent", async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'approval-team', workspace }, { team: {} });
    const view = await waitFor(
      async () => {
        const v = await h.client.status(taskId);
        return v.pendingApprovals.length ? v : null;
      },
      'the child approval on the parent',
      45_000,
    );
    expect(view.status).toBe('waiting_approval');
    expect(view.pendingApprovals[0]).toMatchObject({ requestId: 'aw.1-apr-1', tool: 'write_file', taskId: `${taskId}.aw.1` });
    expect(view.team!.steps[0]).toMatchObject({ id: 'aw', state: 'running' });
    // Blocked: nothing written while it waits.
    await new Promise((r) => setTimeout(r, 500));
    await expect(stat(path.join(workspace, 'approved.txt'))).rejects.toThrow();

    const record = await h.client.decide(taskId, undefined, { approve: true, decidedBy: 'tester', channel: 'cli' });
    expect(record).toMatchObject({ outcome: 'approved', requestId: 'aw.1-apr-1' });
    // The verifier's check command goes through the same gate: `grep -q` is read-only, so it runs without asking.
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.team!.steps[0]!.evidence).toEqual(['approved.txt contains "yes"', expect.stringMatching(/^`grep -q yes approved\.txt` → exit code 0/)]);
    expect(result.approvals).toEqual([expect.objectContaining({ requestId: 'aw.1-apr-1', outcome: 'approved', decidedBy: 'tester' })]);
  });

  it('a child cannot bypass the gate: the task deny rule binds the worker', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'gate-team', workspace, rules: ['deny run_command'], mode: 'bypass', confirmResult: 'never' }, { team: { maxReplans: 0 } });
    const result = await h.client.result(taskId);
    await expect(stat(path.join(workspace, 'pwned.txt'))).rejects.toThrow();
    expect(result.status).toBe('failed');
    expect(result.team!.steps[0]).toMatchObject({ state: 'failed', problems: [expect.stringMatching(/pwned\.txt does not exist/)] });
    const childTrace = await h.client.trace(`${taskId}.gx.1`);
    expect(childTrace.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^run_command → deny \(.*deny run_command/)]));
  });

  it('enforces the step budget and shows it in status', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'budget-team', workspace, mode: 'accept-edits', confirmResult: 'never' }, { team: { maxParallel: 1, maxSteps: 1 } });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.team!.budget).toMatchObject({ maxSteps: 1, stepsStarted: 1, exhausted: 'max steps (1) reached' });
    expect(result.team!.steps.map((s) => s.state)).toEqual(['passed', 'blocked']);
    expect(result.problems).toEqual(expect.arrayContaining(['budget exhausted: max steps (1) reached']));
    const status = await h.client.status(taskId);
    expect(status.team!.budget.exhausted).toBe('max steps (1) reached');
  });

  it('enforces the token budget before starting a step', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'budget-team: tokens', workspace, mode: 'accept-edits', confirmResult: 'never' }, { team: { maxTokens: 500 } });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.team!.budget.exhausted).toMatch(/^max tokens \(500\) reached: \d+ used$/);
    expect(result.team!.budget.stepsStarted).toBe(0);
    expect(result.team!.steps.map((s) => s.state)).toEqual(['blocked', 'blocked']);
  });

  it('enforces the token budget while a step runs: the step stops long before its 30 turns', async () => {
    const workspace = await makeWorkspace({ 'f0.txt': 'zero\n' });
    const taskId = await h.client.start({ prompt: 'token-team', workspace, confirmResult: 'never' }, { team: { maxTokens: 8_000, stepMaxTurns: 40, maxReplans: 0 } });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.team!.budget.exhausted).toMatch(/^max tokens \(8000\) reached: \d+ used$/);
    const turns = h.fake.requests.filter((r) => r.task === `${taskId}.tk.1` && r.stage === 'execute').length;
    expect(turns).toBeGreaterThan(0);
    expect(turns).toBeLessThan(15);
    // Spend is counted whether the worker stopped itself or was cancelled: the total is past the budget.
    expect(result.team!.budget.tokensUsed).toBeGreaterThanOrEqual(8_000);
  });

  it('enforces the wall-time budget by cancelling the running child', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'cancel-team: wall', workspace, confirmResult: 'never' }, { team: { maxWallMs: 5_000 } });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.team!.budget.exhausted).toBe('max wall time (5s) reached');
    expect(result.team!.steps[0]!.state).toBe('cancelled');
    expect((await h.client.client.workflow.getHandle(`${taskId}.ca.1`).describe()).status.name).toBe('CANCELLED');
  });

  it('a child cancelled on its own is a failed step, not a failed team; its pending approval leaves the parent', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'cancel-team: just the child', workspace, confirmResult: 'never' }, { team: { maxReplans: 0 } });
    await waitFor(async () => ((await h.client.status(taskId)).pendingApprovals.length ? true : null), 'the child approval', 45_000);
    await h.client.cancel(`${taskId}.ca.1`);
    const result = await h.client.result(taskId);
    expect(result.status).toBe('failed');
    expect(result.team!.steps[0]).toMatchObject({ id: 'ca', state: 'failed', problems: [expect.stringMatching(/^the step failed: .*cancel/i)] });
    const status = await h.client.status(taskId);
    expect(status.pendingApprovals).toEqual([]);
  });

  it('cancelling the task cancels its children', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'cancel-team', workspace }, { team: {} });
    await waitFor(async () => ((await h.client.status(taskId)).pendingApprovals.length ? true : null), 'the child approval', 45_000);
    await h.client.cancel(taskId);
    await waitFor(async () => ((await h.client.client.workflow.getHandle(taskId).describe()).status.name === 'CANCELLED' ? true : null), 'the parent to end cancelled');
    expect((await h.client.client.workflow.getHandle(`${taskId}.ca.1`).describe()).status.name).toBe('CANCELLED');
    expect((await h.client.status(taskId)).status).toBe('cancelled');
  });
});
