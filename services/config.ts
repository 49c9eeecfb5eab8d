/**
 * Configuration: the only reader of process.env. Parsed once with zod and injected everywhere,
 * so a bad value fails at start-up with a message naming the variable, not deep in a task.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../domain/constants';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "30s", "30m", "2h", "1d" or a bare number of milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 30s, 30m, 2h)`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const positiveInt = z.coerce.number().int().positive();

/** Every environment variable the project reads, with its default. Exported so tests can compare with docker-compose.yml. */
export const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  AGENT_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUE),
  /** `auto`: start the embedded dev server when nothing answers at TEMPORAL_ADDRESS; `never`: fail instead. */
  AGENT_DEV_SERVER: z.enum(['auto', 'never']).default('auto'),
  TEMPORAL_UI_PORT: positiveInt.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  AGENT_HOME: z.string().default('.agent'),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  AGENT_MODEL: z.string().default('claude-sonnet-5-5'),
  AGENT_MAX_TOKENS: positiveInt.default(8_192),
  DATABASE_URL: z.string().optional(),
  AGENT_APPROVAL_TIMEOUT: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(30 * 60_000),
  /** Tool outputs above this many bytes are stored outside workflow history and passed by reference. */
  AGENT_INLINE_OUTPUT_LIMIT: positiveInt.default(64 * 1024),
  AGENT_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(50),
  AGENT_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(50),
  AGENT_MAX_CACHED_WORKFLOWS: positiveInt.default(1_000),
});

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    devServer: 'auto' | 'never';
    uiPort: number;
    cliPath: string | undefined;
  };
  home: string;
  llm: { apiKey: string | undefined; baseURL: string | undefined; model: string; maxTokens: number };
  databaseUrl: string | undefined;
  approvalTimeoutMs: number;
  inlineOutputLimit: number;
  worker: { maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number };
  /** The environment this config was read from: the redactor masks its secret values in tool output. */
  environment: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {}

/** Reads the environment once. Throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.AGENT_TASK_QUEUE,
      devServer: e.AGENT_DEV_SERVER,
      uiPort: e.TEMPORAL_UI_PORT,
      cliPath: e.TEMPORAL_CLI_PATH,
    },
    home: path.resolve(cwd, e.AGENT_HOME),
    llm: { apiKey: e.ANTHROPIC_API_KEY, baseURL: e.ANTHROPIC_BASE_URL, model: e.AGENT_MODEL, maxTokens: e.AGENT_MAX_TOKENS },
    databaseUrl: e.DATABASE_URL,
    approvalTimeoutMs: e.AGENT_APPROVAL_TIMEOUT,
    inlineOutputLimit: e.AGENT_INLINE_OUTPUT_LIMIT,
    worker: {
      maxConcurrentActivities: e.AGENT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.AGENT_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.AGENT_MAX_CACHED_WORKFLOWS,
    },
    environment: { ...env },
  };
}
