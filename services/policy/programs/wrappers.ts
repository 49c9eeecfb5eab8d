/**
 * Harmless wrappers, stripped before a rule is chosen, so `timeout 5 rm -rf /` is judged as
 * `rm -rf /`. A wrapper that cannot tell where its command starts (env -S, an odd option) makes
 * the walker ask instead.
 */
import { has, parseArgs } from '../shell/args';
import { DANGEROUS_ENV } from '../shell/dangerous-env';
import type { ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

const DURATION = /^\d+(\.\d+)?[smhd]?$/;

export const wrapperPrograms: ProgramFamily = {
  name: 'wrappers',
  rules: [],
  wrappers: [
    {
      programs: ['timeout'],
      strip(argv) {
        const p = parseArgs(argv.slice(1), ['-s', '--signal', '-k', '--kill-after'], true);
        const [duration, ...rest] = p.positionals;
        if (!duration || duration.value === null || !DURATION.test(duration.value)) return null;
        return rest;
      },
      examples: [ex('timeout 5 ls', { ...RO, program: 'ls' }), ex('timeout -s KILL 1m rm -rf /', { deny: true, program: 'rm' })],
    },
    {
      programs: ['nice'],
      strip(argv) {
        const rest = argv.slice(1);
        let i = 0;
        while (i < rest.length) {
          const v = rest[i]!.value;
          if (v === null) return null;
          if (v === '-n' || v === '--adjustment') i += 2;
          else if (/^(-n)?-?\d+$/.test(v) || v.startsWith('--adjustment=')) i += 1;
          else break;
        }
        return rest.slice(i);
      },
      examples: [ex('nice -n 10 make test', { risk: 'workspace-write', program: 'make' }), ex('nice -5 cat x', RO)],
    },
    {
      programs: ['ionice', 'chrt', 'taskset'],
      strip(argv, j) {
        const p = parseArgs(argv.slice(1), ['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '-u'], true);
        if (has(p, '-p', '--pid', '-P', '-u', '-a', '--all-tasks')) {
          j.risk('system-wide', `${argv[0]!.value} changes the scheduling of other processes`);
          return [];
        }
        // chrt / taskset take a priority / mask positional before the command.
        const prog = argv[0]!.value;
        return prog === 'ionice' ? p.positionals : p.positionals.slice(1);
      },
      examples: [ex('ionice -c 3 grep -r x .', RO), ex('taskset 0x1 rm -rf ~', { deny: true })],
    },
    {
      programs: ['env'],
      strip(argv, j) {
        const rest = argv.slice(1);
        let i = 0;
        for (; i < rest.length; i++) {
          const v = rest[i]!.value;
          if (v === null) return null;
          if (v === '--') {
            i++;
            break;
          }
          if (v === '-i' || v === '--ignore-environment' || v === '-0' || v === '--null' || v === '-') continue;
          if (v === '-u' || v === '--unset') {
            i++;
            continue;
          }
          if (v.startsWith('--unset=') || /^-u./.test(v)) continue;
          if (v === '-C' || v === '--chdir') {
            j.chdir(rest[++i] ?? null);
            continue;
          }
          if (v === '-S' || v === '--split-string' || v.startsWith('--split-string=') || v.startsWith('-S')) return null;
          if (v.startsWith('-')) return null;
          if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
            const name = v.slice(0, v.indexOf('='));
            if (DANGEROUS_ENV.test(name)) j.ask(`env sets ${name}, which changes what programs run`);
            continue;
          }
          break;
        }
        return rest.slice(i);
      },
      examples: [
        ex('env', RO),
        ex('env FOO=1 BAR=2 npm test', { risk: 'workspace-write', program: 'npm' }),
        ex('env -i PATH=/tmp/evil ls', { ask: true }),
        ex('env -S "rm -rf /"', { ask: true, risk: 'unknown' }),
      ],
    },
    {
      programs: ['command', 'builtin'],
      strip(argv, j) {
        const p = parseArgs(argv.slice(1), [], true);
        if (has(p, '-v', '-V')) {
          j.risk('read-only', 'command -v looks a program up');
          return [];
        }
        return p.positionals;
      },
      examples: [ex('command -v node', RO), ex('command rm -rf /', { deny: true }), ex('builtin cd /tmp', RO)],
    },
    {
      // GNU time (not the bash keyword, which takes only -p) writes its report with -o FILE.
      programs: ['time'],
      strip(argv, j) {
        const p = parseArgs(argv.slice(1), ['-o', '--output', '-f', '--format'], true);
        for (const out of [...(p.opts.get('-o') ?? []), ...(p.opts.get('--output') ?? [])]) j.write(out, 'time -o writes');
        return p.positionals;
      },
      examples: [ex('time -o out.txt ls', { risk: 'workspace-write', writes: ['/home/dev/project/out.txt'] }), ex('time -p npm test', { risk: 'workspace-write', program: 'npm' })],
    },
    {
      programs: ['nohup', 'setsid', 'exec', 'coproc', 'unbuffer', 'chronic', 'caffeinate', 'busybox'],
      strip(argv) {
        const p = parseArgs(argv.slice(1), ['-a'], true); // time -p, setsid -w, exec -a NAME
        return p.positionals;
      },
      examples: [
        ex('nohup npm start &', { risk: 'workspace-write', program: 'npm' }),
        ex('busybox rm -rf /', { deny: true, program: 'rm' }),
        ex('exec > build.log', { risk: 'workspace-write', writes: ['/home/dev/project/build.log'] }),
      ],
    },
    {
      programs: ['stdbuf'],
      strip(argv) {
        return parseArgs(argv.slice(1), ['-i', '-o', '-e', '--input', '--output', '--error'], true).positionals;
      },
      examples: [ex('stdbuf -oL tail -f log.txt', RO)],
    },
  ],
};
