/**
 * The tool catalog: names, input schemas and risk metadata, with no implementations.
 * Workflows, the policy and the CLI all read tool facts from here, so a tool cannot be
 * added without declaring whether it writes and whether it is safe to re-run.
 */
import { z } from 'zod';
import { once } from './lazy-schema';
import { ForgetInput, RememberInput } from './memory';

/** Risk classes a person reads in an approval prompt; the shell analyser refines `unknown` per command. */
export const RISK_CLASSES = [
  'read-only',
  'workspace-write',
  'network',
  'package-install',
  'destructive',
  'privilege-escalation',
  'system-wide',
  /** Changes the agent's own memory (remember / forget), never the workspace or the machine. */
  'memory',
  'unknown',
] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

const relativePath = once(() => z.string().min(1).max(4096).describe('Path relative to the workspace root'));

export const ReadFileInput = z.lazy(() =>
  z.strictObject({
    path: relativePath(),
    offset: z.number().int().min(1).optional().describe('First line to return (1-based)'),
    limit: z.number().int().min(1).max(100_000).optional().describe('Maximum number of lines to return'),
  }),
);

export const ListFilesInput = z.lazy(() =>
  z.strictObject({
    path: relativePath().default('.'),
    pattern: z
      .string()
      .min(1)
      .max(1_000)
      .optional()
      .describe('Glob matched against paths relative to `path`, e.g. "**/*.ts" or "src/*.json"; lists matching files in all subdirectories'),
    recursive: z.boolean().default(false).describe('List subdirectories too'),
  }),
);

export const SearchFilesInput = z.lazy(() =>
  z.strictObject({
    pattern: z.string().min(1).max(1_000).describe('JavaScript regular expression matched against each line'),
    path: relativePath().default('.').describe('Directory (or file) to search, relative to the workspace root'),
    glob: z.string().min(1).max(1_000).optional().describe('Only search files whose path relative to `path` matches this glob, e.g. "**/*.ts"'),
    caseInsensitive: z.boolean().default(false),
    maxResults: z.number().int().min(1).max(2_000).default(200).describe('Stop after this many matching lines'),
  }),
);

export const FileInfoInput = z.lazy(() =>
  z.strictObject({
    path: relativePath(),
  }),
);

export const WriteFileInput = z.lazy(() =>
  z.strictObject({
    path: relativePath(),
    content: z.string().max(5_000_000).describe('The complete new content of the file'),
  }),
);

export const EditFileInput = z.lazy(() =>
  z.strictObject({
    path: relativePath(),
    oldString: z.string().min(1).max(1_000_000).describe('Exact text to replace; must occur exactly once unless replaceAll is true'),
    newString: z.string().max(1_000_000).describe('The replacement text'),
    replaceAll: z.boolean().default(false).describe('Replace every occurrence instead of requiring exactly one'),
  }),
);

/**
 * Tool arguments larger than this never travel through workflow history (its payload limit is 2 MB,
 * with a warning at 256 KB): the call is answered with an error telling the model to write in parts.
 */
export const MAX_TOOL_INPUT_BYTES = 256 * 1024;

/** Foreground commands block the task, so they get less time than background jobs. */
export const FOREGROUND_TIMEOUT_MAX_SECONDS = 600;
export const BACKGROUND_TIMEOUT_MAX_SECONDS = 3_600;

export const RunCommandInput = z.lazy(() =>
  z
    .strictObject({
      command: z.string().min(1).max(10_000).describe('A shell command, run with cwd = workspace root'),
      timeoutSeconds: z
        .number()
        .int()
        .min(1)
        .max(BACKGROUND_TIMEOUT_MAX_SECONDS)
        .default(120)
        .describe(`Kill the command after this long (foreground: up to ${FOREGROUND_TIMEOUT_MAX_SECONDS}s; background: up to ${BACKGROUND_TIMEOUT_MAX_SECONDS}s)`),
      background: z
        .boolean()
        .default(false)
        .describe('Start the command and return a job id at once (for servers and long builds); read its output or stop it with command_status'),
    })
    .refine((input) => input.background || input.timeoutSeconds <= FOREGROUND_TIMEOUT_MAX_SECONDS, {
      message: `a foreground command may run at most ${FOREGROUND_TIMEOUT_MAX_SECONDS}s; use background: true for longer jobs`,
      path: ['timeoutSeconds'],
    }),
);

export const CommandStatusInput = z.lazy(() =>
  z.strictObject({
    jobId: z.string().regex(/^job-[0-9a-f]{12}$/, 'a job id from run_command, like job-0123456789ab'),
    waitSeconds: z.number().int().min(0).max(60).default(0).describe('Wait up to this long for the job to finish before answering'),
    stop: z.boolean().default(false).describe('Stop the job (kills its whole process group)'),
  }),
);

export const InspectEnvironmentInput = z.lazy(() => z.strictObject({}));

export const ReadOutputInput = z.lazy(() =>
  z.strictObject({
    id: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'an output id from a truncated or cleared tool result, like sha256:0123…'),
    offset: z.number().int().min(0).default(0).describe('Byte offset to start from'),
    limit: z.number().int().min(1).max(50_000).default(20_000).describe('Bytes to return'),
  }),
);

/** What the permission engine judges a call by: the path it names, the command it runs, or the tool alone. */
export type ToolTarget = 'path' | 'command' | 'none';
/**
 * What an "always" answer to an approval becomes: a rule for the exact words of each simple command,
 * one for the directory of the file, or nothing (the next call asks again).
 */
export type AlwaysScope = 'command-prefix' | 'directory' | 'none';
/** When routing offers the tool to the model; a plan that names a tool offers it too. */
export type ToolOffer = 'always' | 'when-writing' | 'when-running-commands' | 'with-run-command';

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly risk: RiskClass;
  /** Safe to run again after a crash without asking: re-running cannot duplicate an effect. */
  readonly idempotent: boolean;
  readonly writes: boolean;
  readonly timeoutSeconds: number;
  readonly target: ToolTarget;
  readonly always: AlwaysScope;
  readonly offer: ToolOffer;
  /** Long output keeps its tail as well as its head (a command's errors come last). */
  readonly keepsTail?: boolean;
  /**
   * The call's argument as a person reads it in traces, approvals and Web UI summaries. The input
   * may not have been validated yet (an invalid call is shown too), so it checks every field's type.
   */
  readonly describe: (input: Record<string, unknown>) => string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const pathArg = (input: Record<string, unknown>) => text(input.path);
/** `/pattern/ in dir` for the search tools; the workspace root is left unsaid. */
const patternArg = (input: Record<string, unknown>) =>
  typeof input.pattern === 'string' ? `/${input.pattern}/${typeof input.path === 'string' && input.path !== '.' ? ` in ${input.path}` : ''}` : pathArg(input);

export const TOOL_SPECS = {
  read_file: {
    name: 'read_file',
    description: 'Read a UTF-8 text file inside the workspace. Returns numbered lines.',
    input: ReadFileInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'path',
    always: 'none',
    offer: 'always',
    describe: pathArg,
  },
  list_files: {
    name: 'list_files',
    description: 'List files and directories inside the workspace, or the files matching a glob pattern. ' + 'Skips files ignored by .gitignore and .git/node_modules.',
    input: ListFilesInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'path',
    always: 'none',
    offer: 'always',
    describe: patternArg,
  },
  file_info: {
    name: 'file_info',
    description:
      'Describe a path without reading it: file or directory, its size, the line count of a text file ' +
      'and when it last changed. Use it to decide whether to read a large file in pages (read_file offset/limit).',
    input: FileInfoInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'path',
    always: 'none',
    offer: 'always',
    describe: pathArg,
  },
  write_file: {
    name: 'write_file',
    description: 'Create or overwrite a file inside the workspace with the given content.',
    input: WriteFileInput,
    risk: 'workspace-write',
    idempotent: false,
    writes: true,
    timeoutSeconds: 30,
    target: 'path',
    always: 'directory',
    offer: 'when-writing',
    describe: pathArg,
  },
  edit_file: {
    name: 'edit_file',
    description: 'Replace an exact string in a file inside the workspace. Fails unless the string occurs exactly once (or replaceAll is set).',
    input: EditFileInput,
    risk: 'workspace-write',
    idempotent: false,
    writes: true,
    timeoutSeconds: 30,
    target: 'path',
    always: 'directory',
    offer: 'when-writing',
    describe: pathArg,
  },
  search_files: {
    name: 'search_files',
    description:
      'Search file contents with a regular expression. Returns "path:line: text" for each matching line. ' +
      'Skips files ignored by .gitignore, binary files, and .git/node_modules.',
    input: SearchFilesInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'path',
    always: 'none',
    offer: 'always',
    describe: patternArg,
  },
  run_command: {
    name: 'run_command',
    description:
      'Run a shell command in the workspace root (inside an OS sandbox) and return its exit code, stdout and stderr. ' +
      'With background: true it returns a job id at once; use command_status to read output or stop it. ' +
      'Background jobs are stopped when the task ends.',
    input: RunCommandInput,
    risk: 'unknown',
    idempotent: false,
    writes: true,
    // The declared bound for one call; a call's own timeoutSeconds (validated above) is usually shorter.
    timeoutSeconds: FOREGROUND_TIMEOUT_MAX_SECONDS,
    target: 'command',
    always: 'command-prefix',
    offer: 'when-running-commands',
    keepsTail: true,
    describe: (input) => `${input.background === true ? '[background] ' : ''}${text(input.command)}`,
  },
  command_status: {
    name: 'command_status',
    description: 'Report whether a background job from run_command is still running, with its output since the last check; can stop it.',
    input: CommandStatusInput,
    // Only ever touches a job this task started.
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 90,
    target: 'none',
    always: 'none',
    offer: 'with-run-command',
    keepsTail: true,
    describe: (input) => (typeof input.jobId === 'string' ? `${input.jobId}${input.stop === true ? ' (stop)' : ''}` : ''),
  },
  inspect_environment: {
    name: 'inspect_environment',
    description:
      'Describe the environment: OS, installed runtimes and their versions, git branch and status, ' +
      'package scripts and build targets, and the NAMES (never values) of environment variables.',
    input: InspectEnvironmentInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'none',
    always: 'none',
    offer: 'always',
    describe: () => '',
  },
  read_output: {
    name: 'read_output',
    description:
      'Read a stored tool output of this task again, a page at a time: the whole output of a truncated result, or one ' +
      'cleared from the context to save space. Use the id the tool result names.',
    input: ReadOutputInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'none',
    always: 'none',
    offer: 'always',
    describe: (input) => (typeof input.id === 'string' ? `${input.id.slice(0, 19)}…${typeof input.offset === 'number' && input.offset ? ` from ${input.offset}` : ''}` : ''),
  },
  remember: {
    name: 'remember',
    description:
      'Remember a fact, preference or procedure for later tasks as subject + attribute = value. ' +
      'Using the same subject and attribute again updates it (the old value is kept in its history).',
    input: RememberInput,
    risk: 'memory',
    // Writes go through a deterministic, deduplicating path: a retry confirms instead of duplicating.
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
    target: 'none',
    always: 'none',
    offer: 'always',
    describe: (input) => (typeof input.subject === 'string' ? `${input.subject}:${String(input.attribute)}` : ''),
  },
  forget: {
    name: 'forget',
    description: 'Retire a remembered fact (by subject:attribute key) that is no longer true, with the reason. It stays in its history.',
    input: ForgetInput,
    risk: 'memory',
    // A second forget of the same key finds nothing: the effect journal replays the first answer instead.
    idempotent: false,
    writes: false,
    timeoutSeconds: 30,
    target: 'none',
    always: 'none',
    offer: 'always',
    describe: (input) => text(input.key),
  },
} as const satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOL_SPECS;
export const TOOL_NAMES = Object.keys(TOOL_SPECS) as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOL_SPECS, name);
}

/**
 * A call as one line for traces and the Web UI's activity summaries: a catalog tool by what it acts on,
 * an MCP tool by its arguments as JSON, an unknown tool by its name.
 */
export function describeCall(tool: string, input: Record<string, unknown>): string {
  const arg = isToolName(tool) ? TOOL_SPECS[tool].describe(input) : tool.startsWith('mcp__') && Object.keys(input).length ? JSON.stringify(input) : '';
  return `${tool}${arg ? ` ${arg.length > 80 ? `${arg.slice(0, 80)}…` : arg}` : ''}`;
}
