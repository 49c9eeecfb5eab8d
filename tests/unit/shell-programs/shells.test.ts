/**
 * Shells: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { shells } from '../../../services/policy/programs/shells';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('shells programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(shells)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of shells.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a literal sh -c script is judged as part of the command', async () => {
    expect((await analyze("bash -c 'rm -rf /'")).catastrophic).toBe('bash -c: rm -r would delete /');
  });

  it('a literal script piped into sh is judged too', async () => {
    expect(await analyze("echo 'ls' | sh")).toMatchObject({ readOnly: true, reasons: ['echo only reads or prints', 'echo | sh: ls only reads or prints'] });
  });

  it('eval of a computed string asks', async () => {
    expect(await analyze('eval "$X"')).toMatchObject({ risk: 'unknown', askReasons: ['eval runs a string as shell code'] });
  });

  it('an alias defined in the command is expanded where it is used', async () => {
    const a = await analyze("alias ls='rm -rf /'; ls");
    expect(a.catastrophic).toBe('alias ls: rm -r would delete /');
    expect(a.askReasons).toEqual(['uses alias ls, defined in this command']);
  });
});
