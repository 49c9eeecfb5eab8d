/**
 * Builtins that change only this shell: cd / pushd / popd (the walker follows the directory), hash,
 * and declarations reached through a wrapper.
 */
import { literalArg, parseArgs } from '../shell/args';
import { DANGEROUS_ENV } from '../shell/dangerous-env';
import type { ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

export const shellBuiltins: ProgramFamily = {
  name: 'shell-builtins',
  rules: [
    {
      programs: ['hash'],
      judge(argv, j) {
        if (argv.some((a) => a.value === null || /^-[a-zA-Z]*p/.test(a.value))) {
          j.ask('hash -p binds a command name to another program');
          return j.risk('unknown', 'hash -p changes which program a name runs');
        }
        j.risk('read-only', 'hash only remembers program locations');
      },
      examples: [ex('hash -r', RO), ex('hash -p /tmp/evil ls; ls', { ask: true })],
    },
    {
      programs: ['cd', 'pushd', 'popd'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        if (name === 'popd') {
          j.chdir(null);
          j.risk('read-only', 'popd changes the directory');
          return;
        }
        const p = parseArgs(argv.slice(1));
        const target = p.positionals[0];
        if (target?.value === '-') j.chdir(null);
        else j.chdir(target ?? literalArg(j.home));
        j.risk('read-only', `${name} changes the working directory`);
      },
      examples: [
        ex('cd src && ls', RO),
        ex('cd / && rm -rf *', { deny: true }),
        ex('cd /etc && echo x > hosts', { risk: 'system-wide', writes: ['/etc/hosts'] }),
        ex('cd "$DIR" && touch x', { ask: true }),
        ex('(cd /tmp) && touch x', { risk: 'workspace-write', writes: ['/home/dev/project/x'] }),
      ],
    },
    {
      programs: ['export', 'declare', 'typeset', 'local', 'readonly', 'unset'],
      // Declarations are analysed structurally (shell/walk.ts); this rule covers them when reached through a wrapper.
      judge(argv, j) {
        const keyword = argv[0]!.value!;
        // Through a wrapper the walker sees words, not assignments: the same variables ask here as there.
        for (const arg of argv.slice(1)) {
          if (arg.value === null) {
            j.ask(`${keyword} sets a variable whose name cannot be known before it runs`);
            continue;
          }
          const name = /^([A-Za-z_][A-Za-z0-9_]*)(\+?=|$)/.exec(arg.value)?.[1];
          if (keyword !== 'unset' && keyword !== 'local' && name && DANGEROUS_ENV.test(name)) j.ask(`${keyword} ${name} changes what later commands run`);
        }
        j.risk('read-only', `${keyword} only sets shell variables`);
      },
      examples: [
        ex('export NODE_ENV=test', RO),
        ex('export PATH=/tmp/evil:$PATH', { ask: true }),
        ex('export A=$(rm -rf /)', { deny: true }),
        ex('unset FOO', RO),
        ex('command export NODE_ENV=test', RO),
        ex('command export PATH=/tmp/evil; ls', { ask: true }),
        ex('builtin declare -x LD_PRELOAD=/tmp/evil.so; ls', { ask: true }),
        ex('builtin export "$NAME=x"; ls', { ask: true }),
      ],
    },
  ],
};
