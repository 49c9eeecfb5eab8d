/** The rule grammar and the policy sources (user and workspace files, "always" rules). */
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesCommand, matchesPath, parseRule, RuleSyntaxError } from '../../services/policy/rules';
import { BUILTIN_RULES, PolicyFileError, PolicySources } from '../../services/policy/policy-sources';

describe('rule grammar', () => {
  it('parses effect, tool and specifier, normalising blanks and (*)', () => {
    expect(parseRule('allow run_command(npm run test *)', 'user')).toMatchObject({
      effect: 'allow',
      tool: 'run_command',
      specifier: 'npm run test *',
      text: 'allow run_command(npm run test *)',
    });
    expect(parseRule('  deny   read_file( ./secrets/** ) ', 'workspace')).toMatchObject({ effect: 'deny', specifier: './secrets/**', source: 'workspace' });
    expect(parseRule('ask write_file', 'task')).toMatchObject({ specifier: null, text: 'ask write_file' });
    expect(parseRule('deny run_command(*)', 'task')).toMatchObject({ specifier: null });
    expect(parseRule('deny *(~/.ssh/**)', 'task')).toMatchObject({ tool: '*' });
  });

  it('rejects bad rules with a reason', () => {
    expect(() => parseRule('permit run_command(ls)', 'user')).toThrow(RuleSyntaxError);
    expect(() => parseRule('allow rm_rf(/)', 'user')).toThrow(/unknown tool "rm_rf"/);
    expect(() => parseRule('allow run_command(ls', 'user')).toThrow(/is not a rule/);
  });

  it('matches command prefixes word by word; a trailing * takes any rest', () => {
    expect(matchesCommand('npm run test *', ['npm', 'run', 'test'])).toBe(true);
    expect(matchesCommand('npm run test *', ['npm', 'run', 'test', '--', '--watch=false'])).toBe(true);
    expect(matchesCommand('npm run test *', ['npm', 'run', 'testx'])).toBe(false);
    expect(matchesCommand('npm run test', ['npm', 'run', 'test', 'extra'])).toBe(false);
    expect(matchesCommand('git push *', ['git', 'status'])).toBe(false);
    expect(matchesCommand('git log*', ['git', 'log'])).toBe(true);
    expect(matchesCommand('git lo*', ['git', 'log', '-1'])).toBe(false);
    expect(matchesCommand('git lo* *', ['git', 'log', '-1'])).toBe(true);
  });

  it('matches path globs relative to the workspace, absolute and under ~', () => {
    const ws = '/work/app';
    expect(matchesPath('src/**', '/work/app/src/a/b.ts', ws)).toBe(true);
    expect(matchesPath('./src/**', '/work/app/src', ws)).toBe(true);
    expect(matchesPath('src/**', '/work/app/srcx/a.ts', ws)).toBe(false);
    expect(matchesPath('./secrets/**', '/work/app/secrets/.key', ws)).toBe(true);
    expect(matchesPath('/etc/**', '/etc/passwd', ws)).toBe(true);
    expect(matchesPath('~/.ssh/**', '/home/u/.ssh/id_rsa', ws, '/home/u')).toBe(true);
    expect(matchesPath('*.md', '/work/app/docs/a.md', ws)).toBe(false);
  });
});

describe('policy sources', () => {
  it('loads builtin, user, workspace-scoped "always" and workspace rules in order, and add/remove round-trip', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'policy-home-'));
    const ws = await mkdtemp(path.join(os.tmpdir(), 'policy-ws-'));
    const sources = new PolicySources(home, path.join(home, 'user'));
    await mkdir(path.join(ws, '.agent'));
    await writeFile(path.join(ws, '.agent', 'policy.json'), JSON.stringify({ rules: ['deny read_file(./secrets/**)'] }));
    await sources.add(['allow run_command(make *)']);
    await sources.add(['allow run_command(npm run build)'], ws);
    await sources.add(['allow run_command(npm run build)'], ws); // idempotent
    const rules = await sources.load(ws);
    expect(rules.map((r) => `${r.source}: ${r.text}`)).toEqual([
      ...BUILTIN_RULES.map((r) => `builtin: ${r}`),
      'user: allow run_command(make *)',
      'user: allow run_command(npm run build)',
      'workspace: deny read_file(./secrets/**)',
    ]);
    // Rules for another workspace are not loaded here.
    expect((await sources.load(home)).some((r) => r.text === 'allow run_command(npm run build)')).toBe(false);
    expect(await sources.remove('allow run_command(npm run build)', ws)).toBe(true);
    expect(await sources.remove('allow run_command(npm run build)', ws)).toBe(false);
    expect(JSON.parse(await readFile(sources.userFile, 'utf8'))).toEqual({ rules: ['allow run_command(make *)'], workspaces: { [ws]: [] } });
  });

  it('a workspace policy narrows at once but widens only once trusted, and a changed file needs trust again', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'policy-home-'));
    const ws = await mkdtemp(path.join(os.tmpdir(), 'policy-ws-'));
    const sources = new PolicySources(home, path.join(home, 'user'));
    await mkdir(path.join(ws, '.agent'));
    const file = path.join(ws, '.agent', 'policy.json');
    await writeFile(file, JSON.stringify({ rules: ['allow *', 'deny run_command(rm *)', 'ask write_file(src/**)'] }));
    const before = await sources.snapshot(ws);
    expect(before.rules.filter((r) => r.source === 'workspace').map((r) => r.text)).toEqual(['deny run_command(rm *)', 'ask write_file(src/**)']);
    expect(before.ignored.map((r) => r.text)).toEqual(['allow *']);
    expect(before.notices).toEqual([
      expect.stringMatching(
        /policy\.json is not trusted, so its 1 allow rule \(`allow \*`\) was ignored; its deny and ask rules apply\. Review the file, then run `agent trust .*` to use them\./,
      ),
    ]);
    expect(await sources.trustState(ws)).toMatchObject({ exists: true, trusted: false });

    await sources.trust(ws);
    const after = await sources.snapshot(ws);
    expect(after.rules.filter((r) => r.source === 'workspace').map((r) => r.text)).toEqual(['allow *', 'deny run_command(rm *)', 'ask write_file(src/**)']);
    expect(after.notices).toEqual([]);
    // The trust record lives in the user directory, not in the workspace or AGENT_HOME.
    expect(JSON.parse(await readFile(sources.trustFile, 'utf8')).workspaces[ws].sha256).toMatch(/^[0-9a-f]{64}$/);

    await writeFile(file, JSON.stringify({ rules: ['allow *'] }));
    expect((await sources.snapshot(ws)).ignored.map((r) => r.text)).toEqual(['allow *']);
    await sources.trust(ws);
    expect(await sources.untrust(ws)).toBe(true);
    expect((await sources.snapshot(ws)).ignored).toHaveLength(1);
    await expect(sources.trust(home)).rejects.toThrow(/nothing to trust in .*: none of \.agent\/policy\.json, \.mcp\.json, \.agent\/hooks\.json exists/);
  });

  it('a broken policy file fails closed with the file name', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'policy-home-'));
    await writeFile(path.join(home, 'user-policy.json'), '{ not json');
    await expect(new PolicySources(home, path.join(home, 'user')).load(home)).rejects.toThrow(PolicyFileError);
    await writeFile(path.join(home, 'user-policy.json'), JSON.stringify({ rules: ['allow everything'] }));
    await expect(new PolicySources(home, path.join(home, 'user')).load(home)).rejects.toThrow(/user-policy.json: unknown tool "everything"/);
  });
});

describe('policy files are strict', () => {
  it('an unknown key fails closed, naming it and the expected shape', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'policy-home-'));
    const ws = await mkdtemp(path.join(os.tmpdir(), 'policy-ws-'));
    await mkdir(path.join(ws, '.agent'));
    await writeFile(path.join(ws, '.agent', 'policy.json'), JSON.stringify({ rule: ['deny run_command(rm *)'] }));
    await expect(new PolicySources(home, path.join(home, 'user')).load(ws)).rejects.toThrow(/policy\.json: Unrecognized key: "rule" \(the file holds only \{"rules"/);
    await writeFile(path.join(home, 'user-policy.json'), JSON.stringify({ rules: [], deny: ['x'] }));
    await expect(new PolicySources(home, path.join(home, 'user')).load(home)).rejects.toThrow(/user-policy\.json: : Unrecognized key: "deny"|user-policy\.json: .*deny/);
  });
});
