/**
 * Workspace confinement for file tools. Paths are resolved against the workspace, symlinks are
 * followed to their real target, and containment is checked with path.relative (never
 * startsWith, which lets "/work/app-evil" pass for "/work/app").
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** A problem with a tool's path that the model should hear about, not a crash. */
export class ToolInputError extends Error {}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  // "..env" is a legal name inside; only ".." itself or "../..." leaves the root.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

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
