/**
 * Runners: the family's own examples (the ones selfCheck runs at worker start), its claim on its
 * programs, and a few verdicts spelled out in full.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONTEXT } from '../../../services/policy/programs/example';
import { runners } from '../../../services/policy/programs/runners';
import { ruleFor } from '../../../services/policy/programs/registry';
import { analyzeShell } from '../../../services/policy/shell/analyze';
import { checkFamily } from '../../../services/policy/shell/self-check';

const analyze = (command: string) => analyzeShell(command, EXAMPLE_CONTEXT);

describe('runners programs', () => {
  it('every rule passes its own examples', async () => {
    expect(await checkFamily(runners)).toEqual([]);
  });

  it('the registry gives each of its programs to this family', () => {
    for (const rule of runners.rules) for (const program of rule.programs) expect(ruleFor(program), program).toBe(rule);
  });
  it('a detached command is judged, and asks because it outlives the task', async () => {
    const a = await analyze("tmux new -d 'rm -rf /'");
    expect(a.catastrophic).toBe('tmux: rm -r would delete /');
    expect(a.askReasons).toEqual(['tmux starts a command that outlives the task']);
    expect((await analyze('systemd-run --user npm start')).askReasons).toEqual(['systemd-run starts a command that outlives the task']);
  });

  it('watch of a read-only command is read-only; tmux ls only inspects', async () => {
    expect((await analyze("watch -n 5 'ls -la'")).readOnly).toBe(true);
    expect((await analyze('tmux ls')).readOnly).toBe(true);
  });

  it('a runner it does not unwrap asks', async () => {
    expect(await analyze('flock /tmp/x make')).toMatchObject({ risk: 'unknown', askReasons: ['flock runs a command the analyser does not unwrap'] });
  });
});
