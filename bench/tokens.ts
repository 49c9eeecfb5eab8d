/**
 * What long tasks cost in model input, and whether they survive the context window. Real agentTask
 * workflows on a Temporal dev server, the fake LLM as the model (it emulates prompt caching with the
 * API's usage fields, a 200k-token window with the API's 400, and max_tokens), each task run twice:
 * with the runtime's cache breakpoints and with AGENT_PROMPT_CACHING=off.
 *
 *   - 40 and 120 turns, each reading a different 8 KB file;
 *   - 15 turns reading 126 KB files (each cut to the per-output cap for the model).
 *
 * Billed input-token equivalents = uncached input + 1.25 × cache writes + 0.1 × cache reads (the
 * 5-minute cache's published multipliers), summed over every model call of the execute stage and
 * its compactions. Usage: node --import tsx bench/tokens.ts [--quick]. Markdown on stdout.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startFakeLlm, type RecordedRequest } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { startBenchAgent, startBenchDevServer } from './dev-server';

const QUICK = process.argv.includes('--quick');
const WINDOW = 200_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Case {
  name: string;
  turns: number;
  fileBytes: number;
}

const CASES: Case[] = QUICK
  ? [{ name: '40 turns, 8 KB outputs', turns: 40, fileBytes: 8 * 1024 }]
  : [
      { name: '40 turns, 8 KB outputs', turns: 40, fileBytes: 8 * 1024 },
      { name: '120 turns, 8 KB outputs', turns: 120, fileBytes: 8 * 1024 },
      { name: '15 turns, 126 KB files', turns: 15, fileBytes: 126 * 1024 },
    ];

/** A file of `bytes` that reads like code: varied lines, so nothing compresses into a trivially short prompt. */
function fileText(index: number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `export function handler${index}_${i}(input: Record<string, number>): number { return input.a${i % 97} * ${i} + ${index}; }`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n').slice(0, bytes);
}

function script(c: Case) {
  const reads = Array.from({ length: c.turns }, (_, i) => ({ text: `Reading part ${i + 1}.`, toolCalls: [{ name: 'read_file', input: { path: `src/f${i + 1}.ts` } }] }));
  return parseScript({
    contextWindow: WINDOW,
    scenarios: [
      {
        match: 'READ-ALL',
        stages: {
          intent: { input: { goal: 'read every source file and summarise it', kind: 'question', needsWrite: false, needsShell: false, summary: 'read every file' } },
          plan: { input: { steps: [{ title: 'Read each file', tool: 'read_file' }, { title: 'Summarise' }] } },
          execute: [...reads, { text: `Read all ${c.turns} files; they define handlers.` }],
          respond: { text: 'Summarised.' },
        },
      },
    ],
  });
}

interface Measured {
  status: string;
  turns: number;
  compactions: number;
  peak: number;
  billed: number;
  totalInput: number;
  cacheRead: number;
  /** Billed input per turn over the first and last 20 execute calls. */
  firstPerTurn: number;
  lastPerTurn: number;
}

function measure(requests: RecordedRequest[], taskId: string, result: { status: string; turns: number; compactions?: number }): Measured {
  const calls = requests.filter((r) => r.task === taskId && (r.stage === 'execute' || r.stage === 'compact') && r.status === 200);
  const billedOf = (r: RecordedRequest) => {
    const u = r.usage!;
    return u.input_tokens + 1.25 * u.cache_creation_input_tokens + 0.1 * u.cache_read_input_tokens;
  };
  const execute = calls.filter((r) => r.stage === 'execute');
  const avg = (rs: RecordedRequest[]) => (rs.length ? rs.reduce((n, r) => n + billedOf(r), 0) / rs.length : 0);
  return {
    status: result.status,
    turns: result.turns,
    compactions: result.compactions ?? 0,
    peak: Math.max(...calls.map((r) => r.inputTokens ?? 0)),
    billed: calls.reduce((n, r) => n + billedOf(r), 0),
    totalInput: calls.reduce((n, r) => n + (r.inputTokens ?? 0), 0),
    cacheRead: calls.reduce((n, r) => n + r.usage!.cache_read_input_tokens, 0),
    firstPerTurn: avg(execute.slice(0, 20)),
    lastPerTurn: avg(execute.slice(-20)),
  };
}

async function run(c: Case, caching: boolean, serverAddress: string, tmp: string): Promise<Measured> {
  const fake = await startFakeLlm(script(c));
  const home = await mkdtemp(path.join(tmp, 'home-'));
  const workspace = await mkdtemp(path.join(tmp, 'ws-'));
  await mkdir(path.join(workspace, 'src'));
  for (let i = 1; i <= c.turns; i++) await writeFile(path.join(workspace, 'src', `f${i}.ts`), fileText(i, c.fileBytes));
  const agent = await startBenchAgent(serverAddress, fake.url, tmp, {
    AGENT_TASK_QUEUE: `bench-tokens-${Math.random().toString(16).slice(2, 8)}`,
    AGENT_HOME: home,
    AGENT_USER_DIR: path.join(home, 'user'),
    AGENT_PROMPT_CACHING: caching ? 'on' : 'off',
    AGENT_MEMORY: 'off',
  });
  const { client } = agent;
  try {
    const taskId = await client.start({ prompt: `READ-ALL: read src/f1.ts … src/f${c.turns}.ts`, workspace, maxTurns: c.turns + 5, confirmResult: 'never' });
    const result = await client.result(taskId);
    return measure(fake.requests, taskId, result);
  } finally {
    await agent.stop();
    await fake.close();
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-tokens-'));
  const { server, cliVersion } = await startBenchDevServer(tmp);
  const rows: string[] = [];
  const load = os.loadavg();
  try {
    for (const c of CASES) {
      log(`${c.name}: caching on`);
      const on = await run(c, true, server.address, tmp);
      log(`${c.name}: caching off`);
      const off = await run(c, false, server.address, tmp);
      const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
      rows.push(
        `| ${c.name} | ${on.status} | ${on.turns} | ${on.compactions} | ${k(on.peak)} (${((on.peak / WINDOW) * 100).toFixed(0)}%) | ${k(on.billed)} | ${k(off.billed)} | **${(on.billed / off.billed).toFixed(2)}** | ${((on.cacheRead / on.totalInput) * 100).toFixed(0)}% | ${k(on.firstPerTurn)} → ${k(on.lastPerTurn)} |`,
      );
    }
  } finally {
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(
    `Fake LLM with a ${WINDOW.toLocaleString('en-US')}-token window; ${cliVersion.split('\n')[0]}; ${os.cpus().length} CPUs; load average ${load.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  console.log(
    '| task | status | turns | compactions | peak request | billed input (caching on) | billed input (caching off) | ratio | cache reads / input | billed per turn, first 20 → last 20 |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
}

await main();
