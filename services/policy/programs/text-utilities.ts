/**
 * Text filters and inspectors that are read-only unless an option says otherwise: sort -o, sed -i,
 * a sed `w` / `e` command, awk's system() and redirections, rg --pre, base64 -o, diff3
 * --diff-program. Whatever is not proven read-only is `unknown`.
 */
import { has, injected, parseArgs, writeAll } from '../shell/args';
import type { Arg, Judge, ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

function judgeRedirectingFilter(argv: readonly Arg[], j: Judge, outputOpts: string[], valued: string[]) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), [...outputOpts, ...valued]);
  let wrote = false;
  for (const o of outputOpts) for (const t of p.opts.get(o) ?? []) (j.write(t, `${name} ${o} writes`), (wrote = true));
  if (!wrote) j.risk('read-only', `${name} only prints`);
  return p;
}

function judgeSed(argv: readonly Arg[], j: Judge) {
  injected(argv, j);
  const p = parseArgs(argv.slice(1), ['-e', '--expression', '-f', '--file', '-l', '--line-length']);
  const inPlace = [...p.flags].some((f) => f === '-i' || f === '--in-place') || argv.some((a) => /^-[a-zA-Z]*i/.test(a.value ?? '') || (a.value ?? '').startsWith('--in-place'));
  const scripts = [...(p.opts.get('-e') ?? []), ...(p.opts.get('--expression') ?? [])];
  const files = scripts.length || p.flags.has('-f') || p.flags.has('--file') ? p.positionals : p.positionals.slice(1);
  if (!scripts.length && p.positionals[0]) scripts.push(p.positionals[0]);
  if (p.flags.has('-f') || p.flags.has('--file')) j.risk('unknown', 'sed -f runs a script file the analyser cannot see');
  for (const s of scripts) {
    if (s.value === null || !isSafeSed(s.value)) j.risk('unknown', `sed script ${s.text} may write files or run commands (w / e)`);
  }
  if (inPlace) {
    j.risk('workspace-write', 'sed -i edits files in place');
    writeAll(j, files, 'sed -i edits');
    if (files.length === 0) j.ask('sed -i without statically known files');
  } else if (scripts.every((s) => s.value !== null && isSafeSed(s.value)) && !p.flags.has('-f')) {
    j.risk('read-only', 'sed prints edited text');
  }
}

// One sed command made only of an address and p d q = n N g G h H x l D P z, s///flags or y///, where the
// s flags exclude w (write a file) and e (execute). Anything else is not proven read-only.
const SED_ADDR = String.raw`(?:\d+|\$|/(?:[^/\\\n]|\\.)*/)`;
const SED_ONE = new RegExp(
  String.raw`\s*(?:${SED_ADDR}(?:\s*,\s*(?:${SED_ADDR}|[+~]\d+))?\s*!?\s*)?` +
    String.raw`(?:[pdqQ=nNgGhHxlDPz]|s(?<d>[^\\\n\s])(?:(?!\k<d>)[^\\\n]|\\.)*\k<d>(?:(?!\k<d>)[^\\\n]|\\.)*\k<d>[gpiImM0-9]*` +
    String.raw`|y(?<e>[^\\\n\s])(?:(?!\k<e>)[^\\\n]|\\.)*\k<e>(?:(?!\k<e>)[^\\\n]|\\.)*\k<e>)\s*(?:[;\n]|$)`,
  'y',
);
function isSafeSed(script: string): boolean {
  const text = script.trim();
  if (!text) return true;
  SED_ONE.lastIndex = 0;
  while (SED_ONE.lastIndex < text.length) {
    const start = SED_ONE.lastIndex;
    const m = SED_ONE.exec(text);
    if (!m || SED_ONE.lastIndex === start) return false;
  }
  return true;
}

const AWK_VALUED = ['-F', '-v', '--assign', '--field-separator', '-e', '--source'];
const AWK_FILES = ['-f', '--file', '-E', '--exec', '-i', '--include', '-l', '--load'];

function judgeAwk(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  injected(argv, j);
  const p = parseArgs(argv.slice(1), [...AWK_VALUED, ...AWK_FILES]);
  // gawk: -f/-E program files, -i source libraries, -l native extensions.
  if (has(p, ...AWK_FILES)) return j.risk('unknown', `${name} -f / -i / -l loads program files or extensions the analyser cannot see`);
  const given = [...(p.opts.get('-e') ?? []), ...(p.opts.get('--source') ?? [])];
  const progs = given.length ? given : p.positionals.slice(0, 1);
  if (progs.length === 0 || progs.some((a) => a.value === null)) return j.risk('unknown', `${name} program is not a literal`);
  // awk can write (print > file, print | cmd), run programs (system(), cmd | getline, |&) and read files (getline < file).
  const code = progs.map((a) => a.value!.replace(/"(?:[^"\\]|\\.)*"/g, '""')).join('\n');
  if (/\bsystem\s*\(|\|\s*getline|\bgetline\b[^;{}\n]*<|\|&|@load|@include|\b(print|printf)\b[^;{}\n]*[>|]/.test(code) || argv.some((a) => a.value === 'inplace')) {
    j.risk('unknown', `${name} program may write files, read other files or run commands`);
  } else j.risk('read-only', `${name} only prints`);
}

export const textUtilities: ProgramFamily = {
  name: 'text-utilities',
  rules: [
    {
      // BSD/macOS base64 writes its output with -o FILE.
      programs: ['base64', 'base32', 'basenc'],
      judge(argv, j) {
        injected(argv, j);
        judgeRedirectingFilter(argv, j, ['-o', '--output'], ['-i', '--input', '-w', '--wrap', '-b', '--break']);
      },
      examples: [
        ex('base64 -d blob.txt', RO),
        ex('base64', RO),
        ex('base64 -o out.bin in', { risk: 'workspace-write', writes: ['/home/dev/project/out.bin'] }),
        ex('base64 --output=out.bin in', { risk: 'workspace-write' }),
        ex('base64 -ob64.txt in', { risk: 'workspace-write', writes: ['/home/dev/project/b64.txt'] }),
      ],
    },
    {
      // Flags that hand over to another program: diff3/sdiff --diff-program, ag --pager, binutils --plugin (a shared library); file -C writes magic.mgc.
      programs: ['diff3', 'sdiff', 'ag', 'nm', 'objdump', 'size', 'file'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const words = argv.slice(1).map((a) => a.value);
        injected(argv, j);
        if (words.some((v) => v !== null && /^--(diff-program|pager|plugin)(=|$)/.test(v))) return j.risk('unknown', `${name} runs or loads a program it is given`);
        if (name === 'sdiff' && words.some((v) => v === '-o' || /^--output(=|$)/.test(v ?? ''))) return j.risk('workspace-write', 'sdiff -o writes the merged file');
        if (name === 'file' && words.some((v) => v === '-C' || v === '--compile')) return j.risk('workspace-write', 'file -C writes a compiled magic file');
        j.risk('read-only', `${name} only reads or prints`);
      },
      examples: [
        ex('diff3 a b c', RO),
        ex('diff3 --diff-program=./evil a b c', { risk: 'unknown' }),
        ex('ag foo src', RO),
        ex('ag --pager "sh -c id" foo', { risk: 'unknown' }),
        ex('nm --plugin ./evil.so a.o', { risk: 'unknown' }),
        ex('file bin/agent.js', RO),
        ex('file -C -m magic', { risk: 'workspace-write' }),
      ],
    },
    {
      programs: ['sort'],
      judge(argv, j) {
        injected(argv, j);
        const p = judgeRedirectingFilter(
          argv,
          j,
          ['-o', '--output'],
          ['-k', '--key', '-t', '--field-separator', '-S', '--buffer-size', '-T', '--temporary-directory', '--parallel', '--files0-from', '--batch-size'],
        );
        if (has(p, '--compress-program')) j.risk('unknown', 'sort --compress-program runs a program');
      },
      examples: [
        ex('sort -u names.txt', RO),
        ex('sort -o sorted.txt names.txt', { risk: 'workspace-write', writes: ['/home/dev/project/sorted.txt'] }),
        ex('sort -o ~/.profile x', { deny: true }),
      ],
    },
    {
      programs: ['uniq', 'xxd'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const p = parseArgs(
          argv.slice(1),
          name === 'uniq' ? ['-f', '-s', '-w', '--skip-fields', '--skip-chars', '--check-chars'] : ['-c', '-g', '-l', '-s', '-o', '-n', '-cols', '-len', '-seek'],
        );
        const out = p.positionals[1];
        if (out) j.write(out, `${name} writes its output to`);
        else j.risk('read-only', `${name} only prints`);
      },
      examples: [ex('uniq -c sorted.txt', RO), ex('uniq in.txt out.txt', { risk: 'workspace-write', writes: ['/home/dev/project/out.txt'] }), ex('xxd bin.dat', RO)],
    },
    {
      programs: ['tree'],
      judge(argv, j) {
        injected(argv, j);
        const p = judgeRedirectingFilter(argv, j, ['-o'], ['-L', '-P', '-I', '--charset', '--filelimit', '--timefmt', '-H', '-T']);
        // -R re-runs tree in every directory with `-o 00Tree.html`.
        if (p.flags.has('-R')) j.risk('workspace-write', 'tree -R writes 00Tree.html into every directory');
      },
      examples: [ex('tree -L 2 src', RO), ex('tree -o tree.txt', { risk: 'workspace-write' }), ex('tree -R -H .', { risk: 'workspace-write' })],
    },
    {
      programs: ['rg', 'ripgrep'],
      judge(argv, j) {
        const words = argv.slice(1).map((a) => a.value ?? '');
        injected(argv, j);
        if (words.some((v) => /^--(pre|hostname-bin)(=|$)/.test(v))) return j.risk('unknown', 'rg --pre / --hostname-bin runs a program it is given');
        // -z runs decompression programs found on PATH for every compressed file.
        if (words.some((v) => v === '--search-zip' || /^-[a-zA-Z]*z/.test(v))) return j.risk('unknown', 'rg -z runs decompression programs');
        j.risk('read-only', 'rg only searches');
      },
      examples: [
        ex('rg -n "fn main" src', RO),
        ex('rg --pre ./evil pattern', { risk: 'unknown' }),
        ex('rg --pre=./evil pattern', { risk: 'unknown' }),
        ex('rg --hostname-bin=./evil -n x', { risk: 'unknown' }),
        ex('rg -z needle', { risk: 'unknown' }),
        ex('rg --search-zip needle', { risk: 'unknown' }),
        ex('rg foo *', { risk: 'unknown' }),
        ex('rg foo src/*.ts', RO),
        ex('rg --context 1 --heading foo', RO),
      ],
    },
    {
      programs: ['sed', 'gsed'],
      judge: judgeSed,
      examples: [
        ex("sed -n '1,20p' file.txt", RO),
        ex("sed 's/foo/bar/g' in.txt", RO),
        ex("sed -i 's/a/b/' src/x.ts", { risk: 'workspace-write', writes: ['/home/dev/project/src/x.ts'] }),
        ex("sed -i.bak -e 's/a/b/' f.txt", { risk: 'workspace-write', writes: ['/home/dev/project/f.txt'] }),
        ex("sed 'w /etc/passwd' x", { risk: 'unknown' }),
        ex("sed 's/x/id/e' f", { risk: 'unknown' }),
        ex("sed -e '/^#/d' -e 's|a|b|' f", RO),
        ex("sed -i 's/x/y/' ~/.bashrc", { deny: true }),
      ],
    },
    {
      programs: ['awk', 'gawk', 'mawk', 'nawk'],
      judge: judgeAwk,
      examples: [
        ex("awk '{print $1}' file", RO),
        ex("awk -F: '{ print $1 }' /etc/passwd", RO),
        ex(`awk 'BEGIN { system("rm -rf /") }'`, { risk: 'unknown' }),
        ex(`awk '{ print > "out.txt" }' f`, { risk: 'unknown' }),
        ex("awk -F, 'NR>1 {sum+=$2} END {print sum}' data.csv", RO),
        ex(`awk '{ print $1 | "sh" }' f`, { risk: 'unknown' }),
        ex(`awk 'BEGIN { "date" | getline d; print d }'`, { risk: 'unknown' }),
        ex(`gawk -e 'BEGIN { x = 1 }' -e 'BEGIN { system("id") }'`, { risk: 'unknown' }),
        ex('gawk -l ./evil.so 1 f', { risk: 'unknown' }),
        ex(`awk 'BEGIN { while ((getline l < ".env") > 0) print l }'`, { risk: 'unknown' }),
      ],
    },
  ],
};
