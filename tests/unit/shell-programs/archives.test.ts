/**
 * Archives: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { archives } from '../../../services/policy/programs/archives';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('archives programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(archives)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of archives.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('extracting writes into the target directory', async () => {
    expect(await analyze('tar -xf a.tar')).toMatchObject({ risk: 'workspace-write', writes: ['/home/dev/project'] });
    expect((await analyze('unzip a.zip -d out')).writes).toEqual(['/home/dev/project/out']);
  });

  it('tar told to run a program asks', async () => {
    const a = await analyze('tar -cf x.tar src --checkpoint-action=exec=sh');
    expect(a).toMatchObject({ risk: 'unknown', askReasons: ['tar is told to run another program'] });
  });

  it('compressing to stdout only reads; zip -m deletes the originals', async () => {
    expect((await analyze('gzip -c big.log')).readOnly).toBe(true);
    expect((await analyze('zip -m a.zip f')).risk).toBe('destructive');
  });
});
