/**
 * What the shell analyser returns for one `run_command` string, and the bounds it works within.
 * The evaluation chain (../evaluate.ts) and the gate read only this shape.
 */
import type { RiskClass } from '../../../domain/tool-catalog';

export interface CommandPart {
  /** Program after stripping harmless wrappers (timeout, nice, env, command, nohup, time, stdbuf...); null if not static. */
  program: string | null;
  /** Words after wrapper stripping, quotes resolved; a dynamic word appears as its source text. */
  argv: string[];
  /** Some word depends on expansion or globbing. */
  dynamic: boolean;
  /** Source slice of the command. */
  text: string;
  redirections: { op: string; target: string | null }[];
  /** Highest risk found for this part alone. */
  risk: RiskClass;
  /** Other spellings with the same meaning (see Judge.alsoSpelled): deny and ask rules match them too. */
  variants?: string[][];
}

export interface ShellAnalysis {
  /** tree-sitter produced a tree without ERROR/MISSING nodes. */
  parsed: boolean;
  parts: CommandPart[];
  /** Highest risk over all parts (order: RISK_ORDER); 'unknown' when nothing can be proven. */
  risk: RiskClass;
  /** Every part proven read-only, nothing written, nothing to ask, nothing to deny. */
  readOnly: boolean;
  /** Set: the command must be denied, never merely asked. */
  catastrophic: string | null;
  /** Why a person must look (fail closed). */
  askReasons: string[];
  /** One human-readable line per finding. */
  reasons: string[];
  /** Statically known write targets, absolute and lexically normalised (globs stay patterns). */
  writes: string[];
  /**
   * Protected paths that a glob, brace or computed word could name (`.g*\/hooks/x`, `cat $(echo .e*)`),
   * each with one concrete example: VCS internals, .env files, agent policy, credentials. Each is also
   * an ask reason; the engine re-checks the examples against its own protected paths.
   */
  protectedTargets: ProtectedTarget[];
}

export interface ProtectedTarget {
  /** The word as written in the command. */
  word: string;
  /** An absolute protected path the word could name. */
  example: string;
  access: 'read' | 'write';
  /** Why the example is protected, in plain words. */
  why: string;
}

export interface ShellContext {
  workspace: string;
  home: string;
}

/**
 * Risk order used to combine parts. `unknown` ranks above the classes that still describe a
 * bounded effect and below the ones that are already worse than "we do not know".
 */
export const RISK_ORDER: readonly RiskClass[] = ['read-only', 'workspace-write', 'network', 'package-install', 'unknown', 'destructive', 'system-wide', 'privilege-escalation'];
const rank = (r: RiskClass) => RISK_ORDER.indexOf(r);
export const maxRisk = (a: RiskClass, b: RiskClass): RiskClass => (rank(a) >= rank(b) ? a : b);

export const LIMITS = {
  /** Longer commands are analysed but always asked. */
  maxLength: 4096,
  /** Longer commands are not parsed at all. */
  hardLength: 100_000,
  maxParts: 32,
  /** sh -c 'sh -c "..."' nesting. */
  maxScriptDepth: 4,
  maxTreeDepth: 256,
} as const;

/** The analysis of a command that could not be analysed: it asks, for the reasons given. */
export function failClosed(reasons: string[]): ShellAnalysis {
  return {
    parsed: false,
    parts: [],
    risk: 'unknown',
    readOnly: false,
    catastrophic: null,
    askReasons: reasons,
    reasons: ['the command could not be analysed'],
    writes: [],
    protectedTargets: [],
  };
}
