/**
 * Every program family, and the lookup the judge uses: a program name (or a pattern such as
 * mkfs.ext4, python3.12) to the one rule that claims it. A program claimed twice is reported by
 * selfCheck; a program no rule claims is judged `unknown`.
 */
import type { ProgramFamily, ShellRule, WrapperRule } from '../shell/rule';
import { archives } from './archives';
import { buildTools } from './build-tools';
import { fileUtilities } from './file-utilities';
import { findXargs } from './find-xargs';
import { gitPrograms } from './git';
import { infrastructure } from './infrastructure';
import { interpreters } from './interpreters';
import { FETCHERS, networkPrograms } from './network';
import { packageManagers } from './package-managers';
import { privilege } from './privilege';
import { readOnlyPrograms } from './read-only';
import { runners } from './runners';
import { shellBuiltins } from './shell-builtins';
import { shells } from './shells';
import { systemPrograms } from './system';
import { textUtilities } from './text-utilities';
import { wrapperPrograms } from './wrappers';

export { SHELL_NAMES } from './shells';

export const FAMILIES: readonly ProgramFamily[] = [
  wrapperPrograms,
  readOnlyPrograms,
  textUtilities,
  fileUtilities,
  findXargs,
  archives,
  gitPrograms,
  packageManagers,
  buildTools,
  interpreters,
  shells,
  shellBuiltins,
  runners,
  networkPrograms,
  infrastructure,
  systemPrograms,
  privilege,
];

export const SHELL_RULES: readonly ShellRule[] = FAMILIES.flatMap((f) => f.rules);
export const WRAPPERS: readonly WrapperRule[] = FAMILIES.flatMap((f) => f.wrappers ?? []);

const RULES_BY_NAME = new Map<string, ShellRule>();
for (const rule of SHELL_RULES) for (const p of rule.programs) if (!RULES_BY_NAME.has(p)) RULES_BY_NAME.set(p, rule);
const WRAPPERS_BY_NAME = new Map<string, WrapperRule>();
for (const w of WRAPPERS) for (const p of w.programs) WRAPPERS_BY_NAME.set(p, w);

/** The rule for a program basename, or undefined (the program is then `unknown`). */
export function ruleFor(name: string): ShellRule | undefined {
  return RULES_BY_NAME.get(name) ?? SHELL_RULES.find((r) => r.match?.test(name));
}

/** The wrapper rule for a program basename, or undefined when the program is not a wrapper. */
export function wrapperFor(name: string): WrapperRule | undefined {
  return WRAPPERS_BY_NAME.get(name);
}

/** Programs whose output may be remote content (for `curl ... | sh` detection). */
export function isFetcher(program: string): boolean {
  return FETCHERS.has(program);
}
