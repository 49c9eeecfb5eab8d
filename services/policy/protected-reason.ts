/**
 * Why a path needs a person: the evaluation chain's protected step, over the tables of
 * domain/protected-paths.ts. (The kernel enforces the workspace part separately, in
 * services/sandbox/protected-paths.ts, because a parser never sees every spelling.)
 */
import os from 'node:os';
import path from 'node:path';
import { CREDENTIAL_PATHS, PROTECTED_IN_WORKSPACE, RC_FILES } from '../../domain/protected-paths';
import { isInside } from '../paths';
import { matchesPath } from './rules';

/**
 * Paths that always need a human, even under a broad allow. Inside the workspace: PROTECTED_IN_WORKSPACE
 * (VCS internals, .env files, the policy itself). Outside it: credentials and shell start-up files.
 * Home-relative unless absolute.
 */
const PROTECTED_OUTSIDE = [...CREDENTIAL_PATHS, ...RC_FILES];

/** Why an absolute path needs a person before any tool touches it, or null when it does not. Never throws. */
export function protectedReason(target: string, workspace: string, home = os.homedir()): string | null {
  for (const glob of PROTECTED_IN_WORKSPACE)
    if (matchesPath(glob, target, workspace, home)) return `${path.relative(workspace, target) || target} is a protected path (VCS internals, .env files or agent policy)`;
  for (const entry of PROTECTED_OUTSIDE) {
    const base = path.isAbsolute(entry) ? entry : path.join(home, entry);
    if (target === base || isInside(base, target)) return `${target} is a protected path (credentials or shell start-up files)`;
  }
  return null;
}
