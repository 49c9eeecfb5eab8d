/**
 * Could a word name a protected path? A word with globs, braces or computed pieces is a pattern;
 * so is each protected path (`**\/.env`, `~/.ssh/**`). The word could name a protected path when
 * some path matches both patterns, which intersect() decides (and returns such a path). Glob
 * sources use the format of `Spelling` (rule.ts): ANY_PIECE for a computed piece, SUBPATH for
 * "any path below".
 */
import { ANY_PIECE, escapeGlob, SUBPATH } from './rule';

/**
 * One glob token: a literal character (`lc`: lower-cased, since matching ignores case as nocaseglob and
 * macOS file systems do), `?`, `*`, a bracket class, or `any` (a computed piece: any text, `/` included).
 * `dot`: the wildcard may match a leading dot, which bash's own globs may not.
 */
export type Tok = { k: 'lit'; c: string; lc: string } | { k: 'one' | 'star'; dot: boolean } | { k: 'class'; dot: boolean; has: (c: string) => boolean } | { k: 'any' };

export const ANY_TOK: Tok = { k: 'any' };
const lit = (c: string): Tok => ({ k: 'lit', c, lc: c.toLowerCase() });
const POSIX_CLASSES: Record<string, RegExp> = {
  alpha: /[a-z]/i,
  digit: /[0-9]/,
  alnum: /[a-z0-9]/i,
  upper: /[A-Z]/,
  lower: /[a-z]/,
  space: /\s/,
  blank: /[ \t]/,
  punct: /[!-\/:-@[-`{-~]/,
  xdigit: /[0-9a-f]/i,
  word: /\w/,
  print: /[ -~]/,
  graph: /[!-~]/,
  cntrl: /[\x00-\x1f\x7f]/,
};
/** Characters tried when two wildcards must agree on one (a class on either side). */
const ALPHABET = [...'xa0_-.~ ', ...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))].filter((c) => c !== '/');

/** Parses the bracket expression starting at src[at] ('['); null when it is not closed (then '[' is literal). */
function bracket(src: string, at: number): { tok: Tok; end: number } | null {
  let i = at + 1;
  const negate = src[i] === '!' || src[i] === '^';
  if (negate) i++;
  const tests: ((c: string) => boolean)[] = [];
  for (let first = true; i < src.length; first = false) {
    const c = src[i]!;
    if (c === ']' && !first) {
      const has = (ch: string) => tests.some((t) => t(ch) || t(ch.toUpperCase()) || t(ch.toLowerCase())) !== negate;
      return { tok: { k: 'class', dot: false, has }, end: i + 1 };
    }
    const named = c === '[' && src[i + 1] === ':' ? /^\[:([a-z]+):\]/.exec(src.slice(i)) : null;
    if (named) {
      const re = POSIX_CLASSES[named[1]!] ?? /[^\s\S]/;
      tests.push((ch) => re.test(ch));
      i += named[0].length;
      continue;
    }
    const lo = c === '\\' ? (src[++i] ?? '\\') : c;
    i++;
    if (src[i] === '-' && src[i + 1] !== undefined && src[i + 1] !== ']') {
      const hi = src[i + 1] === '\\' ? (src[i + 2] ?? '\\') : src[i + 1]!;
      i += src[i + 1] === '\\' ? 3 : 2;
      tests.push((ch) => ch >= lo && ch <= hi);
    } else tests.push((ch) => ch === lo);
  }
  return null;
}

/**
 * Tokens of one path, given as segments of a glob source. `loose`: the command may have changed
 * glob options (shopt, dotglob...): `**` spans directories and wildcards match leading dots.
 */
export function tokenize(segments: readonly string[], rooted: boolean, loose: boolean): Tok[] {
  const out: Tok[] = [];
  segments.forEach((seg, n) => {
    if (n > 0 || rooted) out.push(lit('/'));
    if (loose && seg === '**') return void out.push(ANY_TOK);
    // An extglob group (@(...), !(...)) is not modelled: the segment could be any name.
    if (/(^|[^\\])\(/.test(seg)) return void out.push({ k: 'star', dot: true });
    for (let i = 0; i < seg.length; i++) {
      const c = seg[i]!;
      if (c === '\\') out.push(lit(seg[++i] ?? '\\'));
      else if (c === ANY_PIECE || c === SUBPATH) out.push(ANY_TOK);
      else if (c === '*') out.push({ k: 'star', dot: loose });
      else if (c === '?') out.push({ k: 'one', dot: loose });
      else if (c === '[' && bracket(seg, i)) {
        const b = bracket(seg, i)!;
        out.push(loose ? ({ ...b.tok, dot: true } as Tok) : b.tok);
        i = b.end - 1;
      } else out.push(lit(c));
    }
  });
  return out;
}

/** Splits a glob source at unescaped slashes. */
export function splitGlob(src: string): string[] {
  const out: string[] = [];
  let seg = '';
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '\\') seg += src.slice(i, ++i + 1);
    else if (src[i] === '/') (out.push(seg), (seg = ''));
    else seg += src[i];
  }
  out.push(seg);
  return out;
}

/** Bash brace expansion of a glob source ({a,b}, {x..y}), escapes respected; null beyond `limit` words. */
export function expandGlobBraces(src: string, limit = 64): string[] | null {
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '\\') {
      i++;
      continue;
    }
    if (src[i] !== '{') continue;
    // Find the matching brace and the top-level commas.
    const commas: number[] = [];
    let depth = 0;
    let end = -1;
    for (let k = i + 1; k < src.length && end < 0; k++) {
      const c = src[k];
      if (c === '\\') k++;
      else if (c === '{') depth++;
      else if (c === '}' && depth-- === 0) end = k;
      else if (c === ',' && depth === 0) commas.push(k);
    }
    if (end < 0) return [src];
    const body = src.slice(i + 1, end);
    let alts: string[] | null = null;
    if (commas.length) alts = [i, ...commas].map((c, n) => src.slice(c + 1, n < commas.length ? commas[n]! : end));
    else {
      const seq = /^(-?\d+|[a-zA-Z])\.\.(-?\d+|[a-zA-Z])(?:\.\.-?\d+)?$/.exec(body);
      if (seq) {
        const num = /\d/.test(seq[1]!);
        const [a, b] = num ? [Number(seq[1]), Number(seq[2])] : [seq[1]!.charCodeAt(0), seq[2]!.charCodeAt(0)];
        if (Math.abs(b - a) >= limit) return null;
        alts = [];
        for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? 1 : -1) alts.push(num ? String(v) : escapeGlob(String.fromCharCode(v)));
      }
    }
    if (!alts) continue;
    const out: string[] = [];
    for (const alt of alts) {
      const rest = expandGlobBraces(src.slice(0, i) + alt + src.slice(end + 1), limit);
      if (!rest || out.push(...rest) > limit) return null;
    }
    return out;
  }
  return [src];
}

// Search state shared by every intersect() call: stamps instead of clearing, grown on demand.
let seen = new Int32Array(1024);
let from = new Int32Array(1024);
let via = new Int32Array(1024);
let queue = new Int32Array(1024);
let stamp = 0;
let tail = 0;

function visit(id: number, prev: number, ch: number) {
  if (seen[id] === stamp) return;
  seen[id] = stamp;
  from[id] = prev;
  via[id] = ch;
  queue[tail++] = id;
}

function accepts(t: Tok, c: string): boolean {
  return t.k === 'lit' ? t.lc === c.toLowerCase() : t.k === 'any' ? true : c !== '/' && (t.k !== 'class' || t.has(c));
}

/** Whether the word's token accepts c here: bash's wildcards never match a leading dot (unless dotOk). */
function acceptsWord(a: Tok, c: string, segStart: boolean, dotOk: boolean): boolean {
  return accepts(a, c) && !(segStart && c === '.' && a.k !== 'lit' && a.k !== 'any' && !a.dot && !dotOk);
}

/** A character both tokens accept at this point, or null. */
function agree(a: Tok, b: Tok, segStart: boolean, dotOk: boolean): string | null {
  // The example keeps the protected path's own spelling where it has one.
  if (b.k === 'lit') return acceptsWord(a, b.c, segStart, dotOk) ? b.c : null;
  if (a.k === 'lit') return accepts(b, a.c) && acceptsWord(a, a.c, segStart, dotOk) ? a.c : null;
  if (a.k === 'any' && b.k === 'any') return null; // one of them skipping covers it
  for (const c of ALPHABET) if (acceptsWord(a, c, segStart, dotOk) && accepts(b, c)) return c;
  return null;
}

/**
 * A path matched by both token lists, or null. `a` is the word (its wildcards obey the leading-dot
 * rule unless `dotOk`), `b` the protected path. Breadth-first over (position in a, position in b,
 * at a segment start): each state is visited once, so the cost is bounded by the product of lengths.
 */
export function intersect(a: readonly Tok[], b: readonly Tok[], dotOk: boolean): string | null {
  const n = a.length;
  const w = b.length + 1;
  const size = (n + 1) * w * 2;
  if (seen.length < size) [seen, from, via, queue] = [new Int32Array(size * 2), new Int32Array(size * 2), new Int32Array(size * 2), new Int32Array(size * 2)];
  if (++stamp >= 0x7fffffff) (seen.fill(0), (stamp = 1));
  let head = 0;
  tail = 0;
  visit(1, -1, -1); // (0, 0) at a segment start
  while (head < tail) {
    const id = queue[head++]!;
    const s = id & 1;
    const pair = id >> 1;
    const i = Math.floor(pair / w);
    const j = pair - i * w;
    if (i === n && j === w - 1) {
      let out = '';
      for (let k = id; k >= 0; k = from[k]!) if (via[k]! >= 0) out = String.fromCharCode(via[k]!) + out;
      return out;
    }
    const ta = a[i];
    const tb = b[j];
    const aLoops = ta !== undefined && (ta.k === 'star' || ta.k === 'any');
    const bLoops = tb !== undefined && (tb.k === 'star' || tb.k === 'any');
    if (aLoops) visit(((i + 1) * w + j) * 2 + s, id, -1);
    if (bLoops) visit((i * w + j + 1) * 2 + s, id, -1);
    if (!ta || !tb) continue;
    const c = agree(ta, tb, s === 1, dotOk);
    if (c === null) continue;
    visit(((aLoops ? i : i + 1) * w + (bLoops ? j : j + 1)) * 2 + (c === '/' ? 1 : 0), id, c.charCodeAt(0));
  }
  return null;
}

/** The literal characters a token list starts with, lower-cased (a cheap first test before intersect()). */
export function litPrefix(toks: readonly Tok[]): string {
  let out = '';
  for (const t of toks) {
    if (t.k !== 'lit') break;
    out += t.lc;
  }
  return out;
}
