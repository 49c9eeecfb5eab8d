/**
 * File utilities: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { fileUtilities } from '../../../services/policy/programs/file-utilities';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('file-utilities programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(fileUtilities)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of fileUtilities.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('rm -rf / is denied, and says why', async () => {
    const a = await analyze('rm -rf /');
    expect(a.catastrophic).toBe('rm -r would delete /');
    expect(a.risk).toBe('system-wide');
  });

  it('cp into home is checked as the file it would create there', async () => {
    expect((await analyze('cp .bashrc ~')).catastrophic).toBe('cp writes /home/dev/.bashrc: a shell startup file runs in every future shell');
  });

  it('mv writes both names', async () => {
    expect(await analyze('mv old.ts new.ts')).toMatchObject({ risk: 'workspace-write', writes: ['/home/dev/project/old.ts', '/home/dev/project/new.ts'], askReasons: [] });
  });

  it('a link to a credential asks', async () => {
    expect((await analyze('ln -s ~/.ssh/id_rsa leak')).askReasons).toEqual([
      'touches /home/dev/.ssh/id_rsa, which holds credentials or secrets',
      'ln links to ~/.ssh/id_rsa, outside the workspace',
    ]);
  });

  it('dd onto a disk is denied', async () => {
    expect((await analyze('dd if=/dev/zero of=/dev/sda')).catastrophic).toBe('dd writes /dev/sda: writing to a disk device or kernel control file');
  });
});
