/**
 * What a lifecycle hook costs per event, two ways:
 *
 *   1. one no-op hook (`exit 0`) run by the hook runner, in the sandbox and outside it, beside a
 *      bare spawn of the same command with the same stdin (the floor any hook pays);
 *   2. a real task on a real server: ten read_file calls, in a workspace with a PreToolUse and a
 *      PostToolUse hook on every tool and in one without, interleaved; the difference per tool call
 *      is what the two hook events add to it (two local activities and two sandboxed processes).
 *
 * Usage: node --import tsx bench/hooks.ts [--runs N]. Markdown on stdout, progress on stderr.
 * Not a test: it measures, it does not assert.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import type { ResolvedHook } from '../services/hooks/hook-config';
import { runHooks } from '../services/hooks/hook-runner';
import { PolicySources } from '../services/policy/policy-sources';
import { startBenchAgent, startBenchDevServer } from './dev-server';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const CALLS = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const load = () => os.loadavg()[0]!.toFixed(2);

async function bareSpawn(cwd: string, input: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/bash', ['-c', 'exit 0'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

async function perHookRun(ws: string, home: string): Promise<string[]> {
  const hook = (sandbox: boolean): ResolvedHook => ({ event: 'PreToolUse', command: 'exit 0', timeoutSeconds: 10, sandbox, source: 'user' });
  const request = {
    event: 'PreToolUse' as const,
    tool: 'read_file',
    payload: { tool_name: 'read_file', tool_input: { path: 'a.txt' } },
    workspace: ws,
    taskId: 'bench',
    mode: 'default',
  };
  const options = { sandbox: { hidden: [home], refuse: [] } };
  const times = { bare: [] as number[], plain: [] as number[], sandboxed: [] as number[] };
  for (let i = 0; i < 60; i++) {
    const timed = async (which: keyof typeof times, fn: () => Promise<unknown>) => {
      const started = performance.now();
      await fn();
      if (i >= 10) times[which].push(performance.now() - started);
    };
    await timed('bare', () => bareSpawn(ws, JSON.stringify(request.payload)));
    await timed('plain', () => runHooks([hook(false)], request, options));
    await timed('sandboxed', () => runHooks([hook(true)], request, options));
  }
  const row = (name: string, xs: number[]) => `| ${name} | ${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 99).toFixed(1)} | ${load()} |`;
  return [
    '| one no-op hook (ms) | p50 | p99 | load |',
    '|---|---|---|---|',
    row('bare spawn of `bash -c "exit 0"` with stdin', times.bare),
    row('hook runner, "sandbox": false', times.plain),
    row('hook runner, in the sandbox (default)', times.sandboxed),
  ];
}

async function perToolCall(tmp: string): Promise<string[]> {
  const { server } = await startBenchDevServer(tmp);
  const readTurn = { toolCalls: [{ name: 'read_file', input: { path: 'a.txt' } }] };
  const fake = await startFakeLlm(
    parseScript({ latencyMs: 0, scenarios: [{ match: '', stages: { execute: [...Array.from({ length: CALLS }, () => readTurn), { text: 'read it ten times' }] } }] }),
  );
  const agent = await startBenchAgent(server.address, fake.url, tmp, {
    AGENT_TASK_QUEUE: 'bench-hooks',
    AGENT_HOME: path.join(tmp, 'home'),
    AGENT_USER_DIR: path.join(tmp, 'user'),
    AGENT_MEMORY: 'off',
  });
  const { client: tasks, config } = agent;
  const workspaces = { without: path.join(tmp, 'ws-plain'), with: path.join(tmp, 'ws-hooks') };
  for (const ws of Object.values(workspaces)) {
    await mkdir(path.join(ws, '.agent'), { recursive: true });
    await writeFile(path.join(ws, 'a.txt'), 'hello\n');
  }
  const everyTool = [{ matcher: '*', hooks: [{ type: 'command', command: 'exit 0' }] }];
  await writeFile(path.join(workspaces.with, '.agent', 'hooks.json'), JSON.stringify({ hooks: { PreToolUse: everyTool, PostToolUse: everyTool } }));
  await new PolicySources(config.home, config.userDir).trust(workspaces.with);
  const times = { without: [] as number[], with: [] as number[] };
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      for (const which of i % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
        const started = performance.now();
        const id = await tasks.start({ prompt: `read ${i} ${which}`, workspace: workspaces[which], confirmResult: 'never' });
        const result = await tasks.result(id);
        if (result.status !== 'completed') throw new Error(`${which}: ${result.status}`);
        // The first round warms both paths (bundle, sandbox probe, page cache).
        if (i > 0) times[which].push(performance.now() - started);
        log(`run ${i} ${which}: ${(performance.now() - started).toFixed(0)} ms (load ${load()})`);
      }
    }
  } finally {
    await agent.stop();
    await fake.close();
    await server.stop();
  }
  const p50 = (xs: number[]) => percentile(xs, 50);
  const added = (p50(times.with) - p50(times.without)) / CALLS;
  return [
    `| a task of ${CALLS} read_file calls (ms) | p50 | per tool call | per hook event | load |`,
    '|---|---|---|---|---|',
    `| no hooks | ${p50(times.without).toFixed(0)} | | | ${load()} |`,
    `| PreToolUse + PostToolUse on every tool | ${p50(times.with).toFixed(0)} | **+${added.toFixed(1)}** | +${(added / 2).toFixed(1)} | ${load()} |`,
  ];
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Not under /tmp: the sandbox gives every hook a private /tmp.
  const tmp = await mkdtemp(path.join('/var/tmp', 'bench-hooks-'));
  const ws = path.join(tmp, 'ws');
  const home = path.join(tmp, 'home-a');
  await mkdir(ws);
  await mkdir(home);
  try {
    log('one hook run, 50 times each…');
    const a = await perHookRun(ws, home);
    log(`tasks with and without hooks, ${RUNS} runs each…`);
    const b = await perToolCall(tmp);
    console.log(`### Hook overhead (${os.availableParallelism()} cores)\n`);
    console.log([...a, '', ...b].join('\n'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
