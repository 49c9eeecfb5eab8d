/**
 * Crash recovery: a worker process is killed with SIGKILL in the middle of a task, a new one is
 * started at once, and the bench times, from the new worker's spawn, (1) until it polls and
 * (2) until the task takes its next step (the next model request reaches the fake model).
 *
 * Two kill points: during a model call (the activity must run again) and during a side-effecting
 * command (the model must hear "outcome unknown"). Each runs twice in the same run: with the take-over
 * of the dead worker's work (the default), and with the dead worker's record removed before the
 * restart, which leaves only the server's timeouts (heartbeat, sticky queue), as before take-over.
 *
 * Usage: node --import tsx bench/crash-recovery.ts [--rounds N]. A markdown table on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskClient } from '../client/task-client';
import { loadConfig } from '../services/config';
import { startFakeLlm, type FakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { startBenchDevServer } from './dev-server';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
const log = (line: string) => process.stderr.write(`${line}\n`);

const SCRIPT = parseScript({
  latencyMs: 0,
  scenarios: [
    {
      // The model call is slow, so the worker dies inside it; its retry is the next step.
      match: 'crash-in-model-call',
      stages: {
        intent: { input: { goal: 'answer', kind: 'question', needsWrite: false, needsShell: false, summary: 'crash in a model call' } },
        plan: { input: { steps: [{ title: 'answer' }] } },
        execute: { text: 'answered', delayMs: 60_000 },
        verify: { input: { passed: true, evidence: ['e'], problems: [] } },
        respond: { text: 'done' },
      },
    },
    {
      // The command is slow, so the worker dies inside it; the model call after "outcome unknown" is the next step.
      match: 'crash-in-command',
      stages: {
        intent: { input: { goal: 'run', kind: 'change', needsWrite: false, needsShell: true, summary: 'crash in a command' } },
        plan: { input: { steps: [{ title: 'run' }] } },
        execute: [{ toolCalls: [{ name: 'run_command', input: { command: 'sleep 60' } }] }, { text: 'outcome unknown, stopped', delayMs: 60_000 }],
        verify: { input: { passed: true, evidence: ['e'], problems: [] } },
        respond: { text: 'done' },
      },
    },
  ],
});

interface Worker {
  child: ChildProcess;
  polling: Promise<number>;
}

function spawnWorker(env: Record<string, string>): Worker {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/agent.js'), 'worker'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const polling = new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('worker polling task queue')) resolve(performance.now() - started);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`agent worker exited ${code}: ${output.slice(-2000)}`)));
  });
  polling.catch(() => undefined);
  return { child, polling };
}

async function kill(worker: Worker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const gone = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGKILL');
  await gone;
}

async function waitFor<T>(fn: () => T | null | undefined | false, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Sample {
  pollingMs: number;
  nextStepMs: number;
}

/** One kill and restart; `takeOver` false removes the dead worker's record first. */
async function oneCrash(fake: FakeLlm, env: Record<string, string>, client: TaskClient, workspace: string, prompt: string, takeOver: boolean): Promise<Sample> {
  const first = spawnWorker(env);
  await first.polling;
  const taskId = await client.start({ prompt, workspace, confirmResult: 'never', submittedBy: 'bench' }, { taskId: `crash-${randomUUID()}` });
  const executeCalls = () => fake.requests.filter((r) => r.task === taskId && r.stage === 'execute').length;
  await waitFor(() => executeCalls() >= 1, 'the first model call', 60_000);
  // The model call is in flight now; the command starts right after the first (instant) reply.
  if (prompt === 'crash-in-command') await new Promise((r) => setTimeout(r, 1_000));
  const before = executeCalls();
  await kill(first);
  if (!takeOver) await rm(path.join(env.AGENT_HOME!, 'workers'), { recursive: true, force: true });
  const restartedAt = performance.now();
  const second = spawnWorker(env);
  try {
    const pollingMs = await second.polling;
    await waitFor(() => executeCalls() > before, 'the next step', 120_000);
    return { pollingMs, nextStepMs: performance.now() - restartedAt };
  } finally {
    await client.cancel(taskId).catch(() => undefined);
    await kill(second);
    await rm(path.join(env.AGENT_HOME!, 'workers'), { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-crash-'));
  const fake = await startFakeLlm(SCRIPT);
  const { server } = await startBenchDevServer(tmp);
  const home = path.join(tmp, 'agent-home');
  await mkdir(home, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmp,
    TEMPORAL_ADDRESS: server.address,
    AGENT_DEV_SERVER: 'never',
    AGENT_HOME: home,
    AGENT_TASK_QUEUE: `bench-crash-${randomUUID().slice(0, 8)}`,
    AGENT_MEMORY: 'off',
    ANTHROPIC_API_KEY: 'bench',
    ANTHROPIC_BASE_URL: fake.url,
    // The approver key is made here, not in the user's ~/.config.
    AGENT_USER_DIR: path.join(tmp, 'user'),
  };
  const client = await TaskClient.connect(loadConfig(env));
  const rows: string[] = [];
  try {
    // A first worker builds the workflow bundle cache: every measured start is a warm one.
    log('warming the workflow bundle cache');
    const warm = spawnWorker(env);
    await warm.polling;
    await kill(warm);
    await rm(path.join(home, 'workers'), { recursive: true, force: true });
    for (const prompt of ['crash-in-model-call', 'crash-in-command']) {
      for (const takeOver of [true, false]) {
        const samples: Sample[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const workspace = await mkdtemp(path.join(tmp, 'ws-'));
          samples.push(await oneCrash(fake, env, client, workspace, prompt, takeOver));
          log(
            `${prompt} take-over ${takeOver ? 'on' : 'off'} #${i + 1}: polling ${samples.at(-1)!.pollingMs.toFixed(0)} ms, next step ${samples.at(-1)!.nextStepMs.toFixed(0)} ms (load ${os.loadavg()[0]!.toFixed(2)})`,
          );
        }
        rows.push(
          `| ${prompt} | ${takeOver ? 'on' : 'off (timeouts only)'} | ${median(samples.map((s) => s.pollingMs)).toFixed(0)} | ${median(samples.map((s) => s.nextStepMs)).toFixed(0)} | ${Math.max(...samples.map((s) => s.nextStepMs)).toFixed(0)} | ${os.loadavg()[0]!.toFixed(2)} |`,
        );
      }
    }
  } finally {
    await client.close();
    await fake.close();
    await server.stop();
    const left = await readdir(tmp).catch(() => []);
    if (left.length) await rm(tmp, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `Crash recovery: SIGKILL of a worker mid-task, new worker spawned at once (warm bundle), ${ROUNDS} rounds each, ${os.cpus().length} cores.`,
      '',
      '| killed during | take-over | spawn → polling p50 (ms) | spawn → next step p50 (ms) | max (ms) | load avg |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
process.exit(0);
