/**
 * The tool catalog: names, input schemas and risk metadata, with no implementations.
 * Workflows, the policy and the CLI all read tool facts from here, so a tool cannot be
 * added without declaring whether it writes and whether it is safe to re-run.
 */
import { z } from 'zod';

/** Risk classes a person reads in an approval prompt; the shell analyser (issue 3) refines `unknown`. */
export const RISK_CLASSES = [
  'read-only',
  'workspace-write',
  'network',
  'package-install',
  'destructive',
  'privilege-escalation',
  'system-wide',
  'unknown',
] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

const relativePath = z.string().min(1).max(4096).describe('Path relative to the workspace root');

export const ReadFileInput = z.strictObject({
  path: relativePath,
  offset: z.number().int().min(1).optional().describe('First line to return (1-based)'),
  limit: z.number().int().min(1).max(100_000).optional().describe('Maximum number of lines to return'),
});

export const ListFilesInput = z.strictObject({
  path: relativePath.default('.'),
  recursive: z.boolean().default(false).describe('List subdirectories too (skips .git and node_modules)'),
});

export const WriteFileInput = z.strictObject({
  path: relativePath,
  content: z.string().max(5_000_000).describe('The complete new content of the file'),
});

export const EditFileInput = z.strictObject({
  path: relativePath,
  oldString: z.string().min(1).max(1_000_000).describe('Exact text to replace; must occur exactly once unless replaceAll is true'),
  newString: z.string().max(1_000_000).describe('The replacement text'),
  replaceAll: z.boolean().default(false).describe('Replace every occurrence instead of requiring exactly one'),
});

export const RunCommandInput = z.strictObject({
  command: z.string().min(1).max(10_000).describe('A shell command, run with cwd = workspace root'),
  timeoutSeconds: z.number().int().min(1).max(600).default(120),
});

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly risk: RiskClass;
  /** Safe to run again after a crash without asking: re-running cannot duplicate an effect. */
  readonly idempotent: boolean;
  readonly writes: boolean;
  readonly timeoutSeconds: number;
}

export const TOOL_SPECS = {
  read_file: {
    name: 'read_file',
    description: 'Read a UTF-8 text file inside the workspace. Returns numbered lines.',
    input: ReadFileInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
  },
  list_files: {
    name: 'list_files',
    description: 'List files and directories inside the workspace.',
    input: ListFilesInput,
    risk: 'read-only',
    idempotent: true,
    writes: false,
    timeoutSeconds: 30,
  },
  write_file: {
    name: 'write_file',
    description: 'Create or overwrite a file inside the workspace with the given content.',
    input: WriteFileInput,
    risk: 'workspace-write',
    idempotent: false,
    writes: true,
    timeoutSeconds: 30,
  },
  edit_file: {
    name: 'edit_file',
    description: 'Replace an exact string in a file inside the workspace. Fails unless the string occurs exactly once (or replaceAll is set).',
    input: EditFileInput,
    risk: 'workspace-write',
    idempotent: false,
    writes: true,
    timeoutSeconds: 30,
  },
  run_command: {
    name: 'run_command',
    description: 'Run a shell command in the workspace root and return its exit code, stdout and stderr.',
    input: RunCommandInput,
    risk: 'unknown',
    idempotent: false,
    writes: true,
    timeoutSeconds: 600,
  },
} as const satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOL_SPECS;
export const TOOL_NAMES = Object.keys(TOOL_SPECS) as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOL_SPECS, name);
}
