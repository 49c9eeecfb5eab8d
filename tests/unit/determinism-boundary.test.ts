/**
 * The determinism boundary: workflows/ and domain/ run in Temporal's replaying sandbox, so they
 * may import only sandbox-safe code. A static check names the offending import; the bundle test
 * proves the real bundler accepts the workflow code.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../workers/worker';

// @noble/curves: pure-JS ed25519 verification of approver signatures in the update validator (no Node APIs, no randomness).
const SANDBOX_PACKAGES = new Set(['zod', '@temporalio/workflow', '@temporalio/common', '@noble/curves/ed25519.js']);

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(PROJECT_ROOT, dir), { withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(dir, e.name));
}

/** Every import in a file, with whether it is type-only (erased at compile time). */
async function importsOf(file: string) {
  const text = await readFile(path.join(PROJECT_ROOT, file), 'utf8');
  return [...text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: Boolean(m[1]), spec: m[2]! }));
}

function violation(file: string, imp: { typeOnly: boolean; spec: string }): string | null {
  const layer = file.split('/')[0];
  if (imp.spec.startsWith('.')) {
    const target = path.normalize(path.join(path.dirname(file), imp.spec)).split('/')[0];
    if (target === 'domain') return null;
    if (layer === 'workflows' && (target === 'workflows' || imp.typeOnly)) return null;
    return `${file} imports ${imp.spec} (${target}/ is not sandbox-safe${layer === 'workflows' ? '; use `import type`' : ''})`;
  }
  return SANDBOX_PACKAGES.has(imp.spec) ? null : `${file} imports ${imp.spec} (only ${[...SANDBOX_PACKAGES].join(', ')} are allowed)`;
}

describe('determinism boundary', () => {
  it('workflows/ and domain/ import only sandbox-safe modules', async () => {
    const files = [...(await sources('workflows')), ...(await sources('domain'))];
    expect(files.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const file of files) for (const imp of await importsOf(file)) {
      const problem = violation(file, imp);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  it('the checker itself catches a Node import and a value import of services', () => {
    expect(violation('domain/x.ts', { typeOnly: false, spec: 'node:fs' })).toMatch(/node:fs/);
    expect(violation('workflows/x.ts', { typeOnly: false, spec: '../services/config' })).toMatch(/use `import type`/);
    expect(violation('workflows/x.ts', { typeOnly: true, spec: '../activities' })).toBeNull();
  });

  it('the workflow code bundles with the Temporal bundler', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } });
    expect(bundle.code).toContain('agentTask');
    expect(bundle.code).not.toMatch(/require\(["']node:/);
  });
});
