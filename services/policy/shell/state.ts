/**
 * What a walk accumulates: findings per command part (a Sink), the record of each part, and the
 * variable scope the walker follows (cwd, guessed values, loop names).
 */
import type { RiskClass } from '../../../domain/tool-catalog';
import { maxRisk, type CommandPart, type ProtectedTarget } from './analysis';
import type { SNode } from './parser';
import type { Arg, NestedVerdict, Spelling } from './rule';

export interface Finding {
  risk: RiskClass;
  reason: string;
}

/** Where findings for one command part (or for the statement as a whole) accumulate. */
export class Sink {
  findings: Finding[] = [];
  ask: string[] = [];
  deny: string[] = [];
  writes: string[] = [];
  guarded: ProtectedTarget[] = [];
  merge(other: Sink) {
    this.findings.push(...other.findings);
    this.ask.push(...other.ask);
    this.deny.push(...other.deny);
    this.writes.push(...other.writes);
    this.guarded.push(...other.guarded);
  }
  verdict(): NestedVerdict {
    const risk = this.findings.reduce<RiskClass>((r, f) => maxRisk(r, f.risk), 'read-only');
    return {
      risk,
      readOnly: risk === 'read-only' && this.ask.length === 0 && this.deny.length === 0 && this.writes.length === 0,
      asked: this.ask.length > 0,
      denied: this.deny.length > 0,
    };
  }
}

export interface PartRec {
  part: CommandPart;
  node: SNode | null;
  sink: Sink;
  substDepth: number;
  fetcher: boolean;
  /** Interpreter that runs its stdin as code, and whether a redirect already accounted for that stdin. */
  stdinCode: string | null;
  stdinHandled: boolean;
  /** Static argv after wrappers (for `echo ... | sh`). */
  args: Arg[];
  /** Literal here-doc / here-string fed to this command (for `cat <<EOF | sh`). */
  stdinText: string | null;
  /** The parts of the previous pipeline stage when they feed this command's stdin (for xargs). */
  upstream: PartRec[] | null;
}

export interface Scope {
  cwd: string | null;
  /** Guessed variable values (never trusted for allowing, only for deny checks). */
  vars: Map<string, string | null>;
  /** Loop variables over literal words and globs (`for f in src/*.ts`): what their values can name. */
  names: Map<string, Spelling>;
}
