/**
 * System programs: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { systemPrograms } from '../../../services/policy/programs/system';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('system programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(systemPrograms)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of systemPrograms.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('stopping the machine or killing every process is denied', async () => {
    expect((await analyze('shutdown -h now')).catastrophic).toBe('shutdown stops or restarts the machine');
    expect((await analyze('kill -9 -1')).catastrophic).toBe('kill -1 / kill 1 kills every process (or init)');
  });

  it('status queries only read', async () => {
    expect((await analyze('systemctl status nginx')).readOnly).toBe(true);
    expect((await analyze('fdisk -l')).readOnly).toBe(true);
  });

  it('changing the clock or scheduled jobs is system-wide', async () => {
    expect((await analyze('date -s 2020-01-01')).reasons).toEqual(['date -s sets the system clock']);
    expect((await analyze('crontab -r')).risk).toBe('system-wide');
  });
});
