/**
 * Text utilities: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { textUtilities } from '../../../services/policy/programs/text-utilities';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('text-utilities programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(textUtilities)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of textUtilities.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('sed -i writes the files it edits', async () => {
    expect(await analyze("sed -i 's/a/b/' src/x.ts")).toMatchObject({ risk: 'workspace-write', writes: ['/home/dev/project/src/x.ts'] });
  });

  it('an awk program that runs commands is not proven read-only', async () => {
    expect(await analyze(`awk 'BEGIN { system("id") }'`)).toMatchObject({
      risk: 'unknown',
      readOnly: false,
      reasons: ['awk program may write files, read other files or run commands'],
    });
  });

  it('sort -o into a startup file is denied', async () => {
    expect((await analyze('sort -o ~/.profile x')).catastrophic).toBe('sort -o writes /home/dev/.profile: a shell startup file runs in every future shell');
  });

  it('rg --pre runs a program', async () => {
    expect((await analyze('rg --pre=./evil x')).reasons).toEqual(['rg --pre / --hostname-bin runs a program it is given']);
  });
});
