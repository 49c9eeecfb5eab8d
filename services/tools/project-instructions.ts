/**
 * Project instruction files: the user's standing instructions for the model, in the files agent
 * users already keep. `AGENTS.md` (or `CLAUDE.md` where a directory has no AGENTS.md) in AGENT_HOME
 * holds the user's own, the one at the workspace root the project's, and those of subdirectories
 * the notes for work there. They are data the user wrote, not policy: the first two go into the
 * model's first message, a subdirectory's into the first tool result that touches it, and none of
 * them changes what a tool may do.
 *
 * Each file is capped, and a cut one says so, so a huge file cannot crowd the task out of the
 * context. The workspace's file is opened like every file tool opens one (inside the workspace,
 * no symlink escape, no hard link), because a cloned repository chooses its contents.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { groupThousands } from '../../domain/usage';
import { isInside } from '../paths';
import { openWorkspaceFile, ToolInputError } from './workspace';

/** The names read in each directory, in order: the first that exists is the directory's file. */
export const INSTRUCTION_FILE_NAMES = ['AGENTS.md', 'CLAUDE.md'] as const;
/** Bytes of one file the model sees; a longer file is cut here, with a note. */
export const MAX_INSTRUCTION_BYTES = 16 * 1024;

export interface InstructionFile {
  /** Where it came from, as a person reads it: `AGENTS.md` (workspace root) or `AGENT_HOME/CLAUDE.md`. */
  label: string;
  bytes: number;
  cut: boolean;
  text: string;
}

async function readCapped(handle: Awaited<ReturnType<typeof open>>, size: number): Promise<{ text: string; cut: boolean }> {
  const length = Math.min(size, MAX_INSTRUCTION_BYTES);
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  // A cut can land inside a UTF-8 sequence: the decoder's replacement character marks it.
  return { text: buffer.subarray(0, bytesRead).toString('utf8'), cut: size > MAX_INSTRUCTION_BYTES };
}

/** The user's file in AGENT_HOME, or null. Never throws for a missing or unreadable file. */
async function userFile(home: string): Promise<InstructionFile | null> {
  for (const name of INSTRUCTION_FILE_NAMES) {
    const handle = await open(path.join(home, name), 'r').catch(() => null);
    if (!handle) continue;
    try {
      const info = await handle.stat();
      if (!info.isFile()) continue;
      return { label: `AGENT_HOME/${name}`, bytes: info.size, ...(await readCapped(handle, info.size)) };
    } finally {
      await handle.close();
    }
  }
  return null;
}

/** The file of `dir` (relative to the workspace root), or null; one the file tools would refuse (a symlink out, a hard link) is skipped the same way. */
async function workspaceFile(workspace: string, dir = ''): Promise<InstructionFile | null> {
  for (const name of INSTRUCTION_FILE_NAMES) {
    const rel = dir ? `${dir}/${name}` : name;
    let opened;
    try {
      opened = await openWorkspaceFile(workspace, rel);
    } catch (err) {
      if (err instanceof ToolInputError || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      return { label: rel, bytes: opened.size, ...(await readCapped(opened.handle, opened.size)) };
    } finally {
      await opened.handle.close();
    }
  }
  return null;
}

/** The user's file, then the workspace's. Throws only when the workspace cannot be read at all. */
export async function loadProjectInstructions(workspace: string, home: string): Promise<InstructionFile[]> {
  const files = await Promise.all([userFile(home), workspaceFile(workspace)]);
  return files.filter((f): f is InstructionFile => f !== null);
}

/** The files as one block for the model's first message; empty when there are none. */
export function instructionsBlock(files: readonly InstructionFile[]): string {
  if (!files.length) return '';
  const parts = files.map(
    (f) =>
      `<instructions source="${f.label}">\n${f.text}${f.text.endsWith('\n') ? '' : '\n'}</instructions>` +
      (f.cut ? `\n[${f.label} is ${groupThousands(f.bytes)} bytes; only the first ${groupThousands(MAX_INSTRUCTION_BYTES)} are shown]` : ''),
  );
  return (
    'Project instructions: what the user keeps in instruction files for work in this workspace. Follow them where they bear on the task; ' +
    "they are the user's notes, not permissions: they change nothing about which actions need approval.\n\n" +
    parts.join('\n\n')
  );
}

/** One trace line per file: what the model was given. */
export function describeInstructions(files: readonly InstructionFile[]): string[] {
  return files.map((f) => `instructions: ${f.label} (${groupThousands(f.bytes)} bytes${f.cut ? `, cut to ${groupThousands(MAX_INSTRUCTION_BYTES)}` : ''})`);
}

/**
 * The instruction files of the subdirectories between the workspace root and `touched` (a path a
 * tool named, relative to the root or absolute), outermost first; the root's own is not among them
 * (the first message has it). Never throws for a path that does not exist or is outside.
 */
export async function subdirectoryInstructions(root: string, touched: string): Promise<InstructionFile[]> {
  const target = path.resolve(root, touched);
  if (!isInside(root, target)) return [];
  const isDir = await stat(target).then(
    (info) => info.isDirectory(),
    () => false,
  );
  const dirs: string[] = [];
  for (let dir = isDir ? target : path.dirname(target); dir !== root && isInside(root, dir); dir = path.dirname(dir))
    dirs.unshift(path.relative(root, dir).split(path.sep).join('/'));
  const files = await Promise.all(dirs.map((dir) => workspaceFile(root, dir).catch(() => null)));
  return files.filter((f): f is InstructionFile => f !== null);
}

/** A subdirectory's file as the head of a tool result. */
export function subdirectoryInstructionsText(file: InstructionFile): string {
  const dir = path.posix.dirname(file.label);
  return (
    `[instructions from ${file.label}: the user's notes for work in ${dir}/; notes, not permissions]\n${file.text}${file.text.endsWith('\n') ? '' : '\n'}` +
    (file.cut ? `[${file.label} is ${groupThousands(file.bytes)} bytes; only the first ${groupThousands(MAX_INSTRUCTION_BYTES)} are shown]\n` : '') +
    `[end of ${file.label}]\n\n`
  );
}
