/**
 * Configuration: the only reader of process.env. Parsed once with zod and injected everywhere,
 * so a bad value fails at start-up with a message naming the variable, not deep in a task.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ApproverKeySchema, keyIdOf, type ApproverKey } from '../domain/approver-signature';
import { DEFAULT_TASK_QUEUE } from '../domain/constants';
import { KEY_ID, parseApprovers, type ApproverRule } from './approvals/approvers';
import { parsePrices, type Prices } from './llm/model-catalog';

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
  /** The user's own agent files, which the sandbox can never read: the approver key and trusted workspace policies. Default ~/.config/durable-agent. */
  AGENT_USER_DIR: z.string().optional(),
  /** Extra public keys whose signed decisions tasks started here accept: `label=<64 hex digits>,…` (e.g. a chat receiver on another machine; `agent approvals key` prints one). */
  AGENT_APPROVER_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys: ApproverKey[] = [];
      for (const pair of value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const eq = pair.lastIndexOf('=');
        const parsed = ApproverKeySchema.safeParse({
          label: pair.slice(0, eq).trim(),
          publicKey: pair
            .slice(eq + 1)
            .trim()
            .toLowerCase(),
          id: keyIdOf(
            pair
              .slice(eq + 1)
              .trim()
              .toLowerCase(),
          ),
        });
        if (eq < 1 || !parsed.success) {
          ctx.addIssue({
            code: 'custom',
            message: `each entry must be <label>=<ed25519 public key as 64 hex digits> (entry ${keys.length + 1} is not; \`agent approvals key\` prints one)`,
          });
          return z.NEVER;
        }
        keys.push(parsed.data);
      }
      return keys;
    }),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  AGENT_MODEL: z.string().default('claude-sonnet-5-5'),
  AGENT_MAX_TOKENS: positiveInt.default(8_192),
  /** The model's context window in tokens, when the built-in table does not know the model (gateways, local servers). */
  AGENT_CONTEXT_WINDOW: positiveInt.min(4_096, 'must be at least 4096 tokens').optional(),
  /** USD per million tokens: `input=3,output=15[,cacheWrite=3.75,cacheRead=0.3]`, when the built-in table does not know the model's price. */
  AGENT_MODEL_PRICES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return parsePrices(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** A model call that sends nothing for this long (before its first token or between events) is abandoned and retried. */
  AGENT_MODEL_SILENCE_TIMEOUT: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(120_000),
  /** `off`: send no cache_control breakpoints (for endpoints that reject them; costs more on the Anthropic API). */
  AGENT_PROMPT_CACHING: z.enum(['on', 'off']).default('on'),
  DATABASE_URL: z.string().optional(),
  AGENT_APPROVAL_TIMEOUT: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(30 * 60_000),
  /** How long an MCP server may take to start and list its tools before a task goes on without it. */
  AGENT_MCP_START_TIMEOUT: duration.pipe(z.number().min(100, 'must be at least 100ms')).default(10_000),
  /** The most of one tool output the model sees (bytes; head and tail for commands); the whole output stays readable with read_output. */
  AGENT_INLINE_OUTPUT_LIMIT: positiveInt.default(20_000),
  AGENT_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(50),
  AGENT_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(50),
  AGENT_MAX_CACHED_WORKFLOWS: positiveInt.default(1_000),
  /** A workflow bundle built ahead of time (bundleWorkflowCode); without it the worker uses the one cached under AGENT_HOME by content. */
  AGENT_WORKFLOW_BUNDLE: z.string().optional(),
  /** Memory layer (services/memory). `off` skips recall and memory writes in tasks. */
  AGENT_MEMORY: z.enum(['on', 'off']).default('on'),
  /** Token budget for the recalled-memory block injected before planning. */
  AGENT_MEMORY_RECALL_TOKENS: positiveInt.default(800),
  /** Unused memories with importance below 0.3 are retired by consolidation after this long. */
  AGENT_MEMORY_DECAY_AFTER: duration.pipe(z.number().min(60_000, 'must be at least 1m')).default(30 * 86_400_000),
  /** Vectors in Qdrant instead of pgvector when set (the relational store stays in PostgreSQL/PGlite). */
  QDRANT_URL: z.string().url().optional(),
  QDRANT_API_KEY: z.string().optional(),
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'letters, digits, _ and - only')
    .default('agent_memory'),
  /** `hashed`: offline n-gram vectors, no model download; `openai`: any OpenAI-compatible /embeddings; `voyage`: Voyage AI. */
  AGENT_EMBEDDINGS: z.enum(['hashed', 'openai', 'voyage']).default('hashed'),
  AGENT_EMBEDDINGS_URL: z.string().url().optional(),
  AGENT_EMBEDDINGS_MODEL: z.string().optional(),
  AGENT_EMBEDDINGS_API_KEY: z.string().optional(),
  AGENT_EMBEDDINGS_DIMS: positiveInt.max(16_000).optional(),
  /** Cron (UTC) of the consolidation schedule every worker keeps up to date; `off`: create none (an existing one is left alone). */
  AGENT_DREAM_SCHEDULE: z.string().default('0 3 * * *'),
  /** Consolidation also starts when a scope has this many episodes not yet consolidated. */
  AGENT_DREAM_EPISODES: positiveInt.default(20),
  AGENT_DREAM_TOKEN_BUDGET: positiveInt.default(200_000),
  AGENT_DREAM_TIME_BUDGET: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(30 * 60_000),
  /** Approvals from chat (services/approvals, `agent approvals serve`). The worker posts with the bot token. */
  SLACK_BOT_TOKEN: z.string().optional(),
  /** HTTP receiver: verifies that interactions come from Slack. Needed by `agent approvals serve`, never by the worker. */
  SLACK_SIGNING_SECRET: z.string().optional(),
  /** Socket Mode instead of the HTTP receiver (an app-level `xapp-` token with connections:write). */
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token (xapp-…)')
    .optional(),
  /** Channel id approval requests are posted to (and the fallback when the owner cannot be sent a DM). */
  SLACK_APPROVAL_CHANNEL: z
    .string()
    .regex(/^[CGDU][A-Z0-9]{2,30}$/, 'must be a channel id such as C0123ABCD (not a #name)')
    .optional(),
  /** `on`: tasks submitted by `slack:<user id>` get their requests as a DM to that user. */
  SLACK_APPROVAL_DM_OWNER: z.enum(['on', 'off']).default('off'),
  /** Slack Web API base URL; only tests and proxies change it. */
  SLACK_API_URL: z.string().url().optional(),
  /** Allow-list of who may decide from chat (syntax in services/approvals/approvers.ts). */
  AGENT_APPROVERS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      try {
        return parseApprovers(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Outgoing: approval requests and outcomes are POSTed here, signed with AGENT_APPROVAL_WEBHOOK_SECRET. */
  AGENT_APPROVAL_WEBHOOK_URL: z.string().url().optional(),
  AGENT_APPROVAL_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  AGENT_APPROVAL_WEBHOOK_KEY_ID: z.string().regex(KEY_ID, 'letters, digits, _ . and - only').default('agent'),
  /** Inbound: `keyId=secret,…` that may sign decisions to POST /approvals/:taskId/:requestId. */
  AGENT_APPROVAL_WEBHOOK_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys: Record<string, string> = {};
      for (const pair of value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const eq = pair.indexOf('=');
        const id = pair.slice(0, eq);
        if (eq < 1 || !KEY_ID.test(id) || pair.length - eq - 1 < 16) {
          // Never echo the pair: it holds a secret.
          ctx.addIssue({ code: 'custom', message: `each entry must be <key id>=<secret of at least 16 characters> (entry ${Object.keys(keys).length + 1} is not)` });
          return z.NEVER;
        }
        keys[id] = pair.slice(eq + 1);
      }
      return keys;
    }),
  AGENT_APPROVALS_HOST: z.string().default('127.0.0.1'),
  AGENT_APPROVALS_PORT: z.coerce.number().int().min(0).max(65_535).default(3100),
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
  /** Holds the approver key and trusted workspace policies; masked inside every sandbox. */
  userDir: string;
  /** Public keys tasks started here trust besides this user's own. */
  approverKeys: ApproverKey[];
  llm: {
    apiKey: string | undefined;
    baseURL: string | undefined;
    model: string;
    maxTokens: number;
    contextWindow: number | undefined;
    prices: Prices | undefined;
    promptCaching: boolean;
    silenceTimeoutMs: number;
  };
  databaseUrl: string | undefined;
  approvalTimeoutMs: number;
  /** How long an MCP server may take to start and list its tools. */
  mcpStartTimeoutMs: number;
  inlineOutputLimit: number;
  worker: { maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number; maxCachedWorkflows: number; workflowBundle: string | undefined };
  memory: MemoryConfig;
  approvals: ApprovalsConfig;
  /** The environment this config was read from: the redactor masks its secret values in tool output. */
  environment: Readonly<Record<string, string | undefined>>;
}

export interface MemoryConfig {
  enabled: boolean;
  recallTokens: number;
  decayAfterMs: number;
  qdrant: { url: string; apiKey: string | undefined; collection: string } | null;
  embeddings: { provider: 'hashed' | 'openai' | 'voyage'; url: string | undefined; model: string | undefined; apiKey: string | undefined; dims: number | undefined };
  dream: { schedule: string | null; episodeThreshold: number; tokenBudget: number; timeBudgetMs: number };
}

export interface ApprovalsConfig {
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    channel: string | undefined;
    dmOwner: boolean;
    /** Always ends with `/`, as the Slack WebClient expects. */
    apiUrl: string | undefined;
  };
  webhook: { url: string | undefined; secret: string | undefined; keyId: string; inboundKeys: Record<string, string> };
  approvers: ApproverRule[];
  server: { host: string; port: number };
}

export class ConfigError extends Error {}

/**
 * The worker's own environment, as commands inherit it (through an allow-list) and PATH lookups
 * search it. Apart from loadConfig because the sandbox probe and the command runner need it where
 * no Config is at hand, even when the configuration is invalid; live, not a copy, so a variable set
 * after start-up is seen. Never throws.
 */
export function hostEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

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
    userDir: path.resolve(cwd, e.AGENT_USER_DIR ?? path.join(env.HOME || os.homedir(), '.config', 'durable-agent')),
    approverKeys: e.AGENT_APPROVER_KEYS,
    llm: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseURL: e.ANTHROPIC_BASE_URL,
      model: e.AGENT_MODEL,
      maxTokens: e.AGENT_MAX_TOKENS,
      contextWindow: e.AGENT_CONTEXT_WINDOW,
      prices: e.AGENT_MODEL_PRICES,
      promptCaching: e.AGENT_PROMPT_CACHING === 'on',
      silenceTimeoutMs: e.AGENT_MODEL_SILENCE_TIMEOUT,
    },
    databaseUrl: e.DATABASE_URL,
    approvalTimeoutMs: e.AGENT_APPROVAL_TIMEOUT,
    mcpStartTimeoutMs: e.AGENT_MCP_START_TIMEOUT,
    inlineOutputLimit: e.AGENT_INLINE_OUTPUT_LIMIT,
    worker: {
      maxConcurrentActivities: e.AGENT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.AGENT_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.AGENT_MAX_CACHED_WORKFLOWS,
      workflowBundle: e.AGENT_WORKFLOW_BUNDLE ? path.resolve(cwd, e.AGENT_WORKFLOW_BUNDLE) : undefined,
    },
    memory: {
      enabled: e.AGENT_MEMORY === 'on',
      recallTokens: e.AGENT_MEMORY_RECALL_TOKENS,
      decayAfterMs: e.AGENT_MEMORY_DECAY_AFTER,
      qdrant: e.QDRANT_URL ? { url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY, collection: e.QDRANT_COLLECTION } : null,
      embeddings: {
        provider: e.AGENT_EMBEDDINGS,
        url: e.AGENT_EMBEDDINGS_URL,
        model: e.AGENT_EMBEDDINGS_MODEL,
        apiKey: e.AGENT_EMBEDDINGS_API_KEY,
        dims: e.AGENT_EMBEDDINGS_DIMS,
      },
      dream: {
        schedule: e.AGENT_DREAM_SCHEDULE.trim() === 'off' ? null : e.AGENT_DREAM_SCHEDULE.trim(),
        episodeThreshold: e.AGENT_DREAM_EPISODES,
        tokenBudget: e.AGENT_DREAM_TOKEN_BUDGET,
        timeBudgetMs: e.AGENT_DREAM_TIME_BUDGET,
      },
    },
    approvals: {
      slack: {
        botToken: e.SLACK_BOT_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        appToken: e.SLACK_APP_TOKEN,
        channel: e.SLACK_APPROVAL_CHANNEL,
        dmOwner: e.SLACK_APPROVAL_DM_OWNER === 'on',
        apiUrl: e.SLACK_API_URL ? e.SLACK_API_URL.replace(/\/*$/, '/') : undefined,
      },
      webhook: { url: e.AGENT_APPROVAL_WEBHOOK_URL, secret: e.AGENT_APPROVAL_WEBHOOK_SECRET, keyId: e.AGENT_APPROVAL_WEBHOOK_KEY_ID, inboundKeys: e.AGENT_APPROVAL_WEBHOOK_KEYS },
      approvers: e.AGENT_APPROVERS,
      server: { host: e.AGENT_APPROVALS_HOST, port: e.AGENT_APPROVALS_PORT },
    },
    environment: { ...env },
  };
}

/** The terminal facts the CLI needs: who is at it (`USER`) and whether colour is turned off (`NO_COLOR`). */
export interface TerminalEnv {
  user: string | undefined;
  noColor: boolean;
}

/**
 * Apart from loadConfig because output and the name recorded on a decision are needed where no
 * Config is at hand, even when the configuration is invalid. Never throws.
 */
export function terminalEnv(env: NodeJS.ProcessEnv = process.env): TerminalEnv {
  return { user: env.USER || undefined, noColor: Boolean(env.NO_COLOR) };
}

/**
 * What every sandbox hides and what its network proxy refuses, whatever a policy grants: the
 * agent's own state and key, and the services that could approve, start or cancel tasks.
 */
export function sandboxSettings(config: Config): { hidden: string[]; refuse: string[] } {
  const hostOf = (url: string | undefined) => {
    if (!url) return [];
    try {
      const parsed = new URL(url);
      return parsed.hostname ? [parsed.hostname.replace(/^\[(.*)\]$/, '$1')] : [];
    } catch {
      return [];
    }
  };
  return {
    hidden: [config.home, config.userDir],
    refuse: [config.temporal.address, ...hostOf(config.databaseUrl), `${config.approvals.server.host}:${config.approvals.server.port}`, ...hostOf(config.memory.qdrant?.url)],
  };
}
