/**
 * find and xargs: programs that run other commands on file names. The inner command is judged as part
 * of this one, with `{}` (or the names xargs appends) standing for what find or the upstream stage
 * can list, so `find . -name "*.ts" -exec grep foo {} +` stays read-only and `find / -exec rm {} \;`
 * is denied.
 */
import { firstValue, has, literalArg, optionLike, parseArgs, staticValue } from '../shell/args';
import { escapeGlob, SUBPATH, type Arg, type Judge, type ProgramFamily, type Spelling } from '../shell/rule';
import { ex, RO } from './example';

/** Splits find's arguments into start points and the expression (after -H -L -P -O3 -D x). */
function findParts(args: readonly Arg[]): { starts: Arg[]; expr: Arg[] } {
  let i = 0;
  while (i < args.length && /^-[HLP]$|^-O\d$/.test(args[i]!.value ?? '')) i++;
  if (args[i]?.value === '-D') i += 2;
  const starts: Arg[] = [];
  for (; i < args.length; i++) {
    const v = args[i]!.value;
    if (v !== null && (v.startsWith('-') || v === '(' || v === '!' || v === ',')) break;
    starts.push(args[i]!);
  }
  if (starts.length === 0) starts.push(literalArg('.'));
  return { starts, expr: args.slice(i) };
}

/**
 * What find's matches can be named, from its start points and the -name tests in `expr`: each is
 * below a start point, and (when the expression is a plain conjunction) matches the first -name.
 * Undefined when a start point is computed.
 */
export function findNames(starts: readonly Arg[], expr: readonly Arg[]): Spelling | undefined {
  const words = expr.map((a) => a.value);
  const plain = !words.some((v) => v === null || ['-o', '-or', '!', '-not', '(', ','].includes(v));
  const at = words.findIndex((v) => v === '-name' || v === '-iname');
  const name = plain && at >= 0 ? (expr[at + 1]?.value ?? null) : null;
  const globs: string[] = [];
  for (const s of starts) {
    const root = s.value !== null ? escapeGlob(s.value) : s.pattern;
    if (root === null) return undefined;
    globs.push(...(name === null ? [`${root}/${SUBPATH}`] : [`${root}/${name}`, `${root}/${SUBPATH}/${name}`]));
  }
  return { globs, dotted: true };
}

function judgeFind(argv: readonly Arg[], j: Judge) {
  const { starts, expr: args } = findParts(argv.slice(1));
  if (optionLike(starts)) j.risk('unknown', 'find gets a start point that could expand to an expression such as -delete or -exec');
  let filtered = false;
  let destructive = false;
  let wrote = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a.value;
    if (v === null) {
      j.ask(`find gets a computed expression word (${a.text})`);
      j.risk('unknown', 'find with a computed expression');
      continue;
    }
    if (v === '-delete') {
      destructive = true;
      j.risk('destructive', 'find -delete deletes every file it matches (destructive)');
      for (const s of starts) j.write(s, 'find -delete deletes under');
      continue;
    }
    if (['-exec', '-execdir', '-ok', '-okdir'].includes(v)) {
      // {} stands for each match: named by the start points and the -name tests before this action.
      const match = findNames(starts, args.slice(0, i));
      const cmd: Arg[] = [];
      for (i++; i < args.length && args[i]!.value !== ';' && args[i]!.value !== '+'; i++) {
        const w = args[i]!;
        cmd.push(w.value !== null && w.value.includes('{}') ? j.dynamicArg(w.text, w.value === '{}' ? match : undefined) : w);
      }
      if (cmd.length === 0) {
        j.ask(`find ${v} without a command`);
        continue;
      }
      const verdict = j.nested(cmd, `find ${v}`);
      // An inner command that only reads (even one that asks, like cat on a possible secret) changes nothing.
      const changes = verdict.risk !== 'read-only';
      if (verdict.risk === 'destructive') destructive = true;
      if (changes) for (const s of starts) j.write(s, `find ${v} ${cmd[0]!.value ?? cmd[0]!.text} changes files under`);
      if (changes && !verdict.denied) j.ask(`find ${v} runs ${cmd[0]!.value ?? cmd[0]!.text} on every match, which is not read-only`);
      if (changes) wrote = true;
      continue;
    }
    if (['-fprint', '-fprint0', '-fprintf', '-fls'].includes(v)) {
      const target = args[++i];
      if (target) j.write(target, `find ${v} writes`);
      wrote = true;
      if (v === '-fprintf') i++;
      continue;
    }
    if (
      /^-(name|iname|path|ipath|wholename|regex|iregex|type|xtype|newer\w*|[amc](time|min)|size|empty|user|group|perm|links|inum|samefile|uid|gid|mindepth|maxdepth|prune|readable|writable|executable)$/.test(
        v,
      )
    ) {
      filtered = true;
    }
  }
  if (destructive && !filtered) {
    for (const s of starts) {
      for (const cand of j.candidatePaths(s)) {
        const hit = j.protectedTree(cand);
        if (hit) j.deny(`find ${hit} with a deleting action and no filter deletes everything under ${hit}`);
      }
    }
  }
  if (!destructive && !wrote) j.risk('read-only', 'find only lists files');
}

function judgeXargs(argv: readonly Arg[], j: Judge) {
  // -i, -e and -l take their value attached or not at all.
  const p = parseArgs(argv.slice(1), ['-I', '-L', '-n', '-P', '-s', '-d', '-E', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--max-lines'], true);
  if (p.positionals.length === 0) return j.risk('read-only', 'xargs without a command only echoes its input');
  const replace = staticValue(firstValue(p, '-I')) ?? (argv.some((a) => /^(-i|--replace)/.test(a.value ?? '')) ? '{}' : null);
  // The appended words are whatever arrives on stdin: known only when an upstream stage lists files.
  const input = has(p, '-a', '--arg-file') ? undefined : j.inputNames();
  const cmd = [
    ...p.positionals.map((a) => (a.value !== null && replace !== null && a.value.includes(replace) ? j.dynamicArg(a.text, a.value === replace ? input : undefined) : a)),
    j.dynamicArg('<xargs input>', input),
  ];
  const verdict = j.nested(cmd, 'xargs');
  if (verdict.risk !== 'read-only' && !verdict.denied) j.ask(`xargs runs ${cmd[0]!.value ?? cmd[0]!.text} with arguments read from its input`);
}

/**
 * What the lines a command prints name, when it lists files: `git ls-files` (tracked files, whose
 * contents git itself shows anyway: nothing to check) and `find`. Undefined when unknown.
 */
export function listedNames(argv: readonly Arg[]): Spelling | undefined {
  const name = argv[0]?.value;
  const words = argv.slice(1).map((a) => a.value);
  if (
    name === 'git' &&
    (words[0] === 'ls-files' || words[0] === 'ls-tree') &&
    !words.some((v) => v === null || v === '--others' || /^-[a-zA-Z]*o/.test(v)) &&
    !words.some((v) => v?.startsWith('--format'))
  ) {
    return { globs: [], dotted: false };
  }
  if (name === 'find' && !words.some((v) => v === null || /^-(f?printf|f?ls|fprint0?)$/.test(v))) {
    const { starts, expr } = findParts(argv.slice(1));
    return findNames(starts, expr);
  }
  return undefined;
}

export const findXargs: ProgramFamily = {
  name: 'find-xargs',
  rules: [
    {
      programs: ['find'],
      judge: judgeFind,
      examples: [
        ex('find . -name "*.ts" -type f', RO),
        ex('find . -delete', { deny: true }),
        ex('find . -name "*.pyc" -delete', { risk: 'destructive', deny: false }),
        ex('find / -exec rm {} \\;', { deny: true }),
        ex('find . -name "*.log" -exec rm {} +', { risk: 'destructive', ask: true }),
        ex('find . -name "*.ts" -exec grep -l foo {} +', RO),
        ex('find src -fprint list.txt', { risk: 'workspace-write', writes: ['/home/dev/project/list.txt'] }),
        ex('find . -execdir sh -c "curl x | sh" \\;', { deny: true }),
        ex('find ~ -name "*.tmp" -exec rm -f {} \\;', { risk: 'system-wide', ask: true }),
      ],
    },
    {
      programs: ['xargs', 'parallel'],
      judge: (argv, j) =>
        argv[0]!.value === 'parallel'
          ? (j.risk('unknown', 'parallel runs commands built from its input'), j.ask('parallel runs commands built from its input'))
          : judgeXargs(argv, j),
      examples: [
        ex('git ls-files | xargs grep -n TODO', RO),
        ex('find . -name "*.o" | xargs rm', { risk: 'destructive', ask: true }),
        ex('xargs rm -rf', { ask: true, risk: 'destructive' }),
        ex('cat hosts | xargs -I{} ssh {} uptime', { risk: 'network', ask: true }),
        ex('echo / | xargs rm -rf', { ask: true }),
        ex('ls | xargs sudo rm', { deny: true }),
        ex('ls | xargs -i rm {}', { ask: true, risk: 'destructive' }),
        ex("ls | xargs -I% sh -c 'echo %'", { ask: true }),
      ],
    },
  ],
};
