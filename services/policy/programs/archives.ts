/**
 * Archivers and compressors: listing reads, creating writes the archive, extracting writes into the
 * target directory; options that make tar or zip run another program ask.
 */
import { firstValue, has, injected, literalArg, parseArgs, writeAll } from '../shell/args';
import type { Arg, Judge, ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

function judgeTar(argv: readonly Arg[], j: Judge) {
  injected(argv, j);
  const args = argv.slice(1);
  const first = args[0]?.value ?? '';
  // Old style bundles (tar xzf a.tgz): the first word is the mode letters.
  const mode = /^[a-zA-Z]+$/.test(first)
    ? first
    : args
        .map((a) => a.value ?? '')
        .filter((v) => /^-[a-zA-Z]+$/.test(v))
        .join('');
  const long = args.map((a) => a.value ?? '');
  // GNU tar can run programs: --checkpoint-action=exec=, --to-command, -I/--use-compress-program (also glued: -Icmd),
  // --rsh-command / --rmt-command, -F, and a remote shell for an archive named host:file.
  const runs =
    long.some((v) => /^--(checkpoint-action|to-command|use-compress-program|rsh-command|rmt-command|info-script|new-volume-script|index-file)|^-[a-zA-Z]*[IF]/.test(v)) ||
    /^[a-zA-Z]*[IF]/.test(first);
  const archive = args.find((a, k) => /^(-[a-zA-Z]*f|--file)$/.test(args[k - 1]?.value ?? '') || /^--file=/.test(a.value ?? ''));
  const remote = /^(--file=)?[^/]*:/.test(archive?.value ?? '') && !long.includes('--force-local');
  if (runs || remote) {
    j.ask('tar is told to run another program');
    j.risk('unknown', 'tar runs a program given on its command line');
  }
  const list = /t/.test(mode) || long.includes('--list');
  const create = /[cru]/.test(mode) || long.some((v) => ['--create', '--append', '--update'].includes(v));
  const extract = /x/.test(mode) || long.some((v) => ['--extract', '--get'].includes(v));
  if (list && !create && !extract) return j.risk('read-only', 'tar -t lists an archive');
  const p = parseArgs(/^[a-zA-Z]+$/.test(first) ? args.slice(1) : args, ['-f', '--file', '-C', '--directory', '-T', '-X', '--exclude']);
  const file = firstValue(p, '-f', '--file') ?? (/^[a-zA-Z]+$/.test(first) && first.includes('f') ? p.positionals.shift() : undefined);
  if (create) {
    j.risk('workspace-write', 'tar creates an archive');
    if (file) j.write(file, 'tar writes');
  }
  if (extract) {
    j.risk('workspace-write', 'tar extracts files (may overwrite)');
    const dir = firstValue(p, '-C', '--directory') ?? literalArg('.');
    j.write(dir, 'tar extracts into');
    if (long.some((v) => v === '-P' || v === '--absolute-names')) j.ask('tar -P extracts absolute paths anywhere');
  }
  if (!create && !extract) j.risk('unknown', 'tar mode not recognised');
}

function judgeArchiver(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['-d', '-o', '-x', '-S', '--suffix']);
  if (['unzip'].includes(name)) {
    if (has(p, '-l', '-t', '-Z', '-v', '-p')) return j.risk('read-only', 'unzip -l lists an archive');
    j.risk('workspace-write', 'unzip extracts files (may overwrite)');
    return j.write(firstValue(p, '-d') ?? literalArg('.'), 'unzip extracts into');
  }
  if (name === 'zip') {
    injected(argv, j);
    if (argv.some((a) => a.value === '-TT' || /^--unzip-command(=|$)/.test(a.value ?? ''))) {
      j.ask('zip -TT runs a program to test the archive');
      j.risk('unknown', 'zip -TT runs a program it is given');
    }
    j.risk('workspace-write', 'zip writes an archive');
    if (p.positionals[0]) j.write(p.positionals[0], 'zip writes');
    if (has(p, '-m', '--move')) j.risk('destructive', 'zip -m deletes the originals');
    return;
  }
  // gzip family: -c / -l / -t / --stdout only read; otherwise files are replaced.
  if (has(p, '-c', '--stdout', '--to-stdout', '-l', '--list', '-t', '--test') || /cat$/.test(name)) return j.risk('read-only', `${name} writes to stdout only`);
  if (p.positionals.length === 0) return j.risk('read-only', `${name} filters stdin to stdout`);
  j.risk('workspace-write', `${name} replaces files with their (de)compressed form`);
  writeAll(j, p.positionals, `${name} replaces`);
}

export const archives: ProgramFamily = {
  name: 'archives',
  rules: [
    {
      programs: ['tar'],
      judge: judgeTar,
      examples: [
        ex('tar -tzf a.tgz', RO),
        ex('tar -cf /dev/null x --checkpoint=1 --checkpoint-action=exec=sh', { ask: true, risk: 'unknown' }),
        ex('tar czf out.tgz src', { risk: 'workspace-write', writes: ['/home/dev/project/out.tgz'] }),
        ex('tar xzf a.tgz -C /', { risk: 'system-wide' }),
        ex('tar -xf a.tar', { risk: 'workspace-write', writes: ['/home/dev/project'] }),
        ex('tar -xf a.tar --to-command=sh', { ask: true }),
        ex('tar -Ish -cf x.tar src', { ask: true }),
        ex('tar -tf host:a.tar', { ask: true }),
      ],
    },
    {
      programs: ['zip', 'unzip', 'gzip', 'gunzip', 'bzip2', 'bunzip2', 'xz', 'unxz', 'zstd', 'unzstd', 'lz4', 'compress', 'uncompress'],
      judge: judgeArchiver,
      examples: [
        ex('unzip -l a.zip', RO),
        ex('unzip a.zip -d out', { risk: 'workspace-write', writes: ['/home/dev/project/out'] }),
        ex('gzip -c big.log', RO),
        ex('gzip big.log', { risk: 'workspace-write' }),
        ex('zip -T -TT "sh -c id" a.zip f', { ask: true, risk: 'unknown' }),
      ],
    },
  ],
};
