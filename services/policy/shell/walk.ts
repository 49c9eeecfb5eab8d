/**
 * The walk over one parsed script: every simple command anywhere in the tree (lists, pipelines,
 * subshells, $(...), <(...), function / loop / case bodies, literal `sh -c` scripts) becomes a part
 * that the program rules judge through PartJudge. The walk follows what it can (cd, variables the
 * command sets, loop words, aliases and functions it defines, files it downloads) and fails closed
 * on what it cannot.
 */
import path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import type { RiskClass } from '../../../domain/tool-catalog';
import { failClosed, LIMITS, maxRisk, type CommandPart, type ProtectedTarget, type ShellAnalysis, type ShellContext } from './analysis';
import { literalArg } from './args';
import { DANGEROUS_ENV } from './dangerous-env';
import { GLOB_OPTIONS, PathChecks } from './guards';
import { PartJudge } from './judge';
import { toPlain, type PlainTree, type SNode } from './parser';
import { redirect, redirectsStdin } from './redirects';
import { judgePipedCode } from './stdin-code';
import { ANY_PIECE, escapeGlob, type Arg, type NestedVerdict } from './rule';
import { Sink, type Finding, type PartRec, type Scope } from './state';
import type { WalkHost } from './walk-host';
import { WordReader } from './words';

const STATEMENT_TYPES = new Set([
  'command',
  'redirected_statement',
  'pipeline',
  'list',
  'subshell',
  'compound_statement',
  'if_statement',
  'while_statement',
  'for_statement',
  'c_style_for_statement',
  'case_statement',
  'function_definition',
  'variable_assignment',
  'variable_assignments',
  'declaration_command',
  'unset_command',
  'test_command',
  'negated_command',
  'comment',
  'do_group',
  'else_clause',
  'elif_clause',
  'case_item',
  'program',
]);
const SUBSCRIPT_EVAL = new Set(['printf', 'read', 'test', '[', 'let', 'declare', 'typeset', 'local', 'export', 'readonly', 'unset', 'mapfile', 'readarray', 'wait', 'getopts']);

const unique = (xs: string[]) => [...new Set(xs)];

export class Walk implements WalkHost {
  parts: PartRec[] = [];
  /** Parts of literal scripts (sh -c, eval, alias bodies) analysed inside this one. */
  nestedParts: CommandPart[] = [];
  global = new Sink();
  scope: Scope;
  functions = new Map<string, SNode>();
  aliases = new Map<string, string | null>();
  downloads = new Set<string>();
  substDepth = 0;
  /** substDepth of the pipeline stage being walked whose stdin is a pipe, or -1. */
  pipeTail = -1;
  /** Inside >(...): the commands there read another command's output. */
  outputSubst = 0;
  /** The parts of the pipeline stage before the one being walked (same substDepth as pipeTail). */
  prevStage: PartRec[] | null = null;
  /** The command may change glob options: globs are read loosely (dot files, globstar). */
  readonly loose: boolean;
  readonly paths: PathChecks;
  readonly reader = new WordReader(this);

  constructor(
    readonly parser: Parser,
    readonly src: string,
    readonly ctx: ShellContext,
    readonly depth: number,
    cwd: string | null,
    loose = false,
  ) {
    this.scope = { cwd, vars: new Map(), names: new Map() };
    this.loose = loose || GLOB_OPTIONS.test(src);
    this.paths = new PathChecks(ctx, this.loose);
  }

  /** Sets a variable's guessed value; it no longer holds a loop's names. */
  setVar(name: string, value: string | null) {
    this.scope.vars.set(name, value);
    this.scope.names.delete(name);
  }

  text(n: SNode) {
    return this.src.slice(n.start, n.end);
  }

  // --- statements ---------------------------------------------------------------------------

  walk(n: SNode): void {
    switch (n.type) {
      case 'comment':
        return;
      case 'command':
        return void this.command(n, [], []);
      case 'redirected_statement':
        return this.redirected(n);
      case 'pipeline':
        return this.pipeline(n.children.filter((c) => c.named && c.type !== 'comment'));
      case 'function_definition':
        return this.functionDef(n);
      case 'variable_assignment':
        return this.assignment(n);
      case 'variable_assignments':
        return n.children.forEach((c) => (c.type === 'variable_assignment' ? this.assignment(c) : this.substitutions(c)));
      case 'declaration_command':
      case 'unset_command':
        return this.declaration(n);
      case 'test_command':
        return this.testCommand(n);
      case 'subshell':
        return this.scoped(() => this.children(n));
      case 'for_statement': {
        let variable: string | null = null;
        const values: SNode[] = [];
        for (const c of n.children) {
          if (c.field === 'variable') this.setVar((variable = this.text(c)), null);
          else if (c.field === 'value') (this.substitutions(c), values.push(c));
          else if (STATEMENT_TYPES.has(c.type)) {
            if (variable !== null && values.length) this.loopNames(variable, values);
            this.walk(c);
          }
        }
        return;
      }
      default:
        return this.children(n);
    }
  }

  /** `for f in src/*.ts a.txt`: f names one of these globs, unless a value is computed. */
  loopNames(variable: string, values: SNode[]) {
    const globs: string[] = [];
    let dotted = false;
    for (const a of this.reader.words(values)) {
      if (a.value !== null) globs.push(escapeGlob(a.value));
      else if (a.spelling && !a.spelling.globs.some((g) => g.includes(ANY_PIECE))) (globs.push(...a.spelling.globs), (dotted ||= a.spelling.dotted));
      else return;
    }
    if (globs.length <= 16) this.scope.names.set(variable, { globs, dotted });
  }

  /** Walks the statements among n's children; words (case values, conditions) only for substitutions. */
  children(n: SNode) {
    const kids = n.children;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (STATEMENT_TYPES.has(c.type) || c.type === 'ERROR') {
        // `cmd &` runs in a background subshell: its cd / assignments do not persist.
        if (kids[i + 1]?.type === '&') this.scoped(() => this.walk(c));
        else this.walk(c);
      } else if (c.named) this.substitutions(c);
    }
  }

  scoped(fn: () => void) {
    const saved = { cwd: this.scope.cwd, vars: new Map(this.scope.vars), names: new Map(this.scope.names) };
    try {
      fn();
    } finally {
      this.scope = saved;
    }
  }

  /** Finds $(...), `...` and <(...) inside words and walks their commands. */
  substitutions(n: SNode) {
    if (n.type === 'command_substitution' || n.type === 'process_substitution') {
      // A substitution inside a pipeline stage does not read the pipe; depth alone tells them apart.
      const output = n.type === 'process_substitution' && n.children[0]?.type === '>(';
      this.substDepth++;
      if (output) this.outputSubst++;
      this.scoped(() => this.children(n));
      // $(<file) reads a file with no command at all.
      for (const c of n.children) if (c.type === 'file_redirect') redirect(this, c, [], this.global);
      if (output) this.outputSubst--;
      this.substDepth--;
      return;
    }
    if (n.type === 'heredoc_redirect') {
      // Only the body belongs to the here-doc; pipelines/lists after `<<EOF` are statements.
      for (const c of n.children) if (c.type === 'heredoc_body' || (c.type === 'file_redirect' && c.field === 'redirect')) this.substitutions(c);
      return;
    }
    for (const c of n.children) this.substitutions(c);
  }

  assignment(n: SNode) {
    const name = n.children.find((c) => c.field === 'name');
    const value = n.children.find((c) => c.field === 'value');
    if (value) this.substitutions(value);
    if (!name) return;
    const varName = this.text(name);
    if (DANGEROUS_ENV.test(varName)) this.global.ask.push(`assigns ${varName}, which changes what later commands run`);
    const append = n.children.some((c) => c.type === '+=');
    if (!value || append) return void this.setVar(varName, append ? null : '');
    const word = this.reader.word([value]);
    this.setVar(varName, word.value ?? (word.guess && word.guess.length === 1 ? word.guess[0]! : null));
  }

  declaration(n: SNode) {
    const keyword = n.children[0] ? this.text(n.children[0]) : 'declare';
    const args: Arg[] = [literalArg(keyword)];
    const rec = this.newPart(n, n.type === 'unset_command' ? 'unset' : keyword);
    for (const c of n.children.slice(1)) {
      if (c.type === 'variable_assignment') {
        this.assignment(c);
        const name = c.children.find((k) => k.field === 'name');
        if (name && DANGEROUS_ENV.test(this.text(name)) && keyword !== 'local') rec.sink.ask.push(`${keyword} ${this.text(name)} changes what later commands run`);
        args.push(this.reader.word([c]));
      } else if (c.named) {
        this.substitutions(c);
        if (c.type === 'variable_name' || c.type === 'word') this.setVar(this.text(c), null);
        args.push(this.reader.word([c]));
      }
    }
    rec.part.argv = args.map((a) => a.value ?? a.text);
    rec.part.dynamic = args.some((a) => a.value === null);
    rec.sink.findings.push({ risk: 'read-only', reason: `${keyword} only sets shell variables` });
    this.finishPart(rec);
  }

  testCommand(n: SNode) {
    this.substitutions(n);
    if (/\[[^\]]*(\$\(|`)/.test(this.text(n)) && n.children.some((c) => c.type === 'unary_expression' && /^-v/.test(this.text(c)))) {
      this.global.ask.push('[[ -v ]] gets an array subscript with $(...), which bash evaluates');
    }
    const rec = this.newPart(n, n.children[0] ? this.text(n.children[0]) : '[[');
    rec.part.argv = [rec.part.program ?? '[['];
    rec.sink.findings.push({ risk: 'read-only', reason: 'a test expression only reads' });
    this.finishPart(rec);
  }

  functionDef(n: SNode) {
    const nameNode = n.children.find((c) => c.field === 'name');
    const body = n.children.find((c) => c.field === 'body');
    const name = nameNode ? this.text(nameNode) : '?';
    this.functions.set(name, n);
    const first = this.parts.length;
    if (body) this.scoped(() => this.walk(body));
    const selfCalls = this.parts.slice(first).filter((p) => p.part.program === name).length;
    const spawns = (s: SNode): boolean => s.type === 'pipeline' || s.type === '&' || s.children.some(spawns);
    if (body && (selfCalls >= 2 || (selfCalls >= 1 && spawns(body)))) {
      this.global.deny.push(`fork bomb: function ${name} calls itself ${selfCalls >= 2 ? 'several times' : 'in a pipeline / in the background'}`);
    }
  }

  redirected(n: SNode) {
    const body = n.children.find((c) => c.field === 'body');
    const redirects: SNode[] = [];
    const extraArgs: SNode[] = [];
    let pipelineTail: SNode | null = null;
    const listTail: SNode[] = [];
    for (const c of n.children) {
      if (c.field !== 'redirect' && !c.type.endsWith('_redirect')) continue;
      redirects.push(c);
      if (c.type === 'file_redirect') {
        // tree-sitter reads `echo > f x` as two destinations; bash passes x to echo.
        extraArgs.push(
          ...this.reader
            .groupWords(c.children.filter((d) => d.field === 'destination'))
            .slice(1)
            .flat(),
        );
      }
      if (c.type === 'heredoc_redirect') {
        for (const k of c.children) {
          if (k.type === 'file_redirect') redirects.push(k);
          else if (k.type === 'pipeline') pipelineTail = k;
          else if (k.field === 'right') listTail.push(k);
        }
      }
    }
    if (!body) {
      // `> file` alone truncates or creates the file.
      for (const r of redirects) this.substitutions(r);
      for (const r of redirects) redirect(this, r, [], this.global);
      return;
    }
    if (body.type === 'command') {
      if (pipelineTail) {
        const tail = pipelineTail.children.filter((c) => c.named && c.type !== 'comment');
        this.pipeline([body, ...tail], { node: body, redirects, extraArgs });
      } else this.command(body, redirects, extraArgs);
    } else {
      for (const r of redirects) this.substitutions(r);
      const first = this.parts.length;
      this.walk(body);
      let target = body;
      while ((target.type === 'list' || target.type === 'pipeline') && target.children.some((c) => c.named)) {
        const named = target.children.filter((c) => c.named && c.type !== 'comment');
        target = named[named.length - 1]!;
      }
      const owners = this.parts.slice(first).filter((p) => p.substDepth === this.substDepth && p.node !== null && p.node.start >= target.start && p.node.end <= target.end);
      if (extraArgs.length) this.global.ask.push('a redirection is followed by words the analyser cannot attribute');
      for (const r of redirects) redirect(this, r, owners, owners[0]?.sink ?? this.global);
      if (pipelineTail) this.walk(pipelineTail);
    }
    for (const t of listTail) this.walk(t);
  }

  /** Walks a pipeline's stages (each in its own subshell scope) and checks what flows into interpreters. */
  pipeline(stages: SNode[], headOverride?: { node: SNode; redirects: SNode[]; extraArgs: SNode[] }) {
    const ranges: [number, number][] = [];
    for (const stage of stages) {
      const start = this.parts.length;
      const savedTail = this.pipeTail;
      const savedPrev = this.prevStage;
      const prev = ranges[ranges.length - 1];
      this.pipeTail = prev ? this.substDepth : -1;
      this.prevStage = prev ? this.parts.slice(prev[0], prev[1]).filter((p) => p.substDepth === this.substDepth) : null;
      this.scoped(() => {
        if (headOverride && stage === headOverride.node) this.command(stage, headOverride.redirects, headOverride.extraArgs);
        else this.walk(stage);
      });
      this.pipeTail = savedTail;
      this.prevStage = savedPrev;
      ranges.push([start, this.parts.length]);
    }
    if (stages.length >= 2) judgePipedCode(this, ranges);
  }

  // --- commands -----------------------------------------------------------------------------

  newPart(node: SNode | null, program: string | null): PartRec {
    const rec: PartRec = {
      part: { program, argv: [], dynamic: false, text: node ? this.text(node) : '', redirections: [], risk: 'read-only' },
      node,
      sink: new Sink(),
      substDepth: this.substDepth,
      fetcher: false,
      stdinCode: null,
      stdinHandled: false,
      args: [],
      stdinText: null,
      upstream: this.pipeTail === this.substDepth ? this.prevStage : null,
    };
    this.parts.push(rec);
    return rec;
  }

  finishPart(rec: PartRec) {
    rec.part.risk = rec.sink.verdict().risk;
  }

  command(n: SNode, stmtRedirects: SNode[], extraArgs: SNode[]): PartRec {
    const assigns: SNode[] = [];
    const words: SNode[] = [];
    const redirects: SNode[] = [];
    for (const c of n.children) {
      if (c.type === 'variable_assignment') assigns.push(c);
      else if (c.field === 'name' || c.field === 'argument') words.push(c);
      else if (c.type.endsWith('_redirect')) redirects.push(c);
    }
    words.push(...extraArgs);
    redirects.push(...stmtRedirects);
    // Substitutions run before the command itself.
    for (const a of assigns) this.substitutions(a);
    for (const w of words) this.substitutions(w);
    for (const r of redirects) this.substitutions(r);

    const args = this.reader.words(words);
    const rec = this.newPart(n, null);
    // A redirected stdin replaces the pipe: xargs then reads names from somewhere unknown.
    if (redirects.some((r) => redirectsStdin(this, r))) rec.upstream = null;
    rec.part.dynamic = args.some((a) => a.value === null);
    const sink = rec.sink;
    for (const a of assigns) {
      const name = a.children.find((c) => c.field === 'name');
      if (name && DANGEROUS_ENV.test(this.text(name))) sink.ask.push(`sets ${this.text(name)} for the command, which changes what it runs`);
    }
    for (const a of args) this.paths.checkCredentialArg(a, this.scope.cwd, sink);
    // Bash evaluates array subscripts in names given to these builtins: printf -v 'a[$(cmd)]' runs cmd.
    if (SUBSCRIPT_EVAL.has(args[0]?.value ?? '') && args.slice(1).some((a) => /\[[^\]]*(\$\(|`)/.test(a.value ?? ''))) {
      sink.ask.push(`${args[0]!.value} gets a name with $(...) in an array subscript, which bash evaluates`);
    }

    const judge = new PartJudge(this, rec, sink, false, this.scope.cwd);
    const effective = judge.run(args, null);
    rec.args = effective;
    rec.part.program = effective[0]?.value ?? null;
    rec.part.argv = effective.map((a) => a.value ?? a.text);
    if (rec.part.program && ['cd', 'pushd', 'popd'].includes(path.posix.basename(rec.part.program))) this.scope.cwd = judge.cwd;
    if (effective[0]?.value === 'read') for (const a of effective.slice(1)) if (a.value && /^[A-Za-z_]\w*$/.test(a.value)) this.setVar(a.value, null);

    // A word hid its value behind variables we can guess: judge the guessed command for denial only.
    if (args.some((a) => a.value === null && a.guess !== null)) {
      const guessed = this.guessedArgv(args);
      if (guessed) {
        const probe = new Sink();
        new PartJudge(this, rec, probe, true, this.scope.cwd).run(guessed, null);
        sink.deny.push(...probe.deny);
      }
    }
    for (const r of redirects) redirect(this, r, [rec], sink);
    // Fed by a pipe: pipeline() judges what flows in. Otherwise stdin is whatever the tool provides,
    // except inside >(...), where it is another command's output.
    if (rec.stdinCode && !rec.stdinHandled && this.pipeTail !== this.substDepth) {
      sink.findings.push({ risk: 'unknown', reason: `${rec.stdinCode} runs code read from its input` });
      if (this.outputSubst > 0) {
        sink.ask.push(`${rec.stdinCode} inside >(...) runs another command's output as code`);
        if (/\b(curl|wget|nc|ncat|fetch)\b|\/dev\/(tcp|udp)\//.test(this.src)) {
          sink.deny.push(`${rec.stdinCode} inside >(...) may run downloaded content (download-and-execute)`);
        }
      }
    }
    this.finishPart(rec);
    return rec;
  }

  guessedArgv(args: Arg[]): Arg[] | null {
    const out: Arg[] = [];
    for (const a of args) {
      if (a.value !== null) out.push(a);
      else if (a.guess) out.push(...a.guess.map((g) => ({ ...literalArg(g), text: a.text, pattern: /[*?[]/.test(g) ? g : null, value: /[*?[]/.test(g) ? null : g })));
      else if (a.pattern !== null) out.push(a);
      else return null;
    }
    return out;
  }

  fetchesIn(n: SNode): boolean {
    return this.parts.some((p) => p.fetcher && p.node !== null && p.node.start >= n.start && p.node.end <= n.end);
  }

  // --- nested scripts -----------------------------------------------------------------------

  /** Parses and analyses a literal script (sh -c, eval, trap, alias body) into `sink`. */
  script(text: string, label: string, sink: Sink, denyOnly: boolean, cwd: string | null = this.scope.cwd): NestedVerdict {
    if (this.depth + 1 > LIMITS.maxScriptDepth) {
      if (!denyOnly) sink.ask.push(`${label}: scripts nested more than ${LIMITS.maxScriptDepth} deep`);
      return { risk: 'unknown', readOnly: false, asked: true, denied: false };
    }
    const inner = analyzeScript(this.parser, text, this.ctx, this.depth + 1, cwd, this.loose);
    const sub = new Sink();
    sub.deny.push(...(inner.catastrophic ? [`${label}: ${inner.catastrophic}`] : []));
    if (!denyOnly) {
      sub.ask.push(...inner.askReasons.map((r) => `${label}: ${r}`));
      if (!inner.parsed) sub.ask.push(`${label}: the script could not be parsed`);
      sub.findings.push(...inner.findings.map((f) => ({ risk: f.risk, reason: `${label}: ${f.reason}` })));
      sub.writes.push(...inner.writes);
      sub.guarded.push(...inner.protectedTargets);
      this.nestedParts.push(...inner.parts);
      for (const d of inner.downloads) this.downloads.add(d);
    }
    sink.merge(sub);
    return { risk: inner.risk, readOnly: inner.readOnly, asked: inner.askReasons.length > 0, denied: inner.catastrophic !== null, readsStdin: inner.readsStdin };
  }
}

export interface InnerAnalysis extends ShellAnalysis {
  findings: Finding[];
  downloads: Set<string>;
  readsStdin: boolean;
}

function uniqueTargets(targets: ProtectedTarget[]): ProtectedTarget[] {
  const seenKeys = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.access}\0${t.word}\0${t.example}`;
    return !seenKeys.has(key) && !!seenKeys.add(key);
  });
}

/**
 * Walks one parsed script (the command itself, or a literal script inside it at `depth`) and collects
 * its findings. Never throws for any input the parser accepts.
 */
export function analyzeScript(parser: Parser, command: string, ctx: ShellContext, depth: number, cwd: string | null, loose = false): InnerAnalysis {
  const tree = parser.parse(command);
  if (!tree) return { ...failClosed(['the shell parser returned no tree']), findings: [], downloads: new Set(), readsStdin: false };
  let plain: PlainTree;
  try {
    plain = toPlain(tree);
  } finally {
    tree.delete();
  }
  const w = new Walk(parser, command, ctx, depth, cwd, loose);
  const ask: string[] = [];
  if (plain.depth > LIMITS.maxTreeDepth) ask.push(`the command is nested more than ${LIMITS.maxTreeDepth} levels deep`);
  else w.walk(plain.root);
  if (plain.errors) ask.push('the command could not be parsed as shell syntax');

  const all = new Sink();
  all.merge(w.global);
  for (const rec of w.parts) {
    all.merge(rec.sink);
    rec.part.risk = rec.sink.verdict().risk;
  }
  const parts = [...w.parts.map((p) => p.part), ...w.nestedParts];
  if (parts.length > LIMITS.maxParts) ask.push(`the command has ${parts.length} parts (more than ${LIMITS.maxParts})`);
  let risk = all.findings.reduce<RiskClass>((r, f) => maxRisk(r, f.risk), 'read-only');
  if (plain.errors || plain.depth > LIMITS.maxTreeDepth) risk = maxRisk(risk, 'unknown');
  // Whatever made the command catastrophic reaches beyond the workspace (fork bomb, shutdown, curl | sh...).
  if (all.deny.length) risk = maxRisk(risk, 'system-wide');
  const askReasons = unique([...ask, ...all.ask]);
  const deny = unique(all.deny);
  const writes = unique(all.writes);
  return {
    parsed: !plain.errors,
    parts,
    risk,
    readOnly: !plain.errors && askReasons.length === 0 && deny.length === 0 && writes.length === 0 && risk === 'read-only',
    catastrophic: deny.length ? deny.join('; ') : null,
    askReasons,
    reasons: unique([...deny, ...all.findings.map((f) => f.reason)]),
    writes,
    protectedTargets: uniqueTargets(all.guarded),
    findings: all.findings,
    downloads: w.downloads,
    readsStdin: w.parts.some((p) => p.stdinCode !== null && !p.stdinHandled && p.substDepth === 0),
  };
}
