/**
 * Privilege: sudo and its kin are always denied (the agent never escalates), and programs that change
 * users, groups or capabilities are privilege escalation. The inner command of sudo is still judged,
 * so the denial says what it would have done.
 */
import { firstValue, parseArgs } from '../shell/args';
import type { ProgramFamily } from '../shell/rule';
import { ex } from './example';

export const privilege: ProgramFamily = {
  name: 'privilege',
  rules: [
    {
      programs: [
        'useradd',
        'userdel',
        'usermod',
        'groupadd',
        'groupdel',
        'groupmod',
        'passwd',
        'chpasswd',
        'adduser',
        'deluser',
        'addgroup',
        'visudo',
        'vipw',
        'newgrp',
        'sg',
        'setcap',
        'nsenter',
        'unshare',
        'capsh',
        'gpasswd',
        'chsh',
        'chfn',
      ],
      judge(argv, j) {
        j.risk('privilege-escalation', `${argv[0]!.value} changes users, groups or privileges`);
      },
      examples: [ex('useradd mallory', { risk: 'privilege-escalation', deny: false }), ex('setcap cap_net_raw+ep ./bin', { risk: 'privilege-escalation' })],
    },
    {
      programs: ['sudo', 'su', 'doas', 'pkexec', 'run0', 'sudoedit', 'gosu', 'su-exec', 'runas', 'calife', 'ksu'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        j.deny(`${name} runs a command with elevated privileges (privilege escalation)`);
        j.risk('privilege-escalation', `${name} runs a command with elevated privileges`);
        // Still say what the inner command would do, so the person reading the denial understands it.
        if (name === 'sudo' || name === 'doas') {
          const p = parseArgs(argv.slice(1), ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T', '--user', '--group', '--chdir', '--prompt'], true);
          if (p.positionals.length) j.nested(p.positionals, name);
        } else if (name === 'su') {
          const p = parseArgs(argv.slice(1), ['-c', '--command', '-s', '--shell', '-g', '-G', '-w']);
          const c = firstValue(p, '-c', '--command');
          if (c?.value) j.script(c.value, 'su -c');
        }
      },
      examples: [
        ex('sudo ls', { deny: true, risk: 'privilege-escalation' }),
        ex('sudo -u root rm -rf /var/log', { deny: true }),
        ex('su -c "id"', { deny: true }),
        ex('doas sh', { deny: true }),
        ex('pkexec bash', { deny: true }),
      ],
    },
  ],
};
