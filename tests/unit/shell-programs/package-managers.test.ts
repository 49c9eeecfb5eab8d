/**
 * Package managers: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { packageManagers } from '../../../services/policy/programs/package-managers';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('package-managers programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(packageManagers)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of packageManagers.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a global install is system-wide as well as an install', async () => {
    expect(await analyze('npm install -g typescript')).toMatchObject({
      risk: 'system-wide',
      reasons: ['npm install -g installs or changes packages outside the workspace', 'npm installs packages'],
    });
    expect((await analyze('pip install --user x')).risk).toBe('system-wide');
  });

  it('versioned pip names are matched by pattern', async () => {
    expect((await analyze('pip3.11 install x')).reasons).toEqual(['pip3.11 install installs or removes packages']);
  });

  it('builds write the workspace; queries only read', async () => {
    expect((await analyze('cargo build')).risk).toBe('workspace-write');
    expect((await analyze('apt list --installed')).readOnly).toBe(true);
  });
});
