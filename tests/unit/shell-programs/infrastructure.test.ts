/**
 * Infrastructure: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { infrastructure } from '../../../services/policy/programs/infrastructure';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('infrastructure programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(infrastructure)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of infrastructure.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('listing containers only reads', async () => {
    expect(await analyze('docker ps')).toMatchObject({ readOnly: true, reasons: ['docker ps only reads'] });
  });

  it('mounting the host root is privilege escalation', async () => {
    expect((await analyze('docker run -v /:/host alpine')).risk).toBe('privilege-escalation');
  });

  it('deleting remote resources is destructive; planning reads remote state', async () => {
    expect((await analyze('kubectl delete ns prod')).risk).toBe('destructive');
    expect((await analyze('terraform plan')).reasons).toEqual(['terraform plan reads remote state']);
  });
});
