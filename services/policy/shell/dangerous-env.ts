/**
 * Environment variables that make the next program run different code or load different code.
 * Setting one (`PATH=/tmp/evil ls`, `env LD_PRELOAD=... x`, `export NODE_OPTIONS=...`) asks,
 * whether the walker meets it as an assignment or the env wrapper meets it as an argument.
 */
export const DANGEROUS_ENV =
  /^(PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|PROMPT_COMMAND|IFS|PS4|SHELLOPTS|BASHOPTS|NODE_OPTIONS|NODE_PATH|PYTHONSTARTUP|PYTHONPATH|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|GIT_[A-Z_]+|PAGER|EDITOR|VISUAL|BROWSER|LESSOPEN|LESSCLOSE|LESS|LESSKEY\w*|LESSEDIT|MANPAGER|MANOPT|MANROFFOPT|SYSTEMD_PAGER|SUDO_ASKPASS|SSH_ASKPASS|HISTFILE|npm_config_[a-z_]+)$/;
