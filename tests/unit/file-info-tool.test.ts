/**
 * file_info, the tool added through the one-definition path: its catalog entry drives validation,
 * routing, the policy and how a call reads; its implementation runs through the real runner on real files.
 */
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routeTools } from '../../domain/routing';
import { describeCall } from '../../domain/tool-catalog';
import { FileStateStore } from '../../services/state/file-state-store';
import { ToolRunner } from '../../services/tools/tool-runner';

let base: string;
let ws: string;
let runner: ToolRunner;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'file-info-'));
  ws = path.join(base, 'ws');
  await mkdir(path.join(ws, 'src'), { recursive: true });
  runner = new ToolRunner(new FileStateStore(path.join(base, 'state')), { modelOutputLimit: 10_000, historyInlineBytes: 10_000 });
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const info = async (p: string) => await runner.run({ effectKey: `t/${p}`, taskId: 't', tool: 'file_info', input: { path: p }, workspace: ws });

describe('file_info', () => {
  it('describes a text file by size and lines, a binary file, a directory and a missing path', async () => {
    await writeFile(path.join(ws, 'src/a.ts'), 'one\ntwo\nthree\n');
    await writeFile(path.join(ws, 'blob.bin'), Buffer.from([1, 0, 2, 3]));
    expect((await info('src/a.ts')).content).toMatch(/^src\/a\.ts: text file, 14 bytes, 3 lines, last changed \d{4}-\d\d-\d\dT/);
    expect((await info('blob.bin')).content).toMatch(/^blob\.bin: binary file, 4 bytes/);
    expect((await info('src')).content).toMatch(/^src: directory, last changed/);
    expect(await info('nope.txt')).toMatchObject({ status: 'error', content: 'nope.txt does not exist' });
  });

  it('stays inside the workspace: a symlink out and a hard link are refused', async () => {
    const outside = path.join(base, 'secret.txt');
    await writeFile(outside, 'key\n');
    await symlink(outside, path.join(ws, 'out-link'));
    await link(outside, path.join(ws, 'hard.txt'));
    expect((await info('out-link')).content).toMatch(/resolves outside the workspace/);
    expect((await info('../secret.txt')).content).toMatch(/outside the workspace/);
    expect((await info('hard.txt')).content).toMatch(/hard links/);
  });

  it('is offered with the read-only tools and reads as its path in traces', () => {
    const tools = routeTools({ goal: 'g', kind: 'question', needsWrite: false, needsShell: false, summary: 's' }, { steps: [] });
    expect(tools).toContain('file_info');
    expect(describeCall('file_info', { path: 'src/a.ts' })).toBe('file_info src/a.ts');
  });
});
