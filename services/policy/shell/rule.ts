/**
 * The contract between the shell walker and the program rules: a rule sees one command's words,
 * already resolved (`Arg`), and reports what the command does through a `Judge`. The walker owns
 * parsing, words, paths and state; the rules in programs/ own what each program means. Anything no
 * rule claims is `unknown`, so forgetting a program fails closed.
 */
import type { RiskClass } from '../../../domain/tool-catalog';

/** One shell word after parsing. `value` is null whenever the word depends on expansion or globbing. */
export interface Arg {
  /** Source text of the word. */
  readonly text: string;
  /** Static value with quotes, escapes, ANSI-C strings and `~` resolved; null if dynamic. */
  readonly value: string | null;
  /** Set when globbing is the only dynamic part: the pattern, quoted metacharacters backslash-escaped. */
  readonly pattern: string | null;
  /** Fields the word would produce if variables known in this command ($HOME, X=/ ...) were expanded; deny checks only. */
  readonly guess: readonly string[] | null;
  /** Contains a $(...) / <(...) whose commands download something (curl, wget, ...). */
  readonly fetches: boolean;
  /** For a word that is not static: what it could name (see Spelling). Absent: it could name anything. */
  readonly spelling?: Spelling;
}

/**
 * What a non-static word could name, as glob sources for the protected-path checks: quoted
 * metacharacters are backslash-escaped, braces still to expand, `ANY_PIECE` stands for a computed
 * piece ($X, $(...): any text, `/` and `..` included) and `SUBPATH` for a path below a directory
 * (find's matches). An empty list names nothing that needs checking.
 */
export interface Spelling {
  readonly globs: readonly string[];
  /** `*`, `?` and `[...]` may match a leading dot (find -name), unlike bash's own globs. */
  readonly dotted: boolean;
}

/** Marks a computed piece inside a glob source (a private-use character no command contains). */
export const ANY_PIECE = '\uE000';
/** Marks "any path below" inside a glob source: like ANY_PIECE, but never climbs with `..`. */
export const SUBPATH = '\uE001';

/** Escapes a literal path so it can stand inside a glob source. */
export const escapeGlob = (s: string) => s.replace(/[\\*?[\]{},()]/g, '\\$&');

/** Result of judging an inner command (sudo CMD, xargs CMD, find -exec CMD) or a literal script (sh -c '...'). */
export interface NestedVerdict {
  readonly risk: RiskClass;
  readonly readOnly: boolean;
  readonly asked: boolean;
  readonly denied: boolean;
  /** A literal script whose commands read this command's stdin as code (`bash -c 'source /dev/stdin'`). */
  readonly readsStdin?: boolean;
}

/** How a rule reports what a command does. Findings accumulate on the command part being judged. */
export interface Judge {
  readonly workspace: string;
  readonly home: string;
  /** Working directory of this command as far as it is statically known (after `cd`); null if not. */
  readonly cwd: string | null;
  risk(risk: RiskClass, reason: string): void;
  /** A person must look at this command (fail closed). */
  ask(reason: string): void;
  /** Catastrophic: the command must be denied, never merely asked. */
  deny(reason: string): void;
  /** Records a file the command writes or deletes and checks where it is (outside the workspace, rc files, devices...). */
  write(target: Arg, verb: string): void;
  /**
   * Checks (rc files, devices, protected workspace paths) for a path the command may also write without
   * recording it as a write, e.g. DIR/name for `cp name DIR`. Given as a glob source (see Spelling).
   */
  alsoCheck(absoluteGlob: string, verb: string): void;
  inWorkspace(absolutePath: string): boolean;
  /** Absolute path of a static word (relative to the tracked cwd), or null. */
  resolve(a: Arg): string | null;
  /** Every absolute path this word could plausibly denote (static value, guessed variables, glob pattern); for deny checks. */
  candidatePaths(a: Arg): string[];
  /** Names the protected tree a path is (/, home, the workspace or one of its parents, a top-level system dir), or null. */
  protectedTree(p: string): string | null;
  /** Judge an inner command as part of this one (sudo, xargs, find -exec, env...). */
  nested(argv: readonly Arg[], label: string): NestedVerdict;
  /** Parse and analyse a literal script (sh -c, eval, trap, an alias body) as part of this command. */
  script(text: string, label: string): NestedVerdict;
  chdir(target: Arg | null): void;
  setVar(name: string, value: string | null): void;
  defineAlias(name: string, value: string | null): void;
  /** This command downloads data (its stdout may be remote content). */
  fetcher(): void;
  /** This command saves downloaded content into a file; executing that file later is download-and-execute. */
  downloaded(target: Arg): void;
  isDownloaded(a: Arg): boolean;
  /** This command executes what arrives on stdin as code (`sh`, `python -`, ...); the analyser judges that input. */
  stdinCode(interpreter: string): void;
  /**
   * Another spelling of this command with the same meaning, for deny and ask rules only (never to
   * allow): synonyms unified and the meaningful flag first, so `deny run_command(git push --force *)`
   * also catches `git push origin +main` and `git push origin main -f`.
   */
  alsoSpelled(argv: string[]): void;
  /** A fresh dynamic word, e.g. the arguments xargs appends; `spelling` says what it can name, if known. */
  dynamicArg(text: string, spelling?: Spelling): Arg;
  /** What the names arriving on this command's stdin can be, when an upstream pipeline stage lists files; undefined if unknown. */
  inputNames(): Spelling | undefined;
}

export interface Expectation {
  risk?: RiskClass;
  readOnly?: boolean;
  /** true: `catastrophic` must be set; false: it must be null. */
  deny?: boolean;
  /** true: at least one ask reason; false: none. */
  ask?: boolean;
  /** Exact list of write targets. */
  writes?: string[];
  program?: string | null;
}

export interface RuleExample {
  readonly command: string;
  readonly expect: Expectation;
}

export interface ShellRule {
  /** Program basenames the rule claims. */
  readonly programs: readonly string[];
  /** Extra program-name patterns (mkfs.ext4, python3.12...). */
  readonly match?: RegExp;
  judge(argv: readonly Arg[], j: Judge): void;
  readonly examples: readonly RuleExample[];
}

/** A harmless wrapper: returns the wrapped command's argv (may be empty), or null when it cannot tell. */
export interface WrapperRule {
  readonly programs: readonly string[];
  strip(argv: readonly Arg[], j: Judge): Arg[] | null;
  readonly examples: readonly RuleExample[];
}

/**
 * One program family (git, package managers, file utilities...): its rules and wrappers, each
 * carrying the examples it must classify correctly. selfCheck runs every example.
 */
export interface ProgramFamily {
  /** Short name, used in self-check messages and test names. */
  readonly name: string;
  readonly rules: readonly ShellRule[];
  readonly wrappers?: readonly WrapperRule[];
}
