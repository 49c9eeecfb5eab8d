/**
 * What the judge, the redirection and the stdin-code checks need from the walk they work for. The
 * walk (walk.ts) implements it; naming it here keeps those modules from depending on walk.ts,
 * which depends on them.
 */
import type { ShellContext } from './analysis';
import type { PathChecks } from './guards';
import type { SNode } from './parser';
import type { NestedVerdict } from './rule';
import type { PartRec, Scope, Sink } from './state';
import type { WordReader } from './words';

export interface WalkHost {
  readonly ctx: ShellContext;
  /** The command may change glob options: globs are read loosely (dot files, globstar). */
  readonly loose: boolean;
  readonly paths: PathChecks;
  readonly reader: WordReader;
  /** The current scope (cwd, variables); replaced when the walk enters or leaves a subshell. */
  readonly scope: Scope;
  /** Functions and aliases this command defines (a null alias was removed with unalias). */
  readonly functions: ReadonlyMap<string, SNode>;
  readonly aliases: Map<string, string | null>;
  /** Absolute paths of files this command downloads (running one later is download-and-execute). */
  readonly downloads: Set<string>;
  /** Every command part walked so far, in order. */
  readonly parts: PartRec[];
  /** How many command or process substitutions deep the walk is. */
  readonly substDepth: number;
  text(n: SNode): string;
  fetchesIn(n: SNode): boolean;
  setVar(name: string, value: string | null): void;
  /** Parses and analyses a literal script (sh -c, eval, trap, alias body) into `sink`. */
  script(text: string, label: string, sink: Sink, denyOnly: boolean, cwd?: string | null): NestedVerdict;
}
