/**
 * The workflow bundle, built once per content. Bundling the workflow code with webpack takes
 * seconds of CPU, which every `agent run` (it starts a worker of its own) and every restart after a
 * crash used to pay. The bundle is cached under AGENT_HOME/cache, named by a hash of everything that
 * goes into it: the sources of workflows/ and domain/ (the only code the sandbox may import), the
 * installed packages (package-lock.json) and the bundler's version. A changed file makes a new
 * bundle; a warm start reads the file.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type Logger, type WorkflowBundlePath } from '@temporalio/worker';
import { writeFileAtomic } from '../services/atomic-file';

/** Bundles of older content kept beside the current one (another checkout's worker may still use one). */
const KEEP_OLD_BUNDLES = 3;
const SILENT: Logger = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** A hash of what the bundle of `workflowsPath` is made of. */
export async function workflowBundleHash(workflowsPath: string): Promise<string> {
  const root = path.resolve(path.dirname(workflowsPath), '..');
  const hash = createHash('sha256');
  const bundler = JSON.parse(await readFile(path.join(root, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')) as { version: string };
  hash.update(`bundler ${bundler.version}\0`);
  const lock = await readFile(path.join(root, 'package-lock.json')).catch(() => Buffer.from('no lock file'));
  hash.update(lock);
  for (const dir of ['workflows', 'domain']) {
    for (const file of await sourceFiles(path.join(root, dir))) {
      hash.update(`\0${path.relative(root, file)}\0`);
      hash.update(await readFile(file));
    }
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * The path of a bundle of `workflowsPath` in `cacheDir`, built first when there is none for this
 * content (webpack's report goes to `logger`). Several processes may start at once: the write is
 * atomic, so a reader never sees half a bundle and the last identical write wins.
 */
export async function cachedWorkflowBundle(workflowsPath: string, cacheDir: string, logger: Logger = SILENT): Promise<WorkflowBundlePath> {
  const file = path.join(cacheDir, `workflow-bundle-${await workflowBundleHash(workflowsPath)}.js`);
  const exists = await stat(file).then(
    (s) => s.size > 0,
    () => false,
  );
  if (!exists) {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger });
    await writeFileAtomic(file, code);
    await pruneOldBundles(cacheDir, file);
    logger.info(`workflow bundle cached at ${file}`);
  }
  return { codePath: file };
}

async function pruneOldBundles(cacheDir: string, current: string): Promise<void> {
  const names = (await readdir(cacheDir)).filter((n) => /^workflow-bundle-[0-9a-f]+\.js$/.test(n) && path.join(cacheDir, n) !== current);
  const dated = await Promise.all(names.map(async (n) => ({ file: path.join(cacheDir, n), mtime: (await stat(path.join(cacheDir, n)).catch(() => null))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(dated.slice(KEEP_OLD_BUNDLES).map((d) => rm(d.file, { force: true })));
}
