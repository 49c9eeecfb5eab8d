/**
 * What the gate adds to an MCP call: the same tool on the same local server, called directly with
 * the SDK's client and through the agent's path (the gate's decision, the tool runner with its
 * effect journal, redaction and output bounds, and the worker's MCP hub), interleaved call by call.
 *
 *   - http: one Streamable HTTP server process; both clients talk to it.
 *   - stdio: the direct client spawns the server as a plain process; the hub runs it in the sandbox.
 *   - `echo` is read-only (no journal); `record` is not idempotent, so the runner claims and
 *     finishes its effect in the state store around the call.
 *
 * Usage: node --import tsx bench/mcp.ts [--calls N]. Markdown on stdout, progress on stderr.
 * Not a test: it measures, it does not assert.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpToolEntry } from '../domain/mcp';
import { gateToolCall } from '../services/policy/gate';
import { PolicySources } from '../services/policy/policy-sources';
import { McpHub } from '../services/mcp/mcp-hub';
import { FileStateStore } from '../services/state/file-state-store';
import { ToolRunner } from '../services/tools/tool-runner';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = path.join(ROOT, 'tests', 'support', 'mcp-test-server.ts');
const TSX = import.meta.resolve('tsx');
const callsArg = process.argv.indexOf('--calls');
const CALLS = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 300;
const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function startHttpServerProcess(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', TSX, SERVER, '--http', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the MCP server exited ${code}`)));
  });
  return { url, stop: () => child.kill('SIGKILL') };
}

async function main() {
  const base = await mkdtemp(path.join(os.tmpdir(), 'bench-mcp-'));
  const home = path.join(base, 'home');
  const ws = path.join(base, 'ws');
  await mkdir(home);
  await mkdir(ws);
  const http = await startHttpServerProcess();
  await writeFile(
    path.join(home, 'mcp.json'),
    JSON.stringify({ mcpServers: { remote: { type: 'http', url: http.url }, local: { command: process.execPath, args: ['--import', TSX, SERVER], readOnly: [ROOT] } } }),
  );
  const policy = new PolicySources(home, path.join(home, 'user'));
  const hub = new McpHub({ home, trusted: async () => false, sandbox: { hidden: [home], refuse: [] }, connectTimeoutMs: 30_000 });
  const store = new FileStateStore(path.join(base, 'state'));
  const runner = new ToolRunner(store, { modelOutputLimit: 20_000, historyInlineBytes: 1024, mcp: hub });
  const { tools } = await hub.catalog(ws);
  const rules = await policy.load(ws);

  const direct = {
    http: new Client({ name: 'bench', version: '1' }),
    stdio: new Client({ name: 'bench', version: '1' }),
  };
  await direct.http.connect(new StreamableHTTPClientTransport(new URL(http.url)));
  await direct.stdio.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', TSX, SERVER], cwd: ws, stderr: 'ignore' }));

  let seq = 0;
  const decisions: number[] = [];
  /** The agent's path for one call: the gate (as the workflow's local activity runs it), then the runner. */
  async function throughGate(entry: McpToolEntry, input: Record<string, unknown>): Promise<void> {
    const started = performance.now();
    const verdict = await gateToolCall({ tool: entry.name, input, workspace: ws, offeredTools: [entry.name], mode: 'bypass', rules, mcpTools: tools });
    decisions.push(performance.now() - started);
    if (verdict.kind !== 'decided' || verdict.verdict.decision === 'deny' || !verdict.mcp) throw new Error(`not cleared: ${JSON.stringify(verdict)}`);
    const outcome = await runner.run({ effectKey: `bench/${++seq}`, taskId: 'bench', tool: entry.name, input: verdict.input, workspace: ws, mcp: verdict.mcp });
    if (outcome.status !== 'ok') throw new Error(outcome.content);
  }

  const rows: string[] = [];
  for (const transport of ['http', 'stdio'] as const) {
    const server = transport === 'http' ? 'remote' : 'local';
    for (const tool of ['echo', 'record'] as const) {
      const entry = tools.find((t) => t.name === `mcp__${server}__${tool}`)!;
      const input = tool === 'echo' ? { text: 'hello' } : { note: 'bench' };
      const times = { direct: [] as number[], gate: [] as number[] };
      decisions.length = 0;
      for (let i = 0; i < CALLS + 20; i++) {
        // Interleaved, alternating which goes first; the first 20 of each warm up.
        const order = i % 2 === 0 ? (['direct', 'gate'] as const) : (['gate', 'direct'] as const);
        for (const which of order) {
          const started = performance.now();
          if (which === 'direct') await direct[transport].callTool({ name: tool, arguments: input });
          else await throughGate(entry, input);
          if (i >= 20) times[which].push(performance.now() - started);
        }
      }
      const p = (xs: number[], q: number) => percentile(xs, q).toFixed(2);
      const added = percentile(times.gate, 50) - percentile(times.direct, 50);
      rows.push(
        `| ${transport} | ${tool} | ${p(times.direct, 50)} | ${p(times.gate, 50)} | **${added.toFixed(2)}** | ${p(decisions.slice(20), 50)} | ${p(times.direct, 99)} | ${p(times.gate, 99)} | ${os.loadavg()[0]!.toFixed(2)} |`,
      );
      log(rows.at(-1)!);
    }
  }
  console.log(`MCP calls, direct SDK client vs through the gate (${CALLS} calls each, interleaved; ms)\n`);
  console.log('| transport | tool | direct p50 | gate p50 | added p50 | of it, the decision p50 | direct p99 | gate p99 | load |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  await direct.http.close();
  await direct.stdio.close();
  await hub.close();
  http.stop();
  await rm(base, { recursive: true, force: true });
}

await main();
