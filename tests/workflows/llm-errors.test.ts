/** Model failures get the right retry behaviour: Temporal retries, the Anthropic client never does. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../client/fake-llm/fake-llm-server';
import { parseScript } from '../../client/fake-llm/script';
import { UserError, type TaskClient } from '../../client/task-client';
import { connectClient, makeWorkspace, startTestWorker, testEnv, type TestWorker } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

let fake: FakeLlm;
let worker: TestWorker;
let client: TaskClient;

const intent = (goal: string) => ({ input: { goal, kind: 'question', needsWrite: false, needsShell: false, summary: goal } });

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        scenario('rate-limited', { intent: { ...intent('rate-limited'), errors: [{ status: 429, retryAfter: 2 }] }, execute: [{ text: 'ok' }] }),
        scenario('server-error', { plan: { input: { steps: [{ title: 'x' }] }, errors: [{ status: 500 }, { status: 529 }] }, execute: [{ text: 'ok' }] }),
        scenario('bad-request', { intent: { ...intent('bad'), errors: [{ status: 400, message: 'prompt is too long' }] }, execute: [{ text: 'ok' }] }),
        scenario('bad-intent', { intent: { input: { goal: 42 } }, execute: [{ text: 'ok' }] }),
        scenario('bad-tool-args', {
          execute: [
            { toolCalls: [{ name: 'read_file', input: { paht: 'a.txt' } }] },
            { toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }] },
            { text: 'read it' },
          ],
        }),
      ],
    }),
  );
  const env = await testEnv(fake.url);
  worker = await startTestWorker(env);
  client = await connectClient(env);
});
afterAll(async () => {
  await client?.close();
  await worker?.stop();
  await fake?.close();
});

const requestsOf = (taskId: string, stage: string) => fake.requests.filter((r) => r.task === taskId && r.stage === stage);

describe('LLM errors', () => {
  it('429 with retry-after: retried after the provider delay, then completes', async () => {
    const taskId = await client.start({ prompt: 'rate-limited', workspace: await makeWorkspace() });
    expect((await client.result(taskId)).status).toBe('completed');
    const attempts = requestsOf(taskId, 'intent');
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_900);
  });

  it('500 and 529: retried with backoff until the model answers', async () => {
    const taskId = await client.start({ prompt: 'server-error', workspace: await makeWorkspace() });
    expect((await client.result(taskId)).status).toBe('completed');
    expect(requestsOf(taskId, 'plan').map((a) => a.status)).toEqual([500, 529, 200]);
  });

  it('400: not retried; the task fails with the provider message', async () => {
    const taskId = await client.start({ prompt: 'bad-request', workspace: await makeWorkspace() });
    await expect(client.result(taskId)).rejects.toThrow(UserError);
    expect(requestsOf(taskId, 'intent')).toHaveLength(1);
    const view = await client.status(taskId);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/400.*prompt is too long/);
  });

  it('malformed structured output: retried a bounded number of times, then fails clearly', async () => {
    const taskId = await client.start({ prompt: 'bad-intent', workspace: await makeWorkspace() });
    await expect(client.result(taskId)).rejects.toThrow(/intent output is malformed: goal/);
    expect(requestsOf(taskId, 'intent')).toHaveLength(3);
  });

  it('malformed tool arguments go back to the model as an error tool_result, and it recovers', async () => {
    const taskId = await client.start({ prompt: 'bad-tool-args', workspace: await makeWorkspace({ 'a.txt': 'hello\n' }) });
    const result = await client.result(taskId);
    expect(result.status).toBe('completed');
    const [invalid] = toolResultsAt(fake.requests, taskId, 1);
    expect(invalid).toMatchObject({ is_error: true, content: expect.stringMatching(/invalid arguments for read_file: .*path/) });
    const [ok] = toolResultsAt(fake.requests, taskId, 2);
    expect(ok).toMatchObject({ is_error: false, content: expect.stringContaining('hello') });
  });
});
