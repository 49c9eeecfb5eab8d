/**
 * Programs that create, change or delete files: rm, cp / mv / install, chmod / chown, dd, tee, touch,
 * mkdir, ln, patch... Every target is reported through `j.write`, which checks where it is; a
 * recursive delete or chmod of a protected tree (/, home, the workspace, a system directory) is denied.
 */
import path from 'node:path';
import { firstValue, has, literalArg, parseArgs, writeAll } from '../shell/args';
import { escapeGlob, type Arg, type Judge, type ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

function judgeRm(argv: readonly Arg[], j: Judge) {
  const p = parseArgs(argv.slice(1));
  const recursive = has(p, '-r', '-R', '--recursive');
  if (has(p, '--no-preserve-root')) j.deny('rm --no-preserve-root is only used to delete /');
  j.risk('destructive', recursive ? 'rm -r deletes files and directories recursively (destructive)' : 'rm deletes files (destructive)');
  for (const t of p.positionals) {
    if (recursive) {
      for (const cand of j.candidatePaths(t)) {
        const hit = j.protectedTree(cand);
        if (hit) j.deny(`rm -r would delete ${hit === j.workspace ? `the workspace root ${hit}` : hit}`);
      }
    }
    j.write(t, 'rm deletes');
  }
  if (p.positionals.length === 0 && p.dynamic) j.ask('rm targets are not statically known');
}

function judgeCopyMove(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['-t', '--target-directory', '-S', '--suffix', '-m', '--mode', '-o', '--owner', '-g', '--group']);
  const dir = firstValue(p, '-t', '--target-directory');
  const sources = dir ? p.positionals : p.positionals.slice(0, -1);
  const dest = dir ?? p.positionals[p.positionals.length - 1];
  if (!dest) return j.ask(`${name} without a destination`);
  j.risk('workspace-write', `${name} writes files`);
  // `cp .bashrc ~` writes ~/.bashrc: check DEST/name too, in case DEST is a directory.
  const into = j.resolve(dest);
  if (into)
    for (const s of sources)
      if (s.value ?? s.pattern)
        j.alsoCheck(`${escapeGlob(into)}/${s.value !== null ? escapeGlob(path.posix.basename(s.value)) : path.posix.basename(s.pattern!)}`, `${name} writes`);
  if (name === 'mv') {
    for (const s of sources) {
      for (const cand of j.candidatePaths(s)) {
        const hit = j.protectedTree(cand);
        if (hit && hit === cand) j.deny(`mv would move ${hit} away`);
      }
      j.write(s, 'mv removes');
    }
  }
  j.write(dest, `${name} writes`);
}

function judgePermissions(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['--reference', '--from']);
  const recursive = has(p, '-R', '--recursive');
  const [spec, ...targets] = p.positionals;
  if (!spec) return j.ask(`${name} without a mode/owner`);
  if (name === 'chmod' && spec.value !== null && /(^|[,ugoa])[+=][rwxXt]*s|^[2-7]\d{3}$/.test(spec.value)) {
    j.risk('privilege-escalation', `chmod ${spec.value} sets the setuid/setgid bit`);
  }
  j.risk('workspace-write', `${name} changes file ${name === 'chmod' ? 'permissions' : 'ownership'}`);
  for (const t of targets) {
    if (recursive) {
      for (const cand of j.candidatePaths(t)) {
        const hit = j.protectedTree(cand);
        if (hit && hit !== j.workspace) j.deny(`${name} -R on ${hit} changes every file under it`);
      }
    }
    j.write(t, `${name} changes`);
  }
}

function judgeDd(argv: readonly Arg[], j: Judge) {
  let wrote = false;
  for (const a of argv.slice(1)) {
    const v = a.value;
    if (v === null) {
      const g = a.guess?.join(' ') ?? '';
      const target = (x: string | null) => (x !== null && x.startsWith('of=') ? x.slice(3) : x);
      const spelling = a.spelling && { ...a.spelling, globs: a.spelling.globs.map((x) => target(x)!) };
      if (g.startsWith('of=') || a.spelling?.globs.every((x) => x.startsWith('of=')))
        j.write({ ...a, value: null, pattern: target(a.pattern), guess: g ? [target(g)!] : null, ...(spelling ? { spelling } : {}) }, 'dd writes');
      else j.ask(`dd gets a computed operand (${a.text})`);
      continue;
    }
    if (v.startsWith('of=')) {
      wrote = true;
      j.write(literalArg(v.slice(3)), 'dd writes');
    }
  }
  j.risk(wrote ? 'workspace-write' : 'read-only', wrote ? 'dd writes raw data' : 'dd without of= writes to stdout');
}

/** Options that take a value, per file-creating program (they differ: -p is a flag for mkdir, a value for patch). */
const CREATE_VALUED: Record<string, string[]> = {
  touch: ['-d', '--date', '-r', '--reference', '-t'],
  mkdir: ['-m', '--mode', '--context'],
  ln: ['-t', '--target-directory', '-S', '--suffix'],
  mkfifo: ['-m', '--mode', '--context'],
  mknod: ['-m', '--mode', '--context'],
  split: ['-l', '--lines', '-b', '--bytes', '-a', '--suffix-length', '-C', '--line-bytes', '-n', '--number', '--additional-suffix', '-t', '--separator', '--filter'],
  csplit: ['-f', '--prefix', '-b', '--suffix-format', '-n', '--digits'],
  patch: [
    '-p',
    '--strip',
    '-i',
    '--input',
    '-o',
    '--output',
    '-d',
    '--directory',
    '-r',
    '--reject-file',
    '-B',
    '--prefix',
    '-F',
    '--fuzz',
    '-z',
    '--suffix',
    '-D',
    '--ifdef',
    '-V',
  ],
  mktemp: ['-p', '--tmpdir', '-t', '--suffix'],
};

export const fileUtilities: ProgramFamily = {
  name: 'file-utilities',
  rules: [
    {
      programs: ['tee'],
      judge(argv, j) {
        const p = parseArgs(argv.slice(1));
        if (p.positionals.length === 0) return j.risk('read-only', 'tee without files only passes its input through');
        writeAll(j, p.positionals, has(p, '-a', '--append') ? 'tee -a appends to' : 'tee writes');
      },
      examples: [
        ex('echo x | tee out.txt', { risk: 'workspace-write', readOnly: false, writes: ['/home/dev/project/out.txt'] }),
        ex('echo x | tee -a ~/.bashrc', { deny: true }),
        ex('echo x | tee /dev/null', RO),
        ex('echo x | sudo tee /etc/hosts', { deny: true }),
      ],
    },
    {
      programs: ['touch', 'mkdir', 'rmdir', 'ln', 'mkfifo', 'mknod', 'link', 'split', 'csplit', 'patch', 'mktemp', 'dos2unix', 'unix2dos'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const p = parseArgs(argv.slice(1), CREATE_VALUED[name] ?? []);
        j.risk('workspace-write', `${name} creates or changes files`);
        if (name === 'mktemp') return j.risk('workspace-write', 'mktemp creates a temporary file');
        if (name === 'patch') {
          const out = firstValue(p, '-o', '--output');
          if (out) j.write(out, 'patch writes');
          if (p.positionals[0] && !p.opts.has('-i') && !p.opts.has('--input') && p.positionals.length > 1) j.write(p.positionals[0], 'patch edits');
          const dir = firstValue(p, '-d', '--directory');
          j.write(dir ?? literalArg('.'), 'patch edits files under');
          return;
        }
        if (name === 'ln') {
          const dir = firstValue(p, '-t', '--target-directory');
          const target = dir ?? (p.positionals.length >= 2 ? p.positionals[p.positionals.length - 1] : literalArg('.'));
          // A link in the workspace pointing outside it lets a later "workspace" write land elsewhere.
          const sources = dir ? p.positionals : p.positionals.slice(0, Math.max(1, p.positionals.length - 1));
          for (const s of sources) {
            const abs = s.value === null ? null : s.value.startsWith('/') ? s.value : j.cwd ? path.posix.resolve(j.cwd, s.value) : null;
            if (abs === null || !j.inWorkspace(abs)) j.ask(`ln links to ${s.text}, outside the workspace`);
            const into = j.resolve(target!);
            if (into && s.value) j.alsoCheck(escapeGlob(path.posix.join(into, path.posix.basename(s.value))), 'ln creates a link at');
          }
          return j.write(target!, 'ln creates a link at');
        }
        if (name === 'split' || name === 'csplit') return j.write(p.positionals[1] ?? literalArg('x'), `${name} writes pieces named`);
        writeAll(j, name === 'mknod' ? p.positionals.slice(0, 1) : p.positionals, `${name} creates`);
        if (p.positionals.length === 0 && p.dynamic) j.ask(`${name} targets are not statically known`);
      },
      examples: [
        ex('mkdir -p build/out', { risk: 'workspace-write', writes: ['/home/dev/project/build/out'] }),
        ex('touch /etc/cron.d/x', { risk: 'system-wide' }),
        ex('ln -sf ~/.ssh/id_rsa leak', { ask: true }),
        ex('touch ~/.zshrc', { deny: true }),
        ex('ln -s ~/.bashrc link', { ask: true }),
        ex('ln -s ../shared/config.ts src/config.ts', { ask: true }),
        ex('ln -s src/a.ts b.ts', { risk: 'workspace-write', ask: false }),
        ex('patch ~/.bashrc p.diff', { deny: true }),
        ex('mkdir -p build/out', { writes: ['/home/dev/project/build/out'] }),
      ],
    },
    {
      programs: ['rm', 'unlink'],
      judge: judgeRm,
      examples: [
        ex('rm -rf build', { risk: 'destructive', deny: false, writes: ['/home/dev/project/build'] }),
        ex('rm -rf /', { deny: true }),
        ex('rm -fr ~', { deny: true }),
        ex('rm -rf /*', { deny: true }),
        ex('rm -rf ..', { deny: true }),
        ex('rm -rf .', { deny: true }),
        ex('rm -rf /home/dev/project', { deny: true }),
        ex('rm -r --no-preserve-root /tmp/x', { deny: true }),
        ex('rm -rf "$HOME"', { deny: true, ask: true }),
        ex('rm file.txt', { risk: 'destructive', ask: false }),
        ex('rm -rf /usr', { deny: true }),
        ex('rm -rf $dir', { risk: 'destructive', ask: true, deny: false }),
        ex('rm -rf /tmp/build-cache', { risk: 'system-wide', deny: false }),
      ],
    },
    {
      programs: ['shred', 'truncate', 'wipe', 'srm'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const p = parseArgs(argv.slice(1), ['-s', '--size', '-r', '--reference', '-n', '--iterations', '--random-source']);
        j.risk('destructive', `${name} destroys file contents (destructive)`);
        writeAll(j, p.positionals, `${name} destroys`);
      },
      examples: [
        ex('truncate -s 0 app.log', { risk: 'destructive', writes: ['/home/dev/project/app.log'] }),
        ex('shred -u secrets.txt', { risk: 'destructive' }),
        ex('shred /dev/sda', { deny: true }),
      ],
    },
    {
      programs: ['cp', 'mv', 'install'],
      judge: judgeCopyMove,
      examples: [
        ex('cp a.txt b.txt', { risk: 'workspace-write', writes: ['/home/dev/project/b.txt'] }),
        ex('mv old.ts new.ts', { risk: 'workspace-write', writes: ['/home/dev/project/old.ts', '/home/dev/project/new.ts'] }),
        ex('cp evil ~/.bashrc', { deny: true }),
        ex('mv ~ /tmp/x', { deny: true }),
        ex('cp -r src /opt/app', { risk: 'system-wide' }),
        ex('cp key.pub ~/.ssh/authorized_keys', { deny: true }),
        ex('cp .bashrc ~', { deny: true }),
        ex('cp -t ~ .bashrc', { deny: true }),
        ex('mv profile ~/.profile', { deny: true }),
      ],
    },
    {
      programs: ['chmod', 'chown', 'chgrp'],
      judge: judgePermissions,
      examples: [
        ex('chmod +x scripts/build.sh', { risk: 'workspace-write', ask: false }),
        ex('chmod -R 777 /', { deny: true }),
        ex('chown -R me ~', { deny: true }),
        ex('chmod u+s ./tool', { risk: 'privilege-escalation' }),
        ex('chmod -R 755 .', { risk: 'workspace-write', deny: false }),
        ex('chmod 4755 bin/x', { risk: 'privilege-escalation' }),
      ],
    },
    {
      programs: ['dd'],
      judge: judgeDd,
      examples: [
        ex('dd if=/dev/zero of=/dev/sda', { deny: true }),
        ex('dd if=/dev/zero of=/dev/nvme0n1 bs=1M', { deny: true }),
        ex('dd if=in.img of=out.img', { risk: 'workspace-write', writes: ['/home/dev/project/out.img'] }),
        ex('dd if=/dev/urandom bs=16 count=1', RO),
      ],
    },
  ],
};
