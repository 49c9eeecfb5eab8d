/**
 * The paths the policy guards, in one place: the shell analyser's deny and ask checks and the
 * evaluation chain's protected step both read these tables, so a path cannot be guarded for one
 * tool and forgotten for another. (The kernel enforces the workspace part separately, in
 * services/sandbox/protected-paths.ts, because a parser never sees every spelling.)
 */
import os from 'node:os';
import path from 'node:path';
import { isInside } from '../paths';
import { matchesPath } from './rules';

/** Directories whose recursive deletion or chmod is never a reasonable agent action. */
export const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/opt',
  '/proc',
  '/root',
  '/sbin',
  '/srv',
  '/sys',
  '/usr',
  '/var',
  '/snap',
  '/System',
  '/Library',
  '/Users',
  '/Applications',
  '/Volumes',
  '/private',
  '/nix',
];

/** Shell startup files: a write there runs code in every future shell of the user. Relative to home unless absolute. */
export const RC_FILES = [
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.mkshrc',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.logout',
  '.config/fish/config.fish',
  '.config/fish/conf.d',
  '.inputrc',
  '.bash_aliases',
  '.xprofile',
  '.xinitrc',
  '.xsession',
  '.config/autostart',
  '.config/environment.d',
  '.pam_environment',
  '/etc/profile',
  '/etc/profile.d',
  '/etc/bash.bashrc',
  '/etc/bashrc',
  '/etc/zshrc',
  '/etc/zsh',
  '/etc/zprofile',
  '/etc/zshenv',
  '/etc/environment',
  '/etc/csh.cshrc',
  '/etc/csh.login',
  '/etc/fish/config.fish',
  '/etc/skel',
];

/** Files whose modification grants access or privileges: denied like rc files. */
export const PERSISTENCE_FILES = [
  '.ssh/authorized_keys',
  '.ssh/authorized_keys2',
  '.ssh/rc',
  '.ssh/environment',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/gshadow',
  '/etc/ld.so.preload',
  '/etc/pam.d',
  '/etc/security',
  '/root/.ssh',
  '/etc/ssh/sshd_config',
];

/** Credentials: reading or writing them needs a person. Home-relative unless absolute. */
export const CREDENTIAL_PATHS = [
  '.ssh',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.kube',
  '.gnupg',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.docker/config.json',
  '.config/gh/hosts.yml',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.gem/credentials',
  '.vault-token',
  '.terraform.d/credentials.tfrc.json',
  '.config/op',
  '.password-store',
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/ssl/private',
];

/**
 * Workspace paths that always need a person before a write (and, for file tools, a read): VCS
 * internals (hooks and config run code), .env files, the agent's own policy. Globs relative to the
 * workspace; `**` spans any number of directories, and `dir/**` also names `dir` itself.
 */
export const PROTECTED_IN_WORKSPACE = ['**/.git', '**/.git/**', '**/.env', '**/.env.*', '.agent/**', '**/.agent/policy.json'];

/**
 * Secret files anywhere, by name: a glob or computed word that could name one of these asks even
 * for a read. (The extension-style names of SECRET_BASENAMES, like *.pem or id_rsa, are only caught
 * when spelled out, so `cat *` or `wc -l *` stay quiet.)
 */
export const SECRET_DOTFILES = ['.env', '.env.*'];

/** Basename patterns of secret-bearing files anywhere. */
export const SECRET_BASENAMES =
  /^(\.env(\..+)?|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|.*\.(pem|key|p12|pfx|jks|keystore)|credentials(\.json)?|\.htpasswd|secrets?\.(ya?ml|json|toml))$/;

/**
 * Paths that always need a human, even under a broad allow. Inside the workspace: PROTECTED_IN_WORKSPACE
 * (VCS internals, .env files, the policy itself). Outside it: credentials and shell start-up files.
 * Home-relative unless absolute.
 */
const PROTECTED_OUTSIDE = [...CREDENTIAL_PATHS, ...RC_FILES];

/** Why an absolute path needs a person before any tool touches it, or null when it does not. Never throws. */
export function protectedReason(target: string, workspace: string, home = os.homedir()): string | null {
  for (const glob of PROTECTED_IN_WORKSPACE)
    if (matchesPath(glob, target, workspace, home)) return `${path.relative(workspace, target) || target} is a protected path (VCS internals, .env files or agent policy)`;
  for (const entry of PROTECTED_OUTSIDE) {
    const base = path.isAbsolute(entry) ? entry : path.join(home, entry);
    if (target === base || isInside(base, target)) return `${target} is a protected path (credentials or shell start-up files)`;
  }
  return null;
}
