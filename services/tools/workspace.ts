/**
 * Workspace confinement for file tools. Paths are resolved against the workspace, symlinks are
 * followed to their real target, and containment is checked with path.relative (never
 * startsWith, which lets "/work/app-evil" pass for "/work/app").
 */
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../paths';

/** A problem with a tool's path that the model should hear about, not a crash. */
export class ToolInputError extends Error {}

/** The workspace's real path. Throws ToolInputError when it does not exist or is not a directory. */
export async function workspaceRoot(workspace: string): Promise<string> {
  try {
    const root = await realpath(workspace);
    if (!(await stat(root)).isDirectory()) throw new ToolInputError(`workspace ${workspace} is not a directory`);
    return root;
  } catch (err) {
    if (err instanceof ToolInputError) throw err;
    throw new ToolInputError(`workspace ${workspace} does not exist`);
  }
}

/**
 * Resolves `requested` inside the workspace. For an existing target the real path (all symlinks
 * followed) must be inside; for a new file its nearest existing ancestor must be. Throws ToolInputError.
 */
export async function resolveInWorkspace(workspace: string, requested: string): Promise<string> {
  const root = await workspaceRoot(workspace);
  if (requested.includes('\0')) throw new ToolInputError('path contains a NUL byte');
  const lexical = path.resolve(root, requested);
  if (!isInside(root, lexical)) throw new ToolInputError(`${requested} is outside the workspace`);
  let probe = lexical;
  const missing: string[] = [];
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real)) throw new ToolInputError(`${requested} resolves outside the workspace (through a symlink)`);
      return path.join(real, ...missing.reverse());
    } catch (err) {
      if (err instanceof ToolInputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      // A dangling symlink must not become a way to create a file outside the workspace.
      const link = await lstat(probe).catch(() => null);
      if (link?.isSymbolicLink()) throw new ToolInputError(`${requested} goes through a dangling symlink`);
      missing.push(path.basename(probe));
      probe = path.dirname(probe);
    }
  }
}

/**
 * Where an open file really is. Checking the descriptor (not the path again) closes the window in
 * which a path component is swapped for a symlink between the check and the open.
 */
async function locationOf(handle: FileHandle, fallback: string): Promise<string> {
  if (process.platform === 'linux') return await readlink(`/proc/self/fd/${handle.fd}`);
  return await realpath(fallback);
}

/**
 * Opens an existing regular file inside the workspace for reading, then checks the open descriptor:
 * its real location must be inside the root, it must be a regular file (not a device, FIFO or socket:
 * O_NONBLOCK keeps a FIFO from hanging the open), and it must have one name only, because a hard
 * link's other name may be outside the workspace (a hard link made to ~/.ssh/id_rsa reads the key).
 */
export async function openWorkspaceFile(workspace: string, requested: string): Promise<{ handle: FileHandle; path: string; size: number }> {
  const root = await workspaceRoot(workspace);
  const file = await resolveInWorkspace(workspace, requested);
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ToolInputError(`${requested} does not exist`);
    if (code === 'ELOOP') throw new ToolInputError(`${requested} is a symlink that changed while it was opened`);
    if (code === 'EISDIR') throw new ToolInputError(`${requested} is a directory, not a regular file`);
    throw err;
  }
  try {
    await checkOpenFile(handle, root, file, requested);
    return { handle, path: file, size: (await handle.stat()).size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The checks every opened file passes; also used on a freshly created temp file before it is written. */
export async function checkOpenFile(handle: FileHandle, root: string, file: string, requested: string): Promise<void> {
  const info = await handle.stat();
  if (info.isDirectory()) throw new ToolInputError(`${requested} is a directory, not a regular file`);
  if (!info.isFile()) throw new ToolInputError(`${requested} is not a regular file (devices, FIFOs and sockets are refused)`);
  if (info.nlink > 1) {
    throw new ToolInputError(`${requested} has ${info.nlink} hard links; file tools refuse hard-linked files because another name may be outside the workspace`);
  }
  const real = await locationOf(handle, file);
  if (!isInside(root, real)) throw new ToolInputError(`${requested} resolves outside the workspace`);
}
