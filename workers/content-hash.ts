/**
 * A hash of source folders and the installed packages: the key of what a worker may build or check
 * once per content and keep in AGENT_HOME/cache (the workflow bundle, the shell rules' self check).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** 24 hex digits over `extra`, package-lock.json and every .ts file under `dirs` (relative to `root`), names included. */
export async function contentHash(root: string, dirs: readonly string[], extra = ''): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${extra}\0`);
  hash.update(await readFile(path.join(root, 'package-lock.json')).catch(() => Buffer.from('no lock file')));
  for (const dir of dirs) {
    for (const file of await sourceFiles(path.join(root, dir))) {
      hash.update(`\0${path.relative(root, file)}\0`);
      hash.update(await readFile(file));
    }
  }
  return hash.digest('hex').slice(0, 24);
}
