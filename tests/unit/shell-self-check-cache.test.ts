/**
 * The worker's start-up check of the shell rules runs once per content: a pass leaves a marker
 * named by the policy package's hash, and a worker finding it does not judge every example again.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkShellRules } from '../../workers/shell-self-check';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('checkShellRules', () => {
  it('checks the rules once and remembers the pass by content hash', { timeout: 60_000 }, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'self-check-'));
    await checkShellRules(dir);
    const markers = await readdir(dir);
    expect(markers).toHaveLength(1);
    expect(markers[0]).toMatch(/^shell-rules-checked-[0-9a-f]{24}$/);
    // The second start finds the marker and checks nothing: a check that ran would write it again.
    await writeFile(path.join(dir, markers[0]!), 'left by the first start\n');
    await checkShellRules(dir);
    expect(await readdir(dir)).toEqual(markers);
    expect(await readFile(path.join(dir, markers[0]!), 'utf8')).toBe('left by the first start\n');
  });
});
