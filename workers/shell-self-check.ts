/**
 * The shell rules' self check at worker start, once per content. Every rule carries examples, and
 * a worker whose rules disagree with them must not start; but judging every example takes most of a
 * second, which every `agent run` paid before its first model call. A pass is remembered under
 * AGENT_HOME/cache, keyed by a hash of the policy package and the installed packages (the parser),
 * so the check runs again exactly when something it depends on changed.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../services/atomic-file';
import { selfCheck } from '../services/policy/shell/self-check';
import { PROJECT_ROOT } from '../services/temporal-dev-server';
import { contentHash } from './content-hash';

/** Throws when a rule fails its own examples (naming the first few); otherwise resolves, from the cache when it can. */
export async function checkShellRules(cacheDir: string): Promise<void> {
  const marker = path.join(cacheDir, `shell-rules-checked-${await contentHash(PROJECT_ROOT, ['services/policy'], 'shell self check')}`);
  if (
    await stat(marker).then(
      () => true,
      () => false,
    )
  )
    return;
  const failures = await selfCheck();
  if (failures.length) throw new Error(`shell rules fail their own examples: ${failures.slice(0, 5).join('; ')}`);
  await writeFileAtomic(marker, `${new Date().toISOString()}\n`);
}
