import { mkdir, readdir, readFile, stat, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { EditFileInput, ListFilesInput, ReadFileInput, WriteFileInput } from '../../domain/tool-catalog';
import { resolveInWorkspace, ToolInputError, workspaceRoot } from './workspace';

const MAX_READ_BYTES = 10 * 1024 * 1024;
const MAX_LIST_ENTRIES = 2_000;
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.agent']);

/** Returns numbered lines; refuses directories, devices and files above 10 MB. */
export async function readFileTool(workspace: string, input: z.infer<typeof ReadFileInput>): Promise<string> {
  const file = await resolveInWorkspace(workspace, input.path);
  const info = await stat(file).catch(() => null);
  if (!info) throw new ToolInputError(`${input.path} does not exist`);
  if (!info.isFile()) throw new ToolInputError(`${input.path} is not a regular file`);
  if (info.size > MAX_READ_BYTES) throw new ToolInputError(`${input.path} is ${info.size} bytes; read_file stops at ${MAX_READ_BYTES}`);
  const lines = (await readFile(file, 'utf8')).split('\n');
  const first = (input.offset ?? 1) - 1;
  const selected = lines.slice(first, input.limit ? first + input.limit : undefined);
  return selected.map((line, i) => `${String(first + i + 1).padStart(6)}\t${line}`).join('\n');
}

/** Lists entries (directories end in "/"), breadth-first, capped at 2,000. */
export async function listFilesTool(workspace: string, input: z.infer<typeof ListFilesInput>): Promise<string> {
  const root = await workspaceRoot(workspace);
  const start = await resolveInWorkspace(workspace, input.path);
  if (!(await stat(start).catch(() => null))?.isDirectory()) throw new ToolInputError(`${input.path} is not a directory`);
  const out: string[] = [];
  const queue = [start];
  while (queue.length && out.length < MAX_LIST_ENTRIES) {
    const dir = queue.shift()!;
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.length >= MAX_LIST_ENTRIES) break;
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        if (input.recursive && !SKIPPED_DIRS.has(entry.name)) queue.push(full);
      } else out.push(entry.isSymbolicLink() ? `${rel} -> (symlink)` : rel);
    }
  }
  if (out.length >= MAX_LIST_ENTRIES) out.push(`[stopped after ${MAX_LIST_ENTRIES} entries]`);
  return out.length ? out.join('\n') : '(empty directory)';
}

/** Writes via temp file + rename so a crash never leaves a half-written file. */
export async function writeFileTool(workspace: string, input: z.infer<typeof WriteFileInput>): Promise<string> {
  const file = await resolveInWorkspace(workspace, input.path);
  const existing = await stat(file).catch(() => null);
  if (existing && !existing.isFile()) throw new ToolInputError(`${input.path} exists and is not a regular file`);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.agent-tmp-${process.pid}`;
  await writeFile(tmp, input.content);
  await rename(tmp, file);
  return `${existing ? 'overwrote' : 'created'} ${input.path} (${Buffer.byteLength(input.content)} bytes)`;
}

/**
 * Exact-string replacement. Refuses when the string is missing or (without replaceAll) occurs more
 * than once, so the model never edits a place it did not mean; writes via temp file + rename.
 */
export async function editFileTool(workspace: string, input: z.infer<typeof EditFileInput>): Promise<string> {
  const file = await resolveInWorkspace(workspace, input.path);
  const info = await stat(file).catch(() => null);
  if (!info) throw new ToolInputError(`${input.path} does not exist (use write_file to create it)`);
  if (!info.isFile()) throw new ToolInputError(`${input.path} is not a regular file`);
  if (info.size > MAX_READ_BYTES) throw new ToolInputError(`${input.path} is ${info.size} bytes; edit_file stops at ${MAX_READ_BYTES}`);
  const text = await readFile(file, 'utf8');
  const count = text.split(input.oldString).length - 1;
  if (count === 0) throw new ToolInputError(`oldString was not found in ${input.path}; read the file and copy the text exactly`);
  if (count > 1 && !input.replaceAll) {
    throw new ToolInputError(`oldString occurs ${count} times in ${input.path}; add surrounding lines to make it unique, or set replaceAll`);
  }
  const updated = input.replaceAll ? text.split(input.oldString).join(input.newString) : text.replace(input.oldString, () => input.newString);
  const tmp = `${file}.agent-tmp-${process.pid}`;
  await writeFile(tmp, updated);
  await rename(tmp, file);
  return `edited ${input.path}: replaced ${input.replaceAll ? count : 1} occurrence${count > 1 && input.replaceAll ? 's' : ''}`;
}
