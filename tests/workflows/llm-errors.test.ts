/** Model failures get the right retry behaviour: Temporal retries, the Anthropic client never does. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../client/user-error';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const intent = (goal: string) => ({ input: { goal, kind: 'question', needsWrite: false, needsShell: false, summary: goal } });

const h = useTaskHarness({
  scenarios: [
    scenario('rate-limited', { intent: { ...intent('rate-limited'), errors: [{ status: 429, retryAfter: 2 }] }, execute: [{ text: 'ok' }] }),
    scenario('server-error', { plan: { input: { steps: [{ title: 'x' }] }, errors: [{ status: 500 }, { status: 529 }] }, execute: [{ text: 'ok' }] }),
    scenario('down-a-while', {
      plan: {
        input: { steps: [{ title: 'x' }] },
        errors: [
          { status: 500, message: 'upstream down' },
          { status: 500, message: 'upstream down' },
          { status: 500, message: 'upstream down' },
        ],
      },
      execute: [{ text: 'ok' }],
    }),
    scenario('bad-request', { intent: { ...intent('bad'), errors: [{ status: 400, message: 'prompt is too long' }] }, execute: [{ text: 'ok' }] }),
    scenario('bad-intent', { intent: { input: { goal: 42 } }, execute: [{ text: 'ok' }] }),
    scenario('bad-tool-args', {
      execute: [{ toolCalls: [{ name: 'read_file', input: { paht: 'a.txt' } }] }, { toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }] }, { text: 'read it' }],
    }),
  ],
});

const requestsOf = (taskId: string, stage: string) => h.fake.requests.filter((r) => r.task === taskId && r.stage === stage);

describe('LLM errors', () => {
  it('429 with retry-after: retried after the provider delay, then completes', async () => {
    const taskId = await h.client.start({ prompt: 'rate-limited', workspace: await makeWorkspace() });
    expect((await h.client.result(taskId)).status).toBe('completed');
    const attempts = requestsOf(taskId, 'intent');
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_900);
  });

  it('while a model call is being retried, status says which, which attempt and why', async () => {
    const taskId = await h.client.start({ prompt: 'down-a-while', workspace: await makeWorkspace() });
    const retrying = await waitFor(async () => (await h.client.status(taskId)).retrying?.[0], 'status to show the retry');
    expect(retrying).toMatchObject({ activity: 'makePlan', attempt: expect.any(Number), lastFailure: expect.stringMatching(/model API 500 error: .*upstream down/) });
    expect(retrying.attempt).toBeGreaterThan(1);
    expect((await h.client.result(taskId)).status).toBe('completed');
  });

  it('500 and 529: retried with backoff until the model answers', async () => {
    const taskId = await h.client.start({ prompt: 'server-error', workspace: await makeWorkspace() });
    expect((await h.client.result(taskId)).status).toBe('completed');
    expect(requestsOf(taskId, 'plan').map((a) => a.status)).toEqual([500, 529, 200]);
  });

  it('400: not retried; the task fails with the provider message', async () => {
    const taskId = await h.client.start({ prompt: 'bad-request', workspace: await makeWorkspace() });
    await expect(h.client.result(taskId)).rejects.toThrow(UserError);
    expect(requestsOf(taskId, 'intent')).toHaveLength(1);
    const view = await h.client.status(taskId);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/400.*prompt is too long/);
  });

  it('malformed structured output: retried a bounded number of times, then fails clearly', async () => {
    const taskId = await h.client.start({ prompt: 'bad-intent', workspace: await makeWorkspace() });
    await expect(h.client.result(taskId)).rejects.toThrow(/intent output is malformed: goal/);
    expect(requestsOf(taskId, 'intent')).toHaveLength(3);
  });

  it('malformed tool arguments go back to the model as an error tool_result, and it recovers', async () => {
    const taskId = await h.client.start({ prompt: 'bad-tool-args', workspace: await makeWorkspace({ 'a.txt': 'hello\n' }) });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const [invalid] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(invalid).toMatchObject({ is_error: true, content: expect.stringMatching(/invalid arguments for read_file: .*path/) });
    const [ok] = toolResultsAt(h.fake.requests, taskId, 2);
    expect(ok).toMatchObject({ is_error: false, content: expect.stringContaining('hello') });
  });
});
