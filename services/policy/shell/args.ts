/**
 * Helpers a program rule uses to read its argv: a getopt-style split into options and positionals,
 * and the small checks most rules share. Pure functions over `Arg`s; nothing here knows a program.
 */
import path from 'node:path';
import type { Arg, Judge } from './rule';

export function literalArg(s: string): Arg {
  return { text: s, value: s, pattern: null, guess: [s], fetches: false };
}

export interface ParsedArgs {
  /** Every option seen, short ones split (-rf → -r, -f), long ones without their =value. */
  flags: Set<string>;
  /** Values of options that take one. */
  opts: Map<string, Arg[]>;
  positionals: Arg[];
  /** A dynamic word stood where an option could be: its meaning is not known. */
  dynamic: boolean;
}

/**
 * Splits argv (without the program) into options and positionals the way GNU getopt does.
 * `valued` lists options that take a value (`-o`, `--output`). Stops at `--`, and at the first
 * positional when `stopAtPositional` (subcommand dispatch).
 */
export function parseArgs(args: readonly Arg[], valued: readonly string[] = [], stopAtPositional = false): ParsedArgs {
  const r: ParsedArgs = { flags: new Set(), opts: new Map(), positionals: [], dynamic: false };
  const put = (k: string, v: Arg) => {
    r.flags.add(k);
    r.opts.set(k, [...(r.opts.get(k) ?? []), v]);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a.value;
    if (v === null) {
      r.dynamic = true;
      r.positionals.push(a);
      if (stopAtPositional) r.positionals.push(...args.slice(i + 1));
      if (stopAtPositional) break;
      continue;
    }
    if (v === '--') {
      r.positionals.push(...args.slice(i + 1));
      break;
    }
    if (v.startsWith('--')) {
      const eq = v.indexOf('=');
      if (eq > 0) put(v.slice(0, eq), literalArg(v.slice(eq + 1)));
      else if (valued.includes(v) && i + 1 < args.length) put(v, args[++i]!);
      else r.flags.add(v);
      continue;
    }
    if (v.startsWith('-') && v.length > 1) {
      for (let k = 1; k < v.length; k++) {
        const flag = `-${v[k]}`;
        if (valued.includes(flag)) {
          if (k + 1 < v.length) put(flag, literalArg(v.slice(k + 1)));
          else if (i + 1 < args.length) put(flag, args[++i]!);
          else r.flags.add(flag);
          break;
        }
        r.flags.add(flag);
      }
      continue;
    }
    r.positionals.push(a);
    if (stopAtPositional) {
      r.positionals.push(...args.slice(i + 1));
      break;
    }
  }
  return r;
}

export const has = (p: ParsedArgs, ...flags: string[]) => flags.some((f) => p.flags.has(f));
export const firstValue = (p: ParsedArgs, ...flags: string[]): Arg | undefined => flags.map((f) => p.opts.get(f)?.[0]).find(Boolean);
/** The static value of a word that may be missing, or null. */
export const staticValue = (a: Arg | undefined) => a?.value ?? null;

/**
 * A word that is not static and could expand to an option: a computed piece or a glob whose first
 * character is not a fixed one (`rg foo *` meets a file named `--pre=sh`). Static words are judged as
 * what they are; words after `--` are operands.
 */
export function optionLike(args: readonly Arg[]): Arg | undefined {
  for (const a of args) {
    if (a.value === '--') return undefined;
    if (a.value !== null) continue;
    const globs = a.spelling?.globs;
    if (!globs || globs.length === 0 || globs.some((g) => !/^[^-*?[\\{\uE000\uE001]/.test(g))) return a;
  }
  return undefined;
}

/** For programs with options that run programs or write files: a word that could become such an option is not read-only. */
export function injected(argv: readonly Arg[], j: Judge) {
  const a = optionLike(argv.slice(1));
  if (a) j.risk('unknown', `${argv[0]!.value} gets ${a.text}, which could expand to an option that runs a program or writes a file`);
}

/** Write every positional (or those picked) as a target of `verb`. */
export function writeAll(j: Judge, targets: readonly Arg[], verb: string) {
  for (const t of targets) j.write(t, verb);
}

/** Words that only ask a program for its version or help. */
export const VERSION_FLAGS = new Set(['--version', '-V', '-v', '-version', 'version', '--help', '-h', 'help']);

/** Paths that name the process's own stdin. */
export const STDIN_PATHS = new Set(['-', '/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Normalises a path lexically (no symlinks). */
export const normalize = (p: string) => path.posix.normalize(p).replace(/(.)\/$/, '$1');
