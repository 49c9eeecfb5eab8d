/**
 * Orchestration overhead benchmark: how much does durability cost per pipeline step?
 *
 * Three systems run the same five model stages (intent → plan → execute → verify → respond)
 * against the same local fake LLM answering with zero latency, so almost all measured time is
 * orchestration and persistence, not "thinking":
 *   (a) this project: agentTask on the Temporal dev server (SQLite) with an in-process worker,
 *       once with memory on and once with AGENT_MEMORY=off (LangGraph has no memory: fair both ways);
 *   (r) the reference on the same server: five no-op activities in a row, what Temporal itself costs;
 *   (b) the durable floor: a plain async loop writing one PostgreSQL row per stage;
 *   (c) a LangGraph StateGraph checkpointed to PostgreSQL after every node.
 * Beside latency: CPU per task, from /proc, of this process (client, worker, fake LLM) and of the
 * server process tree (Temporal dev server or PostgreSQL), and the load average around each system.
 * Plus the approval round trip on (a): Update sent → decision applied and the workflow resumed.
 *
 * Usage: npm run bench [-- --quick]. Prints one markdown table on stdout; progress goes to stderr.
 * Every process started here (dev server, PostgreSQL, worker, fake LLM) is stopped on exit, also on
 * error or Ctrl-C. Not part of the test run: this measures, it does not assert.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type Anthropic from '@anthropic-ai/sdk';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pg from 'pg';
import { z } from 'zod';
import { startFakeLlm, type FakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { TaskClient } from '../client/task-client';
import { routeTools } from '../domain/routing';
import { IntentSchema, PlanSchema, VerificationSchema, type Intent, type Plan, type TaskSubmission } from '../domain/task';
import { loadConfig } from '../services/config';
import { toolDefinitions } from '../services/llm/agent-model';
import { AnthropicLlm, type LlmRequest } from '../services/llm/llm-client';
import { startTestPostgres } from '../tests/support/postgres';
import { createAgentWorker } from '../workers/worker';
import { freePort } from '../services/temporal-dev-server';
import { startBenchDevServer } from './dev-server';
import { CLOCK_TICKS, postmasterPid, selfCpuMs, treeCpuMs } from './proc-cpu';
import type { ReferenceActivities, referenceWorkflow } from './reference-workflow';

// ---------------------------------------------------------------------------------------------
// Parameters

const QUICK = process.argv.includes('--quick');
/**
 * N per concurrency level, the same for every system. Large enough for a stable p99 at c=100, small
 * enough that the five systems (three of them on Temporal) finish in about 5 minutes on 2 cores.
 */
const LEVELS = QUICK
  ? [
      { concurrency: 1, tasks: 10 },
      { concurrency: 10, tasks: 40 },
      { concurrency: 100, tasks: 100 },
    ]
  : [
      { concurrency: 1, tasks: 30 },
      { concurrency: 10, tasks: 200 },
      { concurrency: 100, tasks: 500 },
    ];
/** Warm-up (JIT, connection pools, worker caches, PG plans); never measured. */
const WARMUP = { concurrency: 5, tasks: QUICK ? 10 : 20 };
const APPROVAL_SAMPLES = QUICK ? 10 : 50;
const APPROVAL_WARMUP = 3;
/** Both PostgreSQL systems get the same pool size (pg's default, and what the project's PgStateStore uses). */
const PG_POOL_SIZE = 10;
/** A hung system must not hang the machine: give up, clean up and exit non-zero. */
const WATCHDOG_MS = (QUICK ? 8 : 15) * 60_000;

const STAGES = ['intent', 'plan', 'execute', 'verify', 'respond'] as const;
type BenchStage = (typeof STAGES)[number];

/** Steps per task used to turn task wall time into per-step overhead (stated in the footnote). */
const STEPS = { temporal: 5, reference: 5, loop: 5, langgraph: 5 } as const;

// ---------------------------------------------------------------------------------------------
// The fake model's script: the five-stage task, and a task whose execute stage asks to write a file.

const FIVE_STAGE_PROMPT = 'bench five-stage task: answer without tools';
const APPROVAL_PROMPT = 'bench-approve: write x.txt';

const FIVE_STAGES = {
  intent: { input: { goal: 'answer without tools', kind: 'question', needsWrite: false, needsShell: false, summary: 'bench five-stage task' } },
  plan: { input: { steps: [{ title: 'answer directly' }] } },
  execute: { text: 'The answer, without any tool call.' },
  verify: { input: { passed: true, evidence: ['scripted evidence'], problems: [] } },
  respond: { text: 'Done: answered directly.' },
};

const SCRIPT = parseScript({
  latencyMs: 0,
  scenarios: [
    {
      match: 'bench-approve',
      stages: {
        ...FIVE_STAGES,
        intent: { input: { goal: 'write x.txt', kind: 'change', needsWrite: true, needsShell: false, summary: 'bench approval task' } },
        execute: [{ toolCalls: [{ name: 'write_file', input: { path: 'x.txt', content: 'x' } }] }, { text: 'Wrote x.txt.' }],
      },
    },
    { match: '', stages: FIVE_STAGES },
  ],
});

// ---------------------------------------------------------------------------------------------
// Cleanup: a stack unwound in reverse on success, error, Ctrl-C or the watchdog.

const cleanups: { what: string; fn: () => Promise<void> | void }[] = [];
function onCleanup(what: string, fn: () => Promise<void> | void) {
  cleanups.push({ what, fn });
}
let cleaning: Promise<void> | null = null;
function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const { what, fn } = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        log(`cleanup of ${what} failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}
/**
 * Stops, newest first, everything registered since `what` (inclusive), so one system's processes
 * do not share the two cores with the next system's run. Entries leave the stack one at a time, so
 * a Ctrl-C in the middle still finds the rest there.
 */
async function unwindTo(what: string): Promise<void> {
  const index = cleanups.findIndex((c) => c.what === what);
  if (index < 0) return;
  while (cleanups.length > index) {
    const { what: next, fn } = cleanups.pop()!;
    log(`stopping ${next}`);
    await fn();
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything started by the bench`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

function log(line: string) {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface LevelResult {
  concurrency: number;
  tasks: number;
  /** Per-task wall time, ms. */
  walls: number[];
  elapsedMs: number;
  /** CPU ms over the level of this process (client, worker, fake LLM); null where /proc cannot say. */
  clientCpuMs: number | null;
  /** CPU ms over the level of the server's process tree (Temporal dev server, or PostgreSQL); null when not visible. */
  serverCpuMs: number | null;
}

/** CPU ms so far of the server side; null when it cannot be seen from here. */
type ServerCpu = () => number | null;

/**
 * Runs `tasks` tasks with at most `concurrency` in flight; each task's wall time is measured
 * separately, CPU over the whole level (work a level leaves behind, e.g. a checkpoint, lands in the next).
 */
async function runLevel(runTask: (i: number) => Promise<void>, concurrency: number, tasks: number, serverCpu: ServerCpu): Promise<LevelResult> {
  const cpuBefore = { client: selfCpuMs(), server: serverCpu() };
  const walls: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks) }, async () => {
      while (next < tasks) {
        const i = next++;
        const t0 = performance.now();
        await runTask(i);
        walls.push(performance.now() - t0);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const delta = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before);
  return { concurrency, tasks, walls, elapsedMs, clientCpuMs: delta(cpuBefore.client, selfCpuMs()), serverCpuMs: delta(cpuBefore.server, serverCpu()) };
}

/** Nearest-rank percentile: with 30 samples p99 is the maximum, which is the honest answer. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface SystemResult {
  name: string;
  steps: number;
  levels: LevelResult[];
  /** os.loadavg() (1, 5, 15 minutes) before the warm-up and after the last level: how busy the machine was besides the bench. */
  loadStart: number[];
  loadEnd: number[];
}

/**
 * Warm-up, then every level; the fake LLM's request log is cleared between levels so it does not grow
 * unbounded. `check` sees each measured level's model requests first and throws when the system did
 * not do what its row claims.
 */
async function benchSystem(
  name: string,
  steps: number,
  fake: FakeLlm,
  serverCpu: ServerCpu,
  runTask: (i: number) => Promise<void>,
  check?: (requests: FakeLlm['requests'], tasks: number) => void,
): Promise<SystemResult> {
  const loadStart = os.loadavg();
  log(`${name}: warm-up (${WARMUP.tasks} tasks), load average ${formatLoad(loadStart)}`);
  await runLevel(runTask, WARMUP.concurrency, WARMUP.tasks, serverCpu);
  fake.requests.length = 0;
  const levels: LevelResult[] = [];
  for (const { concurrency, tasks } of LEVELS) {
    const result = await runLevel(runTask, concurrency, tasks, serverCpu);
    check?.(fake.requests, tasks);
    fake.requests.length = 0;
    log(
      `${name}: c=${concurrency} n=${tasks} → ${(tasks / (result.elapsedMs / 1000)).toFixed(1)} tasks/s, task p50 ${percentile(result.walls, 50).toFixed(1)} ms, ` +
        `CPU/task ${perTask(result.clientCpuMs, tasks)} ms here + ${perTask(result.serverCpuMs, tasks)} ms server`,
    );
    levels.push(result);
  }
  const loadEnd = os.loadavg();
  log(`${name}: done, load average ${formatLoad(loadEnd)}`);
  return { name, steps, levels, loadStart, loadEnd };
}

const formatLoad = (load: number[]) => load.map((l) => l.toFixed(2)).join(' / ');
const perTask = (cpuMs: number | null, tasks: number) => (cpuMs === null ? 'n/a' : (cpuMs / tasks).toFixed(1));

// ---------------------------------------------------------------------------------------------
// The five stages as plain model calls, for (b) and (c). The request has the shape the agent's
// AgentModel sends for each stage (forced tool with the stage's zod schema for intent/plan/verify,
// the routed tool list for execute, plain text for respond), through the project's AnthropicLlm,
// so the SDK, streaming and the fake server cost the same as in (a).

const RECORD_TOOLS: Partial<Record<BenchStage, { name: string; schema: z.ZodType }>> = {
  intent: { name: 'record_intent', schema: IntentSchema },
  plan: { name: 'record_plan', schema: PlanSchema },
  verify: { name: 'record_verification', schema: VerificationSchema },
};

/** Calls the model for one stage; returns the structured result or the text. Throws on a malformed answer. */
async function callStage(llm: AnthropicLlm, stage: BenchStage, taskId: string, prior: Partial<Record<BenchStage, unknown>>): Promise<unknown> {
  const record = RECORD_TOOLS[stage];
  const request: LlmRequest = {
    stage,
    taskId,
    system: `You are the ${stage} stage of a software agent.`,
    messages: [{ role: 'user', content: `Task:\n${FIVE_STAGE_PROMPT}\n\nSo far: ${JSON.stringify(prior)}` }],
  };
  if (record) {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(record.schema, { io: 'input' }) as Record<string, unknown>;
    request.tools = [{ name: record.name, description: `Record the ${stage} result.`, input_schema: { ...schema, type: 'object' } as Anthropic.Tool.InputSchema }];
    request.toolChoice = { type: 'tool', name: record.name };
  } else if (stage === 'execute') {
    request.tools = toolDefinitions(routeTools(prior.intent as Intent, prior.plan as Plan));
  }
  const message = await llm.complete(request);
  if (record) {
    const block = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === record.name);
    return record.schema.parse(block?.input);
  }
  return message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

// ---------------------------------------------------------------------------------------------
// (a) This project on the Temporal dev server

interface TemporalRun {
  memoryOn: SystemResult;
  memoryOff: SystemResult;
  reference: SystemResult;
  approvalMs: number[];
  cliVersion: string;
}

/** One dev server for the three Temporal systems, run one after the other, each worker stopped before the next starts. */
async function benchTemporal(fake: FakeLlm, tmp: string): Promise<TemporalRun> {
  log('starting the Temporal dev server');
  const { server, cliVersion } = await startBenchDevServer(path.join(tmp, 'temporal'));
  onCleanup('Temporal dev server', () => server.stop());
  // The CLI binary is the server (Go, one process); its tree is summed anyway, in case a build forks.
  const serverPid = server.process.pid;
  const serverCpu: ServerCpu = () => (serverPid === undefined ? null : treeCpuMs(serverPid));

  // Created up front as the `agent` CLI does at start: the embedded memory database takes its lock
  // file in AGENT_HOME before anything else writes there, and without the directory memory is
  // unavailable and "memory on" would measure tasks going on without it.
  const home = path.join(tmp, 'agent-home');
  await mkdir(home, { recursive: true });
  // Both agent runs share AGENT_HOME, so the second worker reuses the cached workflow bundle.
  const memoryOn = await benchAgent(fake, tmp, server.address, home, 'on', serverCpu);
  const memoryOff = await benchAgent(fake, tmp, server.address, home, 'off', serverCpu);
  const reference = await benchReference(fake, server.address, serverCpu);
  return { memoryOn: memoryOn.result, memoryOff: memoryOff.result, reference, approvalMs: memoryOn.approvalMs, cliVersion };
}

/** agentTask with memory on or off; the approval round trip is measured on the memory-on run only. */
async function benchAgent(
  fake: FakeLlm,
  tmp: string,
  address: string,
  home: string,
  memory: 'on' | 'off',
  serverCpu: ServerCpu,
): Promise<{ result: SystemResult; approvalMs: number[] }> {
  // Explicit env (not process.env): a DATABASE_URL in the caller's shell must not switch the
  // worker's state store; the bench measures the embedded default (file state store, PGlite memory).
  const config = loadConfig({
    TEMPORAL_ADDRESS: address,
    AGENT_DEV_SERVER: 'never',
    AGENT_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`,
    AGENT_HOME: home,
    AGENT_MEMORY: memory,
    ANTHROPIC_API_KEY: 'bench',
    ANTHROPIC_BASE_URL: fake.url,
  });
  const workerName = `worker (memory ${memory})`;
  log(`creating the ${workerName} (bundles the workflow code unless cached)`);
  const agentWorker = await createAgentWorker(config);
  const running = agentWorker.run();
  onCleanup(workerName, async () => {
    if (agentWorker.worker.getState() === 'RUNNING') agentWorker.worker.shutdown();
    await running;
  });
  // As `agent run` does: the client shares the in-process worker's connection, so tasks start eagerly.
  const client = TaskClient.overWorkerConnection(agentWorker.connection, config);
  onCleanup(`Temporal client (memory ${memory})`, () => client.close());

  const workspace = await mkdtemp(path.join(tmp, 'ws-'));
  const submission: TaskSubmission = { prompt: FIVE_STAGE_PROMPT, workspace, confirmResult: 'never', submittedBy: 'bench' };
  const result = await benchSystem(
    `(a) temporal (memory ${memory})`,
    STEPS.temporal,
    fake,
    serverCpu,
    async () => {
      const taskId = await client.start(submission, { taskId: `bench-${randomUUID()}` });
      const outcome = await client.result(taskId);
      if (outcome.status !== 'completed') throw new Error(`task ${taskId} ended ${outcome.status}`);
    },
    (requests, tasks) => {
      // Memory that cannot open is only a warning and the task goes on without it, so "memory on"
      // could silently measure memory off: the memory writer's model call proves it ran for every task.
      const writers = new Set(requests.filter((r) => r.stage === 'remember' && r.task.startsWith('bench-')).map((r) => r.task)).size;
      if (memory === 'on' && writers < tasks) throw new Error(`memory on, but only ${writers} of ${tasks} tasks ran the memory writer (see the warnings above)`);
      if (memory === 'off' && writers > 0) throw new Error(`memory off, but ${writers} tasks ran the memory writer`);
    },
  );

  const approvalMs: number[] = [];
  if (memory === 'on') {
    log(`(a) temporal: approval round trip (${APPROVAL_SAMPLES} samples)`);
    for (let i = 0; i < APPROVAL_WARMUP + APPROVAL_SAMPLES; i++) {
      const ms = await approvalRoundTrip(client, await mkdtemp(path.join(tmp, 'ws-approve-')));
      if (i >= APPROVAL_WARMUP) approvalMs.push(ms);
    }
  }
  await unwindTo(workerName);
  return { result, approvalMs };
}

const REFERENCE_WORKFLOWS = fileURLToPath(new URL('./reference-workflow.ts', import.meta.url));

/**
 * The reference: five no-op activities per workflow, on its own task queue, with the worker
 * options createAgentWorker derives from the same (default) config, started eagerly over the
 * worker's connection as TaskClient does. What remains is Temporal's own cost per step.
 */
async function benchReference(fake: FakeLlm, address: string, serverCpu: ServerCpu): Promise<SystemResult> {
  const { worker: options, temporal } = loadConfig({ TEMPORAL_ADDRESS: address });
  const connection = await NativeConnection.connect({ address });
  onCleanup('reference connection', () => connection.close());
  const taskQueue = `bench-reference-${randomUUID().slice(0, 8)}`;
  log('creating the reference worker (bundles bench/reference-workflow.ts)');
  const activities: ReferenceActivities = { noop: async () => undefined };
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    workflowsPath: REFERENCE_WORKFLOWS,
    activities,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: options.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: options.maxCachedWorkflows,
  });
  const running = worker.run();
  onCleanup('reference worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  const client = new Client({ connection, namespace: temporal.namespace });
  const result = await benchSystem('(r) temporal reference (5 no-op activities)', STEPS.reference, fake, serverCpu, async () => {
    const handle = await client.workflow.start<typeof referenceWorkflow>('referenceWorkflow', {
      workflowId: `bench-reference-${randomUUID()}`,
      taskQueue,
      requestEagerStart: true,
    });
    await handle.result();
  });
  await unwindTo('reference connection');
  return result;
}

/** One approval: waits (untimed) for the pending request, then times the decision Update from call to resolution. */
async function approvalRoundTrip(client: TaskClient, workspace: string): Promise<number> {
  const taskId = await client.start({ prompt: APPROVAL_PROMPT, workspace, confirmResult: 'never', submittedBy: 'bench' }, { taskId: `bench-approve-${randomUUID()}` });
  const deadline = Date.now() + 30_000;
  let request;
  while (!(request = (await client.status(taskId)).pendingApprovals[0])) {
    if (Date.now() > deadline) throw new Error(`task ${taskId} never asked for approval`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const t0 = performance.now();
  // The request the status showed is passed along, as the CLI does, so no second query is timed.
  await client.sendDecision(taskId, { requestId: request.requestId, actionHash: request.actionHash, approve: true, always: false, decidedBy: 'bench', channel: 'api' }, request);
  const ms = performance.now() - t0;
  const outcome = await client.result(taskId);
  if (outcome.status !== 'completed' || outcome.toolCalls !== 1) throw new Error(`approval task ${taskId} ended ${outcome.status} with ${outcome.toolCalls} tool calls`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// (b) Plain async loop + one PostgreSQL row per step: what "durable" costs at minimum.

async function benchLoop(fake: FakeLlm, llm: AnthropicLlm, databaseUrl: string, schema: string, serverCpu: ServerCpu): Promise<SystemResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: PG_POOL_SIZE });
  onCleanup('loop pg pool', () => pool.end());
  await pool.query(
    `CREATE TABLE "${schema}".steps (id bigserial PRIMARY KEY, task_id text NOT NULL, stage text NOT NULL, result jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  );
  const insert = `INSERT INTO "${schema}".steps (task_id, stage, result) VALUES ($1, $2, $3)`;
  return await benchSystem('(b) loop+pg', STEPS.loop, fake, serverCpu, async () => {
    const taskId = `loop-${randomUUID()}`;
    const done: Partial<Record<BenchStage, unknown>> = {};
    for (const stage of STAGES) {
      done[stage] = await callStage(llm, stage, taskId, done);
      // Awaited before the next stage: a crash after this line never repeats the stage.
      await pool.query(insert, [taskId, stage, JSON.stringify(done[stage])]);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// (c) LangGraph StateGraph, 5 nodes in a line, PostgreSQL checkpointer.

async function benchLangGraph(fake: FakeLlm, llm: AnthropicLlm, databaseUrl: string, schema: string, serverCpu: ServerCpu): Promise<SystemResult> {
  const saver = new PostgresSaver(new pg.Pool({ connectionString: databaseUrl, max: PG_POOL_SIZE }), undefined, { schema });
  onCleanup('LangGraph checkpointer pool', () => saver.end());
  await saver.setup();

  const State = Annotation.Root({
    taskId: Annotation<string>,
    done: Annotation<Partial<Record<BenchStage, unknown>>>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }),
  });
  const node = (stage: BenchStage) => async (state: typeof State.State) => ({ done: { [stage]: await callStage(llm, stage, state.taskId, state.done) } });
  const graph = new StateGraph(State)
    .addNode('intent', node('intent'))
    .addNode('plan', node('plan'))
    .addNode('execute', node('execute'))
    .addNode('verify', node('verify'))
    .addNode('respond', node('respond'))
    .addEdge(START, 'intent')
    .addEdge('intent', 'plan')
    .addEdge('plan', 'execute')
    .addEdge('execute', 'verify')
    .addEdge('verify', 'respond')
    .addEdge('respond', END)
    .compile({ checkpointer: saver });

  return await benchSystem('(c) langgraph', STEPS.langgraph, fake, serverCpu, async () => {
    const taskId = `lg-${randomUUID()}`;
    // durability 'sync': each checkpoint is written before the next node starts, the same
    // guarantee (b) and Temporal give; LangGraph's default 'async' overlaps the write with the next node.
    const out = await graph.invoke({ taskId }, { configurable: { thread_id: taskId }, durability: 'sync' });
    if (!out.done.respond) throw new Error(`graph ${taskId} did not reach respond`);
  });
}

// ---------------------------------------------------------------------------------------------
// Report

function renderReport(systems: SystemResult[], approvalMs: number[], facts: string[]): string {
  const rows = [
    '| system | concurrency | tasks | per-step p50 (ms) | per-step p99 (ms) | tasks/s | CPU ms/task (client+worker) | CPU ms/task (server) | load avg 1m (start → end) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of systems) {
    s.levels.forEach((l, i) => {
      const perStep = l.walls.map((w) => w / s.steps);
      // The load average belongs to the system's whole run (warm-up to last level): said once, on its first row.
      const load = i === 0 ? `${s.loadStart[0]!.toFixed(2)} → ${s.loadEnd[0]!.toFixed(2)}` : '';
      rows.push(
        `| ${s.name} | ${l.concurrency} | ${l.tasks} | ${percentile(perStep, 50).toFixed(2)} | ${percentile(perStep, 99).toFixed(2)} | ${(l.tasks / (l.elapsedMs / 1000)).toFixed(1)} ` +
          `| ${perTask(l.clientCpuMs, l.tasks)} | ${perTask(l.serverCpuMs, l.tasks)} | ${load} |`,
      );
    });
  }
  return [
    ...rows,
    '',
    `Per-step = task wall time (submit → result) ÷ steps: ${STEPS.temporal} for (a) (the 5 model stages; with memory on, recall and the memory writer are overhead on them), ${STEPS.reference} activities for (r), ${STEPS.loop} stages for (b) and (c). ` +
      `Fake LLM at 0 ms latency, in this process. (b) and (c) use a ${PG_POOL_SIZE}-connection pool; (c) runs with durability "sync".`,
    '',
    `CPU ms/task = CPU time over the level ÷ tasks, from /proc (${CLOCK_TICKS} ticks/s). client+worker: this process — client, worker (with memory on, also the embedded PGlite thread) ` +
      'and the fake LLM serving 5 answers per task for (a), (b) and (c) (6 with memory on; none for (r)). ' +
      'server: the Temporal dev server process for (a) and (r), the PostgreSQL cluster (postmaster and all its children) for (b) and (c).',
    '',
    `Approval round trip (a, memory on), ${approvalMs.length} sequential samples: p50 ${percentile(approvalMs, 50).toFixed(1)} ms, p99 ${percentile(approvalMs, 99).toFixed(1)} ms (sendDecision call → Update completed).`,
    '',
    "Load average (1 / 5 / 15 min) at the start → end of each system's run:",
    ...systems.map((s) => `- ${s.name}: ${formatLoad(s.loadStart)} → ${formatLoad(s.loadEnd)}`),
    '',
    ...facts.map((f) => `- ${f}`),
  ].join('\n');
}

/** The cluster's data directory, or null when this role may not read it (it needs pg_read_all_settings). */
async function dataDirectory(databaseUrl: string): Promise<string | null> {
  const probe = new pg.Client({ connectionString: databaseUrl });
  await probe.connect();
  try {
    return (await probe.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
  } catch {
    return null;
  } finally {
    await probe.end();
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const watchdog = setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
    void cleanupAll().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();

  // Before any worker or native connection exists: the worker logs only warnings and errors, and
  // leaves SIGINT/SIGTERM to the bench, so Ctrl-C unwinds the cleanup stack in order.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'agent-bench-'));
  onCleanup('temp dir', () => rm(tmp, { recursive: true, force: true }));
  const fake = await startFakeLlm(SCRIPT);
  onCleanup('fake LLM', () => fake.close());

  // (a) and (r) first, then their server is stopped so it does not share the two cores with (b) and (c).
  const temporal = await benchTemporal(fake, tmp);
  await unwindTo('Temporal dev server');

  let databaseUrl = process.env.DATABASE_URL;
  // startTestPostgres leaves its temp dir behind after stop(); the bench removes the one it made.
  let clusterDir: string | null = null;
  if (!databaseUrl) {
    log('starting a throwaway PostgreSQL cluster');
    const postgres = startTestPostgres(await freePort());
    onCleanup('PostgreSQL cluster', async () => {
      postgres.stop();
      if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
    });
    databaseUrl = postgres.url;
  }
  const pgDataDir = await dataDirectory(databaseUrl);
  if (!process.env.DATABASE_URL && pgDataDir && path.basename(path.dirname(pgDataDir)).startsWith('agent-pg-')) clusterDir = path.dirname(pgDataDir);
  // One schema per run, dropped at the end, so a shared DATABASE_URL is left as it was found.
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  onCleanup('admin pg pool', () => admin.end());
  await admin.query(`CREATE SCHEMA "${schema}"`);
  onCleanup(`schema ${schema}`, async () => void (await admin.query(`DROP SCHEMA "${schema}" CASCADE`)));
  const pgVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;

  // PostgreSQL's CPU: the postmaster's process tree (backends, checkpointer, WAL writer, …). A
  // DATABASE_URL server on another host or in another container, or a role that may not read
  // data_directory, leaves the server column at n/a.
  const pgPid = pgDataDir ? postmasterPid(pgDataDir) : null;
  if (pgPid === null) log(`PostgreSQL's processes are not visible from here${pgDataDir ? ` (data directory ${pgDataDir})` : ''}: its CPU column says n/a`);
  const pgCpu: ServerCpu = () => (pgPid === null ? null : treeCpuMs(pgPid));

  const llm = new AnthropicLlm({ apiKey: 'bench', baseURL: fake.url, model: 'claude-sonnet-5-5', maxTokens: 1024 });
  const loop = await benchLoop(fake, llm, databaseUrl, schema, pgCpu);
  const langgraph = await benchLangGraph(fake, llm, databaseUrl, schema, pgCpu);

  const facts = [
    `cores: ${os.cpus().length} (${os.cpus()[0]?.model.trim() ?? 'unknown'})`,
    `node ${process.version}`,
    `Temporal CLI: ${temporal.cliVersion} (dev server, SQLite file)`,
    `PostgreSQL ${pgVersion}${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ' (throwaway cluster, fsync=off)'}${pgPid === null ? '; its processes are not visible here, server CPU n/a' : ''}`,
    `mode: ${QUICK ? 'quick' : 'full'}`,
  ];
  const systems = [temporal.memoryOn, temporal.memoryOff, temporal.reference, loop, langgraph];
  process.stdout.write(renderReport(systems, temporal.approvalMs, facts) + '\n');
}

main()
  .then(
    () => cleanupAll(),
    async (err: Error) => {
      log(`failed: ${err.stack ?? err.message}`);
      await cleanupAll();
      process.exitCode = 1;
    },
  )
  .finally(() => {
    // Lingering handles (gRPC channels, the native runtime) must not keep a finished bench alive.
    setTimeout(() => process.exit(), 200).unref();
  });
