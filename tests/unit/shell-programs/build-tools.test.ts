/**
 * Build tools: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { buildTools } from '../../../services/policy/programs/build-tools';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('build-tools programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(buildTools)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of buildTools.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a formatter asked only to check is read-only', async () => {
    expect(await analyze('prettier --check src')).toMatchObject({ readOnly: true, reasons: ['prettier --check src only checks'] });
  });

  it('a check that also writes is not', async () => {
    expect((await analyze('prettier --check --write src')).risk).toBe('workspace-write');
  });

  it('a build runs project code', async () => {
    expect(await analyze('make test')).toMatchObject({
      risk: 'workspace-write',
      askReasons: [],
      reasons: ['make runs project code or tooling (may write build, cache or report files)'],
    });
  });
});
