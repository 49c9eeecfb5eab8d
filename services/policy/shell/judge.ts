/**
 * The Judge a program rule talks to, for one command part: it strips wrappers, finds the rule for the
 * program, and turns what the rule reports (risks, asks, denials, writes, nested commands and
 * scripts) into findings, checking every write against the protected paths.
 */
import path from 'node:path';
import type { RiskClass } from '../../../domain/tool-catalog';
import { isInside } from '../../paths';
import { PERSISTENCE_FILES, RC_FILES, SYSTEM_DIRS } from '../../../domain/protected-paths';
import { readOperands } from '../programs/file-readers';
import { listedNames } from '../programs/find-xargs';
import { isFetcher, ruleFor, SHELL_NAMES, wrapperFor } from '../programs/registry';
import { normalize } from './args';
import { firstHit, guardsFor, isComputed, type Spelled } from './guards';
import type { Arg, Judge, NestedVerdict, Spelling } from './rule';
import { Sink, type PartRec } from './state';
import type { WalkHost } from './walk-host';

const STD_BIN_DIRS = new Set(['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin', '/usr/libexec']);
const HARMLESS_TARGETS = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/fd/1', '/dev/fd/2', '/proc/self/fd/1', '/proc/self/fd/2', '/dev/zero']);
const DEVICE_WRITE =
  /^\/dev\/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|rdisk\d|dm-\d|md\d|loop\d|sr\d|mapper\/|mem$|kmem$|port$|nbd\d|zd\d|bus\/|cpu\/|block\/)|^\/proc\/sysrq-trigger$|^\/proc\/sys\/kernel\/(sysrq|core_pattern|modprobe)$|^\/sys\/(firmware|power|kernel)\//;
const GLOB_ALL_SEGMENT = /^(\*+|\.\*|\.\?\?\*|\.\[[!^]\.\]\*|\{\*,\.\*\}|\*\.\*)$/;

const unique = (xs: string[]) => [...new Set(xs)];

export class PartJudge implements Judge {
  readonly workspace: string;
  readonly home: string;
  /** Run-time working directory of this command; `cd` and `git -C` change it for the rest of this part. */
  cwd: string | null;
  private depth = 0;

  constructor(
    private readonly w: WalkHost,
    private readonly rec: PartRec | null,
    private readonly sink: Sink,
    readonly denyOnly: boolean,
    cwd: string | null,
  ) {
    this.workspace = w.ctx.workspace;
    this.home = w.ctx.home;
    this.cwd = cwd;
  }

  /** Strips wrappers, then applies the rule for the program. Returns the argv that was judged. */
  run(argv: readonly Arg[], label: string | null): Arg[] {
    let args = [...argv];
    for (let i = 0; i < 16 && args.length > 0; i++) {
      const name = args[0]!.value;
      const wrapper = name !== null && !this.w.functions.has(name) ? wrapperFor(this.programName(name) ?? '') : undefined;
      if (!wrapper) break;
      const inner = wrapper.strip(args, this);
      if (inner === null) {
        this.ask(`${name} wraps a command in a way the analyser cannot unwrap (${args.map((a) => a.text).join(' ')})`);
        this.risk('unknown', `${name} runs a command the analyser cannot see`);
        return args;
      }
      args = inner;
    }
    if (args.length === 0) {
      this.risk('read-only', 'only sets up the environment');
      return args;
    }
    const head = args[0]!;
    const prefix = label ? `${label}: ` : '';
    if (head.value === null) {
      if (head.fetches) this.deny(`${prefix}runs a program named by downloaded content`);
      this.ask(`${prefix}the program name ${head.text} is computed at run time`);
      this.risk('unknown', `${prefix}runs a program whose name is computed at run time (${head.text})`);
      return args;
    }
    const name = head.value;
    if (this.w.functions.has(name)) {
      this.ask(`${prefix}calls ${name}, a function defined in this command`);
      this.risk('read-only', `${prefix}calls function ${name} (its body is judged separately)`);
      return args;
    }
    const alias = this.w.aliases.get(name);
    if (alias !== undefined && alias !== null) {
      this.ask(`${prefix}uses alias ${name}, defined in this command`);
      this.script(
        `${alias} ${args
          .slice(1)
          .map((a) => a.text)
          .join(' ')}`,
        `alias ${name}`,
      );
      return args;
    }
    const program = this.programName(name);
    if (program === null) {
      if (this.isDownloaded(head)) this.deny(`${prefix}runs ${name}, which this command downloaded (download-and-execute)`);
      this.risk('unknown', `${prefix}runs ${name}, a program the analyser does not know`);
      return args;
    }
    if (this.rec && isFetcher(program)) this.rec.fetcher = true;
    const rule = ruleFor(program);
    if (!rule) {
      this.risk('unknown', `${prefix}${program} is not a command the analyser knows`);
      return args;
    }
    const normalized = program === name ? args : [{ ...head, value: program }, ...args.slice(1)];
    rule.judge(normalized, this);
    // A computed operand of a program that prints or copies file contents could be a secret.
    if (!this.denyOnly && normalized.some((a) => a.value === null)) {
      for (const a of readOperands(normalized)) if (a.value === null && isComputed(a)) this.w.paths.guard(a, this.cwd, 'read', this.sink, `${prefix}${program} reads`);
    }
    return args;
  }

  /** Bare names and system bin paths map to their basename; any other path is a local program (null). */
  programName(name: string): string | null {
    if (!name.includes('/')) return name;
    const dir = path.posix.dirname(normalize(name));
    return STD_BIN_DIRS.has(dir) ? path.posix.basename(name) : null;
  }

  risk(risk: RiskClass, reason: string) {
    if (!this.denyOnly) this.sink.findings.push({ risk, reason });
  }

  ask(reason: string) {
    if (!this.denyOnly) this.sink.ask.push(reason);
  }

  deny(reason: string) {
    this.sink.deny.push(reason);
  }

  resolve(a: Arg): string | null {
    return a.value === null ? null : this.resolvePath(a.value);
  }

  private resolvePath(p: string): string | null {
    if (p === '') return null;
    if (p.startsWith('/')) return normalize(p);
    return this.cwd === null ? null : normalize(path.posix.resolve(this.cwd, p));
  }

  candidatePaths(a: Arg): string[] {
    const raw = [a.value, a.pattern, ...(a.guess ?? [])].filter((x): x is string => x !== null && x !== '');
    return unique(raw.map((p) => this.resolvePath(p)).filter((x): x is string => x !== null));
  }

  protectedTree(p: string): string | null {
    let q = p;
    const last = path.posix.basename(p);
    if (GLOB_ALL_SEGMENT.test(last)) q = path.posix.dirname(p);
    else if (/[*?[]/.test(p)) return null;
    q = normalize(q);
    const { workspace, home } = this;
    if (q === '/' || q === home || isInside(q, workspace)) return q;
    if (SYSTEM_DIRS.includes(q)) return q;
    if (/^\/(home|Users)\/[^/]+$/.test(q) || q === '/root') return q;
    return null;
  }

  write(target: Arg, verb: string) {
    for (const c of this.candidatePaths(target)) this.denyChecks(c, verb);
    const spelled = target.value === null ? this.w.paths.spelled(target, this.cwd) : null;
    // A glob or brace spelling of a startup file is denied like the file itself, and so is a glob held by a
    // variable the command set itself (X=~/.bash*; echo > $X); any other computed word is only asked about.
    const guessed = target.value === null ? (target.guess ?? []).filter((g) => /[*?[]/.test(g)).map((g) => this.w.paths.pathTokens(g, this.cwd)) : [];
    const deniable = spelled && !spelled.computed ? spelled : guessed.length ? { alts: guessed, computed: false, dotted: false } : null;
    const startup = deniable ? firstHit(deniable, guardsFor(this.w.ctx).deny, this.w.loose) : null;
    if (startup) this.deny(`${verb} ${target.text}, which could be ${startup.example}: ${startup.guard.why}`);
    if (this.denyOnly) return;
    if (spelled) this.w.paths.guard(target, this.cwd, 'write', this.sink, verb, spelled);
    // A loop variable over one glob (for f in src/*.ts) writes where that glob points.
    const loopGlob = target.spelling?.globs.length === 1 && spelled && !spelled.computed && !/(^|[^\\])[{}]/.test(target.spelling.globs[0]!) ? target.spelling.globs[0]! : null;
    if (target.pattern === null && loopGlob !== null) target = { ...target, pattern: loopGlob };
    if (target.value === null && target.pattern === null) {
      this.ask(`${verb} ${target.text}, a target that is not statically known`);
      this.risk('unknown', `${verb} a computed path (${target.text})`);
      return;
    }
    const abs = target.value !== null ? this.resolve(target) : this.resolvePath(target.pattern!);
    if (abs === null) {
      this.ask(`${verb} ${target.text} after changing to a directory that is not statically known`);
      this.risk('unknown', `${verb} ${target.text} in an unknown directory`);
      return;
    }
    if (HARMLESS_TARGETS.has(abs) || /^\/dev\/fd\/\d+$/.test(abs)) return;
    if (/^\/dev\/(tcp|udp)\//.test(abs)) {
      if (this.rec?.stdinCode || SHELL_NAMES.has(path.posix.basename(this.rec?.part.program ?? ''))) this.deny(`${verb} ${abs}: connects a shell to the network (reverse shell)`);
      this.ask(`${verb} ${abs}: sends data over a raw network socket`);
      this.risk('network', `${verb} ${abs}, a network socket`);
      return;
    }
    this.sink.writes.push(abs);
    // Patterns were compared with every protected path above.
    const literal = target.value !== null;
    if (literal && this.w.paths.credentialPath(abs)) this.ask(`${verb} ${abs}, which holds credentials or secrets`);
    if (isInside(this.workspace, abs)) {
      const rel = path.posix.relative(this.workspace, abs) || '.';
      if (literal && /(^|\/)\.git(\/|$)/.test(rel)) this.ask(`${verb} ${rel}: files under .git (hooks, config) can run code`);
      this.risk('workspace-write', `${verb} ${rel}`);
    } else {
      this.risk('system-wide', `${verb} ${abs}, outside the workspace`);
    }
  }

  alsoCheck(glob: string, verb: string) {
    const g = guardsFor(this.w.ctx);
    const spelled: Spelled = { alts: [this.w.paths.pathTokens(glob, this.cwd)], computed: false, dotted: false };
    if (/(^|[^\\])[*?[]/.test(glob)) {
      const startup = firstHit(spelled, g.deny, this.w.loose);
      if (startup) this.deny(`${verb} ${startup.example}: ${startup.guard.why}`);
    } else this.denyChecks(normalize(glob.replace(/\\(.)/g, '$1')), verb);
    if (this.denyOnly) return;
    const hit = firstHit(spelled, g.write, this.w.loose);
    if (!hit) return;
    const shown = isInside(this.workspace, hit.example) ? path.posix.relative(this.workspace, hit.example) || '.' : hit.example;
    this.ask(`${verb} ${shown}: ${hit.guard.why}`);
    this.sink.guarded.push({ word: shown, example: hit.example, access: 'write', why: hit.guard.why });
  }

  inWorkspace(p: string): boolean {
    return isInside(this.workspace, p);
  }

  /** Deny checks for one concrete candidate path (glob spellings are compared in write()). */
  private denyChecks(abs: string, verb: string) {
    const home = this.home;
    const expand = (p: string) => (p.startsWith('/') ? p : path.posix.join(home, p));
    const matches = (list: readonly string[]) => list.map(expand).find((p) => isInside(p, abs));
    if (DEVICE_WRITE.test(abs)) this.deny(`${verb} ${abs}: writing to a disk device or kernel control file`);
    const rc = matches(RC_FILES);
    if (rc) this.deny(`${verb} ${rc}: a shell startup file runs in every future shell`);
    const persist = matches(PERSISTENCE_FILES);
    if (persist) this.deny(`${verb} ${persist}: grants access or privileges`);
  }

  nested(argv: readonly Arg[], label: string): NestedVerdict {
    const sub = new Sink();
    if (this.depth > 8) {
      this.ask(`${label}: commands nested too deeply`);
      return { risk: 'unknown', readOnly: false, asked: true, denied: false };
    }
    const inner = new PartJudge(this.w, this.rec, sub, this.denyOnly, this.cwd);
    inner.depth = this.depth + 1;
    inner.run(argv, label);
    this.sink.merge(sub);
    return sub.verdict();
  }

  script(text: string, label: string): NestedVerdict {
    return this.w.script(text, label, this.sink, this.denyOnly, this.cwd);
  }

  chdir(target: Arg | null) {
    if (target === null) this.cwd = null;
    else this.cwd = target.value === null ? null : this.resolve(target);
  }

  setVar(name: string, value: string | null) {
    if (!this.denyOnly) this.w.setVar(name, value);
  }

  defineAlias(name: string, value: string | null) {
    if (!this.denyOnly) this.w.aliases.set(name, value);
  }

  fetcher() {
    if (this.rec) this.rec.fetcher = true;
  }

  downloaded(target: Arg) {
    const abs = this.resolve(target);
    if (abs && !this.denyOnly) this.w.downloads.add(abs);
  }

  isDownloaded(a: Arg): boolean {
    const abs = this.resolve(a);
    return abs !== null && this.w.downloads.has(abs);
  }

  stdinCode(interpreter: string) {
    if (this.rec && !this.denyOnly) this.rec.stdinCode = interpreter;
  }

  alsoSpelled(argv: string[]) {
    if (!this.rec || this.denyOnly) return;
    (this.rec.part.variants ??= []).push(argv);
  }

  dynamicArg(text: string, spelling?: Spelling): Arg {
    return { text, value: null, pattern: null, guess: null, fetches: false, ...(spelling ? { spelling } : {}) };
  }

  inputNames(): Spelling | undefined {
    const up = this.rec?.upstream;
    return up && up.length === 1 ? listedNames(up[0]!.args) : undefined;
  }
}
