/**
 * How the walker turns syntax nodes into words (`Arg`): quotes, escapes and ANSI-C strings resolved,
 * `~` expanded, globs and braces kept as patterns, and for every word that is not static what it
 * could name (its Spelling) and what a deny check may guess it to be. A word that depends on
 * expansion is never given a value: it is never proven safe.
 */
import type { ShellContext } from './analysis';
import { listedNames } from '../programs/find-xargs';
import type { SNode } from './parser';
import { ANY_PIECE, escapeGlob, type Arg, type Spelling } from './rule';
import type { Scope } from './state';

/** Decodes the body of $'...' the way bash does. */
function decodeAnsiC(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const n = body[++i]!;
    const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (n in simple) out += simple[n];
    else if (n === 'x' || n === 'u' || n === 'U') {
      const max = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 1, i + 1 + max));
      if (!m) out += `\\${n}`;
      else {
        out += String.fromCodePoint(Math.min(parseInt(m[0], 16), 0x10ffff));
        i += m[0].length;
      }
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (n === 'c' && i + 1 < body.length) out += String.fromCharCode(body.charCodeAt(++i) & 0x1f);
    else out += `\\${n}`;
  }
  return out;
}

/** Brace expansion for guesses only ({a,b}, no sequences): at most 64 words. */
function expandBraces(word: string): string[] | null {
  const m = /\{([^{}]*,[^{}]*)\}/.exec(word);
  if (!m) return [word];
  const out: string[] = [];
  for (const alt of m[1]!.split(',')) {
    const rest = expandBraces(word.slice(0, m.index) + alt + word.slice(m.index + m[0].length));
    if (!rest) return null;
    out.push(...rest);
    if (out.length > 64) return null;
  }
  return out;
}

/**
 * `names`: glob sources of what a dynamic piece can be (a loop variable's words, /dev/fd/* for <(...),
 * what $(find ...) lists); `dotted` as in Spelling.
 */
type Piece = { lit: string; quoted: boolean } | { dyn: true; guess: string | null; quoted: boolean; names?: readonly string[]; dotted?: boolean };

/** The pieces of the word being read, and whether a command inside it downloads something. */
interface Pieces {
  pieces: Piece[];
  fetches: boolean;
}

/** What a word reader needs from the walk it reads for: the source, the context and the current scope. */
export interface WordSource {
  readonly src: string;
  readonly ctx: ShellContext;
  /** Read on every word: the walk replaces its scope when it enters and leaves a subshell. */
  readonly scope: Scope;
  text(n: SNode): string;
  /** Whether a command inside `n` downloads something (its output may be remote content). */
  fetchesIn(n: SNode): boolean;
}

export class WordReader {
  constructor(private readonly w: WordSource) {}

  /** Builds the Args of a command, merging nodes tree-sitter split although bash sees one word. */
  words(nodes: SNode[]): Arg[] {
    return this.groupWords(nodes).map((g) => this.word(g));
  }

  /**
   * Groups nodes that bash reads as one word: directly adjacent nodes, and nodes separated only by
   * line continuations (tree-sitter splits `r\<newline>m` in two; bash runs `rm`).
   */
  groupWords(nodes: SNode[]): SNode[][] {
    const groups: SNode[][] = [];
    for (const n of nodes) {
      const last = groups[groups.length - 1];
      const prev = last?.[last.length - 1];
      if (last && prev && (prev.end === n.start || /^(\\\r?\n)+$/.test(this.w.src.slice(prev.end, n.start)))) last.push(n);
      else groups.push([n]);
    }
    return groups;
  }

  word(nodes: SNode[]): Arg {
    const out: Pieces = { pieces: [], fetches: false };
    nodes.forEach((n, i) => this.visit(n, false, nodes[i + 1], out));
    const text = nodes.length ? this.w.src.slice(nodes[0]!.start, nodes[nodes.length - 1]!.end) : '';
    return this.assemble(out.pieces, text, out.fetches);
  }

  /** Adds the pieces of one node of a word to `out`. */
  private visit(n: SNode, quoted: boolean, nextSibling: SNode | undefined, out: Pieces): void {
    const { pieces } = out;
    switch (n.type) {
      case 'command_name':
      case 'concatenation':
      case 'variable_assignment':
        return n.children.forEach((c, i) => this.visit(c, quoted, n.children[i + 1], out));
      case 'word':
      case 'number':
      case 'variable_name':
        return this.bare(this.w.text(n), quoted, pieces);
      case 'raw_string':
        return void pieces.push({ lit: this.w.text(n).slice(1, -1), quoted: true });
      case 'ansi_c_string':
        return void pieces.push({ lit: decodeAnsiC(this.w.text(n).slice(2, -1)), quoted: true });
      case 'translated_string':
        return n.children.forEach((c) => c.type === 'string' && this.visit(c, true, undefined, out));
      case 'string':
        return this.doubleQuoted(n, out);
      case 'simple_expansion':
      case 'expansion': {
        out.fetches ||= this.w.fetchesIn(n);
        const inner = n.children.filter((c) => !['$', '${', '}'].includes(c.type));
        const names = inner.length === 1 && inner[0]!.type === 'variable_name' ? this.w.scope.names.get(this.w.text(inner[0]!)) : undefined;
        return void pieces.push({ dyn: true, guess: this.guessExpansion(n), quoted, ...(names ? { names: names.globs, dotted: names.dotted } : {}) });
      }
      case 'command_substitution':
        out.fetches ||= this.w.fetchesIn(n);
        return void pieces.push(this.substitution(n, quoted));
      case 'process_substitution':
        // <(...) names a pipe such as /dev/fd/63, never a file on disk.
        out.fetches ||= this.w.fetchesIn(n);
        return void pieces.push({ dyn: true, guess: null, quoted, names: ['/dev/fd/*'] });
      case '$':
        // `$"..."` arrives as a lone `$` followed by a string: a translated string.
        if (nextSibling?.type === 'string' && nextSibling.start === n.end) return;
        return void pieces.push({ lit: '$', quoted });
      case '=':
        return void pieces.push({ lit: '=', quoted });
      default:
        // arithmetic_expansion and anything unexpected: computed.
        out.fetches ||= this.w.fetchesIn(n);
        return void pieces.push({ dyn: true, guess: null, quoted });
    }
  }

  /** An unquoted word's characters: a backslash quotes the next one, and a backslash-newline vanishes. */
  private bare(t: string, quoted: boolean, pieces: Piece[]) {
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '\\' && i + 1 < t.length) {
        if (t[i + 1] !== '\n') pieces.push({ lit: t[i + 1]!, quoted: true });
        i++;
      } else pieces.push({ lit: t[i]!, quoted });
    }
  }

  /** "...": literal text between the expansions inside it, all quoted. */
  private doubleQuoted(n: SNode, out: Pieces) {
    let pos = n.start + 1;
    for (const c of n.children) {
      if (c.type === '"') continue;
      if (c.start > pos) out.pieces.push({ lit: this.w.src.slice(pos, c.start), quoted: true });
      if (c.type === 'string_content') out.pieces.push({ lit: this.w.text(c).replace(/\\([\\"$`])|\\\n/g, (_m, ch: string | undefined) => ch ?? ''), quoted: true });
      else this.visit(c, true, undefined, out);
      pos = c.end;
    }
    if (n.end - 1 > pos) out.pieces.push({ lit: this.w.src.slice(pos, n.end - 1), quoted: true });
  }

  /** $(...) / `...`: computed, but `which rm` names a program and `git ls-files` lists names worth knowing. */
  private substitution(n: SNode, quoted: boolean): Piece {
    const inner = n.children.filter((c) => c.named);
    let guess: string | null = null;
    let names: Spelling | undefined;
    if (inner.length === 1 && inner[0]!.type === 'command') {
      const ws = this.words(inner[0]!.children.filter((c) => c.field === 'name' || c.field === 'argument'));
      const vs = ws.map((w) => w.value);
      // `which rm` / $(command -v rm) names a program: guess it for deny checks.
      if (vs[0] === 'which' && vs.length === 2 && vs[1]) guess = vs[1];
      if (vs[0] === 'command' && vs[1] === '-v' && vs.length === 3 && vs[2]) guess = vs[2];
      // $(git ls-files), $(find src -name '*.ts'): the names such a listing prints.
      names = listedNames(ws);
    }
    return { dyn: true, guess, quoted, ...(names ? { names: names.globs, dotted: names.dotted } : {}) };
  }

  /** A variable's guessed value: one the command set, or what the shell itself provides. */
  private lookup(name: string): string | null {
    if (this.w.scope.vars.has(name)) return this.w.scope.vars.get(name) ?? null;
    if (name === 'HOME') return this.w.ctx.home;
    if (name === 'PWD') return this.w.scope.cwd;
    if (name === 'IFS') return ' \t\n';
    return null;
  }

  /** $X, ${X}, ${X:?}, ${X:-default}: the value a deny check should assume, or null. */
  guessExpansion(n: SNode): string | null {
    const inner = n.children.filter((c) => !['$', '${', '}'].includes(c.type));
    const name = inner[0];
    if (!name || (name.type !== 'variable_name' && name.type !== 'special_variable_name')) return null;
    const known = this.lookup(this.w.text(name));
    if (inner.length === 1) return known;
    const op = inner[1]!.type;
    if ([':?', '?'].includes(op) && inner.length === 2) return known;
    if ([':-', '-', ':=', '='].includes(op)) {
      if (known !== null && known !== '') return known;
      const dflt = inner.slice(2);
      if (dflt.length === 0) return '';
      const w = this.word(dflt);
      return w.value ?? w.guess?.join(' ') ?? null;
    }
    return null;
  }

  /** Applies tilde expansion, globbing and brace detection to the pieces of one word. */
  assemble(pieces: Piece[], text: string, fetches: boolean): Arg {
    // Merge adjacent literal pieces with the same quoting to keep the checks simple.
    const merged: Piece[] = [];
    for (const p of pieces) {
      const last = merged[merged.length - 1];
      if (last && 'lit' in last && 'lit' in p && last.quoted === p.quoted) last.lit += p.lit;
      else merged.push('lit' in p ? { ...p } : p);
    }
    let tildeDynamic = false;
    const expandTilde = (idx: number, at: number) => {
      const p = merged[idx];
      if (!p || !('lit' in p) || p.quoted || p.lit[at] !== '~') return;
      const rest = p.lit.slice(at + 1);
      const slash = rest.indexOf('/');
      const user = slash === -1 ? rest : rest.slice(0, slash);
      const endsPiece = slash === -1;
      if (endsPiece && merged[idx + 1] && !('lit' in merged[idx + 1]! && (merged[idx + 1] as { lit: string }).lit.startsWith('/'))) {
        if (user === '' && !merged[idx + 1]) p.lit = p.lit.slice(0, at) + this.w.ctx.home;
        else tildeDynamic = true;
        return;
      }
      if (user === '') p.lit = p.lit.slice(0, at) + this.w.ctx.home + rest;
      else if (user === '+' && this.w.scope.cwd) p.lit = p.lit.slice(0, at) + this.w.scope.cwd + (slash === -1 ? '' : rest.slice(slash));
      else tildeDynamic = true;
    };
    expandTilde(0, 0);
    const first = merged[0];
    if (first && 'lit' in first && !first.quoted) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*=~/.exec(first.lit);
      if (m) expandTilde(0, m[0].length - 1);
    }
    const unquoted = merged.map((p) => ('lit' in p && !p.quoted ? p.lit : '\0')).join('');
    const glob = /[*?]/.test(unquoted) || /\[[^\]]*\]/.test(unquoted);
    const brace = /\{[^{}\0]*(,|\.\.)[^{}\0]*\}/.test(unquoted);
    const hasDyn = merged.some((p) => 'dyn' in p) || tildeDynamic;
    const join = (escapeGlob: boolean) => merged.map((p) => ('lit' in p ? (escapeGlob && p.quoted ? p.lit.replace(/[*?[\]\\]/g, '\\$&') : p.lit) : '')).join('');
    const value = !hasDyn && !glob && !brace ? join(false) : null;
    const pattern = !hasDyn && glob && !brace ? join(true) : null;
    let guess: string[] | null = null;
    if (brace && !hasDyn) guess = expandBraces(join(false));
    if (!brace && !tildeDynamic && merged.every((p) => 'lit' in p || p.guess !== null)) {
      const fields: string[] = [''];
      let open = false;
      for (const p of merged) {
        if ('lit' in p) {
          fields[fields.length - 1] += p.lit;
          open = true;
        } else if (p.quoted) {
          fields[fields.length - 1] += p.guess!;
          open = true;
        } else {
          const split = p.guess!.split(/[ \t\n]+/);
          split.forEach((s, i) => {
            if (i > 0) fields.push('');
            fields[fields.length - 1] += s;
          });
          open = open || p.guess!.length > 0;
        }
      }
      guess = fields.filter((f, i) => f !== '' || (i === 0 && open && fields.length === 1));
    }
    return { text, value, pattern, guess, fetches, ...(value === null ? { spelling: this.spelling(merged, tildeDynamic) } : {}) };
  }

  /** The glob sources a non-static word stands for: see Spelling. A loop variable contributes its loop's globs. */
  spelling(merged: Piece[], tildeDynamic: boolean): Spelling {
    if (tildeDynamic) return { globs: [ANY_PIECE], dotted: false };
    const dyns = merged.filter((p): p is Extract<Piece, { dyn: true }> => 'dyn' in p);
    // An empty list (tracked files: nothing to check) holds only for the piece alone, not for ~/.ssh/$(git ls-files).
    const loop = dyns.length === 1 && dyns[0]!.names && (dyns[0]!.names.length > 0 || merged.length === 1) ? dyns[0]! : null;
    const source = (sub: string) => merged.map((p) => ('lit' in p ? (p.quoted ? escapeGlob(p.lit) : p.lit) : p === loop ? sub : ANY_PIECE)).join('');
    return { globs: loop ? loop.names!.map(source) : [source(ANY_PIECE)], dotted: loop?.dotted ?? false };
  }
}
