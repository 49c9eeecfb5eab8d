/** The workflow bundle is built once per content and read from AGENT_HOME's cache after that. */
import { mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedWorkflowBundle, workflowBundleHash } from '../../workers/workflow-bundle';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A project tree of its own (workflows/, domain/, the real packages), so edits here touch nothing else. */
async function projectTree(): Promise<{ root: string; workflowsPath: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bundle-tree-'));
  await mkdir(path.join(root, 'workflows'));
  await mkdir(path.join(root, 'domain', 'nested'), { recursive: true });
  await mkdir(path.join(root, 'services'));
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  await writeFile(path.join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  await writeFile(path.join(root, 'domain', 'nested', 'answer.ts'), 'export const ANSWER = 42;\n');
  await writeFile(path.join(root, 'services', 'elsewhere.ts'), 'export const UNRELATED = 1;\n');
  const workflowsPath = path.join(root, 'workflows', 'index.ts');
  await writeFile(workflowsPath, "import { ANSWER } from '../domain/nested/answer';\nexport async function answer(): Promise<number> {\n  return ANSWER;\n}\n");
  return { root, workflowsPath };
}

describe('workflow bundle cache', () => {
  let tree: { root: string; workflowsPath: string };
  beforeAll(async () => {
    tree = await projectTree();
  });

  it('builds once, then a warm start reads the same file without bundling again', async () => {
    const cache = path.join(tree.root, 'cache');
    const first = await cachedWorkflowBundle(tree.workflowsPath, cache);
    expect(path.basename(first.codePath)).toMatch(/^workflow-bundle-[0-9a-f]{24}\.js$/);
    expect(await readFile(first.codePath, 'utf8')).toContain('42');
    const builtAt = (await stat(first.codePath)).mtimeMs;

    const started = performance.now();
    const again = await cachedWorkflowBundle(tree.workflowsPath, cache);
    expect(again.codePath).toBe(first.codePath);
    expect((await stat(again.codePath)).mtimeMs).toBe(builtAt);
    // Reading hashes a few dozen files; bundling takes seconds.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await readdir(cache)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it('a change to workflow or domain code, or to the packages, makes a new bundle; other code does not', async () => {
    const before = await workflowBundleHash(tree.workflowsPath);
    await writeFile(path.join(tree.root, 'services', 'elsewhere.ts'), 'export const UNRELATED = 2;\n');
    expect(await workflowBundleHash(tree.workflowsPath)).toBe(before);

    await writeFile(path.join(tree.root, 'domain', 'nested', 'answer.ts'), 'export const ANSWER = 43;\n');
    const afterDomain = await workflowBundleHash(tree.workflowsPath);
    expect(afterDomain).not.toBe(before);

    await writeFile(path.join(tree.root, 'package-lock.json'), '{"lockfileVersion": 3, "packages": {}}\n');
    expect(await workflowBundleHash(tree.workflowsPath)).not.toBe(afterDomain);

    const rebuilt = await cachedWorkflowBundle(tree.workflowsPath, path.join(tree.root, 'cache'));
    expect(await readFile(rebuilt.codePath, 'utf8')).toContain('43');
  }, 60_000);

  it('several workers starting at once all get a whole bundle', async () => {
    const cache = path.join(tree.root, 'cache-concurrent');
    const paths = await Promise.all(Array.from({ length: 3 }, () => cachedWorkflowBundle(tree.workflowsPath, cache)));
    expect(new Set(paths.map((p) => p.codePath)).size).toBe(1);
    expect(await readdir(cache)).toEqual([path.basename(paths[0]!.codePath)]);
  }, 120_000);
});
