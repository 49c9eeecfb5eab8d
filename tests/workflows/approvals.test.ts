/** Approval semantics on a real Temporal server: timeout means deny; stale, duplicate and tampered decisions are rejected. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../client/user-error';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const writeB = [{ toolCalls: [{ name: 'write_file', input: { path: 'b.txt', content: 'bee\n' } }] }, { text: 'done' }];

const h = useTaskHarness({
  scenarios: [
    scenario('expire-me', { needsWrite: true, execute: writeB, verifyPassed: false }),
    scenario('stale-me', { needsWrite: true, execute: writeB }),
    // The scripted verifier claims success although the only write is denied: the record must win.
    scenario('claim-anyway', { needsWrite: true, execute: writeB, verifyPassed: true, plan: { input: { steps: [{ title: 'Write b.txt', tool: 'write_file' }] } } }),
    scenario('always-me', {
      needsShell: true,
      execute: [
        { toolCalls: [{ name: 'run_command', input: { command: 'echo one >> log.txt' } }] },
        {
          toolCalls: [
            { name: 'run_command', input: { command: 'echo one >> log.txt' } },
            { name: 'run_command', input: { command: 'echo two >> log.txt' } },
          ],
        },
        { text: 'done' },
      ],
    }),
  ],
});

const pending = (taskId: string) =>
  waitFor(async () => {
    const view = await h.client.status(taskId);
    return view.pendingApprovals.length ? view.pendingApprovals : null;
  }, `pending approval on ${taskId}`);

describe('task ids', () => {
  it('a task id names one task forever: reusing it is refused, even after the task ended', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'expire-me', workspace, approvalTimeoutMs: 1_000, confirmResult: 'never' });
    expect(taskId).toMatch(/^task-[0-9a-f]{12}$/);
    await expect(h.client.start({ prompt: 'expire-me', workspace }, { taskId })).rejects.toThrow(/task id task-[0-9a-f]{12} is already taken/);
    await h.client.result(taskId);
    await expect(h.client.start({ prompt: 'expire-me', workspace }, { taskId })).rejects.toThrow(/already taken/);
  });
});

describe('approvals', () => {
  it('a request nobody answers expires and counts as denied; the model is told', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'expire-me', workspace, approvalTimeoutMs: 1_500, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('denied');
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'expired', decidedBy: 'timeout', channel: 'timeout' })]);
    await expect(stat(path.join(workspace, 'b.txt'))).rejects.toThrow();
    const [toolResult] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(toolResult).toMatchObject({ is_error: true, content: expect.stringMatching(/nobody approved it in time/) });
    // Deciding after expiry is rejected with the reason.
    await expect(
      h.client.sendDecision(taskId, { requestId: 'apr-1', actionHash: result.approvals[0]!.actionHash, approve: true, always: false, decidedBy: 'late', channel: 'cli' }),
    ).rejects.toThrow(UserError);
  });

  it('rejects unknown, tampered and duplicate decisions without changing anything', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'stale-me', workspace });
    const [request] = await pending(taskId);
    const base = { approve: true, always: false, decidedBy: 'alice', channel: 'cli' as const };

    await expect(h.client.sendDecision(taskId, { ...base, requestId: 'apr-99', actionHash: request!.actionHash })).rejects.toThrow(/has no approval request apr-99/);
    await expect(h.client.sendDecision(taskId, { ...base, requestId: request!.requestId, actionHash: 'f'.repeat(64) })).rejects.toThrow(
      /different action \(action hash mismatch\)/,
    );
    expect((await h.client.status(taskId)).pendingApprovals).toHaveLength(1);

    const record = await h.client.sendDecision(taskId, { ...base, requestId: request!.requestId, actionHash: request!.actionHash });
    expect(record).toMatchObject({ outcome: 'approved', decidedBy: 'alice', actionHash: request!.actionHash });
    await expect(h.client.sendDecision(taskId, { ...base, decidedBy: 'bob', requestId: request!.requestId, actionHash: request!.actionHash })).rejects.toThrow(
      /already approved by alice/,
    );

    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.approvals).toHaveLength(1);
    // Rejected updates never reach history: exactly one accepted decision is recorded.
    const history = await h.client.handle(taskId).fetchHistory();
    const accepted = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1);
  });

  it('a denied write is not evidence: the task ends denied and the plan step stays unticked, whatever the verifier claims', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'claim-anyway', workspace, confirmResult: 'never' });
    const [request] = await pending(taskId);
    await h.client.decide(taskId, request!.requestId, { approve: false, reason: 'not now', decidedBy: 'alice', channel: 'cli' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('denied');
    expect(result.verified).toBe(false);
    expect(result.problems[0]).toBe('no file change happened: write_file b.txt was not approved');
    expect(result.plan).toEqual([{ index: 1, title: 'Write b.txt', state: 'pending' }]);
    expect(result.trace!.some((e) => /the verifier's pass does not match what happened/.test(e.message))).toBe(true);
  });

  it('"always" lets the same command through for the rest of the task, but not a different one', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'always-me', workspace });
    const [first] = await pending(taskId);
    await h.client.sendDecision(taskId, { requestId: first!.requestId, actionHash: first!.actionHash, approve: true, always: true, decidedBy: 'alice', channel: 'cli' });
    // Turn 2 repeats the exact command (allowed by the grant) and adds a new one (asks again).
    const [second] = await waitFor(async () => {
      const view = await h.client.status(taskId);
      return view.pendingApprovals.length && view.pendingApprovals[0]!.requestId !== first!.requestId ? view.pendingApprovals : null;
    }, 'second approval');
    expect(second!.input).toMatchObject({ command: 'echo two >> log.txt' });
    await h.client.sendDecision(taskId, { requestId: second!.requestId, actionHash: second!.actionHash, approve: false, always: false, decidedBy: 'alice', channel: 'cli' });
    const result = await h.client.result(taskId);
    expect(result.approvals.map((a) => a.outcome)).toEqual(['approved', 'denied']);
    const trace = result.trace!.map((e) => e.message).join('\n');
    expect(trace).toMatch(/remembered for this workspace: allow run_command\(echo one\)/);
    expect(trace).toMatch(/run_command → allow \([a-z-]+; allow run_command\(echo one\)\)/);
  });
});
