/**
 * git: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { gitPrograms } from '../../../services/policy/programs/git';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('git programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(gitPrograms)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of gitPrograms.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a force push by refspec is also spelled as --force, for deny rules', async () => {
    const a = await analyze('git push origin +main');
    expect(a.risk).toBe('destructive');
    expect(a.parts[0]!.variants).toEqual([['git', 'push', '--force', 'origin', 'main']]);
  });

  it('reads are read-only; configuration overrides ask', async () => {
    expect((await analyze('git status')).reasons).toEqual(['git status only reads the repository']);
    expect((await analyze('git -c core.pager=x log')).askReasons).toEqual(['git -c core.pager=x can make git run arbitrary programs']);
  });

  it('a subcommand that names an object property is still unknown', async () => {
    expect(await analyze('git constructor')).toMatchObject({ risk: 'unknown', reasons: ['git constructor is not a git command the analyser knows (could be an alias)'] });
  });

  it('branch -D is destructive', async () => {
    expect((await analyze('git branch -D old')).reasons).toEqual(['git branch -D deletes a branch even if unmerged (destructive)']);
  });
});
