/**
 * Composition root: config → services → activities → Worker. Nothing else wires things.
 * Workers are stateless: all task state is in Temporal, all large data in the state store,
 * so any number of them can poll the same task queue.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import pg from 'pg';
import { Client } from '@temporalio/client';
import { createActivities } from '../activities';
import { ensureDreamSchedule, startDream } from './dream-schedule';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { sandboxSettings, type Config } from '../services/config';
import { AgentModel } from '../services/llm/agent-model';
import { AnthropicLlm, type LlmClient } from '../services/llm/llm-client';
import { modelInfo } from '../services/llm/model-catalog';
import { TranscriptStore } from '../services/llm/transcript';
import { FileStateStore } from '../services/state/file-state-store';
import { PgStateStore } from '../services/state/pg-state-store';
import type { StateStore } from '../services/state/state-store';
import { lazyMemoryService } from '../services/memory/memory-service';
import { isMemoryUnavailable, oneLine } from '../services/memory/unavailable';
import { createApprovalNotifier } from '../services/approvals/create-notifier';
import { PolicySources } from '../services/policy/policy-sources';
import { createRedactor } from '../services/tools/redact';
import { ToolRunner } from '../services/tools/tool-runner';
import { BlobCache } from '../services/state/blob-cache';
import { McpHub } from '../services/mcp/mcp-hub';
import { ToolInputError } from '../services/tools/workspace';
import proto from '@temporalio/proto';
import { recoverFromDeadWorkers, registerWorker, workerIdentity } from './orphan-recovery';
import { checkShellRules } from './shell-self-check';
import { cachedWorkflowBundle } from './workflow-bundle';

const { temporal } = proto;

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** History never holds more than this much of one tool output; the rest goes by reference. */
const HISTORY_INLINE_BYTES = 1024;

/** The state store the configuration names, behind this process's cache of recent blobs. */
export async function openStateStore(config: Config): Promise<StateStore> {
  const store = config.databaseUrl ? await PgStateStore.open(new pg.Pool({ connectionString: config.databaseUrl, max: 10 })) : new FileStateStore(path.join(config.home, 'state'));
  return new BlobCache(store);
}

/**
 * Registers the custom search attributes when missing. The dev server gets them at start-up;
 * this covers a production cluster (needs operator permission; otherwise register them by hand).
 */
export async function ensureSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).filter(([name]) => !(name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  const types = { Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL };
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, types[type]])),
  });
}

export interface AgentWorker {
  worker: Worker;
  connection: NativeConnection;
  store: StateStore;
  /** Runs until shutdown (SIGINT/SIGTERM or worker.shutdown()), then releases connections. */
  run(): Promise<void>;
}

export interface WorkerOverrides {
  llm?: LlmClient;
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
}

/** Connects, registers search attributes and creates the worker. Throws if the server is unreachable. */
export async function createAgentWorker(config: Config, overrides: WorkerOverrides = {}): Promise<AgentWorker> {
  // Every shell rule carries its own examples; a worker whose rules disagree with them must not start.
  await checkShellRules(path.join(config.home, 'cache'));
  const store = await openStateStore(config);
  const llm = overrides.llm ?? new AnthropicLlm(config.llm);
  const model = new AgentModel(llm, new TranscriptStore(store), store, {
    model: modelInfo(config.llm.model, { contextWindow: config.llm.contextWindow, prices: config.llm.prices }),
    maxTokens: config.llm.maxTokens,
    promptCaching: config.llm.promptCaching,
  });
  // Before connecting: a half-configured Slack or webhook channel is a config error, not a runtime surprise.
  const approvals = await createApprovalNotifier(config.approvals);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  await ensureSearchAttributes(connection, config.temporal.namespace);
  // Memory opens once per worker, in the background (the embedded PGlite takes a few seconds to start);
  // why it cannot, or that it runs without vectors, goes to stderr once per process.
  const memory = lazyMemoryService(config, { tell: (line) => process.stderr.write(`warning: ${line}\n`) });
  const policy = new PolicySources(config.home, config.userDir);
  const sandbox = sandboxSettings(config);
  // MCP servers start on a task's first use and stay up for the tasks after it, until the worker stops.
  const mcp = McpHub.forConfig(config, policy);
  const tools = new ToolRunner(store, {
    mcp,
    modelOutputLimit: config.inlineOutputLimit,
    historyInlineBytes: HISTORY_INLINE_BYTES,
    // The worker's own secrets (API keys, DATABASE_URL) are the first thing a tool could leak.
    redactor: createRedactor({ env: config.environment }),
    sandbox,
    // The agent's remember / forget tools write through the same memory layer as the memory writer;
    // memory that cannot be opened is a tool error the model reads, never a failed task.
    ...(config.memory.enabled
      ? {
          memory: () =>
            memory.get().catch((err: unknown) => {
              throw isMemoryUnavailable(err) ? new ToolInputError(`memory is unavailable, nothing was remembered or forgotten: ${oneLine(err)}`) : err;
            }),
        }
      : {}),
  });
  // Warm it up while the worker bundles and connects, so the first recall does not wait for it;
  // a failure here is reported by the activities that need memory.
  if (config.memory.enabled) void memory.get().catch(() => undefined);
  const temporalClient = new Client({ connection, namespace: config.temporal.namespace });
  // Take over at once from a killed worker of this AGENT_HOME (its activities would otherwise wait
  // out their heartbeat timeouts), while this one loads its bundle; then record this worker.
  const identity = overrides.identity ?? workerIdentity();
  const recovery = recoverFromDeadWorkers(temporalClient, {
    home: config.home,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    warn: (message) => Runtime.instance().logger.warn(message),
  }).then((report) => {
    if (report.deadWorkers.length) {
      Runtime.instance().logger.info(
        `took over from killed worker ${report.deadWorkers.join(', ')}: ${report.failedActivities.length} activities run again now, ${report.unstuckWorkflows} workflows off its sticky queue`,
      );
    }
  });
  const unregister = await registerWorker(config.home, { identity, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  if (config.memory.enabled) {
    // Every worker keeps the consolidation schedule in line with its config; a failure costs only the schedule.
    await ensureDreamSchedule(temporalClient, config).catch((err: Error) => {
      // Through the Runtime's logger: the CLI sends it to AGENT_HOME/agent.log (stderr with --debug).
      Runtime.instance().logger.warn(`could not create or update the memory consolidation schedule: ${err.message.split('\n')[0]}`);
    });
  }
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle:
      overrides.workflowBundle ??
      (config.worker.workflowBundle
        ? { codePath: config.worker.workflowBundle }
        : await cachedWorkflowBundle(WORKFLOWS_PATH, path.join(config.home, 'cache'), Runtime.instance().logger)),
    activities: createActivities({
      model,
      tools,
      store,
      policy,
      home: config.home,
      mcp,
      sandbox,
      approvals,
      memory: {
        memory: () => memory.get(),
        settings: {
          enabled: config.memory.enabled,
          recallTokens: config.memory.recallTokens,
          decayAfterMs: config.memory.decayAfterMs,
          dreamEpisodeThreshold: config.memory.dream.episodeThreshold,
        },
        triggerDream: async (scope, trigger) => {
          await startDream(temporalClient, config, scope, trigger);
        },
      },
    }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    identity,
  });
  return {
    worker,
    connection,
    store,
    async run() {
      try {
        await worker.run();
      } finally {
        await recovery;
        await unregister();
        await connection.close();
        await store.close();
        await memory.close();
        await mcp.close();
      }
    },
  };
}
