/**
 * Which words of a command name files whose contents it prints, copies or sends (cat FILE, grep PAT
 * FILE, curl -T FILE, cp FILE DEST...). The walker asks this for every program: a computed operand
 * there could be a secret (`cat $(echo .e*)`), so it asks a person.
 */
import { parseArgs } from '../shell/args';
import type { Arg } from '../shell/rule';

interface Reader {
  /** Options that take a value (the value is not a file operand). */
  readonly valued?: readonly string[];
  /** The first operand is a pattern or program, unless one of these options supplied it. */
  readonly script?: readonly string[];
  /** Options whose value is a file that is read. */
  readonly files?: readonly string[];
}

const GREP: Reader = {
  valued: [
    '-e',
    '-m',
    '-A',
    '-B',
    '-C',
    '-d',
    '-D',
    '--regexp',
    '--max-count',
    '--after-context',
    '--before-context',
    '--context',
    '--label',
    '--include',
    '--exclude',
    '--exclude-dir',
    '--exclude-from',
    '--color',
    '--colour',
    '--binary-files',
    '--devices',
    '--directories',
    '--group-separator',
  ],
  script: ['-e', '--regexp', '-f', '--file'],
  files: ['-f', '--file'],
};
const COPY: Reader = { valued: ['-t', '--target-directory', '-S', '--suffix', '-m', '--mode', '-o', '--owner', '-g', '--group'] };
const PLAIN: Reader = {};

/**
 * Programs that print, copy or send the contents of the files they are given. Metadata-only readers
 * (wc, stat, md5sum...) are left out: a line count or a hash does not disclose a secret.
 */
const READERS: Record<string, Reader> = {
  cat: PLAIN,
  tac: { valued: ['-s', '--separator'] },
  rev: PLAIN,
  less: PLAIN,
  more: PLAIN,
  most: PLAIN,
  zless: PLAIN,
  zmore: PLAIN,
  zcat: PLAIN,
  bzcat: PLAIN,
  xzcat: PLAIN,
  zstdcat: PLAIN,
  strings: { valued: ['-n', '-t', '-e', '-T', '--bytes', '--radix', '--encoding', '--target'] },
  head: { valued: ['-n', '-c', '--lines', '--bytes'] },
  tail: { valued: ['-n', '-c', '--lines', '--bytes', '-s', '--sleep-interval', '--pid'] },
  nl: {
    valued: [
      '-b',
      '-d',
      '-f',
      '-h',
      '-i',
      '-l',
      '-n',
      '-s',
      '-v',
      '-w',
      '--body-numbering',
      '--section-delimiter',
      '--footer-numbering',
      '--header-numbering',
      '--line-increment',
      '--join-blank-lines',
      '--number-format',
      '--number-separator',
      '--starting-line-number',
      '--number-width',
    ],
  },
  cut: { valued: ['-d', '-f', '-b', '-c', '--delimiter', '--fields', '--bytes', '--characters', '--output-delimiter'] },
  paste: { valued: ['-d', '--delimiters'] },
  join: { valued: ['-t', '-1', '-2', '-j', '-o', '-e', '-a', '-v'] },
  comm: { valued: ['--output-delimiter'] },
  column: { valued: ['-s', '-c', '-o', '-N', '-W', '-R', '-H', '-l', '-E', '-d'] },
  fold: { valued: ['-w', '--width'] },
  fmt: { valued: ['-w', '-p', '-g', '--width', '--prefix', '--goal'] },
  expand: { valued: ['-t', '--tabs'] },
  unexpand: { valued: ['-t', '--tabs'] },
  iconv: { valued: ['-f', '-t', '-o', '--from-code', '--to-code', '--output'] },
  od: { valued: ['-A', '-j', '-N', '-S', '-t', '-w', '--address-radix', '--skip-bytes', '--read-bytes', '--strings', '--format', '--width', '--endian'] },
  hexdump: { valued: ['-e', '-f', '-n', '-s'] },
  xxd: { valued: ['-c', '-g', '-l', '-s', '-o', '-n', '-cols', '-len', '-seek', '-groupsize', '-name', '-octets'] },
  base64: { valued: ['-w', '--wrap', '-b', '--break', '-o', '--output'], files: ['-i', '--input'] },
  base32: { valued: ['-w', '--wrap'] },
  basenc: { valued: ['-w', '--wrap'] },
  diff: {
    valued: [
      '-I',
      '-F',
      '-x',
      '-X',
      '-L',
      '-U',
      '-C',
      '-D',
      '-W',
      '--label',
      '--unified',
      '--context',
      '--ignore-matching-lines',
      '--show-function-line',
      '--exclude',
      '--exclude-from',
      '--ifdef',
      '--width',
      '--tabsize',
      '--horizon-lines',
    ],
    files: ['--from-file', '--to-file'],
  },
  diff3: { valued: ['-L', '--label', '--diff-program'] },
  sdiff: { valued: ['-o', '--output', '-w', '--width', '--diff-program'] },
  grep: GREP,
  egrep: GREP,
  fgrep: GREP,
  zgrep: GREP,
  rg: {
    valued: [
      '-e',
      '-g',
      '-t',
      '-T',
      '-m',
      '-A',
      '-B',
      '-C',
      '-M',
      '-j',
      '-E',
      '-d',
      '-r',
      '--regexp',
      '--glob',
      '--iglob',
      '--type',
      '--type-not',
      '--type-add',
      '--type-clear',
      '--max-count',
      '--after-context',
      '--before-context',
      '--context',
      '--max-columns',
      '--threads',
      '--encoding',
      '--engine',
      '--max-depth',
      '--maxdepth',
      '--path-separator',
      '--replace',
      '--colors',
      '--color',
      '--pre',
      '--pre-glob',
      '--sort',
      '--sortr',
      '--max-filesize',
      '--context-separator',
      '--hostname-bin',
    ],
    script: ['-e', '--regexp', '-f', '--file', '--files', '--type-list'],
    files: ['-f', '--file', '--ignore-file'],
  },
  ag: {
    valued: [
      '-A',
      '-B',
      '-C',
      '-G',
      '-g',
      '-m',
      '-p',
      '--after',
      '--before',
      '--context',
      '--file-search-regex',
      '--max-count',
      '--ignore',
      '--ignore-dir',
      '--pager',
      '--depth',
      '--path-to-ignore',
    ],
    script: ['-g'],
  },
  look: { valued: ['-t', '--terminate'], script: [] },
  sed: { valued: ['-e', '-l', '--expression', '--line-length'], script: ['-e', '--expression', '-f', '--file'], files: ['-f', '--file'] },
  awk: {
    valued: ['-F', '-v', '--assign', '--field-separator', '-e', '--source'],
    script: ['-f', '--file', '-e', '--source', '-E', '--exec'],
    files: ['-f', '--file', '-E', '--exec', '-i', '--include'],
  },
  sort: {
    valued: [
      '-k',
      '-t',
      '-S',
      '-T',
      '-o',
      '--key',
      '--field-separator',
      '--buffer-size',
      '--temporary-directory',
      '--output',
      '--parallel',
      '--batch-size',
      '--compress-program',
      '--random-source',
    ],
  },
  uniq: { valued: ['-f', '-s', '-w', '--skip-fields', '--skip-chars', '--check-chars'] },
  tar: {
    valued: [
      '-f',
      '--file',
      '-C',
      '--directory',
      '-X',
      '--exclude',
      '-b',
      '--blocking-factor',
      '-I',
      '--use-compress-program',
      '-H',
      '--format',
      '-g',
      '--listed-incremental',
      '-V',
      '--label',
      '-K',
      '--starting-file',
      '-N',
      '--newer',
      '--owner',
      '--group',
      '--mode',
      '--transform',
      '--xform',
    ],
    files: ['-T', '--files-from'],
  },
  zip: { valued: ['-x', '-i', '-b', '-n', '-t', '-tt', '-O', '--out', '-P', '--password', '-Z'] },
  gzip: { valued: ['-S', '--suffix'] },
  bzip2: PLAIN,
  xz: PLAIN,
  zstd: { valued: ['-o'] },
  lz4: PLAIN,
  cp: COPY,
  mv: COPY,
  install: COPY,
  scp: { valued: ['-P', '-i', '-o', '-F', '-l', '-c', '-J', '-S'] },
  rsync: {
    valued: [
      '-e',
      '--rsh',
      '--exclude',
      '--include',
      '--filter',
      '-f',
      '--config',
      '--port',
      '--bwlimit',
      '--log-file',
      '--partial-dir',
      '--temp-dir',
      '-T',
      '--backup-dir',
      '--chmod',
      '--chown',
      '--password-file',
      '--rsync-path',
    ],
    files: ['--files-from'],
  },
};
for (const a of ['gawk', 'mawk', 'nawk']) READERS[a] = READERS.awk!;
READERS.gsed = READERS.sed!;
READERS.ripgrep = READERS.rg!;

/** jq and yq: options with two values (--arg name value), files named by --slurpfile / --rawfile / -f. */
function jqOperands(args: readonly Arg[]): Arg[] {
  const out: Arg[] = [];
  let script = true;
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!.value;
    if (v === '--arg' || v === '--argjson') i += 2;
    else if (v === '--slurpfile' || v === '--rawfile') (out.push(...args.slice(i + 2, i + 3)), (i += 2));
    else if (v === '-f' || v === '--from-file') (out.push(...args.slice(i + 1, i + 2)), i++, (script = false));
    else if (v === '--indent' || v === '-L') i++;
    else if (v !== null && v.startsWith('-') && v !== '-') continue;
    else if (script) script = false;
    else out.push(args[i]!);
  }
  return out;
}

/** curl's options that take a value: one table for the network rule and for finding the files it uploads. */
export const CURL_VALUED_OPTIONS: readonly string[] = [
  '-o',
  '--output',
  '-D',
  '--dump-header',
  '-c',
  '--cookie-jar',
  '--trace',
  '--trace-ascii',
  '--stderr',
  '--output-dir',
  '-T',
  '--upload-file',
  '-d',
  '--data',
  '--data-binary',
  '--data-raw',
  '--data-urlencode',
  '-F',
  '--form',
  '-H',
  '--header',
  '-X',
  '--request',
  '-u',
  '--user',
  '-A',
  '--user-agent',
  '-e',
  '--referer',
  '-x',
  '--proxy',
  '-b',
  '--cookie',
  '-K',
  '--config',
  '-w',
  '--write-out',
  '-m',
  '--max-time',
  '--connect-timeout',
  '-r',
  '--range',
  '-E',
  '--cert',
  '--key',
  '--cacert',
  '--retry',
  '-Y',
  '-y',
  '-z',
  '--resolve',
  '--url',
];

/** The options of a reading program that take a value (file-valued ones included): one table for every rule that parses its arguments. */
export function valuedOptions(program: string): string[] {
  const reader = READERS[program];
  return [...(reader?.valued ?? []), ...(reader?.files ?? [])];
}

/** The words of `argv` (program first) that name files whose contents the program prints, copies or sends. */
export function readOperands(argv: readonly Arg[]): Arg[] {
  const name = argv[0]?.value ?? '';
  const args = argv.slice(1);
  if (name === 'jq' || name === 'yq') return jqOperands(args);
  if (name === 'dd')
    return args.flatMap((a) =>
      a.spelling?.globs.every((g) => g.startsWith('if=')) ? [{ ...a, spelling: { ...a.spelling, globs: a.spelling.globs.map((g) => g.slice(3)) } }] : [],
    );
  if (name === 'curl') {
    // Uploads: -T FILE and data options naming @FILE / <FILE.
    const p = parseArgs(args, CURL_VALUED_OPTIONS);
    const files = [...(p.opts.get('-T') ?? []), ...(p.opts.get('--upload-file') ?? [])];
    for (const flag of ['-d', '--data', '--data-binary', '--data-urlencode', '-F', '--form']) {
      for (const a of p.opts.get(flag) ?? []) {
        const globs = a.spelling?.globs.map((g) => (/[@<]/.test(g) ? g.slice(g.search(/[@<]/) + 1) : null));
        if (globs?.every((g) => g !== null)) files.push({ ...a, spelling: { ...a.spelling!, globs: globs as string[] } });
      }
    }
    return files;
  }
  const r = READERS[name];
  if (!r) return [];
  const p = parseArgs(args, [...(r.valued ?? []), ...(r.files ?? [])]);
  const fromOpts = (r.files ?? []).flatMap((f) => p.opts.get(f) ?? []);
  const scriptGiven = r.script?.some((f) => p.flags.has(f));
  return [...(r.script && !scriptGiven ? p.positionals.slice(1) : p.positionals), ...fromOpts];
}
