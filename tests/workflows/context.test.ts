/**
 * Long tasks on a real Temporal server, against the fake LLM at its strictest: a 200k-token window
 * answered with the API's 400, prompt caching with the API's usage fields, max_tokens enforced,
 * every stop_reason. The task must finish (never fail with nothing), cost what it should, and keep
 * its history small.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../servers/fake-llm/fake-llm-server';
import { makeWorkspace, useTaskHarness } from '../support/harness';
import { scenario } from '../support/scripts';

const WINDOW = 200_000;
const reads = (n: number, prefix = 'src/f') =>
  Array.from({ length: n }, (_, i) => ({ text: `part ${i + 1}`, toolCalls: [{ name: 'read_file', input: { path: `${prefix}${i + 1}.ts` } }] }));
const BIG_CONTENT = 'const answer = 42;\n'.repeat(2_400); // ~45 KB: ~11k output tokens, over the default 8,192
const h = useTaskHarness({
  contextWindow: WINDOW,
  scenarios: [
    scenario('long-40', { execute: [...reads(40), { text: 'read all 40' }] }),
    scenario('long-120', { execute: [...reads(120), { text: 'read all 120' }] }),
    scenario('huge-files', { execute: [...reads(12, 'big/b'), { text: 'read the big ones' }] }),
    scenario('cut-tool-call', { needsWrite: true, execute: [{ toolCalls: [{ name: 'write_file', input: { path: 'big.ts', content: BIG_CONTENT } }] }, { text: 'wrote big.ts' }] }),
    scenario('cut-text', { execute: [{ text: 'The first half of a long answer', stopReason: 'max_tokens' }, { text: 'and the rest of it.' }] }),
    scenario('refuse-me', { execute: [{ toolCalls: [{ name: 'list_files', input: {} }] }, { text: 'I will not do this.', stopReason: 'refusal' }] }),
    scenario('pause-me', { execute: [{ text: 'Searching…', stopReason: 'pause_turn' }, { text: 'Found it.' }] }),
    scenario('overflow-once', {
      execute: [
        { toolCalls: [{ name: 'read_file', input: { path: 'src/f1.ts' } }] },
        { text: 'done after recovering', errors: [{ status: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' }] },
      ],
    }),
    scenario('turn-limit', { execute: [...reads(10), { text: 'never reached' }] }),
  ],
});

/** Files that read like code, so the fake's token counts behave like real ones. */
async function sourceTree(count: number, bytes: number, dir = 'src', name = 'f'): Promise<string> {
  const workspace = await makeWorkspace();
  await mkdir(path.join(workspace, dir), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const lines: string[] = [];
    for (let j = 0, size = 0; size < bytes; j++) {
      const line = `export const value${i}_${j} = compute(${j}, '${name}${i}') + ${i * j};`;
      lines.push(line);
      size += line.length + 1;
    }
    await writeFile(path.join(workspace, dir, `${name}${i}.ts`), lines.join('\n').slice(0, bytes));
  }
  return workspace;
}

const calls = (taskId: string, stage = 'execute') => h.fake.requests.filter((r: RecordedRequest) => r.task === taskId && r.stage === stage && r.status === 200);
const traceOf = async (taskId: string) => (await h.client.result(taskId)).trace!.map((e) => e.message);

describe('long tasks survive the context window', () => {
  it('120 turns of 8 KB outputs complete against a 200k window: clearing in batches, peak under 80%, history small', { timeout: 240_000 }, async () => {
    const workspace = await sourceTree(120, 8 * 1024);
    const taskId = await h.client.start({ prompt: 'long-120: read every file', workspace, maxTurns: 125, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.turns).toBe(121);
    const executes = calls(taskId);
    expect(Math.max(...executes.map((r) => r.inputTokens!))).toBeLessThanOrEqual(0.8 * WINDOW);
    expect(h.fake.requests.filter((r) => r.task === taskId && r.status === 400)).toEqual([]);
    const trace = await traceOf(taskId);
    expect(trace.some((m) => /context: cleared older tool outputs/.test(m))).toBe(true);
    // Billed input per turn does not keep growing: the last 20 turns cost about what turns 21–40 did.
    const billed = (r: RecordedRequest) => r.usage!.input_tokens + 1.25 * r.usage!.cache_creation_input_tokens + 0.1 * r.usage!.cache_read_input_tokens;
    const avg = (rs: RecordedRequest[]) => rs.reduce((n, r) => n + billed(r), 0) / rs.length;
    expect(avg(executes.slice(-20))).toBeLessThan(2 * avg(executes.slice(20, 40)));
    // History stays far below Temporal's warning limits (10,240 events, 10 MB).
    const history = await h.client.handle(taskId).fetchHistory();
    expect(history.events!.length).toBeLessThan(5_000);
    expect(Buffer.byteLength(JSON.stringify(history))).toBeLessThan(2 * 1024 * 1024);
    // The verifier and the answer read the ledger of every call, not a tail.
    const verify = calls(taskId, 'verify')[0]!;
    expect(JSON.stringify(verify.body.messages)).toMatch(/Every tool call of the task \(the permission gate's record, 120 calls\)/);
  });

  it('40 turns of 8 KB outputs: cache reads are at least 80% of the input tokens', { timeout: 120_000 }, async () => {
    const workspace = await sourceTree(40, 8 * 1024);
    const taskId = await h.client.start({ prompt: 'long-40: read every file', workspace, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const executes = calls(taskId);
    const input = executes.reduce((n, r) => n + r.inputTokens!, 0);
    const read = executes.reduce((n, r) => n + r.usage!.cache_read_input_tokens, 0);
    expect(read / input).toBeGreaterThanOrEqual(0.8);
    // The task's own accounting agrees with what the API reported, all four kinds.
    expect(result.tokens!.cacheRead).toBeGreaterThanOrEqual(read);
    expect(result.tokens!.costUsd).toBeGreaterThan(0);
  });

  it('reading 126 KB files completes: each output is cut for the model and stays readable with read_output', { timeout: 120_000 }, async () => {
    const workspace = await sourceTree(12, 126 * 1024, 'big', 'b');
    const taskId = await h.client.start({ prompt: 'huge-files: read them', workspace, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const first = calls(taskId)[1]!;
    const toolResult = JSON.stringify(first.body.messages.at(-1));
    expect(toolResult).toMatch(/output truncated: showing the first 20,000 of 1\d\d,\d{3} bytes; read_output/);
    expect(Math.max(...calls(taskId).map((r) => r.inputTokens!))).toBeLessThanOrEqual(0.8 * WINDOW);
  });

  it('a 400 "prompt is too long" compacts and retries: the task completes with a summary in place of the old turns', { timeout: 60_000 }, async () => {
    const workspace = await sourceTree(1, 8 * 1024);
    const taskId = await h.client.start({ prompt: 'overflow-once: go', workspace, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.compactions).toBe(1);
    expect(calls(taskId, 'compact')).toHaveLength(1);
    const after = calls(taskId).at(-1)!;
    const first = JSON.stringify(after.body.messages[0]);
    expect(first).toMatch(/summary-of-earlier-work compactions=\\"1\\"/);
    expect(first.match(/summary-of-earlier-work compactions/g)).toHaveLength(1);
    expect((await traceOf(taskId)).some((m) => /^compaction 1: /.test(m))).toBe(true);
  });
});

describe('every stop_reason', () => {
  it('a tool call cut off at max_tokens is never run with partial arguments; retried with a larger budget, it writes the whole file once', { timeout: 60_000 }, async () => {
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'cut-tool-call: write it', workspace, mode: 'accept-edits', confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(await readFile(path.join(workspace, 'big.ts'), 'utf8')).toBe(BIG_CONTENT);
    const first = calls(taskId).filter((r) => r.turn === 0);
    expect(first.map((r) => r.maxTokens)).toEqual([8_192, 16_384]);
    expect(result.toolCalls).toBe(1);
    expect((await traceOf(taskId)).some((m) => /write_file call was cut off at 8192 output tokens; retrying the turn with 16384/.test(m))).toBe(true);
  });

  it('a text cut off at max_tokens continues instead of ending the task as an answer', { timeout: 60_000 }, async () => {
    const taskId = await h.client.start({ prompt: 'cut-text: explain', workspace: await makeWorkspace(), confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const second = calls(taskId)[1]!;
    expect(JSON.stringify(second.body.messages.at(-1))).toContain('Continue exactly where you stopped');
  });

  it('a refusal ends the task as refused, and verify and respond still run', { timeout: 60_000 }, async () => {
    const taskId = await h.client.start({ prompt: 'refuse-me: do the thing', workspace: await makeWorkspace(), confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('refused');
    expect(result.stopReason).toBe('the model refused to continue');
    expect(calls(taskId, 'respond')).toHaveLength(1);
  });

  it('pause_turn is resent as it is and the model continues its turn', { timeout: 60_000 }, async () => {
    const taskId = await h.client.start({ prompt: 'pause-me: search', workspace: await makeWorkspace(), confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const resent = calls(taskId)[1]!;
    expect(resent.body.messages.at(-1)).toMatchObject({ role: 'assistant' });
  });

  it('running out of turns is reported as incomplete, with the last tool results answered for the verifier', { timeout: 60_000 }, async () => {
    const workspace = await sourceTree(10, 1024);
    const taskId = await h.client.start({ prompt: 'turn-limit: read', workspace, maxTurns: 3, confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('incomplete');
    expect(result.stopReason).toBe('the turn limit (3)');
    expect(result.toolCalls).toBe(3);
    expect(JSON.stringify(calls(taskId, 'verify')[0]!.body.messages)).toContain('turn 3: read_file src/f3.ts → ok');
  });
});
