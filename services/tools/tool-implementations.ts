/**
 * One implementation per tool of the catalog (domain/tool-catalog.ts). Adding a tool is its
 * definition there and its implementation here; the type of the record makes a missing one a
 * compile error.
 */
import { stat } from 'node:fs/promises';
import { MemoryInputError } from '../memory/keys';
import { forgetTool, rememberTool } from '../memory/memory-tools';
import { detectSandbox } from '../sandbox/bubblewrap';
import { jobIdFor } from './background-jobs';
import { inspectEnvironmentTool } from './environment';
import { editFileTool, listFilesTool, readFileTool, searchFilesTool, writeFileTool } from './file-tools';
import { formatCommandResult, runCommand } from './run-command';
import { readStoredOutput } from './stored-output';
import type { ToolCall, ToolImplementations } from './tool-call';
import { openWorkspaceFile, resolveInWorkspace, ToolInputError, workspaceRoot } from './workspace';

/** file_info counts the lines of files up to this size; a larger one is described by its size alone. */
const FILE_INFO_MAX_COUNT_BYTES = 10 * 1024 * 1024;
/** A foreground command enforces its own timeout; the runner's bound leaves it room to report it. */
const COMMAND_GRACE_SECONDS = 10;

/** remember / forget: memory errors the model caused come back to it as tool errors. */
async function withMemory(call: ToolCall<'remember' | 'forget'>, act: typeof rememberTool): Promise<string> {
  const { services, request } = call;
  if (!services.memory) throw new ToolInputError('memory is turned off on this worker (AGENT_MEMORY=off); nothing was remembered or forgotten');
  const memory = await services.memory();
  try {
    return await act(memory, { taskId: request.taskId, workspace: request.workspace, user: request.user ?? 'cli' }, call.input);
  } catch (err) {
    if (err instanceof MemoryInputError) throw new ToolInputError(err.message);
    throw err;
  }
}

export const TOOL_IMPLEMENTATIONS: ToolImplementations = {
  read_file: { run: async ({ request, input }) => await readFileTool(request.workspace, input) },
  list_files: { run: async ({ request, input, signal }) => await listFilesTool(request.workspace, input, { signal }) },
  search_files: { run: async ({ request, input, signal }) => await searchFilesTool(request.workspace, input, { signal }) },
  file_info: {
    run: async ({ request, input }) => {
      const target = await resolveInWorkspace(request.workspace, input.path);
      // Symlinks are already followed (and kept inside the workspace) by the resolution.
      const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new ToolInputError(`${input.path} does not exist`) : err;
      });
      const changed = `last changed ${info.mtime.toISOString()}`;
      if (info.isDirectory()) return `${input.path}: directory, ${changed}`;
      if (!info.isFile()) return `${input.path}: not a regular file (a device, FIFO or socket), ${changed}`;
      // Lines are counted through the same checked open as read_file (hard links, escapes), and only for text of a readable size.
      const { handle, size } = await openWorkspaceFile(request.workspace, input.path);
      try {
        if (size > FILE_INFO_MAX_COUNT_BYTES) return `${input.path}: file, ${size} bytes (too large to count lines), ${changed}`;
        const bytes = await handle.readFile();
        if (bytes.includes(0)) return `${input.path}: binary file, ${size} bytes, ${changed}`;
        const lines = bytes.length === 0 ? 0 : bytes.toString('utf8').split('\n').length - (bytes.at(-1) === 0x0a ? 1 : 0);
        return `${input.path}: text file, ${size} bytes, ${lines} lines, ${changed}`;
      } finally {
        await handle.close();
      }
    },
  },
  write_file: { run: async ({ request, input }) => await writeFileTool(request.workspace, input) },
  edit_file: { run: async ({ request, input }) => await editFileTool(request.workspace, input) },
  inspect_environment: { run: async ({ request, signal }) => await inspectEnvironmentTool(request.workspace, { signal }) },
  remember: { run: async (call) => await withMemory(call, rememberTool) },
  forget: { run: async (call) => await withMemory(call, forgetTool) },
  read_output: {
    // A page is never cut again: it fits what the model sees of one output, with room for its header.
    run: async ({ request, input, services }) =>
      await readStoredOutput(services.store, request.taskId, { ...input, limit: Math.max(100, Math.min(input.limit, services.modelOutputLimit - 200)) }),
  },
  command_status: {
    run: async ({ request, input, signal, services }) => await services.jobs.status(input.jobId, request.taskId, { waitSeconds: input.waitSeconds, stop: input.stop, signal }),
  },
  run_command: {
    ownTimeoutSeconds: (input) => (input.background ? 0 : input.timeoutSeconds + COMMAND_GRACE_SECONDS),
    run: async ({ request, input, signal, services }) => {
      const sandbox = await detectSandbox();
      if (!sandbox.available && request.requireSandbox) {
        throw new ToolInputError(`not run: this worker has no OS sandbox (${sandbox.reason}), and the policy allowed the command only because it would be sandboxed`);
      }
      const sandboxPolicy = sandbox.available
        ? { workspace: await workspaceRoot(request.workspace), network: request.network ?? null, hidden: services.sandbox?.hidden, refuse: services.sandbox?.refuse }
        : undefined;
      if (input.background) return await services.jobs.start(jobIdFor(request.effectKey), request.taskId, request.workspace, input, sandboxPolicy);
      const result = await runCommand(request.workspace, input, { signal, sandbox: sandboxPolicy });
      return formatCommandResult(result, input.timeoutSeconds);
    },
  },
};
