/**
 * The workflow bundle, built once per content. Bundling the workflow code with webpack takes
 * seconds of CPU, which every `agent run` (it starts a worker of its own) and every restart after a
 * crash used to pay. The bundle is cached under AGENT_HOME/cache, named by a hash of everything that
 * goes into it: the sources of workflows/ and domain/ (the only code the sandbox may import), the
 * installed packages (package-lock.json) and the bundler's version. A changed file makes a new
 * bundle; a warm start reads the file.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type Logger, type WorkflowBundlePath } from '@temporalio/worker';
import { writeFileAtomic } from '../services/atomic-file';
import { contentHash } from './content-hash';

/** Bundles of older content kept beside the current one (another checkout's worker may still use one). */
const KEEP_OLD_BUNDLES = 3;
const SILENT: Logger = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

/** A hash of what the bundle of `workflowsPath` is made of. */
export async function workflowBundleHash(workflowsPath: string): Promise<string> {
  const root = path.resolve(path.dirname(workflowsPath), '..');
  const bundler = JSON.parse(await readFile(path.join(root, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')) as { version: string };
  return await contentHash(root, ['workflows', 'domain'], `bundler ${bundler.version}`);
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
