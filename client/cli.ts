/**
 * The `agent` CLI. Human-friendly by default, `--json` for scripts. Errors are one line with
 * what to do next and a non-zero exit; `--debug` adds the stack trace.
 */
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { TeamSubmission } from '../domain/team';
import { ConfigError, parseDuration } from '../services/config';
import { createContext, type CliContext } from './cli-context';
import { approvalsKeyCommand, approvalsServeCommand } from './commands/approvals';
import { bgControlCommand, bgListCommand, bgSendCommand, bgStartCommand, bgStatusCommand } from './commands/background';
import { demoCommand } from './commands/demo';
import { doctorCommand } from './commands/doctor';
import { dreamCommand } from './commands/dream';
import { memoryCommand } from './commands/memory';
import { parseMode, parseTaskRules, policyCheckCommand, policyEditCommand, policyListCommand, trustCommand } from './commands/policy';
import { runTask } from './commands/run';
import { downCommand, fakeLlmCommand, upCommand, workerCommand } from './commands/server';
import { cancelCommand, decideCommand, listCommand, logsCommand, statusCommand } from './commands/tasks';
import { innermostMessage, UserError } from './task-client';

const USAGE = `agent — durable agent tasks on Temporal

Usage:
  agent run "<task>" [--workspace DIR] [--no-wait] [--json] [--id ID] [--approval-timeout 30m] [--max-turns N] [--max-cost USD]
            [--mode default|accept-edits|plan|dont-ask|bypass] [--rule "allow run_command(npm run build)"]...
            [--team [--parallel N] [--max-steps N] [--max-tokens N] [--max-time 2h] [--max-replans N]]
  agent status <taskId> [--json]
  agent list [--limit N] [--json]
  agent approve <taskId> [requestId] [--reason TEXT] [--always] [--json]
  agent deny <taskId> [requestId] [--reason TEXT] [--json]
  agent cancel <taskId>
  agent logs <taskId> [--follow] [--json]
  agent policy check --tool NAME --input JSON [--workspace DIR] [--mode M] [--rule R]... [--json]
  agent policy list [--workspace DIR] [--json]
  agent policy add|remove "<rule>" [--workspace DIR]
  agent trust [DIR] [--revoke]  let the workspace's .agent/policy.json allow things (this exact content)
  agent bg start <name> --goal "..." [--every "15m" | "<cron>"] [--workspace DIR] [--mode M] [--rule R]...
            [--tasks-per-day N] [--tokens-per-day N] [--max-turns N]
  agent bg send <name> "<message>" [--id ID]
  agent bg pause|resume|stop <name> [--reason TEXT]
  agent bg list|status <name> [--json]
  agent memory add <subject:attribute> "<value>" [--scope workspace|user|global] [--kind K] [--importance 0-1]
            [--check JSON] [--workspace DIR]
  agent memory search "<query>" | list [--all] [--kind K] | show <id> | history <subject:attribute>
  agent memory forget <id|subject:attribute> [--reason TEXT] | explain <taskId> | reindex
                                (all: [--scope S] [--workspace DIR] [--limit N] [--json])
  agent dream [--now] [--scope workspace|user|global|<scope>] [--workspace DIR] [--json]
  agent approvals serve         the Slack / signed-webhook approval receivers, foreground
  agent approvals key           this user's approver public key (for AGENT_APPROVER_KEYS elsewhere)
  agent up                      embedded Temporal dev server (if none answers) + a worker, foreground
  agent worker                  a worker only
  agent down                    stop the embedded dev server started by \`agent run\`
  agent demo [--team] [--workspace DIR]  an offline task (or agent team) with the scripted model
  agent fake-llm [--port N] [--script FILE]
  agent doctor [--json]

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, AGENT_TASK_QUEUE, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL,
AGENT_MODEL, AGENT_HOME, DATABASE_URL, AGENT_APPROVAL_TIMEOUT, AGENT_MEMORY*, AGENT_EMBEDDINGS*, QDRANT_URL,
AGENT_DREAM_*, SLACK_*, AGENT_APPROVERS, AGENT_APPROVAL_WEBHOOK_*, AGENT_APPROVALS_*, AGENT_USER_DIR,
AGENT_APPROVER_KEYS (see README).`;

const OPTIONS = {
  workspace: { type: 'string', short: 'w' },
  'no-wait': { type: 'boolean' },
  json: { type: 'boolean' },
  id: { type: 'string' },
  'approval-timeout': { type: 'string' },
  reason: { type: 'string' },
  always: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  limit: { type: 'string' },
  port: { type: 'string' },
  script: { type: 'string' },
  mode: { type: 'string' },
  rule: { type: 'string', multiple: true },
  tool: { type: 'string' },
  input: { type: 'string' },
  goal: { type: 'string' },
  every: { type: 'string' },
  'tasks-per-day': { type: 'string' },
  'tokens-per-day': { type: 'string' },
  scope: { type: 'string' },
  kind: { type: 'string' },
  importance: { type: 'string' },
  check: { type: 'string' },
  all: { type: 'boolean' },
  now: { type: 'boolean' },
  team: { type: 'boolean' },
  parallel: { type: 'string' },
  'max-steps': { type: 'string' },
  'max-tokens': { type: 'string' },
  'max-time': { type: 'string' },
  'max-replans': { type: 'string' },
  'max-turns': { type: 'string' },
  'max-cost': { type: 'string' },
  revoke: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(args: string[], index: number, what: string): string {
  const value = args[index];
  if (!value) throw new UserError(`missing ${what}\n\n${USAGE}`, 2);
  return value;
}

/** `--max-cost 2.50` (or `$2.50`): USD, positive. */
function positiveUsd(text: string): number {
  const n = Number(text.replace(/^\$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--max-cost must be a positive amount in USD, e.g. 2.50, got "${text}"`, 2);
  return n;
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`--${name} must be a positive integer, got "${text}"`, 2);
  return n;
}

/** `--team` and its budgets; undefined without --team (budget flags without it are a usage error). */
function teamOptions(values: Values): TeamSubmission['team'] | undefined {
  const flags = ['parallel', 'max-steps', 'max-tokens', 'max-time', 'max-replans'] as const;
  if (!values.team) {
    const stray = flags.find((f) => values[f] !== undefined);
    if (stray) throw new UserError(`--${stray} only applies with --team`, 2);
    return undefined;
  }
  const count = (name: (typeof flags)[number]) => {
    const text = values[name];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`--${name} must be a whole number, got "${text}"`, 2);
    return n;
  };
  let maxWallMs: number | undefined;
  if (values['max-time'] !== undefined) {
    try {
      maxWallMs = parseDuration(values['max-time']);
    } catch (err) {
      throw new UserError(`--max-time: ${(err as Error).message}`, 2);
    }
  }
  // With --team, --max-turns bounds each worker's tool loop.
  const stepMaxTurns = values['max-turns'] === undefined ? undefined : positiveInt(values['max-turns'], 'max-turns', 15);
  const options = { maxParallel: count('parallel'), maxSteps: count('max-steps'), maxTokens: count('max-tokens'), maxReplans: count('max-replans'), maxWallMs, stepMaxTurns };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/**
 * Ctrl-C (or SIGTERM) while following a task detaches: the task itself lives on in Temporal and any
 * worker picks it up. The Temporal Runtime's own signal handling is switched off for these commands
 * (see dispatch) so it cannot stop the in-process worker under a follow loop that is still polling.
 */
function detachOnInterrupt(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      process.stderr.write('\ninterrupted: the task keeps running in Temporal (see `agent list`, `agent status <id>`)\n');
      process.exit(code);
    });
  }
}

async function dispatch(command: string, args: string[], values: Values, ctx: CliContext): Promise<number> {
  // `agent dream --now` runs a worker in this process too; its INFO lines would bury the report.
  // The Runtime's core writes its own log lines to stdout unless they are forwarded to the logger,
  // which writes to stderr: stdout stays the command's output (one JSON object with --json).
  const logging = { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } as const;
  if (command === 'dream') Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging } });
  if (command === 'run' || command === 'demo' || command === 'logs') {
    detachOnInterrupt();
    // The in-process worker's INFO lines would drown the task's own progress.
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [], telemetryOptions: { logging } });
  }
  switch (command) {
    case 'run': {
      let approvalTimeoutMs: number | undefined;
      if (values['approval-timeout']) {
        try {
          approvalTimeoutMs = parseDuration(values['approval-timeout']);
        } catch (err) {
          throw new UserError(`--approval-timeout: ${(err as Error).message}`, 2);
        }
      }
      return await runTask(ctx, {
        prompt: need(args, 0, 'the task text, e.g. agent run "fix the failing test"'),
        workspace: values.workspace ?? process.cwd(),
        wait: !values['no-wait'],
        taskId: values.id,
        approvalTimeoutMs: approvalTimeoutMs ?? ctx.config.approvalTimeoutMs,
        mode: parseMode(values.mode),
        rules: parseTaskRules(values.rule ?? []),
        team: teamOptions(values),
        ...(values['max-turns'] !== undefined && !values.team ? { maxTurns: positiveInt(values['max-turns'], 'max-turns', 100) } : {}),
        ...(values['max-cost'] !== undefined ? { maxCostUsd: positiveUsd(values['max-cost']) } : {}),
      });
    }
    case 'status':
      return await statusCommand(ctx, need(args, 0, 'the task id'));
    case 'list':
      return await listCommand(ctx, positiveInt(values.limit, 'limit', 20));
    case 'approve':
    case 'deny':
      return await decideCommand(ctx, need(args, 0, 'the task id'), args[1], command === 'approve', { reason: values.reason, always: values.always });
    case 'cancel':
      return await cancelCommand(ctx, need(args, 0, 'the task id'));
    case 'logs':
      return await logsCommand(ctx, need(args, 0, 'the task id'), values.follow ?? false);
    case 'policy': {
      const sub = need(args, 0, 'a policy command: check, list, add or remove');
      if (sub === 'check') return await policyCheckCommand(ctx, { tool: values.tool, input: values.input, workspace: values.workspace, mode: values.mode, rules: values.rule ?? [] });
      if (sub === 'list') return await policyListCommand(ctx, values.workspace);
      if (sub === 'add' || sub === 'remove') return await policyEditCommand(ctx, sub, args[1], values.workspace);
      throw new UserError(`unknown policy command "${sub}" (check, list, add, remove)`, 2);
    }
    case 'trust':
      return await trustCommand(ctx, args[0], values.revoke ?? false);
    case 'bg': {
      const sub = need(args, 0, 'a bg command: start, send, pause, resume, stop, list or status');
      if (sub === 'list') return await bgListCommand(ctx);
      const name = need(args, 1, 'the background agent name');
      switch (sub) {
        case 'start':
          return await bgStartCommand(ctx, {
            name,
            goal: values.goal,
            every: values.every,
            workspace: values.workspace ?? process.cwd(),
            mode: values.mode,
            rules: values.rule ?? [],
            tasksPerDay: values['tasks-per-day'] === undefined ? undefined : positiveInt(values['tasks-per-day'], 'tasks-per-day', 100),
            tokensPerDay: values['tokens-per-day'] === undefined ? undefined : positiveInt(values['tokens-per-day'], 'tokens-per-day', 2_000_000),
            maxTurns: values['max-turns'] === undefined ? undefined : positiveInt(values['max-turns'], 'max-turns', 100),
          });
        case 'send':
          return await bgSendCommand(ctx, name, need(args, 2, 'the message text'), values.id);
        case 'pause':
        case 'resume':
        case 'stop':
          return await bgControlCommand(ctx, sub, name, values.reason);
        case 'status':
          return await bgStatusCommand(ctx, name);
        default:
          throw new UserError(`unknown bg command "${sub}" (start, send, pause, resume, stop, list, status)`, 2);
      }
    }
    case 'up':
      return await upCommand(ctx);
    case 'worker':
      return await workerCommand(ctx);
    case 'down':
      return await downCommand(ctx);
    case 'demo':
      return await demoCommand(ctx, values.workspace, { team: values.team === true });
    case 'fake-llm':
      return await fakeLlmCommand(ctx, positiveInt(values.port, 'port', 8787), values.script);
    case 'memory':
      return await memoryCommand(ctx, args[0], args.slice(1), {
        workspace: values.workspace,
        scope: values.scope,
        kind: values.kind,
        importance: values.importance,
        check: values.check,
        reason: values.reason,
        limit: values.limit,
        all: values.all,
      });
    case 'dream':
      return await dreamCommand(ctx, { now: values.now ?? false, scope: values.scope, workspace: values.workspace });
    case 'doctor':
      return await doctorCommand(ctx);
    case 'approvals': {
      const sub = need(args, 0, 'an approvals command: serve or key');
      if (sub === 'serve') return await approvalsServeCommand(ctx);
      if (sub === 'key') return await approvalsKeyCommand(ctx);
      throw new UserError(`unknown approvals command "${sub}" (serve, key)`, 2);
    }
    default:
      throw new UserError(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (!command || values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  try {
    const ctx = createContext(values.json ?? false);
    return await dispatch(command, args, values, ctx);
  } catch (err) {
    if (values.debug) process.stderr.write(`${(err as Error).stack}\n`);
    if (err instanceof UserError) {
      process.stderr.write(`agent: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`agent: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`agent: ${innermostMessage(err as Error)}${values.debug ? '' : ' (run with --debug for details)'}\n`);
    return 1;
  }
}
