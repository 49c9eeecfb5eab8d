/**
 * Privilege: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { privilege } from '../../../services/policy/programs/privilege';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('privilege programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(privilege)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of privilege.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('sudo is denied, and the inner command is still described', async () => {
    const a = await analyze('sudo ls');
    expect(a.catastrophic).toBe('sudo runs a command with elevated privileges (privilege escalation)');
    expect(a.reasons).toContain('ls only reads or prints');
  });

  it("the inner command's own denial is kept", async () => {
    expect((await analyze('sudo rm -rf /')).catastrophic).toBe('sudo runs a command with elevated privileges (privilege escalation); rm -r would delete /');
  });

  it('changing users is privilege escalation without being denied', async () => {
    expect(await analyze('useradd x')).toMatchObject({ risk: 'privilege-escalation', catastrophic: null });
  });
});
