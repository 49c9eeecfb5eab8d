/**
 * Time to first model call from a cold CLI start: `agent run` (which starts a worker of its own) on
 * a server that is already up, from the spawn of the process to the first request the model
 * endpoint receives. Three cases, each from a fresh process:
 *   - cold cache: a new AGENT_HOME, so the worker bundles the workflow code first (what every start
 *     paid before the bundle was cached);
 *   - warm cache: the same AGENT_HOME again (the bundle is read from AGENT_HOME/cache);
 *   - and the CLI's own start-up (`agent --help`), the floor under both.
 *
 * Usage: node --import tsx bench/cold-start.ts [--runs N]. Markdown on stdout, progress on stderr.
 * Not a test: it measures, it does not assert.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { startBenchDevServer } from './dev-server';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT = path.join(ROOT, 'bin', 'agent.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const log = (line: string) => process.stderr.write(`${line}\n`);

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-cold-start-'));
  const { server, cliVersion } = await startBenchDevServer(dir);
  const fake = await startFakeLlm(
    parseScript({
      latencyMs: 0,
      scenarios: [{ match: '', stages: { intent: { input: { goal: 'answer', kind: 'question', needsWrite: false, needsShell: false, summary: 'cold start' } } } }],
    }),
  );
  try {
    const baseEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      TEMPORAL_ADDRESS: server.address,
      AGENT_DEV_SERVER: 'never',
      ANTHROPIC_API_KEY: 'bench-key',
      ANTHROPIC_BASE_URL: fake.url,
      AGENT_MEMORY: 'off',
    };

    /** ms from spawn until the fake model sees this run's first request (the process is killed then), or until exit. */
    const timeRun = async (args: string[], env: Record<string, string>, untilModelCall: boolean): Promise<number> => {
      const seen = fake.requests.length;
      const started = performance.now();
      const child = spawn(process.execPath, [AGENT, ...args], { env, cwd: ROOT, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      if (!untilModelCall) {
        await exited;
        return performance.now() - started;
      }
      for (;;) {
        if (fake.requests.length > seen) break;
        if (child.exitCode !== null) throw new Error(`agent ${args.join(' ')} exited ${child.exitCode} before calling the model`);
        await new Promise((r) => setTimeout(r, 2));
      }
      const elapsed = performance.now() - started;
      child.kill('SIGKILL');
      await exited;
      return elapsed;
    };

    const results: { what: string; ms: number[] }[] = [
      { what: '`agent --help` (CLI start-up alone)', ms: [] },
      { what: '`agent run`, cold cache (new AGENT_HOME: bundles first)', ms: [] },
      { what: '`agent run`, warm cache (bundle read from AGENT_HOME/cache)', ms: [] },
    ];
    for (let i = 1; i <= RUNS; i++) {
      log(`run ${i}/${RUNS}`);
      const home = await mkdtemp(path.join(dir, 'home-'));
      const workspace = await mkdtemp(path.join(dir, 'ws-'));
      const env = { ...baseEnv, AGENT_HOME: home, AGENT_USER_DIR: path.join(home, 'user'), AGENT_TASK_QUEUE: `cold-${i}` };
      const run = ['run', 'what is here?', '--workspace', workspace];
      results[0]!.ms.push(await timeRun(['--help'], env, false));
      results[1]!.ms.push(await timeRun(run, env, true));
      results[2]!.ms.push(await timeRun(run, { ...env, AGENT_TASK_QUEUE: `warm-${i}` }, true));
    }
    const load = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    console.log(`Time to first model call, ${RUNS} runs each (${cliVersion.split('\n')[0]}; Node ${process.version}; load average ${load})\n`);
    console.log('| start | p50 (ms) | max (ms) |\n| --- | ---: | ---: |');
    for (const r of results) console.log(`| ${r.what} | ${Math.round(percentile(r.ms, 50))} | ${Math.round(Math.max(...r.ms))} |`);
  } finally {
    await fake.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
