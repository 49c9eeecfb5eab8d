/**
 * Command-line values several commands resolve the same way: the workspace directory, the policy
 * mode and task rules, and the memory scope. Each throws a usage error (exit 2) naming the flag.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../client/user-error';
import { MODES, type Mode } from '../domain/policy';
import { MemoryInputError, scopeId, scopeKindOf, SCOPE_KINDS, type ScopeKind } from '../services/memory/keys';
import { parseRule } from '../services/policy/rules';
import { localUser } from './cli-context';

/** The workspace's real path; throws a usage error when it is missing or not a directory. */
export async function resolveWorkspace(dir: string): Promise<string> {
  const workspace = path.resolve(dir);
  const info = await stat(workspace).catch(() => null);
  if (!info) throw new UserError(`workspace ${workspace} does not exist (create it or pass --workspace DIR)`, 2);
  if (!info.isDirectory()) throw new UserError(`workspace ${workspace} is not a directory`, 2);
  // The real path, as the worker sees it: rules, trust and "always" answers are keyed by it.
  return await realpath(workspace);
}

/** `--mode`, defaulting to `default`; throws a usage error listing the modes. */
export function parseMode(text: string | undefined): Mode {
  if (text === undefined) return 'default';
  if (!(MODES as readonly string[]).includes(text)) throw new UserError(`--mode must be one of ${MODES.join(', ')}, got "${text}"`, 2);
  return text as Mode;
}

/** Validates task-level rules before they are submitted, so a typo fails here and not in the worker. */
export function parseTaskRules(texts: string[]): string[] {
  return texts.map((t) => {
    try {
      return parseRule(t, 'task').text;
    } catch (err) {
      throw new UserError(`--rule: ${(err as Error).message}`, 2);
    }
  });
}

/** "workspace" / "user" / "global" (relative to the workspace and the OS user), or a full scope string. */
export async function resolveScope(text: string | undefined, workspaceArg: string | undefined): Promise<string> {
  const value = text ?? 'workspace';
  if ((SCOPE_KINDS as readonly string[]).includes(value)) {
    const workspace = value === 'workspace' ? await resolveWorkspace(workspaceArg ?? process.cwd()) : '';
    return scopeId(value as ScopeKind, { workspace, user: localUser() });
  }
  try {
    scopeKindOf(value);
  } catch (err) {
    throw new UserError(`--scope: ${(err as MemoryInputError).message}`, 2);
  }
  return value;
}
