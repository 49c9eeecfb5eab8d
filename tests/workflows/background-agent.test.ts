/**
 * Background agents on a real Temporal server: an inbox that handles every message exactly once
 * across forced continue-as-new, duplicate signals ignored, budgets that pause with a reason, a
 * Schedule trigger that fires, the kill switch cancelling a running child, and a worker restart.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backgroundWorkflowId, type BackgroundStatusView } from '../../domain/background-agent';
import { BackgroundClient, parseEvery } from '../../client/background-client';
import { UserError } from '../../client/user-error';
import { makeWorkspace, startTestWorker, useTaskHarness, waitFor } from '../support/harness';
import { scenario } from '../support/scripts';

const h = useTaskHarness({
  scenarios: [
    scenario('slow-job', {
      needsShell: true,
      execute: [{ toolCalls: [{ name: 'run_command', input: { command: 'sleep 120' } }] }, { text: 'done' }],
    }),
    // Every other background task: one model turn, no tools.
    scenario('Standing goal', { execute: [{ text: 'handled' }] }),
  ],
});

const uniqueName = (base: string) => `${base}-${randomBytes(3).toString('hex')}`;
const bg = () => new BackgroundClient(h.client.client, h.env.AGENT_TASK_QUEUE!, () => h.client.approverKeys());

async function statusWhen(name: string, ok: (v: BackgroundStatusView) => boolean, what: string, timeoutMs = 60_000) {
  return await waitFor(
    async () => {
      const view = await bg().status(name);
      return ok(view) ? view : null;
    },
    what,
    timeoutMs,
  );
}

/** The intent-stage prompts the fake model saw for one agent's child tasks. */
function promptsFor(name: string): string[] {
  return h.fake.requests.filter((r) => r.stage === 'intent' && r.task.startsWith(`${backgroundWorkflowId(name)}-`)).map((r) => JSON.stringify(r.body.messages));
}

describe('background agents', () => {
  it('handles 50 messages exactly once across forced continue-as-new, ignoring re-sent signals', async () => {
    const name = uniqueName('inbox');
    const workspace = await makeWorkspace({});
    await bg().start({ name, goal: 'answer each message', workspace, continueAsNewAfterEvents: 60, budget: { tasksPerDay: 1_000, tokensPerDay: 100_000_000 } });
    for (let i = 1; i <= 50; i++) {
      await bg().send(name, `message #${i}#`, 'tester', `m-${i}`);
      if (i % 10 === 0) await bg().send(name, `message #${i}# (re-sent)`, 'tester', `m-${i}`); // same id: ignored
    }
    const done = await statusWhen(name, (v) => v.handledTotal >= 50 && v.inbox.length === 0 && v.state === 'idle', '50 handled messages', 120_000);
    expect(done.handledTotal).toBe(50);
    expect(done.generation).toBeGreaterThan(0); // continue-as-new happened at least once
    const prompts = promptsFor(name);
    for (let i = 1; i <= 50; i++)
      expect(
        prompts.filter((p) => p.includes(`message #${i}#`)),
        `message ${i}`,
      ).toHaveLength(1);
    expect(prompts.join('\n')).not.toContain('re-sent');
    // A re-send after continue-as-new is still recognised.
    await bg().send(name, 'message #1# again', 'tester', 'm-1');
    await new Promise((r) => setTimeout(r, 500));
    expect((await bg().status(name)).handledTotal).toBe(50);
    await bg().stop(name, 'tester');
    const result = await h.client.client.workflow.getHandle(backgroundWorkflowId(name)).result();
    expect(result).toMatchObject({ handledTotal: 50, unhandled: 0, stoppedBy: 'tester' });
  }, 180_000);

  it('pauses with a reason when the daily budget is used, and resumes on request', async () => {
    const name = uniqueName('budget');
    await bg().start({ name, goal: 'answer each message', workspace: await makeWorkspace({}), budget: { tasksPerDay: 2, tokensPerDay: 100_000_000 } });
    for (const i of [1, 2, 3]) await bg().send(name, `budget message ${i}`, 'tester');
    const paused = await statusWhen(name, (v) => v.state === 'paused', 'a budget pause');
    expect(paused.handledTotal).toBe(2);
    expect(paused.inbox).toHaveLength(1);
    expect(paused.pausedReason).toMatch(/over budget: daily task budget used \(2\/2 tasks/);
    // Manual pause and resume; resuming while still over budget pauses again with the same reason.
    await bg().resume(name, 'tester');
    const again = await statusWhen(name, (v) => v.state === 'paused', 'the budget pause again');
    expect(again.handledTotal).toBe(2);
    await bg().stop(name, 'tester', 'test over');
    const result = await h.client.client.workflow.getHandle(backgroundWorkflowId(name)).result();
    expect(result).toMatchObject({ handledTotal: 2, unhandled: 1, reason: 'test over' });
  });

  it('a Schedule trigger fires and runs the standing goal; stop deletes the schedule', async () => {
    const name = uniqueName('sched');
    await bg().start({ name, goal: 'check the build', workspace: await makeWorkspace({}), every: '2s' });
    const view = await statusWhen(name, (v) => v.recentRuns.some((r) => r.kind === 'trigger'), 'a scheduled run', 30_000);
    expect(view.every).toBe('2s');
    expect(view.recentRuns.find((r) => r.kind === 'trigger')!.status).toBe('completed');
    expect(promptsFor(name).some((p) => p.includes('Scheduled run'))).toBe(true);
    await bg().stop(name, 'tester');
    await expect(h.client.client.schedule.getHandle(`bg-${name}-schedule`).describe()).rejects.toThrow();
  });

  it('the kill switch cancels the running task; a worker restart loses nothing', async () => {
    const name = uniqueName('kill');
    await bg().start({ name, goal: 'run the slow-job', workspace: await makeWorkspace({}), rules: ['allow run_command(sleep *)'] });
    await bg().send(name, 'slow-job please', 'tester');
    const working = await statusWhen(name, (v) => v.state === 'working', 'the agent working');
    const child = working.currentTaskId!;
    await waitFor(async () => (await h.client.status(child)).toolCalls === 0 && (await h.client.status(child)).stage === 'execute', 'the child executing');
    await bg().stop(name, 'tester', 'kill switch');
    const result = await h.client.client.workflow.getHandle(backgroundWorkflowId(name)).result();
    expect(result).toMatchObject({ stoppedBy: 'tester', reason: 'kill switch', unhandled: 1 });
    expect((await h.client.status(child)).status).toBe('cancelled');

    // Messages sent while no worker runs are handled once one is back.
    const name2 = uniqueName('restart');
    await bg().start({ name: name2, goal: 'answer each message', workspace: await makeWorkspace({}) });
    await statusWhen(name2, (v) => v.state === 'idle', 'the agent idle');
    await h.worker.stop();
    try {
      await bg().send(name2, 'sent while the worker was down', 'tester', 'down-1');
      h.worker = await startTestWorker(h.env);
      const view = await statusWhen(name2, (v) => v.handledTotal === 1, 'the message handled after restart');
      expect(view.recentRuns[0]).toMatchObject({ itemId: 'down-1', status: 'completed' });
    } finally {
      await bg()
        .stop(name2, 'tester')
        .catch(() => {});
    }
  }, 120_000);

  it('rejects bad names, an empty goal, bad intervals and unknown agents with clear errors', async () => {
    await expect(bg().start({ name: 'Bad Name', goal: 'x', workspace: '/tmp' })).rejects.toThrow(/lowercase letters, digits and dashes/);
    await expect(bg().start({ name: 'ok', goal: '  ', workspace: '/tmp' })).rejects.toThrow(/goal is empty/);
    expect(() => parseEvery('every tuesday')).toThrow(UserError);
    expect(parseEvery('15m')).toEqual({ intervals: [{ every: 900_000 }] });
    expect(parseEvery('0 9 * * 1-5')).toEqual({ cronExpressions: ['0 9 * * 1-5'] });
    await expect(bg().send('no-such-agent', 'hi', 'tester')).rejects.toThrow(/no background agent named no-such-agent/);
    const name = uniqueName('dup');
    await bg().start({ name, goal: 'x', workspace: await makeWorkspace({}) });
    await expect(bg().start({ name, goal: 'x', workspace: await makeWorkspace({}) })).rejects.toThrow(/already running/);
    await bg().stop(name, 'tester');
  });
});
