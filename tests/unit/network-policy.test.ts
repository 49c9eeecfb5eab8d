/**
 * The network half of the sandbox, without a sandbox: which connections the proxy allows (with a
 * resolver the test controls, so rebinding and split answers can be staged), and which domains a
 * command's grant holds.
 */
import { describe, expect, it } from 'vitest';
import { hostMatches, judgeConnection, nonPublicReason } from '../../services/sandbox/network-proxy';
import { hostsNamedIn, networkGrant } from '../../services/policy/network-policy';
import { parseRule, RuleSyntaxError } from '../../services/policy/rules';
import { BUILTIN_RULES } from '../../services/policy/policy-sources';

const dns: Record<string, string[]> = {
  'registry.npmjs.org': ['104.16.1.35'],
  'api.example.com': ['93.184.216.34'],
  'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
  'internal.example.com': ['10.1.2.3'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'temporal.prod.example': ['93.184.216.99'],
  'alias.example.com': ['93.184.216.99'],
};
const resolve = async (host: string) => {
  const found = dns[host];
  if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return found;
};
const judge = (host: string, port = 443, allow = ['*.example.com', 'registry.npmjs.org'], deny: string[] = []) =>
  judgeConnection({ allow, deny, refuse: ['temporal.prod.example:7233', 'localhost:7233'], resolve }, host, port);

describe('the proxy judges every connection', () => {
  it('allows an allowed domain and connects to the address it checked', async () => {
    expect(await judge('registry.npmjs.org')).toEqual({ address: '104.16.1.35' });
    expect(await judge('api.example.com', 8443)).toEqual({ address: '93.184.216.34' });
  });

  it('refuses domains no rule allows, and denied ones even when allowed', async () => {
    expect(await judge('evil.test')).toEqual({ refused: expect.stringMatching(/evil\.test is not an allowed domain \(a rule `allow network\(evil\.test\)` would allow it\)/) });
    expect(await judge('api.example.com', 443, ['*'], ['*.example.com'])).toEqual({ refused: expect.stringMatching(/denied by rule `deny network\(\*\.example\.com\)`/) });
  });

  it('refuses loopback, private and mapped addresses whatever the rules say, and a name with any private answer (rebinding)', async () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '0.0.0.0',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
    ]) {
      expect(await judge(host, 80, ['*', host]), host).toEqual({ refused: expect.any(String) });
    }
    expect(await judge('localhost', 80, ['*', 'localhost'])).toEqual({ refused: expect.stringMatching(/the machine itself/) });
    expect(await judge('rebind.example.com')).toEqual({ refused: expect.stringMatching(/127\.0\.0\.1, a loopback address/) });
    expect(await judge('internal.example.com')).toEqual({ refused: expect.stringMatching(/10\.1\.2\.3/) });
    expect(await judge('mapped.example.com')).toEqual({ refused: expect.stringMatching(/loopback/) });
  });

  it("refuses the agent's own services by name and by address, whatever the rules say", async () => {
    expect(await judge('temporal.prod.example', 7233, ['*'])).toEqual({ refused: expect.stringMatching(/the agent's own services/) });
    expect(await judge('alias.example.com', 443, ['*'])).toEqual({ refused: expect.stringMatching(/address of the agent's own services/) });
  });

  it('lets an IP literal through only when a rule names it exactly', async () => {
    expect(await judge('93.184.216.34', 443, ['*'])).toEqual({ refused: expect.stringMatching(/not an allowed domain/) });
    expect(await judge('93.184.216.34', 443, ['93.184.216.34'])).toEqual({ address: '93.184.216.34' });
  });

  it('says why a name does not resolve', async () => {
    expect(await judge('nowhere.example.com')).toEqual({ refused: expect.stringMatching(/does not resolve \(ENOTFOUND\)/) });
  });

  it('matches domain patterns exactly, by subdomain, or all', () => {
    expect(hostMatches('example.com', 'example.com')).toBe(true);
    expect(hostMatches('example.com', 'api.example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'api.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'evilexample.com')).toBe(false);
    expect(hostMatches('*', 'anything.test')).toBe(true);
    expect(nonPublicReason('8.8.8.8')).toBeNull();
    expect(nonPublicReason('2606:4700::1111')).toBeNull();
  });
});

describe("a command's network grant", () => {
  it('holds the network rules, the registries by default, and the hosts the command names', () => {
    const rules = [...BUILTIN_RULES.map((r) => parseRule(r, 'builtin')), parseRule('allow network(*.corp.example)', 'user'), parseRule('deny network(pastebin.com)', 'user')];
    const grant = networkGrant(
      rules,
      hostsNamedIn(['git', 'clone', 'https://github.com/o/r.git', '--config=http.proxy=x', 'git@gitlab.com:o/r.git', '--registry=https://npm.corp.example/']),
    );
    expect(grant.allow).toEqual(
      expect.arrayContaining(['registry.npmjs.org', 'pypi.org', 'proxy.golang.org', 'index.crates.io', '*.corp.example', 'github.com', 'gitlab.com', 'npm.corp.example']),
    );
    expect(grant.deny).toEqual(['pastebin.com']);
    // A `*` rule is about tools, never about the network.
    expect(networkGrant([parseRule('allow *', 'workspace')], []).allow).toEqual([]);
  });

  it('parses network rules and refuses what they cannot mean', () => {
    expect(parseRule('allow network(api.github.com)', 'user')).toMatchObject({ tool: 'network', specifier: 'api.github.com' });
    expect(parseRule('allow network', 'user')).toMatchObject({ tool: 'network', specifier: null });
    expect(() => parseRule('ask network(x.com)', 'user')).toThrow(RuleSyntaxError);
    expect(() => parseRule('allow network(http://x.com/path)', 'user')).toThrow(/takes a domain/);
  });
});
