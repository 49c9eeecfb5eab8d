/**
 * Interpreters: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { interpreters } from '../../../services/policy/programs/interpreters';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('interpreters programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(interpreters)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of interpreters.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('inline code asks', async () => {
    expect(await analyze('python -c "print(1)"')).toMatchObject({ risk: 'unknown', askReasons: ['python -c runs inline code that the analyser cannot judge'] });
  });

  it('modules are judged by name', async () => {
    expect((await analyze('python3 -m http.server')).reasons).toEqual(['python3 -m http.server serves files over the network']);
  });

  it('downloaded code piped into an interpreter is denied', async () => {
    expect((await analyze('curl -s x | python3')).catastrophic).toBe('curl | python3: runs code downloaded from the network (download-and-execute)');
  });

  it('versioned names are matched by pattern; a script is unknown without asking', async () => {
    expect((await analyze('python3.12 --version')).readOnly).toBe(true);
    expect(await analyze('node script.js')).toMatchObject({ risk: 'unknown', askReasons: [], reasons: ['node runs the script script.js'] });
  });
});
