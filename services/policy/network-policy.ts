/**
 * Which domains a sandboxed command may reach. The policy part of network isolation; the proxy in
 * services/sandbox enforces it per connection.
 *
 * Rules: `allow network(registry.npmjs.org)`, `allow network(*.example.com)`, `deny network(evil.com)`,
 * `allow network` (any public host). A `*` tool rule never grants network: only rules that name
 * `network` do. A command the policy lets run (by rule, by mode, or approved by a person who saw the
 * list) may also reach the hosts it names itself (`curl https://example.com/x`, `git clone
 * https://github.com/o/r`). Loopback, private ranges and the agent's own services are refused by
 * the proxy whatever these say.
 */
import type { NetworkGrant, RuleRecord } from '../../domain/policy';

/** Package registries: what `npm install`, `pip install`, `go mod download` and `cargo fetch` need. */
export const DEFAULT_NETWORK_RULES = [
  'allow network(registry.npmjs.org)',
  'allow network(registry.yarnpkg.com)',
  'allow network(pypi.org)',
  'allow network(files.pythonhosted.org)',
  'allow network(proxy.golang.org)',
  'allow network(sum.golang.org)',
  'allow network(index.crates.io)',
  'allow network(static.crates.io)',
  'allow network(crates.io)',
  'allow network(repo.maven.apache.org)',
  'allow network(repo1.maven.org)',
  'allow network(rubygems.org)',
];

/** A domain pattern as a rule may write it: a name, `*.` + a name, `*`, or an IP address. */
export const DOMAIN_PATTERN = /^(\*|(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*|\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+)$/i;

const URL_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'git:', 'ssh:', 'ws:', 'wss:', 'git+https:', 'git+ssh:', 'git+http:']);

/**
 * Hosts named by the static words of a command: URLs (also in `--opt=URL`) and scp-style
 * `user@host:path`. Lower case, without ports; never throws.
 */
export function hostsNamedIn(words: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const word of words) {
    for (const candidate of [word, word.includes('=') ? word.slice(word.indexOf('=') + 1) : null]) {
      if (!candidate) continue;
      const scp = /^[\w.-]+@([a-z0-9.-]+\.[a-z]{2,}):(?!\/\/)/i.exec(candidate);
      if (scp) hosts.add(scp[1]!.toLowerCase());
      if (!/^[a-z+]+:\/\//i.test(candidate)) continue;
      try {
        const url = new URL(candidate);
        if (URL_SCHEMES.has(url.protocol) && url.hostname) hosts.add(url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
      } catch {
        /* not a URL */
      }
    }
  }
  return [...hosts];
}

/**
 * The grant for one command: every `allow network(...)` rule plus the hosts the command names,
 * minus nothing (deny rules travel with it and win at the proxy). Never throws.
 */
export function networkGrant(rules: readonly RuleRecord[], namedHosts: readonly string[]): NetworkGrant {
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const rule of rules) {
    if (rule.tool !== 'network' || rule.effect === 'ask') continue;
    (rule.effect === 'allow' ? allow : deny).add((rule.specifier ?? '*').toLowerCase());
  }
  for (const host of namedHosts) allow.add(host);
  return { allow: [...allow].sort(), deny: [...deny].sort() };
}
