/**
 * git, by subcommand: what only reads the repository, what changes it, what reaches the network and
 * what destroys work. Configuration and helper programs given on the command line ask (they run
 * code), and so does git in a repository outside the workspace, whose own config could.
 */
import { firstValue, has, injected, literalArg, parseArgs, staticValue, type ParsedArgs } from '../shell/args';
import type { Arg, Judge, ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

const GIT_READ = new Set([
  'status',
  'log',
  'show',
  'diff',
  'blame',
  'annotate',
  'ls-files',
  'ls-tree',
  'rev-parse',
  'cat-file',
  'describe',
  'shortlog',
  'rev-list',
  'merge-base',
  'name-rev',
  'for-each-ref',
  'show-ref',
  'check-ignore',
  'check-attr',
  'count-objects',
  'var',
  'version',
  'whatchanged',
  'diff-tree',
  'diff-files',
  'diff-index',
  'grep',
  'show-branch',
  'cherry',
  'range-diff',
  'fsck',
  'verify-commit',
  'verify-tag',
  'check-ref-format',
  'show-index',
  'get-tar-commit-id',
]);
const GIT_WRITE = new Set([
  'add',
  'commit',
  'switch',
  'merge',
  'rebase',
  'cherry-pick',
  'revert',
  'init',
  'mv',
  'apply',
  'am',
  'notes',
  'gc',
  'repack',
  'bisect',
  'worktree',
  'sparse-checkout',
  'maintenance',
  'format-patch',
  'archive',
  'bundle',
  'update-index',
  'commit-tree',
  'mktag',
  'hash-object',
  'read-tree',
  'write-tree',
  'replace',
  'rerere',
  'mergetool',
  'difftool',
  'citool',
  'stage',
  'lfs',
]);
const GIT_NETWORK = new Set(['push', 'pull', 'fetch', 'clone', 'ls-remote', 'submodule', 'remote-update', 'request-pull', 'send-email', 'svn', 'p4']);

/** Where git's own options end (the subcommand's index) and whether output is paged; null when they decided already. */
function globalOptions(args: readonly Arg[], j: Judge): { at: number; paged: boolean } | null {
  let paged = false;
  let i = 0;
  for (; i < args.length; i++) {
    const v = args[i]!.value;
    if (v === null) {
      j.risk('unknown', `git gets a computed argument (${args[i]!.text})`);
      return null;
    }
    if (v === '-C' || /^-C./.test(v)) {
      j.chdir(v === '-C' ? (args[++i] ?? null) : null);
      continue;
    }
    // Every spelling: -c k=v, glued -ck=v, --config-env[=]..., --exec-path[=]...
    if (v === '-c' || /^-c./.test(v) || v.startsWith('--config-env') || v.startsWith('--exec-path')) {
      // -c core.pager=..., core.fsmonitor=..., alias.x=!cmd: any of these runs arbitrary programs.
      j.ask(`git ${v} ${args[i + 1]?.text ?? ''} can make git run arbitrary programs`.trim());
      j.risk('unknown', 'git with configuration overrides');
      return null;
    }
    if (['--git-dir', '--work-tree', '--namespace'].includes(v)) {
      i++;
      continue;
    }
    if (v === '-p' || v === '--paginate') paged = true;
    if (v.startsWith('-')) continue;
    break;
  }
  return { at: i, paged };
}

/** One git subcommand call: its name, its parsed options and its words (dynamic ones as ''). */
interface GitCall {
  readonly sub: string;
  readonly rest: readonly Arg[];
  readonly p: ParsedArgs;
  readonly words: readonly string[];
}

function judgeGit(argv: readonly Arg[], j: Judge) {
  const args = argv.slice(1);
  const global = globalOptions(args, j);
  if (!global) return;
  const i = global.at;
  // -p pipes the output through whichever pager the environment or configuration names.
  if (global.paged) j.risk('unknown', 'git -p runs a pager program on its output');
  const sub = args[i]?.value ?? null;
  const rest = args.slice(i + 1);
  // A repository's own config (core.fsmonitor, core.pager, diff drivers) can run programs: only the workspace's is trusted.
  const foreign = j.cwd === null || !j.inWorkspace(j.cwd) || args.slice(0, i).some((a) => /^--(git-dir|work-tree)/.test(a.value ?? ''));
  if (foreign && sub !== null && sub !== 'clone' && sub !== 'version' && sub !== 'init') j.ask(`git ${sub} in a repository outside the workspace (its config can run programs)`);
  const p = parseArgs(rest, [
    '-m',
    '-C',
    '-c',
    '-F',
    '--format',
    '--pretty',
    '-n',
    '-S',
    '-G',
    '--author',
    '--grep',
    '--since',
    '--until',
    '-U',
    '--abbrev',
    '-e',
    '-f',
    '--output',
    '-o',
  ]);
  if (sub === null) return j.risk('read-only', 'git without a subcommand prints help');
  // Configuration, hook templates and helper programs given on the command line end up running code.
  const words = rest.map((a) => a.value ?? '');
  if (
    words.some((v) => /^--(upload-pack|receive-pack|exec|extcmd|template|config)(=|$)/.test(v)) ||
    (sub === 'clone' && words.some((v) => /^-(c.*|u)$/.test(v))) ||
    (['rebase', 'difftool'].includes(sub) && words.includes('-x'))
  ) {
    j.ask(`git ${sub} is given configuration, hook templates or a program to run`);
  }
  const call: GitCall = { sub, rest, p, words };
  if ((sub === 'submodule' && words[0] === 'foreach') || (sub === 'bisect' && words[0] === 'run')) return gitRunsCommand(call, j);
  if (GIT_READ.has(sub)) return gitRead(argv[0]!, call, j);
  const judge = SUBCOMMANDS.get(sub);
  if (judge) return judge(call, j);
  if (GIT_NETWORK.has(sub)) return j.risk('network', `git ${sub} reaches the network`);
  if (GIT_WRITE.has(sub)) return j.risk('workspace-write', `git ${sub} changes the repository`);
  j.risk('unknown', `git ${sub} is not a git command the analyser knows (could be an alias)`);
}

/** git submodule foreach CMD, git bisect run CMD: the command is judged as a script. */
function gitRunsCommand({ sub, rest, words }: GitCall, j: Judge) {
  const cmd = rest.slice(1).filter((a) => a.value !== '--recursive' && a.value !== '-q' && a.value !== '--quiet');
  if (cmd.length && cmd.every((a) => a.value !== null)) j.script(cmd.map((a) => a.value).join(' '), `git ${sub} ${words[0]}`);
  else j.ask(`git ${sub} ${words[0]} runs a command that is not a literal`);
  j.risk('unknown', `git ${sub} ${words[0]} runs a command`);
}

function gitRead(program: Arg, { sub, rest, p }: GitCall, j: Judge) {
  injected([program, ...rest], j);
  const out = firstValue(p, '--output');
  if (out) return j.write(out, `git ${sub} --output writes`);
  // External diff and textconv drivers, --exec and a pager for matches all run other programs.
  if (has(p, '--ext-diff', '--textconv', '--exec', '-O', '--open-files-in-pager')) return j.risk('unknown', `git ${sub} runs an external program`);
  if (sub === 'fsck' && has(p, '--lost-found')) return j.risk('workspace-write', 'git fsck --lost-found writes objects');
  j.risk('read-only', `git ${sub} only reads the repository`);
}

function gitBranch({ p }: GitCall, j: Judge) {
  if (has(p, '-D', '--delete') && has(p, '--force', '-f')) return j.risk('destructive', 'git branch -D deletes a branch with unmerged work (destructive)');
  if (has(p, '-D')) return j.risk('destructive', 'git branch -D deletes a branch even if unmerged (destructive)');
  if (has(p, '-d', '--delete', '-m', '-M', '-c', '-C', '--move', '--copy', '-u', '--set-upstream-to', '--unset-upstream', '--edit-description', '-f', '--force'))
    return j.risk('workspace-write', 'git branch changes branches');
  if (p.positionals.length > 0 && !has(p, '--list', '-l', '--contains', '--merged', '--no-merged', '--points-at', '--no-contains'))
    return j.risk('workspace-write', `git branch ${p.positionals[0]!.text} creates a branch`);
  j.risk('read-only', 'git branch lists branches');
}

function gitTag({ p }: GitCall, j: Judge) {
  if (has(p, '-d', '--delete')) return j.risk('workspace-write', 'git tag -d deletes a tag');
  if (p.positionals.length > 0 && !has(p, '-l', '--list', '--contains', '--points-at', '--merged', '--no-merged')) return j.risk('workspace-write', 'git tag creates a tag');
  j.risk('read-only', 'git tag lists tags');
}

function gitRemote({ p }: GitCall, j: Judge) {
  const action = staticValue(p.positionals[0]);
  if (action === null || action === 'get-url') return j.risk('read-only', 'git remote lists remotes');
  if (action === 'show' || action === 'update' || action === 'prune') return j.risk('network', `git remote ${action} contacts the remote`);
  j.risk('workspace-write', `git remote ${action} changes the repository configuration`);
}

function gitStash({ p }: GitCall, j: Judge) {
  const action = staticValue(p.positionals[0]);
  if (action === 'list' || action === 'show') return j.risk('read-only', `git stash ${action} only reads`);
  if (action === 'drop' || action === 'clear') return j.risk('destructive', `git stash ${action} discards stashed changes (destructive)`);
  j.risk('workspace-write', 'git stash changes the working tree');
}

function gitConfig({ p }: GitCall, j: Judge) {
  if (has(p, '--global', '--system')) return j.risk('system-wide', 'git config --global changes configuration outside the workspace');
  if (
    has(p, '--get', '--get-all', '--get-regexp', '--list', '-l', '--show-origin', '--get-urlmatch') ||
    (p.positionals.length <= 1 && !has(p, '--unset', '--unset-all', '--add', '--replace-all', '-e', '--edit', '--remove-section', '--rename-section'))
  )
    return j.risk('read-only', 'git config reads configuration');
  // A write to the repository's own config (core.hooksPath, core.pager, aliases, filters) is a write under .git.
  const file = firstValue(p, '-f', '--file') ?? (p.flags.has('--file') ? p.positionals[0] : undefined);
  j.write(file ?? literalArg(has(p, '--worktree') ? '.git/config.worktree' : '.git/config'), 'git config writes');
  j.risk('workspace-write', 'git config changes the repository configuration (hooks, pagers and aliases can run programs)');
}

function gitReflog({ p }: GitCall, j: Judge) {
  const action = staticValue(p.positionals[0]);
  if (action === 'expire' || action === 'delete') return j.risk('destructive', `git reflog ${action} discards recovery points (destructive)`);
  j.risk('read-only', 'git reflog shows history');
}

function gitReset({ p }: GitCall, j: Judge) {
  if (has(p, '--hard', '--merge', '--keep')) return j.risk('destructive', 'git reset --hard discards uncommitted changes (destructive)');
  j.risk('workspace-write', 'git reset moves HEAD / unstages changes');
}

function gitClean({ p }: GitCall, j: Judge) {
  if (has(p, '-n', '--dry-run')) return j.risk('read-only', 'git clean -n only lists what would be deleted');
  j.risk('destructive', 'git clean deletes untracked files (destructive)');
}

/** git checkout and git restore. */
function gitCheckout({ sub, p }: GitCall, j: Judge) {
  const discards = has(p, '-f', '--force', '--') || sub === 'restore' || p.positionals.some((a) => a.value === '.' || a.value === null);
  if (discards && !has(p, '--staged', '-b', '-B')) return j.risk('destructive', `git ${sub} can overwrite uncommitted changes (destructive)`);
  j.risk('workspace-write', `git ${sub} changes the working tree`);
}

function gitPush({ p, words }: GitCall, j: Judge) {
  j.risk('network', 'git push sends commits to a remote');
  // Every spelling of a force push: -f anywhere (also in a group like -fu), --force, --force-with-lease[=…], --force-if-includes, a +refspec.
  const FORCE = /^(--force|--force-with-lease(=.*)?|--force-if-includes|-[a-zA-Z]*f[a-zA-Z]*)$/;
  const forced = words.some((v) => FORCE.test(v)) || p.positionals.some((a) => (a.value ?? '').startsWith('+'));
  const deletes = has(p, '--mirror', '--delete', '-d', '--prune') || p.positionals.some((a) => (a.value ?? '').startsWith(':'));
  const plain = words.filter((v) => !FORCE.test(v) && !['--mirror', '--delete', '-d', '--prune'].includes(v)).map((v) => (v.startsWith('+') ? v.slice(1) : v));
  if (forced) j.alsoSpelled(['git', 'push', '--force', ...plain]);
  if (deletes) j.alsoSpelled(['git', 'push', '--delete', ...plain]);
  if (forced || deletes) j.risk('destructive', 'git push --force / --delete can destroy remote history (destructive)');
}

function gitClone({ p }: GitCall, j: Judge) {
  j.risk('network', 'git clone downloads a repository');
  const dest = p.positionals[1];
  if (dest) j.write(dest, 'git clone writes');
  else j.risk('workspace-write', 'git clone writes a new directory here');
}

/** Subcommands judged by their options; the others by the GIT_* tables alone. A Map: a subcommand named `constructor` is not a handler. */
const SUBCOMMANDS = new Map<string, (call: GitCall, j: Judge) => void>([
  ['branch', gitBranch],
  ['tag', gitTag],
  ['remote', gitRemote],
  ['stash', gitStash],
  ['config', gitConfig],
  ['reflog', gitReflog],
  ['reset', gitReset],
  ['clean', gitClean],
  ['checkout', gitCheckout],
  ['restore', gitCheckout],
  ['rm', (_call, j) => j.risk('destructive', 'git rm deletes files (destructive)')],
  ...['filter-branch', 'filter-repo', 'update-ref', 'prune'].map((sub): [string, (call: GitCall, j: Judge) => void] => [
    sub,
    (_call, j) => j.risk('destructive', `git ${sub} rewrites or deletes history (destructive)`),
  ]),
  ['push', gitPush],
  ['clone', gitClone],
]);

export const gitPrograms: ProgramFamily = {
  name: 'git',
  rules: [
    {
      programs: ['git'],
      judge: judgeGit,
      examples: [
        ex('git status', RO),
        ex('git diff --stat', RO),
        ex('git log --oneline -n 10', RO),
        ex('git show HEAD~1', RO),
        ex('git branch', RO),
        ex('git branch -a', RO),
        ex('git branch feature/x', { risk: 'workspace-write' }),
        ex('git branch -D old', { risk: 'destructive' }),
        ex('git push origin main', { risk: 'network' }),
        ex('git push --force origin main', { risk: 'destructive' }),
        ex('git pull', { risk: 'network' }),
        ex('git fetch --all', { risk: 'network' }),
        ex('git clone https://github.com/a/b', { risk: 'network' }),
        ex('git reset --hard HEAD~3', { risk: 'destructive' }),
        ex('git clean -fdx', { risk: 'destructive' }),
        ex('git clean -n', RO),
        ex('git add -A && git commit -m "wip"', { risk: 'workspace-write' }),
        ex('git -c core.pager="sh -c id" log', { ask: true }),
        ex('git checkout .', { risk: 'destructive' }),
        ex('git checkout -b feat', { risk: 'workspace-write' }),
        ex('git stash list', RO),
        ex('git config --global user.name x', { risk: 'system-wide' }),
        ex('git -C sub status', RO),
        ex('git -C /tmp/evil status', { ask: true }),
        ex('cd /tmp/x && git log', { ask: true }),
        ex('git frobnicate', { risk: 'unknown' }),
        ex('git diff --output=patch.diff', { risk: 'workspace-write', writes: ['/home/dev/project/patch.diff'] }),
        ex('git -ccore.pager=cat status', { ask: true }),
        ex('git -p log', { risk: 'unknown' }),
        ex('git config core.hooksPath /tmp/h', { ask: true, risk: 'workspace-write' }),
        ex('git clone -c core.fsmonitor=x https://x/r', { ask: true }),
        ex("git submodule foreach 'rm -rf /'", { deny: true }),
      ],
    },
  ],
};
