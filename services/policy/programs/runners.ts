/**
 * Programs that run a command later, repeatedly or detached (trap, watch, tmux, screen, at,
 * systemd-run...). A detached command outlives the task and its sandbox timeout, so it always asks.
 */
import { parseArgs } from '../shell/args';
import type { ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

export const runners: ProgramFamily = {
  name: 'runners',
  rules: [
    {
      programs: ['trap', 'watch', 'script', 'flock', 'entr', 'nodemon'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const args = argv.slice(1);
        if (name === 'trap') {
          if (args.length === 0 || args.every((a) => a.value !== null && a.value.startsWith('-'))) return j.risk('read-only', 'trap lists traps');
          const action = args[0]!;
          if (action.value === null) {
            j.ask('trap installs a handler computed at run time');
            j.risk('unknown', 'trap handler is not a literal');
            return;
          }
          if (action.value === '' || action.value === '-') return j.risk('read-only', 'trap resets a handler');
          return void j.script(action.value, 'trap handler');
        }
        if (name === 'watch') {
          const p = parseArgs(args, ['-n', '--interval', '-d', '--differences', '-q', '--equexit', '-g'], true);
          const v = p.positionals.every((a) => a.value !== null) ? j.script(p.positionals.map((a) => a.value).join(' '), 'watch') : null;
          if (!v) {
            j.ask('watch runs a command computed at run time');
            j.risk('unknown', 'watch runs a computed command');
            return;
          }
          return;
        }
        j.risk('unknown', `${name} runs another command`);
        j.ask(`${name} runs a command the analyser does not unwrap`);
      },
      examples: [ex("trap 'rm -rf /' EXIT", { deny: true }), ex("trap 'rm -f tmp.$$' EXIT", { risk: 'destructive' }), ex("watch -n 5 'ls -la'", RO)],
    },
    {
      // Detached runners: the command outlives this task (and its sandbox timeout), so always ask.
      programs: ['tmux', 'screen', 'systemd-run', 'at', 'batch', 'daemonize', 'start-stop-daemon', 'disown-run'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const args = argv.slice(1);
        const words = args.map((a) => a.value);
        if (name === 'tmux' && !words.some((v) => v !== null && /^(new|new-session|new-window|neww|split-window|splitw|send-keys|send|run-shell|run|respawn-pane)$/.test(v)))
          return j.risk('read-only', 'tmux without a command only inspects sessions');
        if (name === 'screen' && (words.includes('-ls') || words.includes('-list'))) return j.risk('read-only', 'screen -ls lists sessions');
        if ((name === 'at' || name === 'batch') && words.some((v) => v === '-l' || v === '-c')) return j.risk('read-only', `${name} -l lists jobs`);
        j.risk('system-wide', `${name} starts a command that keeps running after this task`);
        j.ask(`${name} starts a command that outlives the task`);
        if (name === 'at' || name === 'batch') return j.stdinCode('sh');
        if (name === 'tmux') {
          const cmd = args.filter(
            (a, i) => i > 0 && a.value !== null && !a.value.startsWith('-') && !['-s', '-n', '-t', '-c', '-x', '-y', '-e'].includes(args[i - 1]?.value ?? ''),
          );
          const last = cmd[cmd.length - 1];
          if (last?.value) j.script(last.value, 'tmux');
          return;
        }
        const p = parseArgs(
          args,
          ['-S', '-t', '-c', '-p', '--property', '--unit', '-u', '--description', '--uid', '--gid', '-E', '--setenv', '--working-directory', '--on-calendar', '--on-active'],
          true,
        );
        if (p.positionals.length) j.nested(p.positionals, name);
      },
      examples: [
        ex("tmux new -d 'rm -rf /'", { deny: true }),
        ex('screen -dm rm -rf /', { deny: true }),
        ex('systemd-run --user npm start', { ask: true, risk: 'system-wide' }),
        ex("at now <<< 'rm -rf ~'", { deny: true }),
        ex('tmux ls', RO),
      ],
    },
  ],
};
