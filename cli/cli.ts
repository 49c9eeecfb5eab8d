/**
 * The `agent` CLI. Human-friendly by default, `--json` for scripts. Errors are one line with
 * what to do next and a non-zero exit; `--debug` adds the stack trace. Every command has its own
 * help (`agent <command> --help`, `agent help <command>`) from the table below, which also says
 * which flags the command takes: any other flag is a usage error naming the flag and the command.
 */
import { mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { inspect, parseArgs } from 'node:util';
import type { LogEntry } from '@temporalio/worker';
import { innermostMessage, UserError } from '../client/user-error';
import type { TeamSubmission } from '../domain/team';
import { ConfigError, parseDuration, type Config } from '../services/config';
import { createContext, printable, type CliContext } from './cli-context';
import { embeddedPaths } from './embedded';

const OVERVIEW = `agent — durable agent tasks on Temporal

Usage:
  agent run "<task>" [--workspace DIR] [--no-wait] [--json] [--id ID] [--approval-timeout 30m] [--max-turns N] [--max-cost USD]
            [--mode default|accept-edits|plan|dont-ask|bypass] [--rule "allow run_command(npm run build)"]...
            [--team [--parallel N] [--max-steps N] [--max-tokens N] [--max-time 2h] [--max-replans N]]
  agent status <taskId> [--json]
  agent list [--limit N] [--json]
  agent approve <taskId> [requestId] [--reason TEXT] [--always] [--json]
  agent deny <taskId> [requestId] [--reason TEXT] [--json]
  agent cancel <taskId> [--json]
  agent logs <taskId> [--follow] [--json]
  agent policy check --tool NAME --input JSON [--workspace DIR] [--mode M] [--rule R]... [--json]
  agent policy list [--workspace DIR] [--json]
  agent policy add|remove "<rule>" [--workspace DIR]
  agent trust [DIR] [--revoke]  trust the workspace's .agent/policy.json, .mcp.json and .agent/hooks.json (this exact content)
  agent mcp list [--workspace DIR] [--json]
  agent mcp add <name> -- <command> [args...] [--env K=V]... [--network DOMAIN]... [--read-only DIR]... [--no-sandbox] [--timeout S]
  agent mcp add <name> --url URL [--header "K: V"]... [--timeout S]
  agent mcp remove <name> | test <name> [--workspace DIR] [--json]
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

Each command's options and an example: agent <command> --help (or agent help <command>).
Every command takes --debug (the stack trace of an error; worker logs on the terminal, not only in
AGENT_HOME/agent.log).

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
  url: { type: 'string' },
  header: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  network: { type: 'string', multiple: true },
  'read-only': { type: 'string', multiple: true },
  'no-sandbox': { type: 'boolean' },
  timeout: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** What a flag's value looks like and what it means, unless a command says it more precisely. */
const FLAG_HELP: Record<Flag, [value: string, text: string]> = {
  workspace: ['DIR', 'the workspace directory (default: the current one)'],
  'no-wait': ['', 'submit and return at once; a worker elsewhere (`agent up`, `agent worker`) runs the task'],
  json: ['', 'print one JSON object for scripts'],
  id: ['ID', 'the id to use'],
  'approval-timeout': ['30m', 'how long an approval request waits; then it counts as denied (default: AGENT_APPROVAL_TIMEOUT, 30m)'],
  reason: ['TEXT', 'why; recorded with the decision'],
  always: ['', 'also approve the same kind of action for the rest of the task, in this workspace'],
  follow: ['', 'keep printing new entries until the task ends'],
  limit: ['N', 'at most N items (default 20)'],
  port: ['N', 'the port to listen on (default 8787)'],
  script: ['FILE', 'a JSON script of the replies (see the README); default: a minimal one'],
  mode: ['M', 'permission mode: default, accept-edits, plan, dont-ask (deny whatever would ask) or bypass'],
  rule: ['R', 'a task rule, e.g. "allow run_command(npm run build)" (repeatable)'],
  tool: ['NAME', 'the tool, e.g. run_command'],
  input: ['JSON', 'the tool\'s input, e.g. \'{"command":"npm test"}\''],
  goal: ['TEXT', 'what the agent keeps doing'],
  every: ['15m|CRON', 'trigger it on this interval or cron schedule'],
  'tasks-per-day': ['N', 'at most N tasks per UTC day'],
  'tokens-per-day': ['N', 'at most N model tokens per UTC day'],
  scope: ['S', 'workspace, user, global, or a full scope string'],
  kind: ['K', 'the memory kind, e.g. fact, preference, procedure'],
  importance: ['0-1', 'how much the memory matters when recall is short of room'],
  check: ['JSON', 'a check that verifies the memory against the workspace'],
  all: ['', 'include superseded and invalidated memories'],
  now: ['', 'run one consolidation now and print its report'],
  team: ['', 'run as an agent team: planner, parallel workers, verifier, memory agent'],
  parallel: ['N', 'team: steps running at once'],
  'max-steps': ['N', 'team: steps started in all'],
  'max-tokens': ['N', 'team: model tokens in all'],
  'max-time': ['2h', 'team: wall-clock time'],
  'max-replans': ['N', 'team: re-plans after a failed step'],
  'max-turns': ['N', 'model turns of the tool loop (default 100; with --team, per worker)'],
  'max-cost': ['USD', 'stop the tool loop at this model spend, e.g. 2.50'],
  revoke: ['', 'stop trusting it'],
  url: ['URL', 'a Streamable HTTP MCP server'],
  header: ['"K: V"', 'an HTTP header for the server; ${VAR} is read from the environment when it starts'],
  env: ['K=V', "a variable for the server's process; ${VAR} is read from the environment when it starts"],
  network: ['DOMAIN', 'a domain the sandboxed server may reach through the sandbox proxy'],
  'read-only': ['DIR', 'a directory the sandboxed server may read: where it is installed, when under a home directory or /tmp (which the sandbox hides)'],
  'no-sandbox': ['', "run the server as the worker's own process, outside the OS sandbox"],
  timeout: ['S', 'seconds one tool call may take (default 60)'],
  debug: ['', 'print the stack trace of an error, and worker logs on the terminal too'],
  help: ['', 'this help'],
};

interface CommandSpec {
  /** The command and its arguments on one line, as a usage error shows it. */
  usage: string;
  about: string;
  /** The flags it takes besides --debug and --help; a text here overrides FLAG_HELP's. */
  flags: (Flag | [Flag, string])[];
  examples: string[];
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    usage: 'agent run "<task>" [--workspace DIR] [--json] [--no-wait] [--mode M] [--approval-timeout 30m] [--team] [...]',
    about:
      'Submit a task and follow it: stage, plan and tool calls as they happen, approvals asked inline at a terminal, then the answer with its evidence. ' +
      'Without a terminal (CI, a pipe, --json) each pending approval is printed on stderr with the commands that decide it; for unattended runs use ' +
      '--mode dont-ask (anything that would ask is denied) and --approval-timeout. Ctrl-C stops following (exit 130); the task keeps running on any worker. ' +
      'Exit codes: 0 completed, 1 failed, 2 bad usage, 3 denied, 4 cancelled, 5 refused, 6 incomplete.',
    flags: [
      ['workspace', 'the directory the task works in (default: the current one)'],
      'no-wait',
      ['json', 'print one JSON object at the end (approval requests still go to stderr)'],
      ['id', 'the task id (default: task-<random>)'],
      'approval-timeout',
      'mode',
      'rule',
      'max-turns',
      'max-cost',
      'team',
      'parallel',
      'max-steps',
      'max-tokens',
      'max-time',
      'max-replans',
    ],
    examples: [
      'agent run "add a --verbose flag and update the README" --workspace ~/src/app',
      'agent run "fix the lint errors" --mode dont-ask --approval-timeout 5m --json   # in CI',
    ],
  },
  status: {
    usage: 'agent status <taskId> [--json]',
    about: "A task's status, stage, plan (a team's steps, evidence and budgets), pending approvals with the change they would make, usage and result.",
    flags: [['json', 'print the documented JSON object (pending approvals carry their whole diff)']],
    examples: ['agent status task-3f9c2a1b7d4e'],
  },
  list: { usage: 'agent list [--limit N] [--json]', about: 'Recent tasks, newest first.', flags: ['limit', 'json'], examples: ['agent list --limit 5'] },
  approve: {
    usage: 'agent approve <taskId> [requestId] [--reason TEXT] [--always] [--json]',
    about: 'Approve a pending request of a task (the only one, when no request id is given).',
    flags: ['reason', 'always', 'json'],
    examples: ['agent approve task-3f9c2a1b7d4e apr-1'],
  },
  deny: {
    usage: 'agent deny <taskId> [requestId] [--reason TEXT] [--json]',
    about: 'Deny a pending request (the only one, when no request id is given); the model is told, with the reason.',
    flags: [['reason', 'why; the model is told'], 'json'],
    examples: ['agent deny task-3f9c2a1b7d4e apr-1 --reason "not on main"'],
  },
  cancel: {
    usage: 'agent cancel <taskId> [--json]',
    about: 'Cancel a running task; its running commands are killed with their process group.',
    flags: ['json'],
    examples: ['agent cancel task-3f9c2a1b7d4e'],
  },
  logs: {
    usage: 'agent logs <taskId> [--follow] [--json]',
    about: "A task's step-by-step trace.",
    flags: ['follow', ['json', 'one JSON object per entry, one per line']],
    examples: ['agent logs task-3f9c2a1b7d4e --follow'],
  },
  'policy check': {
    usage: 'agent policy check --tool NAME --input JSON [--workspace DIR] [--mode M] [--rule R]... [--json]',
    about: 'What the policy would decide for one tool call, with the reasons. Performs nothing (an MCP tool: its server is started to read its annotations).',
    flags: [['tool', 'the tool, e.g. run_command, or an MCP tool such as mcp__github__create_issue'], 'input', 'workspace', 'mode', 'rule', 'json'],
    examples: [`agent policy check --tool run_command --input '{"command":"git push"}'`, 'agent policy check --tool mcp__github__create_issue'],
  },
  'policy list': {
    usage: 'agent policy list [--workspace DIR] [--json]',
    about: 'The rules that apply in a workspace, and where each comes from.',
    flags: ['workspace', 'json'],
    examples: ['agent policy list'],
  },
  'policy add': {
    usage: 'agent policy add "<rule>" [--workspace DIR]',
    about: "Add a rule to this user's policy (for one workspace with --workspace).",
    flags: [['workspace', 'only in this workspace']],
    examples: ['agent policy add "allow run_command(npm run build)"'],
  },
  'policy remove': {
    usage: 'agent policy remove "<rule>" [--workspace DIR]',
    about: "Remove a rule from this user's policy.",
    flags: [['workspace', 'the rule was added for this workspace']],
    examples: ['agent policy remove "allow run_command(npm run build)"'],
  },
  trust: {
    usage: 'agent trust [DIR] [--revoke] [--json]',
    about:
      "Trust the workspace's own files as they are now: .agent/policy.json may allow things, .mcp.json may start its MCP servers and " +
      '.agent/hooks.json may run its hooks (a change to any of them needs `agent trust` again).',
    flags: ['revoke', 'json'],
    examples: ['agent trust ~/src/app'],
  },
  'bg start': {
    usage: 'agent bg start <name> --goal "..." [--every 15m|"<cron>"] [--workspace DIR] [--mode M] [--rule R]... [--tasks-per-day N] [--tokens-per-day N] [--max-turns N]',
    about: 'Start a background agent: it works through messages and scheduled triggers, one task at a time, within daily budgets (mode dont-ask unless --mode says otherwise).',
    flags: [
      'goal',
      'every',
      'workspace',
      ['mode', 'permission mode of its tasks (default dont-ask: nobody is there to ask)'],
      'rule',
      'tasks-per-day',
      'tokens-per-day',
      ['max-turns', 'model turns per task'],
      'json',
    ],
    examples: ['agent bg start triage --goal "label new issues" --every 15m'],
  },
  'bg send': {
    usage: 'agent bg send <name> "<message>" [--id ID] [--json]',
    about: 'Send a background agent a message to work on.',
    flags: [['id', 'a message id (a repeated id is delivered once)'], 'json'],
    examples: ['agent bg send triage "look at issue 42"'],
  },
  'bg pause': {
    usage: 'agent bg pause <name> [--reason TEXT] [--json]',
    about: 'Pause a background agent (messages queue up).',
    flags: ['reason', 'json'],
    examples: ['agent bg pause triage --reason "release freeze"'],
  },
  'bg resume': { usage: 'agent bg resume <name> [--json]', about: 'Resume a paused background agent.', flags: ['json'], examples: ['agent bg resume triage'] },
  'bg stop': {
    usage: 'agent bg stop <name> [--reason TEXT] [--json]',
    about: 'Stop a background agent; its running task, if any, is cancelled.',
    flags: ['reason', 'json'],
    examples: ['agent bg stop triage'],
  },
  'bg list': { usage: 'agent bg list [--json]', about: 'The running background agents.', flags: ['json'], examples: ['agent bg list'] },
  'bg status': {
    usage: 'agent bg status <name> [--json]',
    about: "A background agent's state, budget use, inbox and recent runs.",
    flags: ['json'],
    examples: ['agent bg status triage'],
  },
  memory: {
    usage: 'agent memory add|search|list|show|history|forget|explain|reindex ...',
    about: [
      'The agent memory:',
      '  agent memory add <subject:attribute> "<value>" [--scope workspace|user|global] [--kind K] [--importance 0-1] [--check JSON]',
      '  agent memory search "<query>" | list [--all] [--kind K] | show <id> | history <subject:attribute>',
      '  agent memory forget <id|subject:attribute> [--reason TEXT] | explain <taskId> | reindex',
    ].join('\n'),
    flags: ['scope', 'workspace', 'limit', 'json', 'kind', 'importance', 'check', 'all', ['reason', 'why it is forgotten (forget)']],
    examples: ['agent memory add deploy:target "fly.io, app web-prod"', 'agent memory search "how do we deploy"'],
  },
  dream: {
    usage: 'agent dream [--now] [--scope workspace|user|global|<scope>] [--workspace DIR] [--json]',
    about: 'Memory consolidation: show (and create) its schedule, or with --now run one consolidation and print its report.',
    flags: ['now', 'scope', 'workspace', 'json'],
    examples: ['agent dream --now --scope user'],
  },
  'approvals serve': {
    usage: 'agent approvals serve',
    about: 'Serve the Slack and signed-webhook approval receivers in the foreground until Ctrl-C.',
    flags: [],
    examples: ['agent approvals serve'],
  },
  'approvals key': {
    usage: 'agent approvals key [--json]',
    about: "This user's approver public key, as AGENT_APPROVER_KEYS takes it on another machine.",
    flags: ['json'],
    examples: ['agent approvals key'],
  },
  up: {
    usage: 'agent up',
    about:
      'The embedded Temporal dev server (when none answers at TEMPORAL_ADDRESS) and a worker, in the foreground; also the chat approval receivers when they are configured. Worker logs go to AGENT_HOME/agent.log.',
    flags: [],
    examples: ['agent up'],
  },
  worker: {
    usage: 'agent worker',
    about: 'A worker only, in the foreground until Ctrl-C. Its logs go to AGENT_HOME/agent.log (--debug: also to the terminal).',
    flags: [],
    examples: ['agent worker'],
  },
  down: { usage: 'agent down', about: 'Stop the embedded dev server that `agent run` started in the background.', flags: [], examples: ['agent down'] },
  demo: {
    usage: 'agent demo [--team] [--workspace DIR] [--json]',
    about: 'A complete task (or, with --team, an agent team) with the scripted model: no API key, no network.',
    flags: [['team', 'run the agent-team demo'], ['workspace', 'work here (a sample notes.txt is added if missing; default: a new temporary directory)'], 'json'],
    examples: ['agent demo', 'agent demo --team'],
  },
  'fake-llm': {
    usage: 'agent fake-llm [--port N] [--script FILE]',
    about: 'The scripted Messages API server, in the foreground (see the README).',
    flags: ['port', 'script'],
    examples: ['agent fake-llm --port 8787 --script replies.json'],
  },
  'mcp list': {
    usage: 'agent mcp list [--workspace DIR] [--json]',
    about: "The MCP servers tasks in the workspace use: the user's (AGENT_HOME/mcp.json) and the workspace's trusted .mcp.json. Starts nothing.",
    flags: ['workspace', 'json'],
    examples: ['agent mcp list'],
  },
  'mcp add': {
    usage: 'agent mcp add <name> -- <command> [args...] | agent mcp add <name> --url URL',
    about:
      "Add (or replace) an MCP server in the user's file. A stdio server runs inside the OS sandbox (the workspace writable, no network but --network); " +
      'its tools are named mcp__<name>__<tool> and ask unless read-only or allowed by a rule (`allow mcp__<name>__<tool>`).',
    flags: ['url', 'header', 'env', 'network', 'read-only', 'no-sandbox', 'timeout'],
    examples: [
      'agent mcp add files -- npx -y @modelcontextprotocol/server-filesystem .',
      'agent mcp add github --url https://api.example.com/mcp --header "Authorization: Bearer ${GITHUB_TOKEN}"',
    ],
  },
  'mcp remove': { usage: 'agent mcp remove <name>', about: "Remove an MCP server from the user's file.", flags: [], examples: ['agent mcp remove files'] },
  'mcp test': {
    usage: 'agent mcp test <name> [--workspace DIR] [--json]',
    about: 'Start the server as a worker would and list its tools with the risk the policy gives them.',
    flags: ['workspace', 'json'],
    examples: ['agent mcp test files'],
  },
  doctor: { usage: 'agent doctor [--json]', about: 'What is configured and reachable, with the fix for each problem.', flags: ['json'], examples: ['agent doctor'] },
};

/** Commands whose first argument names a subcommand with its own entry above. */
const GROUPS: Record<string, { about: string; subs: string[] }> = {
  policy: { about: "The permission policy: what a call would be decided, and this user's rules.", subs: ['check', 'list', 'add', 'remove'] },
  bg: { about: 'Background agents: persistent, triggered by messages and schedules.', subs: ['start', 'send', 'pause', 'resume', 'stop', 'list', 'status'] },
  approvals: { about: "Approvals from elsewhere: the chat receivers and this user's approver key.", subs: ['serve', 'key'] },
  mcp: { about: 'MCP tool servers: list, add, remove, test.', subs: ['list', 'add', 'remove', 'test'] },
};

/** A mistake in how the command was typed: one line, then that command's usage line. */
class UsageError extends UserError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, 2);
  }
}

function groupUsage(group: string): string {
  return `agent ${group} ${GROUPS[group]!.subs.join('|')} ... (more: agent ${group} <command> --help)`;
}

/**
 * The table entry for `command [sub]`: a spec key, a group name (no or unknown subcommand given
 * with --help), or a UsageError. `forHelp` lets a bare group show its own help.
 */
function resolveCommand(command: string, sub: string | undefined, forHelp: boolean): { key: string } | { group: string } {
  const group = GROUPS[command];
  if (group) {
    if (sub && group.subs.includes(sub)) return { key: `${command} ${sub}` };
    if (forHelp && !sub) return { group: command };
    const named = sub ? `unknown ${command} command "${sub}"` : `missing the ${command} command`;
    throw new UsageError(`${named} (${group.subs.join(', ')})`, groupUsage(command));
  }
  if (COMMANDS[command]) return { key: command };
  throw new UsageError(
    `unknown command "${command}" (the commands: ${[...Object.keys(COMMANDS).filter((k) => !k.includes(' ')), ...Object.keys(GROUPS)].sort().join(', ')})`,
    'agent <command> [options] (see `agent help`)',
  );
}

function helpText(target: { key: string } | { group: string }): string {
  if ('group' in target) {
    const { about, subs } = GROUPS[target.group]!;
    return [
      `agent ${target.group} — ${about}`,
      '',
      'usage:',
      ...subs.map((s) => `  ${COMMANDS[`${target.group} ${s}`]!.usage}`),
      '',
      `more: agent ${target.group} <command> --help`,
    ].join('\n');
  }
  const spec = COMMANDS[target.key]!;
  const rows = [...spec.flags, 'debug' as const, 'help' as const].map((f) => {
    const [flag, text] = typeof f === 'string' ? [f, FLAG_HELP[f][1]] : f;
    const short = (OPTIONS[flag] as { short?: string }).short;
    const value = FLAG_HELP[flag][0];
    return [`${short ? `-${short}, ` : ''}--${flag}${value ? ` ${value}` : ''}`, text] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `usage: ${spec.usage}`,
    '',
    ...spec.about.split('\n').flatMap((line) => wrap(line, 100)),
    '',
    'options:',
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}${text}`),
    '',
    spec.examples.length > 1 ? 'examples:' : 'example:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** Splits a paragraph into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  if (text.startsWith(' ')) return [text]; // an indented line is laid out already (a synopsis)
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** The usage line a usage error of this command ends with. */
function usageLine(key: string): string {
  return `${COMMANDS[key]!.usage}  (more: agent ${key} --help)`;
}

/** Rejects a flag the command does not take, naming both. */
function checkFlags(key: string, values: Values): void {
  const allowed = new Set<string>(['debug', 'help', ...COMMANDS[key]!.flags.map((f) => (typeof f === 'string' ? f : f[0]))]);
  const stray = Object.keys(values).find((flag) => !allowed.has(flag));
  if (stray) throw new UsageError(`--${stray} does not apply to \`agent ${key}\``, usageLine(key));
}

function need(args: string[], index: number, what: string, key: string): string {
  const value = args[index];
  if (!value) throw new UsageError(`missing ${what}`, usageLine(key));
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

/** Worker logs beyond this size start a new file; the previous one is kept as agent.log.1. */
const LOG_ROTATE_BYTES = 10_000_000;

/**
 * The worker's and the SDK's log lines (activity failures with their stacks, webpack's bundle
 * report, core warnings) go to AGENT_HOME/agent.log: the terminal belongs to the task's progress,
 * and a JSON consumer reads stdout. With --debug they are shown on stderr as well.
 */
async function installWorkerLogging(config: Config, options: { debug: boolean; signals: boolean }): Promise<void> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  const file = embeddedPaths(config).workerLog;
  let fd: number;
  try {
    mkdirSync(config.home, { recursive: true });
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`);
    fd = openSync(file, 'a');
  } catch (err) {
    throw new UserError(`cannot write the worker log ${file} (${(err as Error).message}): make AGENT_HOME writable, or point it elsewhere`);
  }
  const write = (entry: LogEntry) => {
    const meta = entry.meta && Object.keys(entry.meta).length ? ` ${inspect(entry.meta, { breakLength: Infinity, depth: 4 })}` : '';
    const line = `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${meta}\n`;
    // Synchronous: the lines just before a Ctrl-C exit are the ones worth reading.
    writeSync(fd, line);
    if (options.debug) process.stderr.write(line);
  };
  Runtime.install({
    logger: new DefaultLogger(options.debug ? 'DEBUG' : 'INFO', write),
    // Commands that follow a task handle Ctrl-C themselves (detachOnInterrupt); the Runtime's own
    // handler would start a graceful worker shutdown that waits for running activities.
    ...(options.signals ? {} : { shutdownSignals: [] }),
    // The core's lines are forwarded to the logger too (it would write them to stdout otherwise).
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
}

/**
 * Ctrl-C (or SIGTERM) while following a task detaches at once: the task itself lives on in Temporal
 * and any worker picks it up. The process exits without shutting the in-process worker down, since
 * a graceful shutdown waits for the running activity (a `sleep 300` holds it for minutes); the
 * sandboxed command dies with this process, and the retry on another worker reports "outcome unknown".
 * At the approval prompt readline holds the terminal in raw mode, where Ctrl-C is a key, not a
 * signal: follow.ts raises the signal itself, so the prompt is no place where Ctrl-C is lost.
 */
function detachOnInterrupt(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write('\ninterrupted: the task keeps running in Temporal (see `agent list`, `agent status <id>`)\n');
      process.exit(code);
    });
  }
}

/** Each command's module loads when it runs: `agent --help` and a usage error need none of the SDKs, workers and databases behind the commands. */
async function dispatch(command: string, key: string, args: string[], values: Values, ctx: CliContext): Promise<number> {
  if (command === 'run' || command === 'demo' || command === 'logs') detachOnInterrupt();
  if (command === 'demo' || command === 'dream' || command === 'worker' || command === 'up') {
    // `agent worker` and `agent up` keep the Runtime's graceful shutdown on Ctrl-C.
    await installWorkerLogging(ctx.config, { debug: values.debug ?? false, signals: command === 'worker' || command === 'up' || command === 'dream' });
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
      const checked = {
        prompt: need(args, 0, 'the task text, e.g. agent run "fix the failing test"', key),
        team: teamOptions(values),
        ...(values['max-turns'] !== undefined && !values.team ? { maxTurns: positiveInt(values['max-turns'], 'max-turns', 100) } : {}),
        ...(values['max-cost'] !== undefined ? { maxCostUsd: positiveUsd(values['max-cost']) } : {}),
      };
      // The policy parser (and its shell grammar) loads after the cheap checks.
      const { parseMode, parseTaskRules } = await import('./arguments');
      const submission = {
        ...checked,
        workspace: values.workspace ?? process.cwd(),
        wait: !values['no-wait'],
        taskId: values.id,
        approvalTimeoutMs: approvalTimeoutMs ?? ctx.config.approvalTimeoutMs,
        mode: parseMode(values.mode),
        rules: parseTaskRules(values.rule ?? []),
      };
      // Only now the worker's logging (and with it the worker SDK): a usage error above loads neither.
      await installWorkerLogging(ctx.config, { debug: values.debug ?? false, signals: false });
      return await (await import('./commands/run')).runTask(ctx, submission);
    }
    case 'status':
      return await (await import('./commands/tasks')).statusCommand(ctx, need(args, 0, 'the task id', key));
    case 'list':
      return await (await import('./commands/tasks')).listCommand(ctx, positiveInt(values.limit, 'limit', 20));
    case 'approve':
    case 'deny':
      return await (
        await import('./commands/tasks')
      ).decideCommand(ctx, need(args, 0, 'the task id', key), args[1], command === 'approve', { reason: values.reason, always: values.always });
    case 'cancel':
      return await (await import('./commands/tasks')).cancelCommand(ctx, need(args, 0, 'the task id', key));
    case 'logs':
      return await (await import('./commands/tasks')).logsCommand(ctx, need(args, 0, 'the task id', key), values.follow ?? false);
    case 'policy': {
      const sub = args[0]; // resolveCommand checked it
      if (sub === 'check')
        return await (
          await import('./commands/policy')
        ).policyCheckCommand(ctx, { tool: values.tool, input: values.input, workspace: values.workspace, mode: values.mode, rules: values.rule ?? [] });
      if (sub === 'list') return await (await import('./commands/policy')).policyListCommand(ctx, values.workspace);
      if (sub === 'add' || sub === 'remove') return await (await import('./commands/policy')).policyEditCommand(ctx, sub, args[1], values.workspace);
      throw new UserError(`unknown policy command "${sub}" (check, list, add, remove)`, 2);
    }
    case 'trust':
      return await (await import('./commands/policy')).trustCommand(ctx, args[0], values.revoke ?? false);
    case 'bg': {
      const sub = args[0];
      if (sub === 'list') return await (await import('./commands/background')).bgListCommand(ctx);
      const name = need(args, 1, 'the background agent name', key);
      switch (sub) {
        case 'start':
          return await (
            await import('./commands/background')
          ).bgStartCommand(ctx, {
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
          return await (await import('./commands/background')).bgSendCommand(ctx, name, need(args, 2, 'the message text', key), values.id);
        case 'pause':
        case 'resume':
        case 'stop':
          return await (await import('./commands/background')).bgControlCommand(ctx, sub, name, values.reason);
        case 'status':
          return await (await import('./commands/background')).bgStatusCommand(ctx, name);
        default:
          throw new UserError(`unknown bg command "${sub}" (start, send, pause, resume, stop, list, status)`, 2);
      }
    }
    case 'up':
      return await (await import('./commands/server')).upCommand(ctx);
    case 'worker':
      return await (await import('./commands/server')).workerCommand(ctx);
    case 'down':
      return await (await import('./commands/server')).downCommand(ctx);
    case 'demo':
      return await (await import('./commands/demo')).demoCommand(ctx, values.workspace, { team: values.team === true });
    case 'fake-llm':
      return await (await import('./commands/server')).fakeLlmCommand(ctx, positiveInt(values.port, 'port', 8787), values.script);
    case 'memory':
      return await (
        await import('./commands/memory')
      ).memoryCommand(ctx, args[0], args.slice(1), {
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
      return await (await import('./commands/dream')).dreamCommand(ctx, { now: values.now ?? false, scope: values.scope, workspace: values.workspace });
    case 'doctor':
      return await (await import('./commands/doctor')).doctorCommand(ctx);
    case 'mcp': {
      const sub = args[0];
      const mcp = await import('./commands/mcp');
      if (sub === 'list') return await mcp.mcpListCommand(ctx, values.workspace);
      if (sub === 'test') return await mcp.mcpTestCommand(ctx, need(args, 1, 'the server name', key), values.workspace);
      if (sub === 'remove') return await mcp.mcpRemoveCommand(ctx, need(args, 1, 'the server name', key));
      if (sub === 'add')
        return await mcp.mcpAddCommand(ctx, need(args, 1, 'the server name', key), {
          url: values.url,
          headers: values.header ?? [],
          env: values.env ?? [],
          network: values.network ?? [],
          readOnly: values['read-only'] ?? [],
          noSandbox: values['no-sandbox'] ?? false,
          timeout: values.timeout,
          command: args.slice(2),
        });
      throw new UserError(`unknown mcp command "${sub}" (list, add, remove, test)`, 2);
    }
    case 'approvals': {
      const sub = args[0];
      if (sub === 'serve') return await (await import('./commands/approvals')).approvalsServeCommand(ctx);
      if (sub === 'key') return await (await import('./commands/approvals')).approvalsKeyCommand(ctx);
      throw new UserError(`unknown approvals command "${sub}" (serve, key)`, 2);
    }
    default:
      throw new UsageError(`unknown command "${command}"`, 'agent <command> [options] (see `agent help`)');
  }
}

/** One line for a parse error of node:util's parseArgs (its own messages suggest `--` tricks). */
function parseErrorLine(err: Error & { code?: string }): string {
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(err.message);
  if (missing) return `${missing[2]} needs a value`;
  const noValue = /Option '(--[\w-]+)' does not take an argument/.exec(err.message);
  if (noValue) return `${noValue[1]} takes no value`;
  return err.message.split('\n')[0]!;
}

/** The usage line for the command a mistyped argv was meant to run, if it names one. */
function usageFor(argv: string[]): string {
  const { positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false });
  const [command, sub] = positionals;
  try {
    const target = command ? resolveCommand(command, sub, true) : null;
    if (target && 'key' in target) return usageLine(target.key);
    if (target) return groupUsage(target.group);
  } catch (err) {
    if (err instanceof UsageError) return err.usage;
  }
  return 'agent <command> [options] (see `agent help`)';
}

function printUsageError(err: UsageError): number {
  process.stderr.write(`agent: ${printable(err.message)}\nusage: ${err.usage}\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  // `agent status X | head`: the reader left; there is nobody to tell, so leave quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return printUsageError(new UsageError(parseErrorLine(err as Error), usageFor(argv)));
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (!command) {
    process.stdout.write(`${OVERVIEW}\n`);
    return values.help ? 0 : 2;
  }
  let key: string;
  try {
    if (command === 'help') {
      // `agent help`, `agent help run`, `agent help bg start`
      process.stdout.write(`${args[0] ? helpText(resolveCommand(args[0], args[1], true)) : OVERVIEW}\n`);
      return 0;
    }
    const target = resolveCommand(command, args[0], values.help === true);
    if (values.help) {
      process.stdout.write(`${helpText(target)}\n`);
      return 0;
    }
    key = (target as { key: string }).key;
    checkFlags(key, values);
  } catch (err) {
    if (err instanceof UsageError) return printUsageError(err);
    throw err;
  }
  try {
    const ctx = createContext(values.json ?? false);
    return await dispatch(command, key, args, values, ctx);
  } catch (err) {
    if (values.debug) process.stderr.write(`${(err as Error).stack}\n`);
    if (err instanceof UsageError) return printUsageError(err);
    if (err instanceof UserError) {
      process.stderr.write(`agent: ${printable(err.message)}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`agent: ${printable(err.message)}\n`);
      return 2;
    }
    process.stderr.write(`agent: ${printable(innermostMessage(err as Error))}${values.debug ? '' : ' (run with --debug for details)'}\n`);
    return 1;
  }
}
