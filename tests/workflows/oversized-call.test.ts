/**
 * A model answer too large for workflow history (a write_file of 300 KB; history's payload limit is
 * 2 MB, its warning 256 KB) must cost one failed tool call, not the task: the call is answered with
 * an error telling the model to write in parts, and the task goes on.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, useTaskHarness } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const HUGE = 'x'.repeat(300 * 1024);
// A large output budget, so the fake lets the whole answer through as an endpoint without limits would.
const h = useTaskHarness(
  {
    scenarios: [
      scenario('huge-write', {
        needsWrite: true,
        execute: [
          { toolCalls: [{ name: 'write_file', input: { path: 'big.txt', content: HUGE } }] },
          { toolCalls: [{ name: 'write_file', input: { path: 'big.txt', content: 'the first part\n' } }] },
          { text: 'wrote it in parts' },
        ],
      }),
    ],
  },
  { AGENT_MAX_TOKENS: '200000', AGENT_MEMORY: 'off' },
);

describe('oversized tool calls', () => {
  it('are answered with an error and never run; the task goes on', async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'huge-write', workspace, mode: 'accept-edits', confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const [answer] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(answer).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/^Error: the arguments of this write_file call are \d+ bytes, over the 256 KB a tool call may carry, so it was not run\. Split it/),
    });
    // Only the second, small write ran.
    expect((await stat(path.join(workspace, 'big.txt'))).size).toBe(15);
    expect(h.fake.requests.filter((r) => r.task === taskId && r.stage === 'execute' && r.turn === 0)).toHaveLength(1);
  });
});
