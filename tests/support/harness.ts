/** Shared helpers: env for a test's own task queue, in-process and out-of-process workers, the CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { loadConfig, type Config } from '../../services/config';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import type { LlmClient } from '../../services/llm/llm-client';
import { createAgentWorker } from '../../workers/worker';
import { TaskClient } from '../../client/task-client';
import { replayTaskQueue } from './replay-check';

export const AGENT_BIN = path.join(PROJECT_ROOT, 'bin', 'agent.js');

/** Environment for one test: its own task queue and AGENT_HOME on the shared server. */
export async function testEnv(fakeLlmUrl: string | null, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const home = await mkdtemp(path.join(inject('tmpRoot'), 'home-'));
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_UI_PORT: String(inject('temporalUiPort')),
    AGENT_DEV_SERVER: 'never',
    AGENT_TASK_QUEUE: `test-${randomUUID().slice(0, 8)}`,
    AGENT_HOME: home,
    // The approver key and trusted policies of this test's "user", apart from every other test's.
    AGENT_USER_DIR: path.join(home, 'user'),
    // CLI workers load the bundle global setup built instead of bundling the workflow code again (seconds each).
    AGENT_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    ANTHROPIC_API_KEY: 'test-key',
    ...(fakeLlmUrl ? { ANTHROPIC_BASE_URL: fakeLlmUrl } : {}),
    ...extra,
  };
}

export interface TestWorker {
  config: Config;
  stop(): Promise<void>;
}

/** A worker in this process, using the bundle built once by global setup. */
export async function startTestWorker(env: Record<string, string>, llm?: LlmClient): Promise<TestWorker> {
  const config = loadConfig(env);
  const agentWorker = await createAgentWorker(config, { llm, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const running = agentWorker.run();
  return {
    config,
    async stop() {
      agentWorker.worker.shutdown();
      await running;
    },
  };
}

export async function connectClient(env: Record<string, string>): Promise<TaskClient> {
  // Generous: on a loaded 2-core CI machine the shared dev server can take seconds to accept.
  return await TaskClient.connect(loadConfig(env), { connectTimeoutMs: 20_000 });
}

export async function makeWorkspace(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(inject('tmpRoot'), 'ws-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** Polls fn until it returns a truthy value; throws naming `what` on timeout. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** CLI processes still running: a test file whose tests share a task queue kills them after each test, so one test's leftover worker never answers the next test's queries. */
const liveClis = new Set<ChildProcess>();

/** Kills every CLI process a test started and left running (a test that failed midway), and waits for them to go. */
export async function stopLeftoverClis(): Promise<void> {
  const left = [...liveClis];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('close', resolve)))));
}

/** Spawns `node bin/agent.js ...`; `done` resolves when it exits, `output()` is what it printed so far. */
export function spawnCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<CliResult>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  liveClis.add(child);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => {
      liveClis.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

/**
 * An `agent worker` process, once it polls: a loaded machine takes many seconds to start one, and
 * that is not what the tests that start one time. Throws with its stderr if it exits first.
 */
export async function spawnPollingWorker(env: Record<string, string>): Promise<ReturnType<typeof spawnCli>> {
  const worker = spawnCli(['worker'], env);
  try {
    await waitFor(async () => worker.output().stdout.includes('worker polling task queue') || worker.child.exitCode !== null, 'the worker to poll', 120_000);
  } catch (err) {
    worker.child.kill('SIGKILL');
    throw err;
  }
  if (worker.child.exitCode !== null) throw new Error(`agent worker exited ${worker.child.exitCode}: ${worker.output().stderr}`);
  return worker;
}

/** The status view (`agent status --json`) once the task shows a pending approval, as a person at the CLI would see it. */
export async function pendingViaCli(taskId: string, env: Record<string, string>, timeoutMs = 90_000) {
  return await waitFor(
    async () => {
      const res = await runCli(['status', taskId, '--json'], env);
      if (res.code !== 0) return null;
      const view = JSON.parse(res.stdout);
      return view.pendingApprovals.length ? view : null;
    },
    `a pending approval on ${taskId}`,
    timeoutMs,
  );
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return await spawnCli(args, env).done;
}

export interface TaskHarness {
  fake: FakeLlm;
  worker: TestWorker;
  client: TaskClient;
  env: Record<string, string>;
}

/**
 * Registers beforeAll/afterAll that start a fake LLM answering from `script`, an in-process worker
 * on a fresh task queue and a client. The returned object is filled in before the first test runs.
 */
export function useTaskHarness(script: unknown, extraEnv: Record<string, string> = {}): TaskHarness {
  const harness = {} as TaskHarness;
  beforeAll(async () => {
    harness.fake = await startFakeLlm(parseScript(script));
    harness.env = await testEnv(harness.fake.url, extraEnv);
    harness.worker = await startTestWorker(harness.env);
    harness.client = await connectClient(harness.env);
  });
  afterAll(async () => {
    try {
      if (harness.client) await replayTaskQueue(harness.client.client, harness.env.AGENT_TASK_QUEUE!);
    } finally {
      await harness.client?.close();
      await harness.worker?.stop();
      await harness.fake?.close();
    }
  });
  return harness;
}

export interface WorkerProcessHarness {
  fake: FakeLlm;
  client: TaskClient;
  env: Record<string, string>;
  /** Worker processes of this harness; each is SIGKILLed after the test that started it. */
  workers: ReturnType<typeof spawnCli>[];
  /** An `agent worker` process of this environment, once it polls; killed after the test. */
  startWorker(): Promise<ReturnType<typeof spawnCli>>;
}

/**
 * Registers beforeAll/afterEach/afterAll for tests that run workers as processes so they can kill
 * them: a fake LLM answering from `script`, a fresh task queue and a client, and no worker until a
 * test starts one. Each test owns its workers: a survivor would silently serve the next test.
 */
export function useWorkerProcesses(script: unknown, extraEnv: Record<string, string> = {}): WorkerProcessHarness {
  const harness = {
    workers: [],
    async startWorker() {
      const worker = await spawnPollingWorker(harness.env);
      harness.workers.push(worker);
      return worker;
    },
  } as unknown as WorkerProcessHarness;
  beforeAll(async () => {
    harness.fake = await startFakeLlm(parseScript(script));
    harness.env = await testEnv(harness.fake.url, extraEnv);
    harness.client = await connectClient(harness.env);
  });
  afterEach(async () => {
    for (const w of harness.workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.done;
    }
  });
  afterAll(async () => {
    await harness.client?.close();
    await harness.fake?.close();
  });
  return harness;
}
