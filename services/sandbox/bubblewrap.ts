/**
 * The OS sandbox around `run_command`, built on bubblewrap (`bwrap`) directly.
 *
 * Why not `@anthropic-ai/sandbox-runtime`: it needs Node >= 22 and we run Node 20. We build the same
 * design: the sandbox never joins the host's network namespace; when the policy grants network,
 * traffic leaves only through a host-side proxy (network-proxy.ts) reached through a unix socket
 * bound into the sandbox, which socat bridges to 127.0.0.1:3128 inside. There is no seccomp filter.
 *
 * Shape of the sandbox (bwrap applies mount options in order, so the order below matters):
 *   1. the host root read-only, a fresh /dev and /proc, a private tmpfs /tmp;
 *   2. masks: every home directory (the user's, /root, /home) and /run (host service sockets such as
 *      docker.sock, which a unix socket reaches even without a network) become empty tmpfs; a few
 *      host secrets outside them (/etc/shadow, SSH host keys) become /dev/null;
 *   3. PATH entries hidden by a mask (nvm, ~/.cargo, pyenv, ...) are bound back read-only, so
 *      `node`, `npm` and friends keep working;
 *   4. the extra read-only and writable dirs, then the workspace read-write, shallowest first so a
 *      read-only dir inside the workspace stays read-only;
 *   5. the workspace's protected paths (protected-paths.ts): git hooks and config and `.agent/`
 *      read-only, `.env` files masked, their ancestors pinned so they cannot be renamed away;
 *   6. well-known secrets (~/.ssh, ~/.aws, shell history, ...) that a step-3/4 bind re-exposed are
 *      masked again, as are the agent's own state (AGENT_HOME, the approver key) wherever they are;
 *      the step-2 masks are made read-only (a write there fails instead of vanishing with the tmpfs);
 *   7. every namespace unshared, the network always (only a loopback exists inside), nested user
 *      namespaces disabled (so mounts cannot be undone), all capabilities dropped (we may run as
 *      root), a new session (no TIOCSTI into our terminal), killed when its parent dies, and an
 *      environment of exactly the allow-listed variables, with HOME=/tmp/home.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostEnvironment } from '../config';
import { isInside } from '../paths';
import type { ProtectedPaths } from './protected-paths';

export interface SandboxPolicy {
  /** Real path; the only writable place besides a private /tmp. */
  workspace: string;
  /** Extra dirs visible read-only (missing ones are skipped). */
  extraReadOnly?: string[];
  /** Extra writable dirs (missing ones are skipped). */
  extraWritable?: string[];
  /** Paths hidden entirely wherever they are (the agent's own state, the approver key). */
  hidden?: string[];
  /** What to protect inside the workspace (findProtectedPaths); null protects nothing there. */
  protect?: ProtectedPaths | null;
  /** null: no way out at all. Otherwise the host path of the proxy socket all traffic must use. */
  network: { proxySocket: string } | null;
}

export interface SandboxInfo {
  available: boolean;
  kind: 'bubblewrap' | 'none';
  path: string | null;
  reason: string;
  /** Whether this bwrap can forbid user namespaces inside the sandbox (bubblewrap >= 0.8 with user namespaces). */
  nestedUserNamespacesDisabled?: boolean;
  /** socat, which bridges the network proxy into the sandbox; without it a network grant cannot be served. */
  socat?: string | null;
}

/** Thrown when a sandboxed run is requested but no sandbox works here; never falls back to running unsandboxed. */
export class SandboxUnavailableError extends Error {}

/** HOME inside the sandbox: on the private /tmp, so tools that write caches (npm, git) still work. */
export const SANDBOX_HOME = '/tmp/home';
/** Where the proxy's unix socket appears inside the sandbox, and the loopback port socat serves it on. */
export const SANDBOX_PROXY_SOCKET = '/tmp/.agent-proxy.sock';
export const SANDBOX_PROXY_PORT = 3128;

/** Relative to each home: credentials, keys and histories that must stay hidden even when a bind re-exposes their parent. */
const HOME_SECRETS = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.kube',
  '.docker',
  '.config',
  '.local/share/keyrings',
  '.password-store',
  '.netrc',
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.pypirc',
  '.git-credentials',
  '.pgpass',
  '.my.cnf',
  '.boto',
  '.s3cfg',
  '.vault-token',
  '.terraform.d',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.claude',
  '.claude.json',
  '.bash_history',
  '.zsh_history',
  '.python_history',
  '.node_repl_history',
  '.psql_history',
  '.mysql_history',
  '.sqlite_history',
  '.lesshst',
  '.viminfo',
];

/** Host files outside the masked dirs that no build or test needs. */
const HOST_SECRET_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/var/run/docker.sock'];

/** Options every sandbox gets; also what detectSandbox() probes, so "available" means this exact shape works. */
const BASE_ARGS = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
const ISOLATION_ARGS = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];
/** No user namespaces inside: one would let the command unmount what hides or protects a path. */
const NO_NESTED_USERNS = ['--unshare-user', '--disable-userns'];

let detection: Promise<SandboxInfo> | undefined;

/**
 * Finds bwrap and runs a real (trivial) sandbox once; cached for the process. Never throws: a missing
 * binary or a kernel without user namespaces comes back as `available: false` with the reason.
 */
export function detectSandbox(): Promise<SandboxInfo> {
  detection ??= probe();
  return detection;
}

async function probe(): Promise<SandboxInfo> {
  const { PATH } = hostEnvironment();
  const bwrap = findOnPath('bwrap', PATH) ?? (existsSync('/usr/bin/bwrap') ? '/usr/bin/bwrap' : null);
  if (!bwrap) {
    return { available: false, kind: 'none', path: null, reason: 'bwrap not found on PATH (install it: apt-get install bubblewrap)' };
  }
  const socat = findOnPath('socat', PATH) ?? (existsSync('/usr/bin/socat') ? '/usr/bin/socat' : null);
  const tryArgs = (extra: string[]) =>
    new Promise<string | null>((resolve) => {
      execFile(bwrap, [...BASE_ARGS, ...ISOLATION_ARGS, ...extra, '--', 'true'], { timeout: 10_000, env: { PATH: PATH ?? '/usr/bin:/bin' } }, (err, _stdout, stderr) => {
        resolve(err ? String(stderr).trim() || err.message : null);
      });
    });
  const strict = await tryArgs(NO_NESTED_USERNS);
  if (strict === null)
    return {
      available: true,
      kind: 'bubblewrap',
      path: bwrap,
      reason: `${bwrap} works (user namespaces available, nested ones disabled)`,
      nestedUserNamespacesDisabled: true,
      socat,
    };
  const plain = await tryArgs([]);
  if (plain === null)
    return {
      available: true,
      kind: 'bubblewrap',
      path: bwrap,
      reason: `${bwrap} works (nested user namespaces cannot be disabled here: ${strict})`,
      nestedUserNamespacesDisabled: false,
      socat,
    };
  return { available: false, kind: 'none', path: bwrap, reason: `${bwrap} cannot create a sandbox here: ${plain}`, socat };
}

function findOnPath(name: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(':')) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

/**
 * The bwrap arguments for `policy`, to be followed by `-- /bin/bash -c <command>`. `env` is the
 * complete environment inside (HOME and TMPDIR are overridden). Throws when the workspace is not an
 * existing directory or is `/` (a writable root is no sandbox).
 */
export function bubblewrapArgs(policy: SandboxPolicy, env: Record<string, string>, options: { noNestedUserNamespaces?: boolean } = {}): string[] {
  if (!path.isAbsolute(policy.workspace)) throw new Error(`sandbox workspace must be an absolute path, got ${policy.workspace}`);
  const workspace = realpathSync(policy.workspace);
  if (!statSync(workspace).isDirectory()) throw new Error(`sandbox workspace ${workspace} is not a directory`);
  if (workspace === '/') throw new Error('sandbox workspace cannot be / (the whole file system would be writable)');

  const homes = homeDirs();
  const maskedDirs = unique([...homes.roots, '/run'].filter((d) => d !== '/' && isDir(d)));
  const args = [...BASE_ARGS];

  // 2. Masks.
  for (const dir of maskedDirs) args.push('--tmpfs', dir);
  for (const file of hostSecretFiles()) {
    if (!maskedDirs.some((d) => isInside(d, file))) args.push('--ro-bind', '/dev/null', file);
  }

  // 3 + 4. Binds back into the masked view, shallowest destination first; at equal depth later
  // entries win, so the workspace beats an extra dir with the same path.
  const secrets = homeSecrets(homes.all);
  const binds: { src: string; dest: string; writable: boolean }[] = [];
  for (const dir of existingReal(policy.extraReadOnly)) binds.push({ src: dir, dest: dir, writable: false });
  for (const dir of existingReal(policy.extraWritable)) binds.push({ src: dir, dest: dir, writable: true });
  binds.push({ src: workspace, dest: workspace, writable: true });
  // A PATH dir already visible through the policy's binds needs no restore (and must not turn read-only).
  const restores = pathRestores(env.PATH, maskedDirs, homes.all, secrets).filter((dir) => !binds.some((b) => isInside(b.dest, dir)));
  binds.unshift(...restores.map((dir) => ({ src: dir, dest: dir, writable: false })));
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length);
  binds.sort((a, b) => depth(a.dest) - depth(b.dest));
  for (const bind of binds) args.push(bind.writable ? '--bind' : '--ro-bind-try', bind.src, bind.dest);

  // 5. Protected paths inside the workspace: pins first (shallowest first), then what they guard.
  const protect = policy.protect;
  if (protect) {
    for (const dir of protect.pinned) if (isInside(workspace, dir)) args.push('--bind', dir, dir);
    for (const p of protect.readOnly) {
      if (!isInside(workspace, p)) continue;
      // A missing hooks dir becomes an empty read-only one, so nothing can be planted there either.
      if (existsSync(p)) args.push('--ro-bind', p, p);
      else args.push('--tmpfs', p, '--remount-ro', p);
    }
    for (const f of protect.masked) if (isInside(workspace, f) && existsSync(f)) args.push('--ro-bind', '/dev/null', f);
  }

  // 6. Secrets a bind re-exposed, and the agent's own state wherever it is visible: mask again,
  // unless the path holds a bind itself (say, a workspace under ~/.config), which masking would hide.
  const visible = (p: string) => !maskedDirs.some((m) => isInside(m, p)) || binds.some((b) => isInside(b.dest, p) && b.dest !== p);
  const masked: string[] = [];
  // Shallowest first: a path inside one already masked here is hidden with it (and bwrap could not mount inside a read-only mask).
  for (const secret of unique([...secrets, ...existingReal(policy.hidden, true)]).sort((a, b) => depth(a) - depth(b))) {
    const holdsBind = binds.some((b) => isInside(secret, b.dest));
    if (!visible(secret) || holdsBind || masked.some((m) => isInside(m, secret))) continue;
    masked.push(secret);
    if (isDir(secret)) args.push('--tmpfs', secret, '--remount-ro', secret);
    else args.push('--ro-bind', '/dev/null', secret);
  }
  // Not when a bind sits on (or above) the masked dir: remount-ro would hit the bind (workspace = ~).
  for (const dir of maskedDirs) if (!binds.some((b) => isInside(b.dest, dir))) args.push('--remount-ro', dir);

  // 7. Isolation, process lifetime, the proxy socket and the environment.
  args.push('--dir', SANDBOX_HOME, '--chdir', workspace, ...ISOLATION_ARGS);
  if (options.noNestedUserNamespaces) args.push(...NO_NESTED_USERNS);
  const inside: Record<string, string> = { ...env, HOME: SANDBOX_HOME, TMPDIR: '/tmp' };
  if (policy.network) {
    args.push('--bind', policy.network.proxySocket, SANDBOX_PROXY_SOCKET);
    Object.assign(inside, proxyEnvironment());
  }
  args.push('--clearenv');
  for (const [key, value] of Object.entries(inside)) args.push('--setenv', key, value);
  return args;
}

/** The variables HTTP clients (curl, npm, pip, git, go, cargo) read to find a proxy; nothing bypasses it. */
function proxyEnvironment(): Record<string, string> {
  const url = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
  const env: Record<string, string> = { NO_PROXY: '', no_proxy: '' };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'npm_config_proxy', 'npm_config_https_proxy']) env[name] = url;
  return env;
}

/**
 * The program bwrap runs: the command itself, or, with a network grant, a bash that first starts
 * socat (sandbox loopback :3128 → the proxy socket), waits until it listens, and then execs the
 * command. socat dies with the sandbox's PID namespace when the command ends.
 */
export function sandboxEntry(command: string, network: boolean, socat: string | null | undefined): string[] {
  if (!network) return ['/bin/bash', '-c', command];
  if (!socat)
    throw new SandboxUnavailableError('the command may use the network, but socat (which bridges the sandbox to its network proxy) is not installed: apt-get install socat');
  const bridge = [
    `${socat} TCP-LISTEN:${SANDBOX_PROXY_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${SANDBOX_PROXY_SOCKET} </dev/null >/dev/null 2>&1 &`,
    `for _ in $(seq 1 400); do (: </dev/tcp/127.0.0.1/${SANDBOX_PROXY_PORT}) 2>/dev/null && break; sleep 0.005; done`,
    'exec /bin/bash -c "$1"',
  ].join('\n');
  return ['/bin/bash', '-c', bridge, 'agent-sandbox', command];
}

/** Home roots to mask (the user's, /root, /home) and every individual home, for secrets and PATH anchors. */
function homeDirs(): { roots: string[]; all: string[] } {
  // os.homedir() is $HOME when set, else the passwd entry.
  const own = [os.homedir()].filter((h) => path.isAbsolute(h)).map(realOrSelf);
  const roots = unique([...own, '/root', '/home'].filter((d) => d !== '/' && isDir(d)));
  let underHome: string[] = [];
  try {
    underHome = readdirSync('/home')
      .map((n) => path.join('/home', n))
      .filter(isDir);
  } catch {
    /* no /home */
  }
  return { roots, all: unique([...own, '/root', ...underHome].filter((d) => d !== '/' && isDir(d))) };
}

/**
 * PATH entries hidden by a mask are bound back by their top-level dir under the home (~/.nvm,
 * ~/.cargo: a tool's bin/ links into its siblings) or under /run; only the entry itself when that
 * top-level dir is a secret (~/.config/x/bin must not re-expose ~/.config).
 */
function pathRestores(searchPath: string | undefined, maskedDirs: string[], homes: string[], secrets: string[]): string[] {
  const restores: string[] = [];
  for (const entry of (searchPath ?? '').split(':')) {
    if (!path.isAbsolute(entry)) continue;
    const dir = path.normalize(entry);
    if (!maskedDirs.some((m) => isInside(m, dir))) continue;
    // The deepest base containing the entry decides the anchor: /home/u/.nvm/... → /home/u/.nvm.
    const base = [...homes, ...maskedDirs].filter((b) => isInside(b, dir)).sort((a, b) => b.length - a.length)[0]!;
    if (dir === base) continue; // PATH holding a whole home must not re-expose it
    const top = path.join(base, path.relative(base, dir).split(path.sep)[0]!);
    const anchor = secrets.some((s) => isInside(s, realOrSelf(top)) || isInside(s, top)) ? dir : top;
    if (existsSync(anchor)) restores.push(anchor);
  }
  return unique(restores);
}

function homeSecrets(homes: string[]): string[] {
  const found: string[] = [];
  for (const home of homes) {
    for (const rel of HOME_SECRETS) {
      // Only what resolves: bwrap cannot mount onto a dangling symlink.
      const real = realOrNull(path.join(home, rel));
      if (real) found.push(real);
    }
  }
  return unique(found);
}

function hostSecretFiles(): string[] {
  const files = [...HOST_SECRET_FILES];
  try {
    for (const name of readdirSync('/etc/ssh')) if (/^ssh_host_.*_key$/.test(name)) files.push(path.join('/etc/ssh', name));
  } catch {
    /* no sshd */
  }
  // Mount targets must be the real location: bwrap follows symlinks (e.g. /var/run → /run).
  return unique(files.map(realOrNull).filter((f): f is string => f !== null && !isDir(f)));
}

function existingReal(dirs: string[] | undefined, filesToo = false): string[] {
  return (dirs ?? [])
    .filter((d) => path.isAbsolute(d) && existsSync(d))
    .map((d) => realpathSync(d))
    .filter((d) => d !== '/' && (filesToo || isDir(d)));
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
