/** What a person sees before approving a file write: the change as a unified diff, against the real file. */
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { pendingApprovalMarkdown } from '../../domain/approval-view';
import type { ApprovalRequest } from '../../domain/task';
import { actionPreview } from '../../services/tools/action-preview';

let ws: string;
beforeEach(async () => {
  ws = await realpath(await mkdtemp(path.join(os.tmpdir(), 'preview-')));
  await writeFile(path.join(ws, 'VERSION'), '1.4.0\n');
  await writeFile(path.join(ws, 'app.ts'), ['import x from "x";', 'export const a = 1;', 'export const b = 2;', 'export const c = 3;', ''].join('\n'));
});

describe('approval previews', () => {
  it('tells a new file from an overwrite, and shows the change', async () => {
    const created = (await actionPreview(ws, 'write_file', { path: 'NEW.md', content: '# Hello\nworld\n' }))!;
    expect(created).toMatchObject({ kind: 'new-file', path: 'NEW.md', added: 2, removed: 0, bytes: 14, truncated: false });
    expect(created.diff).toMatch(/^--- \/dev\/null\n\+\+\+ b\/NEW\.md\n@@ -0,0 \+1,2 @@\n\+# Hello\n\+world\n/);
    const overwrite = (await actionPreview(ws, 'write_file', { path: 'VERSION', content: '1.5.0\n' }))!;
    expect(overwrite).toMatchObject({ kind: 'overwrite', added: 1, removed: 1 });
    expect(overwrite.diff).toContain('-1.4.0\n+1.5.0');
  });

  it('shows an edit in context, whole (not cut at 120 characters), and says when it will fail', async () => {
    const long = `export const b = "${'y'.repeat(300)}";`;
    const edit = (await actionPreview(ws, 'edit_file', { path: 'app.ts', oldString: 'export const b = 2;', newString: long }))!;
    expect(edit).toMatchObject({ kind: 'edit', added: 1, removed: 1 });
    expect(edit.diff).toContain(' export const a = 1;\n-export const b = 2;\n+' + long);
    expect((await actionPreview(ws, 'edit_file', { path: 'app.ts', oldString: 'nope', newString: 'x' }))!.diff).toMatch(/not in the file; the edit will fail/);
    expect(await actionPreview(ws, 'run_command', { command: 'ls' })).toBeNull();
  });

  it('describes what cannot be diffed, and cuts a huge diff with a note', async () => {
    await writeFile(path.join(ws, 'blob.bin'), Buffer.from([1, 0, 2, 0]));
    expect((await actionPreview(ws, 'write_file', { path: 'blob.bin', content: 'text' }))!.diff).toBe('(no diff: the current file is binary)');
    const huge = (await actionPreview(ws, 'write_file', { path: 'big.txt', content: 'line\n'.repeat(20_000) }))!;
    expect(huge.truncated).toBe(true);
    expect(huge.diff.length).toBeLessThan(20_100);
    expect(huge.diff).toMatch(/… \(\d+ more characters of the diff\)$/);
  });

  it('shows the diff in the Web UI details, with a pointer when it is long', async () => {
    const preview = (await actionPreview(ws, 'write_file', { path: 'many.txt', content: Array.from({ length: 60 }, (_, i) => `l${i}`).join('\n') }))!;
    const request = { requestId: 'apr-1', tool: 'write_file', risk: 'workspace-write', preview } as ApprovalRequest;
    const md = pendingApprovalMarkdown(request, 'task-1');
    expect(md).toMatch(
      /^\*\*Waiting for approval\*\* `apr-1`: write_file \(workspace-write\) — `agent approve task-1 apr-1`\nNew file `many\.txt`: \+60 −0\n```diff\n--- \/dev\/null/,
    );
    expect(md).toMatch(/_\d+ more diff lines: `agent status task-1`_$/);
  });
});
