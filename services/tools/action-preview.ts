/**
 * What an approval shows a person: for a file write, a unified diff against the file as it is now
 * (a new file, an overwrite, an edit), so "VERSION (6 bytes)" becomes the change itself. Computed by
 * the gate when it asks; reads through the same workspace-confined open as the file tools.
 */
import { createTwoFilesPatch } from 'diff';
import type { ActionPreview } from '../../domain/task';
import { openWorkspaceFile, ToolInputError } from './workspace';

/** The diff a request carries; chat messages show less and point to `agent status` for all of it. */
export const PREVIEW_DIFF_CHARS = 20_000;
/** Files larger than this are summarised, not diffed (a diff of a 5 MB file helps nobody decide). */
const DIFF_FILE_BYTES = 1_000_000;

async function currentText(workspace: string, file: string): Promise<{ text: string | null; note?: string }> {
  let opened;
  try {
    opened = await openWorkspaceFile(workspace, file);
  } catch (err) {
    // Missing is a new file; anything else the tool itself will report.
    if (err instanceof ToolInputError && /does not exist|not found|ENOENT/.test(err.message)) return { text: null };
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: null };
    return { text: null, note: (err as Error).message };
  }
  try {
    if (opened.size > DIFF_FILE_BYTES) return { text: null, note: `the current file is ${opened.size} bytes, too large to diff` };
    const text = (await opened.handle.readFile()).toString('utf8');
    return text.includes('\u0000') ? { text: null, note: 'the current file is binary' } : { text };
  } finally {
    await opened.handle.close();
  }
}

function counted(patch: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of patch.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  return { added, removed };
}

function preview(kind: ActionPreview['kind'], path: string, before: string, after: string): ActionPreview {
  const patch = createTwoFilesPatch(kind === 'new-file' ? '/dev/null' : `a/${path}`, `b/${path}`, before, after, '', '', { context: 3 });
  // Drop the "Index"/"===" header lines jsdiff adds; a person reads the ---/+++ lines.
  const diff = patch.replace(/^={10,}\n/m, '').replace(/^Index: .*\n/m, '');
  const { added, removed } = counted(diff);
  const truncated = diff.length > PREVIEW_DIFF_CHARS;
  return {
    kind,
    path,
    added,
    removed,
    bytes: Buffer.byteLength(after),
    diff: truncated ? `${diff.slice(0, PREVIEW_DIFF_CHARS)}\n… (${diff.length - PREVIEW_DIFF_CHARS} more characters of the diff)` : diff,
    truncated,
  };
}

/** The preview for a write_file or edit_file call; null for other tools. Never throws: what cannot be diffed is described. */
export async function actionPreview(workspace: string, tool: string, input: Record<string, unknown>): Promise<ActionPreview | null> {
  if ((tool !== 'write_file' && tool !== 'edit_file') || typeof input.path !== 'string') return null;
  const path = input.path;
  try {
    const current = await currentText(workspace, path);
    if (tool === 'write_file') {
      const content = String(input.content ?? '');
      if (current.note) return { kind: 'overwrite', path, added: 0, removed: 0, bytes: Buffer.byteLength(content), diff: `(no diff: ${current.note})`, truncated: false };
      return current.text === null ? preview('new-file', path, '', content) : preview('overwrite', path, current.text, content);
    }
    if (current.text === null) return { kind: 'edit', path, added: 0, removed: 0, bytes: 0, diff: `(no diff: ${current.note ?? `${path} does not exist`})`, truncated: false };
    const oldString = String(input.oldString ?? '');
    const newString = String(input.newString ?? '');
    if (!oldString || !current.text.includes(oldString)) {
      return {
        kind: 'edit',
        path,
        added: 0,
        removed: 0,
        bytes: Buffer.byteLength(current.text),
        diff: '(no diff: the text to replace is not in the file; the edit will fail)',
        truncated: false,
      };
    }
    const after = input.replaceAll === true ? current.text.split(oldString).join(newString) : current.text.replace(oldString, () => newString);
    return preview('edit', path, current.text, after);
  } catch (err) {
    return { kind: tool === 'write_file' ? 'overwrite' : 'edit', path, added: 0, removed: 0, bytes: 0, diff: `(no diff: ${(err as Error).message})`, truncated: false };
  }
}
