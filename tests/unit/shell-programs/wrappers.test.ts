/**
 * Wrappers: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { wrapperPrograms } from '../../../services/policy/programs/wrappers';
import { wrapperFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('wrappers programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(wrapperPrograms)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const wrapper of wrapperPrograms.wrappers ?? []) for (const program of wrapper.programs) expect(wrapperFor(program), program).toBe(wrapper);
  });
  it('judges the wrapped command, not the wrapper', async () => {
    const a = await analyze('timeout 5 rm -rf /');
    expect(a.parts.map((p) => p.argv)).toEqual([['rm', '-rf', '/']]);
    expect(a.catastrophic).toBe('rm -r would delete /');
  });

  it('asks when it cannot tell where the command starts', async () => {
    const a = await analyze('env -S "rm -rf /"');
    expect(a).toMatchObject({ risk: 'unknown', catastrophic: null, askReasons: ['env wraps a command in a way the analyser cannot unwrap (env -S "rm -rf /")'] });
  });

  it('env asks for a variable that changes what runs, and still judges the program', async () => {
    const a = await analyze('env PATH=/tmp/evil ls');
    expect(a.askReasons).toEqual(['env sets PATH, which changes what programs run']);
    expect(a.reasons).toEqual(['ls only reads or prints']);
  });

  it('time -o is a write', async () => {
    expect((await analyze('time -o out.txt ls')).writes).toEqual(['/home/dev/project/out.txt']);
  });
});
