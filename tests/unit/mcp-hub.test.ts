/**
 * MCP servers through the worker's hub and the tool runner, against a real server built with the
 * SDK (tests/support/mcp-test-server.ts) over stdio (inside bubblewrap, and as a plain process) and
 * Streamable HTTP: discovery, namespacing, annotations, a description carrying an injection, and
 * servers that fail, hang, crash, return megabytes, or try to read and reach what the sandbox hides.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { McpToolEntry } from '../../domain/mcp';
import { McpHub } from '../../services/mcp/mcp-hub';
import { PolicySources } from '../../services/policy/policy-sources';
import { FileStateStore } from '../../services/state/file-state-store';
import { ToolRunner } from '../../services/tools/tool-runner';
import { ToolInputError } from '../../services/tools/workspace';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import { waitFor } from '../support/harness';
import { INJECTED_DESCRIPTION, startHttpMcpServer } from '../support/mcp-test-server';

const SERVER_SCRIPT = path.join(PROJECT_ROOT, 'tests', 'support', 'mcp-test-server.ts');
/** tsx by its absolute location: the server's working directory is the workspace, where no node_modules is. */
const TSX = import.meta.resolve('tsx');
/** The project must be readable in the sandbox: a clone under /tmp is hidden there like every /tmp. */
const stdioEntry = (extra: Record<string, unknown> = {}) => ({ command: process.execPath, args: ['--import', TSX, SERVER_SCRIPT], readOnly: [PROJECT_ROOT], ...extra });

let base: string;
let ws: string;
let home: string;
let hub: McpHub;
let policy: PolicySources;

async function writeUserServers(servers: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(home, 'mcp.json'), JSON.stringify({ mcpServers: servers }));
}

function makeHub(connectTimeoutMs = 20_000): McpHub {
  return new McpHub({
    home,
    trusted: (workspace, text) => policy.isTrusted(workspace, '.mcp.json', text),
    sandbox: { hidden: [home], refuse: [] },
    connectTimeoutMs,
  });
}

const entry = (tools: McpToolEntry[], name: string) => {
  const found = tools.find((t) => t.name === name);
  if (!found) throw new Error(`${name} not in ${tools.map((t) => t.name).join(', ')}`);
  return found;
};

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'mcp-hub-'));
  ws = path.join(base, 'ws');
  home = path.join(base, 'home');
  await mkdir(ws);
  await mkdir(home);
  policy = new PolicySources(home, path.join(home, 'user'));
  hub = makeHub();
});
afterEach(async () => {
  await hub.close();
  await rm(base, { recursive: true, force: true });
});

describe('a stdio server in the sandbox', () => {
  it('offers its tools namespaced, with risk from the annotations and descriptions labelled and capped', { timeout: 60_000 }, async () => {
    await writeUserServers({ test: stdioEntry() });
    const { tools, lines } = await hub.catalog(ws);
    expect(lines).toContain('mcp: server "test" (user): 14 tools, 10 read-only');
    expect(entry(tools, 'mcp__test__echo')).toMatchObject({ server: 'test', tool: 'echo', risk: 'read-only', readOnly: true, idempotent: true, hints: 'read-only' });
    expect(entry(tools, 'mcp__test__record')).toMatchObject({ risk: 'unknown', readOnly: false, idempotent: false, hints: 'not destructive' });
    expect(entry(tools, 'mcp__test__erase')).toMatchObject({ risk: 'destructive', readOnly: false, hints: 'destructive' });
    expect(entry(tools, 'mcp__test__plain')).toMatchObject({ risk: 'unknown', readOnly: false, idempotent: false });
    // A name the model API would refuse is made safe; the call still reaches the real name.
    expect(entry(tools, 'mcp__test__weird_name')).toMatchObject({ tool: 'weird.name' });
    expect(entry(tools, 'mcp__test__echo').inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    const injected = entry(tools, 'mcp__test__injected').description;
    expect(injected.startsWith('[MCP server "test"] Looks up a ticket.')).toBe(true);
    expect(injected).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(injected).toMatch(/… \[cut at 1500 characters\]$/);
    expect(injected.length).toBeLessThan(INJECTED_DESCRIPTION.length);
  });

  it('calls a tool, reports a tool error as an error, and survives a server that crashes mid-call', { timeout: 60_000 }, async () => {
    await writeUserServers({ test: stdioEntry() });
    const { tools } = await hub.catalog(ws);
    const signal = new AbortController().signal;
    expect(await hub.call(ws, entry(tools, 'mcp__test__echo'), { text: 'hi' }, signal)).toBe('echo: hi');
    expect(await hub.call(ws, entry(tools, 'mcp__test__weird_name'), {}, signal)).toBe('weird ok');
    await expect(hub.call(ws, entry(tools, 'mcp__test__fails'), {}, signal)).rejects.toThrow(new ToolInputError('the widget is broken'));
    const crash = hub.call(ws, entry(tools, 'mcp__test__crash'), {}, signal);
    await expect(crash).rejects.toBeInstanceOf(ToolInputError);
    await expect(crash).rejects.toThrow(/MCP server "test" stopped before answering crash \(it is started again on the next call\); stderr: crashing on purpose$/);
    // The next call starts the server again.
    expect(await hub.call(ws, entry(tools, 'mcp__test__echo'), { text: 'again' }, signal)).toBe('echo: again');
  });

  it('cannot read what the sandbox hides nor reach loopback, and writes only the workspace', { timeout: 60_000 }, async () => {
    await writeFile(path.join(home, 'secret.txt'), 'agent state');
    await writeFile(path.join(ws, 'visible.txt'), 'workspace file');
    const loopback: Server = createServer((_, res) => res.end('reached'));
    await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
    const port = (loopback.address() as AddressInfo).port;
    try {
      await writeUserServers({ test: stdioEntry() });
      const { tools } = await hub.catalog(ws);
      const signal = new AbortController().signal;
      const read = (p: string) => hub.call(ws, entry(tools, 'mcp__test__read_path'), { path: p }, signal);
      expect(await read(path.join(ws, 'visible.txt'))).toBe('workspace file');
      expect(await read(path.join(home, 'secret.txt'))).toMatch(/^cannot read: ENOENT/);
      expect(await hub.call(ws, entry(tools, 'mcp__test__fetch'), { url: `http://127.0.0.1:${port}/` }, signal)).toMatch(/^unreachable/);
      // The sandboxed server's working directory is the workspace, and it may write there.
      await hub.call(ws, entry(tools, 'mcp__test__record'), { note: 'one' }, signal);
      expect(await readFile(path.join(ws, 'mcp-calls.log'), 'utf8')).toBe('one\n');
    } finally {
      loopback.closeAllConnections();
      await new Promise((resolve) => loopback.close(resolve));
    }
  });
});

describe('connections', () => {
  it('an idle server is stopped and started again on the next call; one in a long call is not', { timeout: 60_000 }, async () => {
    hub = new McpHub({ home, trusted: async () => false, sandbox: { hidden: [home], refuse: [] }, connectTimeoutMs: 20_000, idleMs: 300 });
    // Outside the sandbox, so the pid it reports is this machine's, not its own namespace's.
    await writeUserServers({ test: stdioEntry({ sandbox: false }) });
    const { tools } = await hub.catalog(ws);
    const signal = new AbortController().signal;
    const pid = async () => Number(await hub.call(ws, entry(tools, 'mcp__test__pid'), {}, signal));
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    const first = await pid();
    // Far longer than the idle time: the call in flight keeps its server.
    expect(await hub.call(ws, entry(tools, 'mcp__test__record_slowly'), { note: 'slow', ms: 1_500 }, signal)).toBe('recorded slow slowly');
    expect(await pid()).toBe(first);
    await waitFor(async () => !alive(first), 'the idle server to stop', 10_000);
    const second = await pid();
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
  });
});

describe('through the tool runner', () => {
  it('a hanging call times out, a huge result is cut and stored, a non-idempotent call runs once', { timeout: 90_000 }, async () => {
    await writeUserServers({ test: stdioEntry({ timeoutSeconds: 2 }) });
    const { tools } = await hub.catalog(ws);
    const store = new FileStateStore(path.join(base, 'state'));
    const runner = new ToolRunner(store, { modelOutputLimit: 20_000, historyInlineBytes: 64_000, mcp: hub });
    const run = (name: string, input: Record<string, unknown>, key: string) => {
      const e = entry(tools, name);
      return runner.run({
        effectKey: key,
        taskId: 'task-1',
        tool: e.name,
        input,
        workspace: ws,
        mcp: { server: e.server, tool: e.tool, readOnly: e.readOnly, idempotent: e.idempotent, timeoutSeconds: e.timeoutSeconds },
      });
    };
    const started = Date.now();
    const hung = await run('mcp__test__hang', {}, 'k-hang');
    expect(hung).toMatchObject({ status: 'error', content: 'mcp__test__hang timed out after 2s' });
    expect(Date.now() - started).toBeLessThan(10_000);

    const huge = await run('mcp__test__huge', { megabytes: 5 }, 'k-huge');
    expect(huge.status).toBe('ok');
    expect(huge.truncated).toBe(true);
    expect(huge.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(huge.outputRef).toMatch(/^sha256:/);
    expect(huge.content).toMatch(/\[output truncated: showing the first 20,000 of [\d,]+ bytes; read_output \{"id": "sha256:/);

    const first = await run('mcp__test__record', { note: 'once' }, 'k-record');
    const again = await run('mcp__test__record', { note: 'once' }, 'k-record');
    expect(first).toMatchObject({ status: 'ok', content: 'recorded once', replayed: false });
    expect(again).toMatchObject({ status: 'ok', content: 'recorded once', replayed: true });
    expect(await readFile(path.join(ws, 'mcp-calls.log'), 'utf8')).toBe('once\n');
  });
});

describe('an HTTP server', () => {
  let http: Awaited<ReturnType<typeof startHttpMcpServer>>;
  beforeAll(async () => {
    http = await startHttpMcpServer();
  });
  afterAll(async () => {
    await http.close();
  });

  it('is listed and called over Streamable HTTP, with ${VAR} headers from the environment', { timeout: 60_000 }, async () => {
    await writeUserServers({ remote: { type: 'http', url: http.url, headers: { 'X-Token': '${MCP_TEST_TOKEN:-none}' } } });
    const { tools, lines } = await hub.catalog(ws);
    expect(lines).toContain('mcp: server "remote" (user): 14 tools, 10 read-only');
    expect(await hub.call(ws, entry(tools, 'mcp__remote__echo'), { text: 'over http' }, new AbortController().signal)).toBe('echo: over http');
  });
});

describe('configuration', () => {
  it("a workspace's .mcp.json starts nothing until trusted, and a changed file needs trust again", { timeout: 60_000 }, async () => {
    await writeFile(path.join(ws, '.mcp.json'), JSON.stringify({ mcpServers: { repo: stdioEntry() } }));
    const untrusted = await hub.catalog(ws);
    expect(untrusted.tools).toEqual([]);
    expect(untrusted.lines.join('\n')).toMatch(/\.mcp\.json is not trusted, so its MCP servers \(repo\) were not started\. .*agent trust/);
    await policy.trust(ws);
    expect((await hub.catalog(ws)).tools.map((t) => t.name)).toContain('mcp__repo__echo');
    await writeFile(path.join(ws, '.mcp.json'), JSON.stringify({ mcpServers: { repo: stdioEntry({ args: ['--import', TSX, SERVER_SCRIPT, 'changed'] }) } }));
    expect((await hub.catalog(ws)).tools).toEqual([]);
  });

  it('bad entries are skipped with the reason; a server that never answers is left out in time', { timeout: 60_000 }, async () => {
    hub = makeHub(1_000);
    await writeUserServers({ my_server: stdioEntry(), broken: { command: '' }, silent: { command: 'sleep', args: ['30'] }, sse: { type: 'sse', url: 'http://x' } });
    const started = Date.now();
    const { tools, lines } = await hub.catalog(ws);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(tools).toEqual([]);
    const text = lines.join('\n');
    expect(text).toMatch(/MCP server "my_server" skipped: a name is up to 32 letters, digits and "-"/);
    expect(text).toMatch(/MCP server "broken" skipped: /);
    expect(text).toMatch(/MCP server "sse" skipped: /);
    expect(text).toMatch(/server "silent" \(user\) offers no tools: it did not answer within 1s/);
  });

  it('a server that cannot start says why in one line: the error from its stderr, not the runtime banner after it', { timeout: 60_000 }, async () => {
    // What `node --import tsx server.ts` does when tsx is not installed where the server starts (the workspace).
    await writeUserServers({ test: { command: process.execPath, args: ['--import', 'no-such-loader', SERVER_SCRIPT], readOnly: [PROJECT_ROOT] } });
    const { tools, lines } = await hub.catalog(ws);
    expect(tools).toEqual([]);
    expect(lines.join('\n')).toMatch(
      /server "test" \(user\) offers no tools: it exited during start-up \(stderr: Error \[ERR_MODULE_NOT_FOUND\]: Cannot find package 'no-such-loader' imported from .*\)$/m,
    );
  });
});
