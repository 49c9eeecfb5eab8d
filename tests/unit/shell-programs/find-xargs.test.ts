/**
 * find and xargs: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { findXargs } from '../../../services/policy/programs/find-xargs';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('find-xargs programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(findXargs)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of findXargs.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('find -exec with a read-only command stays read-only', async () => {
    expect(await analyze('find . -name "*.ts" -exec grep -l foo {} +')).toMatchObject({ readOnly: true, reasons: ['grep only reads or prints', 'find only lists files'] });
  });

  it('an unfiltered deleting find over / is denied', async () => {
    expect((await analyze('find / -exec rm {} \\;')).catastrophic).toBe('find / with a deleting action and no filter deletes everything under /');
  });

  it('xargs over tracked files is read-only; over an unknown listing it asks', async () => {
    expect((await analyze('git ls-files | xargs grep TODO')).readOnly).toBe(true);
    expect((await analyze('ls | xargs rm')).askReasons).toContain('xargs runs rm with arguments read from its input');
  });

  it('find -delete with a filter is destructive, not denied', async () => {
    expect(await analyze('find . -name "*.pyc" -delete')).toMatchObject({ risk: 'destructive', catastrophic: null, writes: ['/home/dev/project'] });
  });
});
