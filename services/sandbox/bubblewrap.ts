/**
 * The OS sandbox around `run_command`, built on bubblewrap (`bwrap`) directly.
 *
 * Why not `@anthropic-ai/sandbox-runtime`: it needs Node >= 22 and we run Node 20. It adds a seccomp
 * filter and a domain-allowlisting proxy on top of the same bubblewrap shape; we have neither, so the
 * network is all or nothing here.
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
 *   5. well-known secrets (~/.ssh, ~/.aws, shell history, ...) that a step-3/4 bind re-exposed are
 *      masked again, and the step-2 masks are made read-only (a write there fails instead of
 *      silently vanishing with the tmpfs);
 *   6. every namespace unshared (the network too unless the policy allows it), all capabilities
 *      dropped (we may run as root), a new session (no TIOCSTI into our terminal), killed when its
 *      parent dies, and an environment of exactly the allow-listed variables, with HOME=/tmp/home.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SandboxPolicy {
  /** Real path; the only writable place besides a private /tmp. */
  workspace: string;
  /** Extra dirs visible read-only (missing ones are skipped). */
  extraReadOnly?: string[];
  /** Extra writable dirs (missing ones are skipped). */
  extraWritable?: string[];
  /** false → a private network namespace with only loopback inside. */
  allowNetwork: boolean;
}

export interface SandboxInfo {
  available: boolean;
  kind: 'bubblewrap' | 'none';
  path: string | null;
  reason: string;
}

/** Thrown when a sandboxed run is requested but no sandbox works here; never falls back to running unsandboxed. */
export class SandboxUnavailableError extends Error {}

/** HOME inside the sandbox: on the private /tmp, so tools that write caches (npm, git) still work. */
export const SANDBOX_HOME = '/tmp/home';

/** Relative to each home: credentials, keys and histories that must stay hidden even when a bind re-exposes their parent. */
const HOME_SECRETS = [
  '.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.config', '.local/share/keyrings', '.password-store',
  '.netrc', '.npmrc', '.yarnrc', '.yarnrc.yml', '.pypirc', '.git-credentials', '.pgpass', '.my.cnf', '.boto', '.s3cfg',
  '.vault-token', '.terraform.d', '.cargo/credentials', '.cargo/credentials.toml', '.claude', '.claude.json',
  '.bash_history', '.zsh_history', '.python_history', '.node_repl_history', '.psql_history', '.mysql_history',
  '.sqlite_history', '.lesshst', '.viminfo',
];

/** Host files outside the masked dirs that no build or test needs. */
const HOST_SECRET_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/var/run/docker.sock'];

/** Options every sandbox gets; also what detectSandbox() probes, so "available" means this exact shape works. */
const BASE_ARGS = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
const ISOLATION_ARGS = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];

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
  const bwrap = findOnPath('bwrap', process.env.PATH) ?? (existsSync('/usr/bin/bwrap') ? '/usr/bin/bwrap' : null);
  if (!bwrap) {
    return { available: false, kind: 'none', path: null, reason: 'bwrap not found on PATH (install it: apt-get install bubblewrap)' };
  }
  return await new Promise<SandboxInfo>((resolve) => {
    execFile(bwrap, [...BASE_ARGS, ...ISOLATION_ARGS, '--', 'true'], { timeout: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, _stdout, stderr) => {
      if (!err) return resolve({ available: true, kind: 'bubblewrap', path: bwrap, reason: `${bwrap} works (user namespaces available)` });
      const why = String(stderr).trim() || err.message;
      resolve({ available: false, kind: 'none', path: bwrap, reason: `${bwrap} cannot create a sandbox here: ${why}` });
    });
  });
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
export function bubblewrapArgs(policy: SandboxPolicy, env: Record<string, string>): string[] {
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

  // 5. Secrets a bind re-exposed: mask again, unless the secret dir holds a bind itself (say, a
  // workspace under ~/.config), which masking would hide.
  for (const secret of secrets) {
    const exposed = binds.some((b) => isInside(b.dest, secret) && b.dest !== secret);
    const holdsBind = binds.some((b) => isInside(secret, b.dest));
    if (!exposed || holdsBind) continue;
    if (isDir(secret)) args.push('--tmpfs', secret, '--remount-ro', secret);
    else args.push('--ro-bind', '/dev/null', secret);
  }
  // Not when a bind sits on (or above) the masked dir: remount-ro would hit the bind (workspace = ~).
  for (const dir of maskedDirs) if (!binds.some((b) => isInside(b.dest, dir))) args.push('--remount-ro', dir);

  // 6. Isolation, process lifetime and environment.
  args.push('--dir', SANDBOX_HOME, '--chdir', workspace, ...ISOLATION_ARGS);
  if (policy.allowNetwork) args.push('--share-net');
  args.push('--clearenv');
  const inside = { ...env, HOME: SANDBOX_HOME, TMPDIR: '/tmp' };
  for (const [key, value] of Object.entries(inside)) args.push('--setenv', key, value);
  return args;
}

/** Home roots to mask (the user's, /root, /home) and every individual home, for secrets and PATH anchors. */
function homeDirs(): { roots: string[]; all: string[] } {
  // os.homedir() is $HOME when set, else the passwd entry.
  const own = [os.homedir()].filter((h) => path.isAbsolute(h)).map(realOrSelf);
  const roots = unique([...own, '/root', '/home'].filter((d) => d !== '/' && isDir(d)));
  let underHome: string[] = [];
  try {
    underHome = readdirSync('/home').map((n) => path.join('/home', n)).filter(isDir);
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

function existingReal(dirs: string[] | undefined): string[] {
  return (dirs ?? []).filter((d) => path.isAbsolute(d) && existsSync(d)).map((d) => realpathSync(d)).filter((d) => d !== '/');
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
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
