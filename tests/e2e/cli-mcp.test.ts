/**
 * `agent mcp` at the command line: add a real stdio server (the SDK-built test server) and an HTTP
 * one, list them, test one (started in the sandbox as a worker would), remove them, and the one-line
 * errors with their exit codes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import { makeWorkspace, runCli, testEnv } from '../support/harness';
import { startHttpMcpServer } from '../support/mcp-test-server';

const SERVER_ARGS = ['--import', import.meta.resolve('tsx'), path.join(PROJECT_ROOT, 'tests', 'support', 'mcp-test-server.ts')];

let env: Record<string, string>;
let http: Awaited<ReturnType<typeof startHttpMcpServer>>;
beforeAll(async () => {
  env = await testEnv(null);
  http = await startHttpMcpServer();
});
afterAll(async () => {
  await http.close();
});

describe('agent mcp', () => {
  it('adds, lists, tests and removes servers', { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace();
    // --read-only: the project must be readable in the sandbox, as a clone under /tmp is hidden there.
    const added = await runCli(['mcp', 'add', 'files', '--network', 'example.com', '--read-only', PROJECT_ROOT, '--', process.execPath, ...SERVER_ARGS], env);
    expect(added.stdout, added.stderr).toMatch(/^added MCP server "files" to .*mcp\.json/);
    expect((await runCli(['mcp', 'add', 'remote', '--url', http.url, '--header', 'Authorization: Bearer ${MCP_TOKEN:-none}'], env)).code).toBe(0);
    const file = JSON.parse(await readFile(path.join(env.AGENT_HOME!, 'mcp.json'), 'utf8'));
    expect(file.mcpServers.remote).toEqual({ type: 'http', url: http.url, headers: { Authorization: 'Bearer ${MCP_TOKEN:-none}' } });
    expect(file.mcpServers.files).toEqual({ command: process.execPath, args: SERVER_ARGS, network: ['example.com'], readOnly: [PROJECT_ROOT] });

    const listed = JSON.parse((await runCli(['mcp', 'list', '--workspace', workspace, '--json'], env)).stdout);
    expect(listed.servers.map((s: { name: string; transport: string; sandbox: boolean | null }) => [s.name, s.transport, s.sandbox])).toEqual([
      ['files', 'stdio', true],
      ['remote', 'http', null],
    ]);

    const tested = await runCli(['mcp', 'test', 'files', '--workspace', workspace, '--json'], env);
    expect(tested.code, tested.stderr).toBe(0);
    const probe = JSON.parse(tested.stdout);
    expect(probe.tools).toContainEqual({ name: 'mcp__files__echo', risk: 'read-only', hints: 'read-only', idempotent: true });
    expect(probe.tools).toContainEqual({ name: 'mcp__files__erase', risk: 'destructive', hints: 'destructive', idempotent: false });
    const human = await runCli(['mcp', 'test', 'remote', '--workspace', workspace], env);
    expect(human.stdout).toMatch(/^MCP server "remote" \(user\) answered in \d+ ms with 14 tools:\n/);
    expect(human.stdout).toMatch(/mcp__remote__plain +unknown +no annotations \(asks unless a rule allows it\)/);

    // The dry run judges an MCP tool as the gate would, with the risk its server's annotations give.
    const check = async (...args: string[]) => JSON.parse((await runCli(['policy', 'check', '--workspace', workspace, '--json', ...args], env)).stdout);
    expect(await check('--tool', 'mcp__files__erase')).toMatchObject({ decision: 'ask', risk: 'destructive' });
    expect(await check('--tool', 'mcp__files__erase', '--rule', 'allow mcp__files__*')).toMatchObject({ decision: 'allow', matchedRule: 'allow mcp__files__*' });
    expect(await check('--tool', 'mcp__files__echo', '--mode', 'plan')).toMatchObject({ decision: 'allow', risk: 'read-only' });

    expect((await runCli(['mcp', 'remove', 'files'], env)).stdout).toMatch(/^removed MCP server "files"/);
    const again = await runCli(['mcp', 'remove', 'files'], env);
    expect([again.code, again.stderr.trim()]).toEqual([
      1,
      `agent: no MCP server "files" in ${path.join(env.AGENT_HOME!, 'mcp.json')} (see \`agent mcp list\`; a workspace's servers live in its .mcp.json)`,
    ]);
  });

  it('says what is wrong in one line', { timeout: 60_000 }, async () => {
    const bad = await runCli(['mcp', 'add', 'my_server', '--url', 'http://127.0.0.1:1/mcp'], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'agent: "my_server" is not a server name: use up to 32 letters, digits and "-"']);
    const both = await runCli(['mcp', 'add', 'x', '--url', 'http://127.0.0.1:1/mcp', '--', 'node'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give either --url .* not both/);
    await runCli(['mcp', 'add', 'down', '--url', 'http://127.0.0.1:1/mcp'], env);
    const down = await runCli(['mcp', 'test', 'down'], env);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/^agent: MCP server "down" failed: /);
  });

  it('agent doctor names the servers and hooks a task here would load, and what is wrong with them', { timeout: 60_000 }, async () => {
    const home = env.AGENT_HOME!;
    await writeFile(path.join(home, 'mcp.json'), JSON.stringify({ mcpServers: { good: { command: 'node', args: ['server.js'] }, bad_name: { command: 'x' } } }));
    await writeFile(
      path.join(home, 'hooks.json'),
      JSON.stringify({ hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './check.sh' }] }], PreCompact: [] } }),
    );
    const doctor = await runCli(['doctor', '--json'], env);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
    const mcp = checks.find((c) => c.name === 'mcp-servers')!;
    expect(mcp.ok).toBe(false);
    expect(mcp.detail).toMatch(/^good \(user, stdio, sandboxed\)\n {4}.*MCP server "bad_name" skipped/);
    const hooks = checks.find((c) => c.name === 'hooks')!;
    expect(hooks.ok).toBe(false);
    expect(hooks.detail).toMatch(/^PreToolUse\(Bash\) user\n {4}.*PreCompact hooks skipped/);
  });
});
