/**
 * Protected-path checks for words that are not static: whether a glob, brace or computed word could
 * name a secret, a credential, a workspace internal (.git, .env, the agent policy) or a shell
 * startup file, with one concrete example path to show a person. The tables are
 * ../protected-paths.ts; the pattern intersection is glob-intersect.ts.
 */
import path from 'node:path';
import { isInside } from '../../paths';
import { CREDENTIAL_PATHS, PERSISTENCE_FILES, PROTECTED_IN_WORKSPACE, RC_FILES, SECRET_BASENAMES, SECRET_DOTFILES } from '../../../domain/protected-paths';
import type { ShellContext } from './analysis';
import { normalize } from './args';
import { ANY_TOK, expandGlobBraces, intersect, litPrefix, splitGlob, tokenize, type Tok } from './glob-intersect';
import { ANY_PIECE, escapeGlob, SUBPATH, type Arg } from './rule';
import type { Sink } from './state';

/** A protected path as token lists, with what a person should be told about it. */
export interface Guard {
  toks: Tok[];
  prefix: string;
  /**
   * No wildcard. find's -name wildcards do match a leading dot, but are allowed to only against these:
   * otherwise `-name '*.ts'` could be `.env.ts` (a `.env.*` file) and every `find -exec grep` would ask.
   */
  exact: boolean;
  why: string;
}

interface Guards {
  /** Secrets: reading them needs a person. */
  read: Guard[];
  /** Workspace internals, secrets, credentials: writing them needs a person. */
  write: Guard[];
  /** Shell startup and access-granting files: writing them is denied. */
  deny: Guard[];
}

/** Turns `root/**\/name` style globs into guards: each `**` segment is either nothing or any path. */
function guards(globs: readonly string[], why: (glob: string) => string): Guard[] {
  const out: Guard[] = [];
  for (const glob of globs) {
    let alts: string[][] = [[]];
    for (const seg of glob.split('/').slice(1)) alts = seg === '**' ? alts.flatMap((a) => [a, [...a, ANY_PIECE]]) : alts.map((a) => [...a, seg]);
    for (const segs of alts) {
      const toks = tokenize(segs, true, false);
      out.push({ toks, prefix: litPrefix(toks), exact: toks.every((t) => t.k === 'lit'), why: why(glob) });
    }
  }
  return out;
}

const GUARDS = new Map<string, Guards>();

export function guardsFor(ctx: ShellContext): Guards {
  const key = `${ctx.workspace}\0${ctx.home}`;
  let g = GUARDS.get(key);
  if (g) return g;
  const inHome = (p: string) => escapeGlob(p.startsWith('/') ? p : path.posix.join(ctx.home, p));
  const ws = PROTECTED_IN_WORKSPACE.map((p) => `${escapeGlob(ctx.workspace)}/${p}`);
  const workspaceWhy = (glob: string) =>
    /\.git(\/|$)/.test(glob) ? 'files under .git (hooks, config) can run code' : /\.env/.test(glob) ? 'it holds secrets' : "it is the agent's own policy";
  const secrets = [
    ...guards(
      ws.filter((p) => /\.env/.test(p)),
      () => 'it holds secrets',
    ),
    ...guards(
      SECRET_DOTFILES.map((n) => `/**/${n}`),
      () => 'it holds secrets',
    ),
  ];
  const credentials = guards(
    CREDENTIAL_PATHS.map((p) => `${inHome(p)}/**`),
    () => 'it holds credentials',
  );
  // Named files before whole trees, so the example shown is the most specific one (.agent/policy.json, not .git/policy.json).
  const specificFirst = (list: Guard[]) => [...list.filter((x) => x.toks[x.toks.length - 1]?.k !== 'any'), ...list.filter((x) => x.toks[x.toks.length - 1]?.k === 'any')];
  g = {
    read: specificFirst([...secrets, ...credentials]),
    write: specificFirst([...guards(ws, workspaceWhy), ...secrets, ...credentials]),
    deny: [
      ...guards(
        RC_FILES.map((p) => `${inHome(p)}/**`),
        () => 'a shell startup file runs in every future shell',
      ),
      ...guards(
        PERSISTENCE_FILES.map((p) => `${inHome(p)}/**`),
        () => 'it grants access or privileges',
      ),
    ],
  };
  if (GUARDS.size > 64) GUARDS.clear();
  GUARDS.set(key, g);
  return g;
}

/** The absolute path patterns a non-static word could name. */
export interface Spelled {
  alts: Tok[][];
  /** Some piece is computed (not a plain glob): such a word is never denied on a guess, only asked about. */
  computed: boolean;
  /** find's names: wildcards may match a leading dot (compared with exact guards only). */
  dotted: boolean;
}

/** A word with a computed piece (or unknown spelling), as opposed to a plain glob or brace word. */
export function isComputed(a: Arg): boolean {
  return !a.spelling || a.spelling.globs.some((g) => g.includes(ANY_PIECE) || g.includes(SUBPATH));
}

/** Commands that may change how globs match (dot files, case, globstar): their globs are read loosely. */
export const GLOB_OPTIONS = /shopt|setopt|dotglob|glob_?dots|GLOBIGNORE|BASHOPTS|nocaseglob|globstar|extglob|\bset\b[^;&|\n]*[-+][a-z]*o\s*[a-z_]*glob/i;

/** Whether some path matched by `sp` is matched by one of `list`: the first such guard and the example path. */
export function firstHit(sp: Spelled, list: readonly Guard[], loose: boolean): { guard: Guard; example: string } | null {
  const prefixes = sp.alts.map(litPrefix);
  for (const guard of list) {
    for (let k = 0; k < sp.alts.length; k++) {
      // Both start with literal text: unless one begins the other, no path matches both.
      const p = prefixes[k]!;
      if (!(p.length < guard.prefix.length ? guard.prefix.startsWith(p) : p.startsWith(guard.prefix))) continue;
      const example = intersect(sp.alts[k]!, guard.toks, loose || (sp.dotted && guard.exact));
      if (example !== null) return { guard, example };
    }
  }
  return null;
}

/** The checks of one walk: its context, and whether it reads globs loosely (the command may change glob options). */
export class PathChecks {
  constructor(
    readonly ctx: ShellContext,
    readonly loose: boolean,
  ) {}

  /**
   * Asks when a word names a secret or credential. Static words and globs are checked for every
   * program (as `echo .env` always was); computed words only where they are read (`computed`):
   * redirections (redirects.ts) and the file operands of readers (PartJudge.run).
   */
  checkCredentialArg(a: Arg, cwd: string | null, sink: Sink, computed = false) {
    if (a.value === null) {
      if (!computed && isComputed(a)) return;
      if (!this.guard(a, cwd, 'read', sink, 'touches') && a.pattern !== null && SECRET_BASENAMES.test(path.posix.basename(a.pattern).replace(/[*?]/g, ''))) {
        sink.ask.push(`touches ${a.text}, which may name a file with secrets`);
      }
      return;
    }
    const v = a.value;
    const candidates = [v, ...(v.includes('=') ? [v.slice(v.indexOf('=') + 1)] : [])];
    for (const c of candidates) {
      if (!c || (c.startsWith('-') && !c.includes('/'))) continue;
      // In an unknown directory only the name itself can tell (cd "$D" && cat .env).
      const abs = c.startsWith('/') ? normalize(c) : cwd ? path.posix.resolve(cwd, c) : c;
      if (this.credentialPath(abs)) sink.ask.push(`touches ${c}, which holds credentials or secrets`);
    }
  }

  credentialPath(abs: string): boolean {
    const home = this.ctx.home;
    const names = CREDENTIAL_PATHS.map((p) => (p.startsWith('/') ? p : path.posix.join(home, p)));
    return names.some((p) => isInside(p, abs)) || SECRET_BASENAMES.test(path.posix.basename(abs));
  }

  /** The absolute path patterns a non-static word could name, relative words resolved against `cwd`. */
  spelled(a: Arg, cwd: string | null): Spelled {
    const sp = a.spelling ?? { globs: [ANY_PIECE], dotted: false };
    const alts: Tok[][] = [];
    for (const glob of sp.globs) {
      const expanded = expandGlobBraces(glob);
      if (!expanded || alts.length + expanded.length > 64) return { alts: [[ANY_TOK]], computed: true, dotted: sp.dotted };
      for (const e of expanded) alts.push(this.pathTokens(e, cwd));
    }
    return { alts, computed: isComputed(a), dotted: sp.dotted };
  }

  pathTokens(glob: string, cwd: string | null): Tok[] {
    const segs = splitGlob(glob);
    const all = segs[0] === '' ? segs.slice(1) : segs[0]!.startsWith(ANY_PIECE) ? segs : [...(cwd === null ? [ANY_PIECE] : splitGlob(escapeGlob(cwd)).slice(1)), ...segs];
    const out: string[] = [];
    for (const seg of all) {
      if (seg === '' || seg === '.') continue;
      // `..` after a glob undoes it; after a computed piece it stays inside "anything".
      if (seg === '..') {
        const last = out[out.length - 1];
        if (last !== undefined && !last.includes(ANY_PIECE) && !last.includes(SUBPATH)) out.pop();
        continue;
      }
      out.push(seg);
    }
    // A computed piece may itself hold `/..` and climb anywhere: only what follows the last one constrains the path.
    let last = -1;
    out.forEach((seg, k) => seg.includes(ANY_PIECE) && (last = k));
    if (last < 0) return tokenize(out, true, this.loose);
    const seg = out[last]!;
    return tokenize([seg.slice(seg.lastIndexOf(ANY_PIECE)), ...out.slice(last + 1)], false, this.loose);
  }

  /**
   * Asks when a non-static word could name a protected path: secrets and credentials for a read;
   * also .git, .env and the agent policy in the workspace for a write. Returns whether it could.
   */
  guard(a: Arg, cwd: string | null, access: 'read' | 'write', sink: Sink, verb: string, spelled = this.spelled(a, cwd)): boolean {
    const g = guardsFor(this.ctx);
    const hit = firstHit(spelled, access === 'read' ? g.read : g.write, this.loose);
    if (!hit) return false;
    const shown = isInside(this.ctx.workspace, hit.example) ? path.posix.relative(this.ctx.workspace, hit.example) || '.' : hit.example;
    sink.ask.push(`${verb} ${a.text}, which could be ${shown}: ${hit.guard.why}`);
    sink.guarded.push({ word: a.text, example: hit.example, access, why: hit.guard.why });
    return true;
  }
}
