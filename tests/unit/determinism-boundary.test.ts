/**
 * The determinism boundary: workflows/ and domain/ run in Temporal's replaying sandbox, so they
 * may import only sandbox-safe code. The layer map in .dependency-cruiser.js (run by `npm run lint`)
 * names every offending import; here its rules run on the real tree and on a small tree that breaks
 * them, and the bundle test proves the real bundler accepts the workflow code.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../workers/worker';

/** Violations of the project's layer map in `dirs` under `baseDir`, as "rule: from → to". */
async function violations(baseDir: string, dirs: string[]): Promise<string[]> {
  const options = await extractDepcruiseOptions(path.join(PROJECT_ROOT, '.dependency-cruiser.js'));
  const { output } = await cruise(dirs, { ...options, baseDir });
  return (output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

/** A tree with one allowed import and one of each kind the sandbox must refuse. */
const FIXTURE: Record<string, string> = {
  'services/thing.ts': 'export interface Thing { n: number }\nexport function make(): Thing { return { n: 1 }; }\n',
  'activities/index.ts': 'export interface Activities { run(): Promise<void> }\n',
  'workflows/flow.ts': [
    "import { readFileSync } from 'node:fs';",
    "import type { Activities } from '../activities';",
    "import type { Thing } from '../services/thing';",
    "import { make } from '../services/thing';",
    'export const flow = (a: Activities): Thing => (readFileSync && a ? make() : { n: 0 });',
  ].join('\n'),
  'domain/contract.ts': "import type { Thing } from '../services/thing';\nexport type Contract = Thing;\n",
  'domain/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
  'domain/b.ts': "import { a } from './a';\nexport const b = 1;\nexport const c = () => a;\n",
};

describe('determinism boundary', () => {
  let fixture: string;
  beforeAll(async () => {
    fixture = await mkdtemp(path.join(os.tmpdir(), 'layer-map-'));
    for (const [file, text] of Object.entries(FIXTURE)) {
      await mkdir(path.dirname(path.join(fixture, file)), { recursive: true });
      await writeFile(path.join(fixture, file), text);
    }
  });
  afterAll(async () => {
    await rm(fixture, { recursive: true, force: true });
  });

  it('workflows/ and domain/ import only sandbox-safe modules', async () => {
    const found = await violations(PROJECT_ROOT, ['domain', 'workflows']);
    expect(found.filter((v) => /: (domain|workflows)\//.test(v))).toEqual([]);
  });

  it('the layer map catches a Node import, a value import of services, an upward type import and a cycle', async () => {
    const found = await violations(fixture, ['domain', 'workflows', 'activities', 'services']);
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        'sandbox-workflows: workflows/flow.ts → fs',
        'sandbox-workflows-type-only: workflows/flow.ts → services/thing.ts',
        'sandbox-domain: domain/contract.ts → services/thing.ts',
        expect.stringMatching(/^no-circular: domain\/(a|b)\.ts → /),
      ]),
    );
    // `import type` of activities/ and services/ is how a workflow names their contracts: allowed.
    expect(found.some((v) => v.includes('→ activities/'))).toBe(false);
  });

  it('the workflow code bundles with the Temporal bundler', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } });
    expect(bundle.code).toContain('agentTask');
    expect(bundle.code).not.toMatch(/require\(["']node:/);
  });
});
