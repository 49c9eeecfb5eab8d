/**
 * Shell builtins: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { shellBuiltins } from '../../../services/policy/programs/shell-builtins';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('shell-builtins programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(shellBuiltins)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of shellBuiltins.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('cd moves where later writes land', async () => {
    expect(await analyze('cd /etc && echo x > hosts')).toMatchObject({ risk: 'system-wide', writes: ['/etc/hosts'] });
    expect((await analyze('cd src && ls')).readOnly).toBe(true);
  });

  it('hash -p asks', async () => {
    expect((await analyze('hash -p /tmp/evil ls')).askReasons).toEqual(['hash -p binds a command name to another program']);
  });

  it('a declaration of a variable that changes what runs asks', async () => {
    expect((await analyze('export PATH=/tmp/evil')).askReasons).toEqual(['assigns PATH, which changes what later commands run', 'export PATH changes what later commands run']);
  });

  it('a declaration reached through a wrapper asks for the same variables', async () => {
    for (const command of ['command export PATH=/tmp/evil; ls', 'builtin declare -x LD_PRELOAD=/tmp/evil.so; ls', 'command typeset NODE_OPTIONS=--require=/tmp/x.js']) {
      const analysis = await analyze(command);
      expect(analysis.readOnly, command).toBe(false);
      expect(analysis.askReasons.join('; '), command).toMatch(/(PATH|LD_PRELOAD|NODE_OPTIONS) changes what later commands run/);
    }
    expect((await analyze('command export NODE_ENV=test')).readOnly).toBe(true);
  });
});
