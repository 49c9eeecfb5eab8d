/**
 * The paths guarded before any tool touches them, in one place: the shell analyser's deny and ask
 * checks, the evaluation chain's protected step (services/policy) and the sandbox, which masks the
 * secret dotfiles by the kernel (services/sandbox), all read these tables, so a path cannot be
 * guarded for one tool and forgotten for another. Data only: home-relative unless absolute.
 */

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
