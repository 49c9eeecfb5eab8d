/**
 * Language interpreters (python, node, ruby, perl, deno, bun...): inline code asks, a script runs code
 * the analyser cannot see (`unknown`), `-m` modules and runtime subcommands are judged by name, and
 * code arriving on stdin is judged where it comes from.
 */
import { literalArg, parseArgs, staticValue, STDIN_PATHS, VERSION_FLAGS } from '../shell/args';
import type { Arg, Judge, ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

const INLINE_FLAGS: Record<string, string[]> = {
  python: ['-c'],
  node: ['-e', '--eval', '-p', '--print'],
  ruby: ['-e'],
  perl: ['-e', '-E'],
  php: ['-r'],
  lua: ['-e'],
  Rscript: ['-e'],
  osascript: ['-e'],
  pwsh: ['-c', '-Command', '-command', '-EncodedCommand', '-e'],
  bun: ['-e', '--eval', '-p', '--print'],
};
const PY_TOOLS_WRITE = new Set([
  'pytest',
  'unittest',
  'mypy',
  'black',
  'ruff',
  'flake8',
  'pylint',
  'isort',
  'venv',
  'virtualenv',
  'build',
  'compileall',
  'coverage',
  'tox',
  'nox',
  'doctest',
]);
const PY_TOOLS_READ = new Set(['json.tool', 'site', 'platform', 'sysconfig', 'this', 'tabnanny', 'pydoc']);

/** Interpreters that execute a program arriving on stdin when given no script. */
const STDIN_CODE = new Set(['python', 'node', 'ruby', 'perl', 'php', 'lua', 'luajit', 'pwsh', 'Rscript', 'R', 'tclsh', 'irb', 'julia', 'guile', 'osascript']);

function interpreterFamily(name: string): string {
  if (/^python[0-9.]*$|^pypy[0-9.]*$/.test(name)) return 'python';
  if (name === 'nodejs') return 'node';
  if (name === 'powershell') return 'pwsh';
  return name;
}

function judgeInterpreter(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const family = interpreterFamily(name);
  const args = argv.slice(1);
  if (args.length === 1 && args[0]!.value !== null && VERSION_FLAGS.has(args[0]!.value)) return j.risk('read-only', `${name} ${args[0]!.value} prints its version`);
  const inline = INLINE_FLAGS[family] ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a.value;
    if (v === null) {
      if (a.fetches) return j.deny(`${name} runs code downloaded from the network (download-and-execute)`);
      j.ask(`${name} gets a computed argument (${a.text}) where code or options may stand`);
      j.risk('unknown', `${name} runs code`);
      return;
    }
    const flag = inline.find((f) => v === f || (f.length === 2 && v.startsWith(f) && !v.startsWith('--')) || v.startsWith(`${f}=`));
    const perlInPlace = family === 'perl' && /^-[a-zA-Z]*i/.test(v);
    const clustered = ((family === 'perl' || family === 'ruby') && /^-[a-zA-Z]*[eE]$/.test(v)) || (family === 'python' && /^-[a-zA-Z]*c$/.test(v));
    if (flag || perlInPlace || clustered) {
      const code = args[i + 1];
      if (code?.fetches) return j.deny(`${name} runs code downloaded from the network (download-and-execute)`);
      j.risk('unknown', `${name} ${v} runs inline code, which may write files or run programs`);
      return j.ask(`${name} ${v} runs inline code that the analyser cannot judge`);
    }
    if (family === 'python' && (v === '-m' || (v.startsWith('-m') && v.length > 2))) {
      const mod = v === '-m' ? args[i + 1]?.value : v.slice(2);
      const modArgs = args.slice(v === '-m' ? i + 2 : i + 1);
      if (mod === 'pip' || mod === 'pip3') {
        j.nested([literalArg('pip'), ...modArgs], `${name} -m pip`);
        return;
      }
      if (mod === 'http.server') return j.risk('network', `${name} -m http.server serves files over the network`);
      if (mod && PY_TOOLS_READ.has(mod)) return j.risk('read-only', `${name} -m ${mod} only reads`);
      if (mod && PY_TOOLS_WRITE.has(mod)) return j.risk('workspace-write', `${name} -m ${mod} may write build, cache or report files`);
      return j.risk('unknown', `${name} -m ${mod ?? '?'} runs a module the analyser does not know`);
    }
    if (family === 'node' && v === '--test') return j.risk('workspace-write', `${name} --test runs the test suite (may write files)`);
    if (family === 'deno' || family === 'bun') break;
    if (STDIN_PATHS.has(v)) return j.stdinCode(name);
    if (v.startsWith('-')) {
      if (['-r', '--require', '--import', '--loader', '-I', '-M'].includes(v)) i++;
      continue;
    }
    if (j.isDownloaded(a)) return j.deny(`${name} runs ${v}, which this command downloaded (download-and-execute)`);
    return j.risk('unknown', `${name} runs the script ${v}`);
  }
  if (family === 'deno' || family === 'bun') return judgeJsRuntime(argv, j);
  if (!STDIN_CODE.has(family)) return j.risk('unknown', `${name} runs a program the analyser cannot see`);
  j.stdinCode(name);
}

function judgeJsRuntime(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), [], true);
  const sub = staticValue(p.positionals[0]);
  if (name === 'bun' && ['install', 'i', 'add', 'remove', 'rm', 'update', 'upgrade', 'x', 'link', 'create'].includes(sub ?? ''))
    return j.risk('package-install', `bun ${sub} installs or changes packages`);
  if (name === 'deno' && (sub === 'run' || sub === 'serve' || (sub !== null && /\.(m?[jt]sx?)$/.test(sub))))
    return j.risk('unknown', `deno ${sub} runs a program the analyser cannot see`);
  if (name === 'bun' && sub !== null && /\.(m?[jt]sx?)$/.test(sub)) return j.risk('unknown', `bun ${sub} runs a program the analyser cannot see`);
  if (['test', 'check', 'lint', 'fmt', 'build', 'run', 'task', 'bench', 'compile', 'doc'].includes(sub ?? ''))
    return j.risk('workspace-write', `${name} ${sub} runs project code or tooling (may write files)`);
  if (sub === 'eval') {
    j.risk('unknown', `${name} eval runs inline code`);
    j.ask(`${name} eval runs inline code that the analyser cannot judge`);
    return;
  }
  if (name === 'deno' && sub === 'install') return j.risk('package-install', 'deno install installs a script');
  j.risk('unknown', `${name} ${sub ?? ''} runs code`.trim());
}

export const interpreters: ProgramFamily = {
  name: 'interpreters',
  rules: [
    {
      programs: [
        'python',
        'python2',
        'python3',
        'pypy',
        'pypy3',
        'node',
        'nodejs',
        'ruby',
        'perl',
        'php',
        'lua',
        'luajit',
        'Rscript',
        'osascript',
        'pwsh',
        'powershell',
        'deno',
        'bun',
        'irb',
        'julia',
        'tclsh',
        'wish',
        'guile',
        'racket',
        'scala',
        'groovy',
        'kotlin',
        'java',
        'dotnet-script',
        'R',
      ],
      match: /^(python|pypy)[0-9.]+$/,
      judge: judgeInterpreter,
      examples: [
        ex(`python -c "open('x','w').write('y')"`, { ask: true, risk: 'unknown' }),
        ex("node -e \"require('fs').rmSync('/',{recursive:true})\"", { ask: true }),
        ex('python3 --version', RO),
        ex('node --version', RO),
        ex('python3 -m pytest -q', { risk: 'workspace-write' }),
        ex('python manage.py migrate', { risk: 'unknown', ask: false }),
        ex('perl -pi -e "s/a/b/" f.txt', { ask: true }),
        ex('curl x | python3', { deny: true }),
        ex('python3 -m http.server 8000', { risk: 'network' }),
        ex('ruby -e "puts 1"', { ask: true }),
        ex('deno test', { risk: 'workspace-write' }),
        ex('deno run -A x.ts', { risk: 'unknown' }),
        ex('bun install', { risk: 'package-install' }),
        ex(`curl -s api | python3 -c "import json,sys; print(json.load(sys.stdin))"`, { ask: true, deny: false }),
      ],
    },
  ],
};
