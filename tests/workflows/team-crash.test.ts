/**
 * An agent team survives a worker SIGKILL in the middle of a child step: the same child workflow
 * resumes on a new worker process (no step is started twice), and the team finishes verified.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, spawnCli, useWorkerProcesses, waitFor } from '../support/harness';
import { stepScenario, teamScenario } from '../support/team-scripts';

const h = useWorkerProcesses({
  scenarios: [
    // The first model turn of step ka is slow, so the worker can be killed while the child is mid-step.
    stepScenario('ka', [{ toolCalls: [{ name: 'write_file', input: { path: 'k.txt', content: 'kept\n' } }], delayMs: 4_000 }, { text: 'wrote k.txt' }]),
    stepScenario('kb', [{ toolCalls: [{ name: 'write_file', input: { path: 'kb.txt', content: 'bee\n' } }] }, { text: 'wrote kb.txt' }]),
    teamScenario('crash-team', [
      { id: 'ka', evidence: [{ kind: 'file_contains', path: 'k.txt', text: 'kept' }] },
      { id: 'kb', dependsOn: ['ka'], evidence: [{ kind: 'file_exists', path: 'kb.txt' }] },
    ]),
  ],
});

describe('agent team and worker SIGKILL', () => {
  it('a worker killed during a child step: the same child resumes elsewhere and the team completes', async () => {
    const workspace = await makeWorkspace();
    const first = spawnCli(['worker'], h.env);
    h.workers.push(first);
    const taskId = await h.client.start({ prompt: 'crash-team', workspace, mode: 'accept-edits' }, { team: {} });
    const childId = `${taskId}.ka.1`;
    await waitFor(async () => h.fake.requests.some((r) => r.task === childId && r.stage === 'execute'), 'the child step to call the model', 60_000);
    first.child.kill('SIGKILL');
    await first.done;

    h.workers.push(spawnCli(['worker'], h.env));
    const result = await h.client.result(taskId);
    expect(result.status, JSON.stringify(result.team?.steps)).toBe('completed');
    expect(result.team!.steps.map((s) => [s.id, s.state, s.attempt])).toEqual([
      ['ka', 'passed', 1],
      ['kb', 'passed', 1],
    ]);
    expect(result.team!.budget.stepsStarted).toBe(2);
    expect(await readFile(path.join(workspace, 'k.txt'), 'utf8')).toBe('kept\n');
    // The child that was mid-step is the one that finished: one run, completed.
    const runs = [];
    for await (const wf of h.client.client.workflow.list({ query: `WorkflowId = '${childId}'` })) runs.push(wf.status.name);
    expect(runs).toEqual(['COMPLETED']);
    // Two worker processes start, and the dead one's model call must time out before it is retried: ~50 s on an idle machine.
  }, 180_000);
});
