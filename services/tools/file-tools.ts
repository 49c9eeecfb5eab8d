import { constants } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import picomatch from 'picomatch';
import type { z } from 'zod';
import type { EditFileInput, ListFilesInput, ReadFileInput, SearchFilesInput, WriteFileInput } from '../../domain/tool-catalog';
import { isProtectedFileName, walkWorkspace, toPosix } from './walk';
import { checkOpenFile, openWorkspaceFile, resolveInWorkspace, ToolInputError, workspaceRoot } from './workspace';

const MAX_READ_BYTES = 10 * 1024 * 1024;
const MAX_LIST_ENTRIES = 2_000;
/** search_files skips larger files: they are almost always generated or data. */
const MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024;
const SEARCH_LINE_DISPLAY_CHARS = 300;
/** A regex that needs longer than this on one file is backtracking catastrophically. */
const REGEX_BUDGET_PER_FILE_MS = 2_000;

export interface FileToolContext {
  signal?: AbortSignal;
}

async function readWhole(workspace: string, requested: string, tool: string): Promise<string> {
  const { handle, size } = await openWorkspaceFile(workspace, requested);
  try {
    if (size > MAX_READ_BYTES) throw new ToolInputError(`${requested} is ${size} bytes; ${tool} stops at ${MAX_READ_BYTES}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Returns numbered lines; refuses directories, devices, hard-linked files and files above 10 MB. */
export async function readFileTool(workspace: string, input: z.infer<typeof ReadFileInput>): Promise<string> {
  const lines = (await readWhole(workspace, input.path, 'read_file')).split('\n');
  const first = (input.offset ?? 1) - 1;
  const selected = lines.slice(first, input.limit ? first + input.limit : undefined);
  return selected.map((line, i) => `${String(first + i + 1).padStart(6)}\t${line}`).join('\n');
}

/**
 * Lists entries (directories end in "/"), breadth-first, capped at 2,000. With a glob pattern it
 * lists the matching files in all subdirectories. Both skip what .gitignore ignores.
 */
export async function listFilesTool(workspace: string, input: z.infer<typeof ListFilesInput>, context: FileToolContext = {}): Promise<string> {
  const root = await workspaceRoot(workspace);
  const start = await resolveInWorkspace(workspace, input.path);
  if (!(await stat(start).catch(() => null))?.isDirectory()) throw new ToolInputError(`${input.path} is not a directory`);
  const startRel = toPosix(path.relative(root, start));
  const matcher = input.pattern ? picomatch(input.pattern, { dot: true }) : null;
  const out: string[] = [];
  let capped = false;
  for await (const entry of walkWorkspace(root, start, { recursive: input.recursive || matcher !== null, signal: context.signal })) {
    if (out.length >= MAX_LIST_ENTRIES) {
      capped = true;
      break;
    }
    if (matcher) {
      const relToStart = startRel === '' ? entry.rel : entry.rel.slice(startRel.length + 1);
      if (!entry.dirent.isDirectory() && matcher(relToStart)) out.push(entry.dirent.isSymbolicLink() ? `${entry.rel} -> (symlink)` : entry.rel);
      continue;
    }
    if (entry.dirent.isDirectory()) out.push(`${entry.rel}/`);
    else out.push(entry.dirent.isSymbolicLink() ? `${entry.rel} -> (symlink)` : entry.rel);
  }
  if (capped) out.push(`[stopped after ${MAX_LIST_ENTRIES} entries; narrow the path or pattern]`);
  if (!out.length) return matcher ? `no files match ${input.pattern} under ${input.path}` : '(empty directory)';
  return out.join('\n');
}

/** Runs the model's regex inside a V8 context with a time limit, so a catastrophic pattern cannot freeze the worker. */
const MATCH_LINES = new vm.Script(
  'matched = []; { const lines = text.split("\\n"); for (let i = 0; i < lines.length && matched.length < limit; i++) if (re.test(lines[i])) matched.push(i); }',
);

/**
 * Regex search over file contents, line by line. Skips .gitignored, binary (NUL in the first 8 KB),
 * hard-linked and over-2 MB files, and never follows symlinks. Paths in the answer are relative to the workspace root.
 */
export async function searchFilesTool(workspace: string, input: z.infer<typeof SearchFilesInput>, context: FileToolContext = {}): Promise<string> {
  let re: RegExp;
  try {
    re = new RegExp(input.pattern, input.caseInsensitive ? 'i' : '');
  } catch (err) {
    throw new ToolInputError(`invalid regular expression: ${(err as Error).message}`);
  }
  const root = await workspaceRoot(workspace);
  const start = await resolveInWorkspace(workspace, input.path);
  const startInfo = await stat(start).catch(() => null);
  if (!startInfo) throw new ToolInputError(`${input.path} does not exist`);
  const startRel = toPosix(path.relative(root, start));
  const globMatch = input.glob ? picomatch(input.glob, { dot: true }) : () => true;
  const sandbox = vm.createContext({ re, text: '', limit: 0, matched: [] as number[] });
  const results: string[] = [];
  const skipped = { large: 0, binary: 0, refused: 0, protected: 0 };
  let scanned = 0;
  let filesWithMatches = 0;

  const searchOne = async (full: string, rel: string) => {
    let handle;
    try {
      handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      skipped.refused++;
      return;
    }
    try {
      try {
        await checkOpenFile(handle, root, full, rel);
      } catch (err) {
        if (err instanceof ToolInputError) {
          skipped.refused++;
          return;
        }
        throw err;
      }
      const { size } = await handle.stat();
      if (size > MAX_SEARCH_FILE_BYTES) {
        skipped.large++;
        return;
      }
      const bytes = await handle.readFile();
      if (bytes.subarray(0, 8_000).includes(0)) {
        skipped.binary++;
        return;
      }
      scanned++;
      sandbox.text = bytes.toString('utf8');
      sandbox.limit = input.maxResults - results.length;
      try {
        MATCH_LINES.runInContext(sandbox, { timeout: REGEX_BUDGET_PER_FILE_MS });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
          throw new ToolInputError(`the pattern took over ${REGEX_BUDGET_PER_FILE_MS / 1000}s on ${rel} (catastrophic backtracking?); use a simpler pattern`);
        }
        throw err;
      }
      const matched = sandbox.matched as number[];
      if (!matched.length) return;
      filesWithMatches++;
      const lines = (sandbox.text as string).split('\n');
      for (const i of matched) {
        const line = lines[i]!.length > SEARCH_LINE_DISPLAY_CHARS ? `${lines[i]!.slice(0, SEARCH_LINE_DISPLAY_CHARS)}…` : lines[i]!;
        results.push(`${rel}:${i + 1}: ${line}`);
      }
    } finally {
      sandbox.text = '';
      await handle.close();
    }
  };

  if (startInfo.isFile()) {
    await searchOne(start, startRel);
  } else {
    for await (const entry of walkWorkspace(root, start, { recursive: true, signal: context.signal })) {
      if (results.length >= input.maxResults) break;
      if (!entry.dirent.isFile()) continue;
      if (isProtectedFileName(entry.dirent.name)) {
        skipped.protected++;
        continue;
      }
      const relToStart = startRel === '' ? entry.rel : entry.rel.slice(startRel.length + 1);
      if (!globMatch(relToStart)) continue;
      await searchOne(entry.full, entry.rel);
    }
  }
  const notes = [
    skipped.large && `${skipped.large} over ${MAX_SEARCH_FILE_BYTES / 1024 / 1024} MB`,
    skipped.binary && `${skipped.binary} binary`,
    skipped.refused && `${skipped.refused} refused (hard-linked or not regular)`,
    skipped.protected && `${skipped.protected} protected (.env files: use read_file, which asks)`,
  ].filter(Boolean);
  const capped = results.length >= input.maxResults ? ` [stopped after ${input.maxResults} matching lines; narrow the search]` : '';
  const summary = `${results.length} matching line${results.length === 1 ? '' : 's'} in ${filesWithMatches} file${filesWithMatches === 1 ? '' : 's'} (${scanned} searched${notes.length ? `; skipped ${notes.join(', ')}` : ''})${capped}`;
  return results.length ? `${results.join('\n')}\n${summary}` : `no matches for /${input.pattern}/ — ${summary}`;
}

/**
 * Replaces a file's content atomically: a new temp file (O_EXCL, so nothing pre-planted is reused),
 * checked through its descriptor to be inside the workspace, then renamed over the target.
 */
async function replaceFile(root: string, file: string, requested: string, content: string): Promise<void> {
  const tmp = `${file}.agent-tmp-${process.pid}-${Date.now().toString(36)}`;
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    await checkOpenFile(handle, root, tmp, requested);
    await handle.writeFile(content);
    await handle.sync().catch(() => {});
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
}

/** Writes via temp file + rename so a crash never leaves a half-written file. */
export async function writeFileTool(workspace: string, input: z.infer<typeof WriteFileInput>): Promise<string> {
  const root = await workspaceRoot(workspace);
  const file = await resolveInWorkspace(workspace, input.path);
  const existing = await stat(file).catch(() => null);
  if (existing) {
    // The same checks as a read: an existing target must be a single-name regular file inside the workspace.
    const { handle } = await openWorkspaceFile(workspace, input.path);
    await handle.close();
  }
  await mkdir(path.dirname(file), { recursive: true });
  // mkdir may have followed a directory swapped in meanwhile: resolve again before writing.
  if ((await resolveInWorkspace(workspace, input.path)) !== file) throw new ToolInputError(`${input.path} changed while it was being written`);
  await replaceFile(root, file, input.path, input.content);
  return `${existing ? 'overwrote' : 'created'} ${input.path} (${Buffer.byteLength(input.content)} bytes)`;
}

/**
 * Exact-string replacement. Refuses when the string is missing or (without replaceAll) occurs more
 * than once, so the model never edits a place it did not mean; writes via temp file + rename.
 */
export async function editFileTool(workspace: string, input: z.infer<typeof EditFileInput>): Promise<string> {
  const root = await workspaceRoot(workspace);
  const file = await resolveInWorkspace(workspace, input.path);
  if (!(await stat(file).catch(() => null))) throw new ToolInputError(`${input.path} does not exist (use write_file to create it)`);
  const text = await readWhole(workspace, input.path, 'edit_file');
  const count = text.split(input.oldString).length - 1;
  if (count === 0) throw new ToolInputError(`oldString was not found in ${input.path}; read the file and copy the text exactly`);
  if (count > 1 && !input.replaceAll) {
    throw new ToolInputError(`oldString occurs ${count} times in ${input.path}; add surrounding lines to make it unique, or set replaceAll`);
  }
  const updated = input.replaceAll ? text.split(input.oldString).join(input.newString) : text.replace(input.oldString, () => input.newString);
  await replaceFile(root, file, input.path, updated);
  return `edited ${input.path}: replaced ${input.replaceAll ? count : 1} occurrence${count > 1 && input.replaceAll ? 's' : ''}`;
}
