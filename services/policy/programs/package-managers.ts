/**
 * Package managers: installing or changing packages is `package-install` (the sandbox lets it reach
 * the registries), a global or system install is `system-wide`, queries only read or use the network,
 * and running a project script writes the workspace.
 */
import { parseArgs, staticValue, VERSION_FLAGS } from '../shell/args';
import type { Arg, Judge, ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

const NPM_INSTALL = new Set([
  'install',
  'i',
  'in',
  'ins',
  'inst',
  'insta',
  'instal',
  'isnt',
  'isntall',
  'add',
  'ci',
  'clean-install',
  'update',
  'up',
  'upgrade',
  'uninstall',
  'remove',
  'rm',
  'r',
  'un',
  'unlink',
  'link',
  'ln',
  'dedupe',
  'ddp',
  'prune',
  'install-test',
  'it',
  'install-ci-test',
  'cit',
  'exec',
  'x',
  'dlx',
  'create',
  'import',
  'fetch',
]);
const NPM_READ = new Set(['ls', 'list', 'll', 'la', 'explain', 'why', 'query', 'root', 'prefix', 'bin', 'fund', 'help', 'help-search', 'get', '--version', '-v', 'licenses']);
const NPM_NETWORK = new Set([
  'view',
  'info',
  'show',
  'v',
  'outdated',
  'search',
  's',
  'se',
  'find',
  'whoami',
  'doctor',
  'ping',
  'repo',
  'docs',
  'bugs',
  'home',
  'login',
  'logout',
  'adduser',
  'owner',
  'access',
  'token',
  'dist-tag',
  'deprecate',
  'team',
  'org',
  'star',
  'unstar',
  'stars',
  'sbom',
]);
const NPM_WRITE = new Set([
  'test',
  't',
  'tst',
  'run',
  'run-script',
  'rum',
  'urn',
  'start',
  'stop',
  'restart',
  'pack',
  'rebuild',
  'rb',
  'build',
  'init',
  'version',
  'set-script',
  'pkg',
  'lint',
  'format',
  'dev',
  'typecheck',
  'cache',
  'tsc',
]);

function judgeNodePm(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['--prefix', '-C', '--dir', '--filter', '-F', '--workspace', '-w', '--cwd', '--registry', '--loglevel'], true);
  const global = argv.some((a) => ['-g', '--global', '--location=global'].includes(a.value ?? '')) || staticValue(p.positionals[0]) === 'global';
  if (name === 'npx' || name === 'pnpx' || name === 'bunx') {
    if (argv.some((a) => ['--no-install', '--no', '--offline'].includes(a.value ?? ''))) return j.risk('workspace-write', `${name} runs a locally installed tool`);
    return j.risk('package-install', `${name} may download a package and run it`);
  }
  const sub = staticValue(p.positionals[0]) ?? (name === 'yarn' && p.positionals.length === 0 ? 'install' : null);
  if (sub === null) {
    if (p.positionals.length) return j.risk('unknown', `${name} gets a computed subcommand`);
    if (argv.length === 2 && VERSION_FLAGS.has(argv[1]!.value ?? '')) return j.risk('read-only', `${name} ${argv[1]!.value} prints its version`);
    return j.risk('read-only', `${name} prints help`);
  }
  const sub2 = staticValue(p.positionals[1]);
  if (sub === 'publish') return j.risk('network', `${name} publish uploads this package to the registry`);
  if (sub === 'unpublish') return j.risk('destructive', `${name} unpublish removes a published package (destructive)`);
  if (sub === 'audit') return sub2 === 'fix' ? j.risk('package-install', `${name} audit fix changes installed packages`) : j.risk('network', `${name} audit queries the registry`);
  if (sub === 'config' || sub === 'c') {
    if (['get', 'list', 'ls', undefined, null].includes(sub2 as string)) return j.risk('read-only', `${name} config reads configuration`);
    return j.risk('system-wide', `${name} config ${sub2} changes user configuration (~/.npmrc)`);
  }
  if (sub === 'global' || global) {
    j.risk('system-wide', `${name} ${sub} ${global ? '-g ' : ''}installs or changes packages outside the workspace`);
    j.risk('package-install', `${name} installs packages`);
    return;
  }
  if (sub === 'version' && !sub2) return j.risk('read-only', `${name} version prints versions`);
  if (sub === 'init' && sub2) return j.risk('package-install', `${name} init ${sub2} downloads and runs a create-* package`);
  if (NPM_INSTALL.has(sub)) return j.risk('package-install', `${name} ${sub} installs or changes packages`);
  if (NPM_READ.has(sub)) return j.risk('read-only', `${name} ${sub} only reads`);
  if (NPM_NETWORK.has(sub)) return j.risk('network', `${name} ${sub} queries the registry`);
  if (NPM_WRITE.has(sub)) return j.risk('workspace-write', `${name} ${sub} runs project scripts (may write build files)`);
  // yarn / pnpm / bun run package.json scripts by bare name.
  if (name !== 'npm') return j.risk('workspace-write', `${name} ${sub} runs a project script (may write build files)`);
  j.risk('unknown', `npm ${sub} is not an npm command the analyser knows`);
}

const PIP_READ = new Set(['list', 'show', 'freeze', 'check', 'help', 'debug', 'inspect', 'hash', '--version', '-V']);
function judgePip(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['-r', '-c', '-e', '-t', '--target', '--prefix', '--root', '-i', '--index-url'], true);
  const sub = staticValue(p.positionals[0]);
  if (name === 'uv') {
    const sub2 = staticValue(p.positionals[1]);
    if (sub === 'pip')
      return sub2 && PIP_READ.has(sub2) ? j.risk('read-only', `uv pip ${sub2} only reads`) : j.risk('package-install', `uv pip ${sub2 ?? ''} installs or changes packages`);
    if (['add', 'remove', 'sync', 'lock', 'tool', 'python', 'init'].includes(sub ?? '')) return j.risk('package-install', `uv ${sub} installs or changes packages`);
    if (sub === 'run') {
      j.risk('workspace-write', 'uv run runs project code (may install dependencies)');
      j.risk('package-install', 'uv run may install dependencies');
      return;
    }
    if (sub === 'venv' || sub === 'build') return j.risk('workspace-write', `uv ${sub} writes files in the workspace`);
    if (sub === 'tree' || sub === 'version' || p.flags.has('--version')) return j.risk('read-only', `uv ${sub ?? '--version'} only reads`);
    return j.risk('unknown', `uv ${sub ?? ''} is not known`);
  }
  if (name === 'uvx' || name === 'pipx') {
    if (name === 'pipx' && (sub === 'list' || p.flags.has('--version'))) return j.risk('read-only', 'pipx list only reads');
    return j.risk('package-install', `${name} installs and runs packages`);
  }
  if (name === 'poetry' || name === 'pdm' || name === 'hatch' || name === 'pipenv') {
    if (['add', 'install', 'remove', 'update', 'lock', 'sync', 'uninstall'].includes(sub ?? '')) return j.risk('package-install', `${name} ${sub} installs or changes packages`);
    if (['show', 'list', 'check', 'env', 'about', 'config'].includes(sub ?? '') || p.flags.has('--version')) return j.risk('read-only', `${name} ${sub ?? '--version'} only reads`);
    return j.risk('workspace-write', `${name} ${sub ?? ''} runs project code (may write files)`);
  }
  if (sub === null) return p.flags.size ? j.risk('read-only', `${name} prints its version or help`) : j.risk('read-only', `${name} prints help`);
  if (PIP_READ.has(sub)) return j.risk('read-only', `${name} ${sub} only reads installed packages`);
  if (sub === 'config')
    return staticValue(p.positionals[1]) === 'list' || staticValue(p.positionals[1]) === 'get'
      ? j.risk('read-only', 'pip config reads')
      : j.risk('system-wide', 'pip config changes user configuration');
  if (sub === 'index' || sub === 'search' || sub === 'download') return j.risk(sub === 'download' ? 'package-install' : 'network', `${name} ${sub} contacts the package index`);
  if (sub === 'install' || sub === 'uninstall' || sub === 'wheel') {
    if (argv.some((a) => a.value === '--user' || a.value === '--break-system-packages')) j.risk('system-wide', `${name} ${sub} --user changes packages outside the workspace`);
    return j.risk('package-install', `${name} ${sub} installs or removes packages`);
  }
  if (sub === 'cache') return j.risk('system-wide', 'pip cache changes the user cache');
  j.risk('unknown', `${name} ${sub} is not known`);
}

interface PmTable {
  install: string[];
  read: string[];
  systemWide: boolean;
  network?: string[];
}
const SYSTEM_PMS: Record<string, PmTable> = {
  apt: {
    install: ['install', 'remove', 'purge', 'upgrade', 'full-upgrade', 'dist-upgrade', 'autoremove', 'update', 'reinstall', 'build-dep', 'satisfy', 'edit-sources'],
    read: ['list', 'search', 'show', 'policy', 'depends', 'rdepends', 'changelog', 'moo'],
    systemWide: true,
  },
  'apt-get': {
    install: [
      'install',
      'remove',
      'purge',
      'upgrade',
      'dist-upgrade',
      'autoremove',
      'update',
      'build-dep',
      'dselect-upgrade',
      'clean',
      'autoclean',
      'source',
      'download',
      'reinstall',
    ],
    read: ['check', 'changelog'],
    systemWide: true,
  },
  aptitude: { install: ['install', 'remove', 'purge', 'upgrade', 'safe-upgrade', 'full-upgrade', 'update', 'reinstall'], read: ['search', 'show'], systemWide: true },
  dnf: {
    install: ['install', 'remove', 'erase', 'upgrade', 'update', 'reinstall', 'downgrade', 'autoremove', 'groupinstall', 'swap', 'distro-sync', 'makecache'],
    read: ['list', 'search', 'info', 'repolist', 'provides', 'history', 'check-update', 'repoquery'],
    systemWide: true,
  },
  yum: {
    install: ['install', 'remove', 'erase', 'upgrade', 'update', 'reinstall', 'downgrade', 'autoremove', 'groupinstall', 'makecache'],
    read: ['list', 'search', 'info', 'repolist', 'provides', 'history', 'check-update'],
    systemWide: true,
  },
  apk: { install: ['add', 'del', 'upgrade', 'update', 'fix', 'cache'], read: ['info', 'search', 'list', 'policy', 'version', 'dot', 'stats'], systemWide: true },
  zypper: {
    install: ['install', 'in', 'remove', 'rm', 'update', 'up', 'dist-upgrade', 'dup', 'refresh', 'ref', 'patch'],
    read: ['search', 'se', 'info', 'if', 'list-updates', 'lu', 'repos', 'lr'],
    systemWide: true,
  },
  brew: {
    install: ['install', 'reinstall', 'uninstall', 'remove', 'rm', 'upgrade', 'update', 'tap', 'untap', 'link', 'unlink', 'cleanup', 'pin', 'unpin', 'bundle', 'services'],
    read: [
      'list',
      'ls',
      'info',
      'desc',
      'deps',
      'uses',
      'leaves',
      'config',
      'doctor',
      '--version',
      '--prefix',
      '--cellar',
      '--cache',
      'outdated',
      'home',
      'commands',
      'shellenv',
      'tap-info',
    ],
    network: ['search'],
    systemWide: true,
  },
  port: {
    install: ['install', 'uninstall', 'upgrade', 'selfupdate', 'sync', 'clean', 'activate', 'deactivate'],
    read: ['list', 'search', 'info', 'installed', 'outdated', 'contents', 'deps'],
    systemWide: true,
  },
  snap: { install: ['install', 'remove', 'refresh', 'revert', 'enable', 'disable'], read: ['list', 'info', 'find', 'version', 'services'], systemWide: true },
  flatpak: { install: ['install', 'uninstall', 'update', 'remote-add', 'remote-delete'], read: ['list', 'info', 'search', 'remotes'], systemWide: true },
  'nix-env': { install: ['-i', '--install', '-e', '--uninstall', '-u', '--upgrade', '--set', '-iA'], read: ['-q', '--query'], systemWide: true },
  gem: {
    install: ['install', 'uninstall', 'update', 'cleanup', 'build', 'push', 'yank'],
    read: ['list', 'search', 'info', 'query', 'contents', 'dependency', 'environment', 'which', 'specification', 'outdated', '--version', 'help'],
    systemWide: false,
  },
  bundle: {
    install: ['install', 'update', 'add', 'remove', 'lock', 'binstubs', 'cache', 'package', 'clean'],
    read: ['list', 'show', 'info', 'outdated', 'check', 'config', 'version', '--version', 'platform', 'licenses'],
    systemWide: false,
  },
  composer: {
    install: ['install', 'require', 'update', 'remove', 'upgrade', 'create-project', 'global', 'reinstall', 'self-update', 'dump-autoload', 'dumpautoload'],
    read: ['show', 'info', 'depends', 'why', 'why-not', 'outdated', 'validate', 'licenses', 'diagnose', 'audit', 'search', '--version', 'config'],
    systemWide: false,
  },
  conda: { install: ['install', 'remove', 'uninstall', 'update', 'upgrade', 'create', 'env', 'clean'], read: ['list', 'info', 'search', 'config', '--version'], systemWide: false },
  mamba: { install: ['install', 'remove', 'uninstall', 'update', 'upgrade', 'create', 'env', 'clean'], read: ['list', 'info', 'search', '--version'], systemWide: false },
  rustup: {
    install: ['install', 'update', 'toolchain', 'target', 'component', 'default', 'override', 'self', 'uninstall', 'set'],
    read: ['show', '--version', 'which', 'help', 'doc', 'check'],
    systemWide: false,
  },
  pacman: { install: [], read: [], systemWide: true },
  dpkg: { install: [], read: [], systemWide: true },
  rpm: { install: [], read: [], systemWide: true },
};

function judgeSystemPm(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const t = SYSTEM_PMS[name]!;
  if (name === 'pacman' || name === 'dpkg' || name === 'rpm') {
    const modes = argv.slice(1).map((a) => a.value ?? '?');
    const query =
      name === 'pacman'
        ? modes.some((m) => /^-[QF]|^--query|^-S[si]+$|^-Ss|^--version/.test(m)) && !modes.some((m) => /^-[SRU]/.test(m) && !/^-S[si]+$/.test(m))
        : name === 'dpkg'
          ? modes.every((m) => /^-[lLsSpc]$|^--(list|listfiles|status|search|print-architecture|get-selections|version|help)$|^[^-]/.test(m)) &&
            !modes.some((m) => /^-[iPrR]|^--(install|remove|purge|unpack|configure)/.test(m))
          : modes.every((m) => /^-q|^--query|^-V|^--verify|^[^-]/.test(m)) && modes.some((m) => /^-q|^--query|^-V/.test(m));
    if (query) return j.risk('read-only', `${name} only queries installed packages`);
    j.risk('package-install', `${name} installs or removes system packages`);
    return j.risk('system-wide', `${name} changes the whole system, not just the workspace`);
  }
  const sub =
    argv
      .slice(1)
      .map((a) => a.value)
      .find((v) => v === null || !v.startsWith('-') || t.install.includes(v) || t.read.includes(v)) ?? null;
  if (sub === null) {
    if (argv.slice(1).some((a) => a.value === null)) return j.risk('unknown', `${name} gets a computed subcommand`);
    if (name === 'bundle') return j.risk('package-install', 'bundle installs gems');
    return j.risk('read-only', `${name} prints help or its version`);
  }
  if (t.read.includes(sub)) return j.risk('read-only', `${name} ${sub} only reads`);
  if (t.network?.includes(sub)) return j.risk('network', `${name} ${sub} queries the network`);
  if (t.install.includes(sub)) {
    j.risk('package-install', `${name} ${sub} installs or changes packages`);
    const global = name === 'composer' && sub === 'global';
    if (t.systemWide || global || (name === 'gem' && !argv.some((a) => a.value === '--user-install' || a.value === '-i' || a.value === '--install-dir')))
      j.risk('system-wide', `${name} ${sub} changes packages outside the workspace`);
    return;
  }
  if (name === 'bundle' && sub === 'exec') return j.risk('workspace-write', 'bundle exec runs a project tool');
  if (name === 'composer' || name === 'conda' || name === 'mamba') return j.risk('workspace-write', `${name} ${sub} runs a project script`);
  j.risk('unknown', `${name} ${sub} is not known`);
}

function judgeCargoGo(argv: readonly Arg[], j: Judge) {
  const name = argv[0]!.value!;
  const p = parseArgs(argv.slice(1), ['-C', '--manifest-path', '-p', '--package', '-o'], true);
  const sub = staticValue(p.positionals[0]);
  const sub2 = staticValue(p.positionals[1]);
  if (sub === null) return j.risk(p.positionals.length ? 'unknown' : 'read-only', `${name} ${p.positionals.length ? 'gets a computed subcommand' : 'prints help or its version'}`);
  if (name === 'cargo') {
    if (['install', 'uninstall', 'add', 'remove', 'rm', 'update', 'fetch', 'vendor', 'generate-lockfile', 'binstall'].includes(sub))
      return j.risk('package-install', `cargo ${sub} installs or changes crates`);
    if (['--version', '-V', 'version', 'help', 'search', 'tree', 'metadata', 'locate-project', 'pkgid', 'verify-project', 'read-manifest'].includes(sub))
      return j.risk(sub === 'search' ? 'network' : 'read-only', `cargo ${sub} only reads`);
    if (sub === 'publish' || sub === 'yank' || sub === 'owner' || sub === 'login') return j.risk('network', `cargo ${sub} talks to the registry`);
    if (
      [
        'build',
        'b',
        'test',
        't',
        'check',
        'c',
        'run',
        'r',
        'clippy',
        'fmt',
        'bench',
        'doc',
        'd',
        'clean',
        'new',
        'init',
        'fix',
        'package',
        'nextest',
        'miri',
        'llvm-cov',
        'tarpaulin',
        'expand',
        'watch',
        'make',
      ].includes(sub)
    )
      return j.risk('workspace-write', `cargo ${sub} builds or runs project code (writes target/)`);
    return j.risk('unknown', `cargo ${sub} is not known`);
  }
  if (['install', 'get'].includes(sub)) return j.risk('package-install', `go ${sub} downloads and installs modules`);
  if (sub === 'mod')
    return sub2 === 'graph' || sub2 === 'why' || sub2 === 'verify'
      ? j.risk('read-only', `go mod ${sub2} only reads`)
      : j.risk('package-install', `go mod ${sub2 ?? ''} downloads or changes modules`);
  if (sub === 'env')
    return argv.some((a) => a.value === '-w' || a.value === '-u')
      ? j.risk('system-wide', 'go env -w changes user configuration')
      : j.risk('read-only', 'go env prints the environment');
  if (['version', 'list', 'doc', 'help', 'vet'].includes(sub))
    return j.risk(sub === 'vet' ? 'workspace-write' : 'read-only', `go ${sub} ${sub === 'vet' ? 'builds the code' : 'only reads'}`);
  if (['build', 'test', 'run', 'generate', 'fmt', 'clean', 'work', 'tool', 'fix'].includes(sub))
    return j.risk('workspace-write', `go ${sub} builds or runs project code (may write files)`);
  j.risk('unknown', `go ${sub} is not known`);
}

export const packageManagers: ProgramFamily = {
  name: 'package-managers',
  rules: [
    {
      programs: ['npm', 'pnpm', 'yarn', 'npx', 'pnpx', 'bunx', 'corepack'],
      judge: (argv, j) => (argv[0]!.value === 'corepack' ? j.risk('package-install', 'corepack installs package managers') : judgeNodePm(argv, j)),
      examples: [
        ex('npm test', { risk: 'workspace-write', readOnly: false, ask: false }),
        ex('npm run build', { risk: 'workspace-write' }),
        ex('npm install', { risk: 'package-install' }),
        ex('npm i -D vitest', { risk: 'package-install' }),
        ex('npm install -g typescript', { risk: 'system-wide' }),
        ex('pnpm add zod', { risk: 'package-install' }),
        ex('yarn', { risk: 'package-install' }),
        ex('yarn add react', { risk: 'package-install' }),
        ex('yarn lint', { risk: 'workspace-write' }),
        ex('npm ls', RO),
        ex('npm --version', RO),
        ex('npm view react version', { risk: 'network' }),
        ex('npm ci', { risk: 'package-install' }),
        ex('npx create-react-app x', { risk: 'package-install' }),
        ex('npm publish', { risk: 'network' }),
      ],
    },
    {
      programs: ['pip', 'pip3', 'uv', 'uvx', 'pipx', 'poetry', 'pdm', 'hatch', 'pipenv'],
      match: /^pip3\.\d+$/,
      judge: judgePip,
      examples: [
        ex('pip install requests', { risk: 'package-install' }),
        ex('pip3 install -r requirements.txt', { risk: 'package-install' }),
        ex('pip list', RO),
        ex('pip freeze', RO),
        ex('python -m pip install -e .', { risk: 'package-install' }),
        ex('uv add httpx', { risk: 'package-install' }),
        ex('poetry install', { risk: 'package-install' }),
        ex('pip install --user x', { risk: 'system-wide' }),
      ],
    },
    {
      programs: Object.keys(SYSTEM_PMS),
      judge: judgeSystemPm,
      examples: [
        ex('apt-get install -y curl', { risk: 'system-wide' }),
        ex('apt install jq', { risk: 'system-wide' }),
        ex('brew install jq', { risk: 'system-wide' }),
        ex('apt list --installed', RO),
        ex('apk add git', { risk: 'system-wide' }),
        ex('dpkg -l', RO),
        ex('dpkg -i x.deb', { risk: 'system-wide' }),
        ex('pacman -Syu', { risk: 'system-wide' }),
        ex('pacman -Q', RO),
        ex('rpm -qa', RO),
        ex('rpm -i x.rpm', { risk: 'system-wide' }),
        ex('gem install rails', { risk: 'system-wide' }),
        ex('bundle install', { risk: 'package-install' }),
        ex('composer require x/y', { risk: 'package-install' }),
        ex('brew search jq', { risk: 'network' }),
      ],
    },
    {
      programs: ['apt-cache', 'apt-file', 'dpkg-query'],
      judge: (argv, j) => j.risk('read-only', `${argv[0]!.value} only queries the package database`),
      examples: [ex('apt-cache policy curl', RO)],
    },
    {
      programs: ['cargo', 'go'],
      judge: judgeCargoGo,
      examples: [
        ex('cargo install ripgrep', { risk: 'package-install' }),
        ex('cargo build --release', { risk: 'workspace-write' }),
        ex('cargo test', { risk: 'workspace-write' }),
        ex('go install golang.org/x/tools/gopls@latest', { risk: 'package-install' }),
        ex('go test ./...', { risk: 'workspace-write' }),
        ex('go version', RO),
        ex('cargo --version', RO),
      ],
    },
  ],
};
