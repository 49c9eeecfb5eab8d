/**
 * Read-only programs: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { readOnlyPrograms } from '../../../services/policy/programs/read-only';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('read-only programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(readOnlyPrograms)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of readOnlyPrograms.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a listing is read-only with one reason', async () => {
    expect(await analyze('ls -la')).toMatchObject({ risk: 'read-only', readOnly: true, reasons: ['ls only reads or prints'], askReasons: [] });
  });

  it('a read-only program still asks for a credential or a secret', async () => {
    expect((await analyze('cat ~/.ssh/id_rsa')).askReasons).toEqual(['touches /home/dev/.ssh/id_rsa, which holds credentials or secrets']);
    expect((await analyze('cat .env')).askReasons).toEqual(['touches .env, which holds credentials or secrets']);
  });

  it('an ordinary glob stays read-only', async () => {
    expect(await analyze('wc -l src/*.ts')).toMatchObject({ readOnly: true, askReasons: [] });
  });
});
