/**
 * Walks a directory inside the workspace the way a developer's tools do: .gitignore files (at every
 * level, plus .git/info/exclude) are respected, .git, node_modules and .agent are never entered, and
 * symlinks are listed but never followed, so a walk cannot leave the workspace.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Listed but never descended into: VCS internals, installed dependencies, the agent's own state. */
export const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.agent']);

/**
 * Files whose content is never read by a tree-wide tool (search_files): .env files, which the
 * permission engine treats as protected paths. Reading one takes an explicit read_file and approval.
 */
export function isProtectedFileName(name: string): boolean {
  return name === '.env' || name.startsWith('.env.');
}

export interface WalkEntry {
  /** Absolute path. */
  full: string;
  /** Relative to the workspace root, with "/" separators. */
  rel: string;
  dirent: Dirent;
}

interface IgnoreLayer {
  /** Directory (relative to the root, "" for the root) whose .gitignore this is. */
  base: string;
  rules: Ignore;
}

async function loadIgnoreFile(file: string): Promise<Ignore | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  return text === null ? null : ignore().add(text);
}

function isIgnored(layers: readonly IgnoreLayer[], rel: string, isDir: boolean): boolean {
  for (const layer of layers) {
    const sub = layer.base === '' ? rel : rel.startsWith(`${layer.base}/`) ? rel.slice(layer.base.length + 1) : null;
    if (sub && layer.rules.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}

export interface WalkOptions {
  /** Descend into subdirectories. */
  recursive: boolean;
  signal?: AbortSignal;
}

/**
 * Yields the entries under `start` (an absolute, already-confined directory inside `root`),
 * breadth-first and sorted by name within a directory. Ignored entries are not yielded.
 */
export async function* walkWorkspace(root: string, start: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  const layers: IgnoreLayer[] = [];
  const exclude = await loadIgnoreFile(path.join(root, '.git', 'info', 'exclude'));
  if (exclude) layers.push({ base: '', rules: exclude });
  // .gitignore files between the root and the start directory apply too.
  const startRel = toPosix(path.relative(root, start));
  const ancestors = startRel === '' ? [''] : ['', ...startRel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))];
  for (const dir of ancestors.slice(0, -1)) {
    const rules = await loadIgnoreFile(path.join(root, dir, '.gitignore'));
    if (rules) layers.push({ base: dir, rules });
  }
  const queue: Array<{ dir: string; rel: string; layers: IgnoreLayer[] }> = [{ dir: start, rel: startRel, layers }];
  while (queue.length) {
    options.signal?.throwIfAborted();
    const { dir, rel, layers: inherited } = queue.shift()!;
    const own = await loadIgnoreFile(path.join(dir, '.gitignore'));
    const active = own ? [...inherited, { base: rel, rules: own }] : inherited;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of entries) {
      const entryRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      const isDir = dirent.isDirectory();
      if (isIgnored(active, entryRel, isDir)) continue;
      const full = path.join(dir, dirent.name);
      yield { full, rel: entryRel, dirent };
      if (isDir && options.recursive && !SKIPPED_DIRS.has(dirent.name)) queue.push({ dir: full, rel: entryRel, layers: active });
    }
  }
}

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
