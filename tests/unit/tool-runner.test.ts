import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../services/state/file-state-store';
import { ToolRunner } from '../../services/tools/tool-runner';

let base: string;
let ws: string;
let store: FileStateStore;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'tool-runner-'));
  ws = path.join(base, 'ws');
  await mkdir(ws);
  store = new FileStateStore(path.join(base, 'state'));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const runner = (modelOutputLimit = 10_000, historyInlineBytes = 10_000) => new ToolRunner(store, { modelOutputLimit, historyInlineBytes });

describe('ToolRunner: non-idempotent tools', () => {
  it('runs write_file once and replays the recorded outcome for the same effect key', async () => {
    const tools = runner();
    const request = { effectKey: 'task-1/toolu_1', taskId: 'task-1', tool: 'write_file' as const, input: { path: 'out.txt', content: 'first' }, workspace: ws };
    const first = await tools.run(request);
    expect(first).toMatchObject({ status: 'ok', isError: false, content: 'created out.txt (5 bytes)', replayed: false, truncated: false });
    expect(await readFile(path.join(ws, 'out.txt'), 'utf8')).toBe('first');

    // Someone changes the file; a retry of the same call must not clobber it.
    await writeFile(path.join(ws, 'out.txt'), 'edited by a human');
    const second = await tools.run(request);
    expect(second).toEqual({ ...first, replayed: true });
    expect(await readFile(path.join(ws, 'out.txt'), 'utf8')).toBe('edited by a human');

    // A different effect key is a different call and does run.
    await tools.run({ ...request, effectKey: 'task-1/toolu_2' });
    expect(await readFile(path.join(ws, 'out.txt'), 'utf8')).toBe('first');
  });

  it('reports OUTCOME UNKNOWN, without running, when an earlier attempt started and never finished', async () => {
    const key = 'task-1/toolu_crashed';
    expect(await store.beginEffect(key)).toBeNull();
    const outcome = await runner().run({ effectKey: key, taskId: 'task-1', tool: 'write_file', input: { path: 'x.txt', content: 'boom' }, workspace: ws });
    expect(outcome.status).toBe('outcome-unknown');
    expect(outcome.isError).toBe(true);
    expect(outcome.replayed).toBe(false);
    expect(outcome.content).toMatch(/^OUTCOME UNKNOWN: write_file was started at \d{4}-\d\d-\d\dT/);
    expect(outcome.content).toContain('NOT run again');
    expect(await stat(path.join(ws, 'x.txt')).catch(() => null)).toBeNull();
    // Still unknown on the next retry: the journal is not "finished" by reporting it.
    expect((await runner().run({ effectKey: key, taskId: 'task-1', tool: 'write_file', input: { path: 'x.txt', content: 'boom' }, workspace: ws })).status).toBe('outcome-unknown');
  });

  it('records a tool error as the outcome and replays it', async () => {
    const tools = runner();
    const request = { effectKey: 'k-err', taskId: 'task-1', tool: 'write_file' as const, input: { path: '../escape.txt', content: 'x' }, workspace: ws };
    const first = await tools.run(request);
    expect(first).toMatchObject({ status: 'error', isError: true, replayed: false });
    expect(first.content).toMatch(/outside the workspace/);
    expect(await tools.run(request)).toEqual({ ...first, replayed: true });
    expect(await readdir(base)).not.toContain('escape.txt');
  });

  it('runs run_command once per effect key', async () => {
    const tools = runner();
    const request = { effectKey: 'k-cmd', taskId: 'task-1', tool: 'run_command' as const, input: { command: 'echo x >> log.txt; echo done' }, workspace: ws };
    const first = await tools.run(request);
    expect(first.content).toBe('exit code 0\n--- stdout ---\ndone\n');
    await tools.run(request);
    expect(await readFile(path.join(ws, 'log.txt'), 'utf8')).toBe('x\n');
  });
});

describe('ToolRunner: idempotent tools', () => {
  it('read_file ignores the journal and reads fresh content every time', async () => {
    await writeFile(path.join(ws, 'a.txt'), 'v1');
    const tools = runner();
    const request = { effectKey: 'same-key', taskId: 'task-1', tool: 'read_file' as const, input: { path: 'a.txt' }, workspace: ws };
    expect((await tools.run(request)).content).toBe('     1\tv1');
    await writeFile(path.join(ws, 'a.txt'), 'v2');
    const again = await tools.run(request);
    expect(again).toMatchObject({ content: '     1\tv2', replayed: false });
    // Even a stale "started" claim does not block an idempotent tool.
    await store.beginEffect('stale');
    expect((await tools.run({ ...request, effectKey: 'stale' })).status).toBe('ok');
    expect(await readdir(path.join(base, 'state', 'effects'))).toHaveLength(1);
  });

  it('returns a missing file as an error outcome for the model', async () => {
    const outcome = await runner().run({ effectKey: 'k', taskId: 'task-1', tool: 'read_file', input: { path: 'nope.txt' }, workspace: ws });
    expect(outcome).toMatchObject({ status: 'error', isError: true, content: 'nope.txt does not exist' });
  });
});

describe('ToolRunner: output bounds', () => {
  it('truncates output above modelOutputLimit and stores the whole output, tagged with its task, for read_output', async () => {
    const content = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    await writeFile(path.join(ws, 'big.txt'), content);
    const tools = runner(500, 1_000);
    const outcome = await tools.run({ effectKey: 'k', taskId: 'task-1', tool: 'read_file', input: { path: 'big.txt' }, workspace: ws });
    expect(outcome.truncated).toBe(true);
    expect(outcome.outputRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    const shown = outcome.content ?? (await store.getBlob(outcome.contentRef!));
    expect(shown).toMatch(
      new RegExp(
        `\\[output truncated: showing the first 500 of ${outcome.bytes.toLocaleString('en-US')} bytes; read_output \\{"id": "${outcome.outputRef}", "offset": 500\\} shows more\\]$`,
      ),
    );
    expect(Buffer.byteLength(shown.split('\n[output truncated')[0]!)).toBe(500);
    expect(outcome.preview.length).toBeLessThanOrEqual(401);
    // read_output pages the whole output back, for this task only.
    const page = await tools.run({ effectKey: 'k2', taskId: 'task-1', tool: 'read_output', input: { id: outcome.outputRef, offset: outcome.bytes - 250 }, workspace: ws });
    expect(page).toMatchObject({ status: 'ok', truncated: false });
    const pageText = page.content ?? (await store.getBlob(page.contentRef!));
    expect(pageText).toMatch(/^\[read_file output sha256:[0-9a-f]{64}: bytes [\d,]+–[\d,]+ of [\d,]+; the end\]\n/);
    expect(pageText).toContain('   200\tline 199 ');
    // Pages are cut to what the model may see of one output, and say where the next one starts.
    const first = await tools.run({ effectKey: 'k4', taskId: 'task-1', tool: 'read_output', input: { id: outcome.outputRef }, workspace: ws });
    expect(first.content).toMatch(/^\[read_file output sha256:[0-9a-f]{64}: bytes 0–300 of [\d,]+; offset 300 continues\]\n/);
    const other = await tools.run({ effectKey: 'k3', taskId: 'task-2', tool: 'read_output', input: { id: outcome.outputRef }, workspace: ws });
    expect(other).toMatchObject({ status: 'error', content: expect.stringMatching(/^no stored output sha256:[0-9a-f]{64} in this task/) });
  });

  it('shows the head and the tail of a long command output (errors come last)', async () => {
    const outcome = await runner(2_000, 1_000).run({
      effectKey: 'cmd',
      taskId: 'task-1',
      tool: 'run_command',
      input: { command: 'for i in $(seq 1 2000); do echo "build line $i"; done; echo "error: the final failure" >&2; exit 1', timeoutSeconds: 30 },
      workspace: ws,
    });
    const shown = outcome.content ?? (await store.getBlob(outcome.contentRef!));
    expect(shown).toMatch(/^exit code 1\n--- stdout ---\nbuild line 1\n/);
    expect(shown).toContain('error: the final failure');
    expect(shown).toMatch(/\[… [\d,]+ bytes in the middle left out of [\d,]+; read_output \{"id": "sha256:[0-9a-f]{64}", "offset": 500\} shows more …\]/);
    expect(Buffer.byteLength(shown)).toBeLessThan(2_400);
  });

  it('passes output above historyInlineBytes by contentRef instead of inline', async () => {
    await writeFile(path.join(ws, 'mid.txt'), 'y'.repeat(3_000));
    const outcome = await runner(10_000, 1_000).run({ effectKey: 'k', taskId: 'task-1', tool: 'read_file', input: { path: 'mid.txt' }, workspace: ws });
    expect(outcome.content).toBeUndefined();
    expect(outcome.contentRef).toMatch(/^sha256:/);
    expect(outcome.truncated).toBe(false);
    // Stored whole as well (it is more than history holds inline), so a later clearing can name it.
    expect(outcome.outputRef).toMatch(/^sha256:/);
    expect(await store.getBlob(outcome.contentRef!)).toBe(`     1\t${'y'.repeat(3_000)}`);
    // The serialised outcome (what lands in history) stays small.
    expect(JSON.stringify(outcome).length).toBeLessThan(1_000);
  });

  it('keeps output at exactly the limits inline and untruncated', async () => {
    const output = `     1\t${'z'.repeat(93)}`; // 100 bytes
    await writeFile(path.join(ws, 'edge.txt'), 'z'.repeat(93));
    const outcome = await runner(100, 100).run({ effectKey: 'k', taskId: 'task-1', tool: 'read_file', input: { path: 'edge.txt' }, workspace: ws });
    expect(outcome).toMatchObject({ content: output, truncated: false, bytes: 100 });
  });
});
