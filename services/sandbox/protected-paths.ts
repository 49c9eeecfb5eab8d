/**
 * What the kernel must protect inside a workspace, found fresh before every sandboxed command:
 *
 *   - git directories (the workspace's `.git`, nested repositories, `.git/modules/*` of submodules):
 *     their `hooks/` and `config` become read-only, because a planted hook or a `core.fsmonitor` /
 *     `core.pager` line runs code the next time a person uses git there, outside any sandbox. A
 *     `core.hooksPath` inside the workspace (husky's `.husky/_`) is protected the same way;
 *   - the workspace's `.agent/` (its policy file) becomes read-only;
 *   - `.env` and `.env.*` files are masked (they read as empty and cannot be written).
 *
 * A protected path's ancestors inside the workspace are bound onto themselves too: a mount point
 * cannot be renamed, so `mv .git x && mkdir -p .git/hooks` cannot swap in an unprotected copy.
 * The walk skips dependency and build trees and stops at a bound, so its cost stays small; what it
 * did not reach is reported, never silently assumed safe.
 */
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { isInside } from '../paths';
import { SECRET_DOTFILES } from '../../domain/protected-paths';

export interface ProtectedPaths {
  /** Directories and files that stay visible but read-only. */
  readOnly: string[];
  /** Files that read as empty (bound to /dev/null, read-only). */
  masked: string[];
  /** Directories bound onto themselves (writable) so they cannot be renamed away; ancestors of the above. */
  pinned: string[];
  /** Set when the walk stopped at its bound: `.env` files deeper or further than this were not masked. */
  incomplete: string | null;
}

/** Trees that hold dependencies or build output, not the user's secrets or repositories. */
const SKIPPED_DIRS = new Set([
  'node_modules',
  '.venv',
  'venv',
  '__pycache__',
  'target',
  'dist',
  'build',
  '.next',
  '.cache',
  '.gradle',
  '.terraform',
  'vendor',
  'bower_components',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
]);
const MAX_DEPTH = 12;
const MAX_DIRS = 20_000;
/** The policy's secret dotfiles (`.env`, `.env.*`), masked here by the kernel as the policy asks for them. */
const isSecretDotfile = picomatch(SECRET_DOTFILES, { dot: true });

/** Where `core.hooksPath` points, from a git config file's text (the last assignment wins, as in git). */
function hooksPathFrom(configText: string): string | null {
  let inCore = false;
  let found: string | null = null;
  for (const raw of configText.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([^\]\s"]+)(?:\s+"[^"]*")?\s*\]/.exec(line);
    if (section) {
      inCore = section[1]!.toLowerCase() === 'core';
      continue;
    }
    const m = inCore ? /^hookspath\s*=\s*(.*)$/i.exec(line) : null;
    if (m) found = m[1]!.replace(/^"(.*)"$/, '$1').trim();
  }
  return found;
}

async function kind(p: string): Promise<'dir' | 'file' | 'link' | null> {
  const st = await lstat(p).catch(() => null);
  if (!st) return null;
  return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
}

/**
 * Finds what to protect under `workspace` (a real path). Never throws for what it finds: unreadable
 * directories are skipped and reported through `incomplete`.
 */
export async function findProtectedPaths(workspace: string): Promise<ProtectedPaths> {
  const readOnly = new Set<string>();
  const masked = new Set<string>();
  const gitDirs: string[] = [];
  let incomplete: string | null = null;

  // Breadth first: the shallow places (where .env and .git usually are) are covered before any bound.
  let frontier: { dir: string; depth: number }[] = [{ dir: workspace, depth: 0 }];
  let visited = 0;
  walk: while (frontier.length) {
    const next: typeof frontier = [];
    for (const { dir, depth } of frontier) {
      if (++visited > MAX_DIRS) {
        incomplete = `stopped after ${MAX_DIRS} directories`;
        break walk;
      }
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
      if (!entries) continue;
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (isSecretDotfile(entry.name)) {
          if (entry.isFile()) masked.add(full);
          // A link named .env masks what it points at, when that is a file inside the workspace.
          else if (entry.isSymbolicLink()) {
            const target = await realpath(full).catch(() => null);
            if (target && isInside(workspace, target) && (await kind(target)) === 'file') masked.add(target);
          }
        }
        if (!entry.isDirectory()) continue;
        if (entry.name === '.git') {
          gitDirs.push(full);
          continue;
        }
        if (SKIPPED_DIRS.has(entry.name)) continue;
        if (depth + 1 > MAX_DEPTH) {
          incomplete ??= `did not look deeper than ${MAX_DEPTH} levels`;
          continue;
        }
        next.push({ dir: full, depth: depth + 1 });
      }
    }
    frontier = next;
  }

  // A `.git` file (worktree, submodule checkout) points at the real git dir; protect it if it is ours.
  const dotGit = path.join(workspace, '.git');
  if ((await kind(dotGit)) === 'file') {
    const pointer = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8').catch(() => ''));
    const target = pointer ? await realpath(path.resolve(workspace, pointer[1]!.trim())).catch(() => null) : null;
    if (target && isInside(workspace, target) && target !== workspace) gitDirs.push(target);
  }
  // Submodules keep their git dirs under .git/modules/<name> (nested for nested submodules).
  for (let i = 0; i < gitDirs.length && i < 1_000; i++) {
    const modules = path.join(gitDirs[i]!, 'modules');
    const stack = [modules];
    while (stack.length) {
      const dir = stack.pop()!;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const sub = path.join(dir, e.name);
        if ((await kind(path.join(sub, 'HEAD'))) === 'file') gitDirs.push(sub);
        else stack.push(sub);
      }
    }
  }

  for (const gitDir of gitDirs) {
    if ((await kind(gitDir)) !== 'dir') continue;
    const hooks = path.join(gitDir, 'hooks');
    const config = path.join(gitDir, 'config');
    const hooksKind = await kind(hooks);
    // A missing hooks dir is protected too (bwrap creates the mount point, an empty directory).
    if (hooksKind === 'dir' || hooksKind === null) readOnly.add(hooks);
    if ((await kind(config)) === 'file') {
      readOnly.add(config);
      const configured = hooksPathFrom(await readFile(config, 'utf8').catch(() => ''));
      if (configured) {
        const repoRoot = path.dirname(gitDir);
        const resolved = await realpath(path.resolve(repoRoot, configured)).catch(() => null);
        if (resolved && isInside(workspace, resolved) && resolved !== workspace) readOnly.add(resolved);
      }
    }
  }
  const agentDir = path.join(workspace, '.agent');
  if ((await kind(agentDir)) === 'dir') readOnly.add(agentDir);

  // Pin every ancestor between the workspace and a read-only path, so none can be renamed away.
  const pinned = new Set<string>();
  for (const p of readOnly) {
    for (let dir = path.dirname(p); dir !== workspace && isInside(workspace, dir); dir = path.dirname(dir)) pinned.add(dir);
  }
  return {
    readOnly: [...readOnly].sort(),
    masked: [...masked].sort(),
    pinned: [...pinned].sort((a, b) => a.split(path.sep).length - b.split(path.sep).length),
    incomplete,
  };
}
