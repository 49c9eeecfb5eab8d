/**
 * Executes an approved tool call exactly once, as far as the world can tell:
 * a non-idempotent tool claims its effect in the state store before running and records the
 * outcome after, so a retry after a crash reports "outcome unknown" instead of running it again.
 * Outputs are bounded twice: the model sees at most `modelOutputLimit` bytes (the head, or head and
 * tail for commands, whose errors come last), and workflow history holds at most `historyInlineBytes`
 * (the rest is passed by reference). Every output larger than that is stored whole, tagged with its
 * task, so read_output can page it back after the model saw only part of it or after clearing.
 */
import { TOOL_SPECS, type ToolName } from '../../domain/tool-catalog';
import { detectSandbox } from '../sandbox/bubblewrap';
import type { NetworkGrant } from '../sandbox/network-proxy';
import { BlobNotFoundError, type StateStore } from '../state/state-store';
import type { Redactor } from './redact';
import { MemoryInputError } from '../memory/keys';
import type { MemoryService } from '../memory/memory-service';
import { forgetTool, rememberTool } from '../memory/memory-tools';
import { BackgroundJobs, jobIdFor } from './background-jobs';
import { inspectEnvironmentTool } from './environment';
import { editFileTool, listFilesTool, readFileTool, searchFilesTool, writeFileTool } from './file-tools';
import { formatCommandResult, runCommand } from './run-command';
import { ToolInputError, workspaceRoot } from './workspace';

export interface ToolRunRequest {
  /** Unique per call across retries and workers (workflow id + tool_use id). */
  effectKey: string;
  /** The task (workflow id) the call belongs to: background jobs are visible to their own task only. */
  taskId: string;
  /** Who submitted the task: the owner of `user`-scoped memories. */
  user?: string;
  tool: ToolName;
  input: Record<string, unknown>;
  workspace: string;
  /** run_command: the domains the sandbox may reach through its proxy (the policy judged the command to need network); absent: none. */
  network?: NetworkGrant | null;
  /** run_command: refuse to run without the OS sandbox (it was allowed without a human because it would be sandboxed). */
  requireSandbox?: boolean;
}

export interface ToolOutcome {
  status: 'ok' | 'error' | 'outcome-unknown';
  isError: boolean;
  /** What the model sees, inline when small... */
  content?: string;
  /** ...or by reference to the state store when larger. */
  contentRef?: string;
  /** A short head of the output for traces and the CLI. */
  preview: string;
  bytes: number;
  truncated: boolean;
  /** The complete output in the state store (read_output pages it), when it is larger than what history holds inline. */
  outputRef?: string;
  /** True when this attempt replayed a recorded outcome instead of running the tool. */
  replayed: boolean;
}

export interface ToolRunContext {
  signal?: AbortSignal;
}

const PREVIEW_CHARS = 400;
/** A foreground command enforces its own timeout; the runner's bound leaves it room to report it. */
const COMMAND_GRACE_SECONDS = 10;

/** A tool that ran past its declared timeout; reported to the model as an error, not a crash. */
export class ToolTimeoutError extends ToolInputError {}

export interface ToolRunnerOptions {
  modelOutputLimit: number;
  historyInlineBytes: number;
  redactor?: Redactor;
  /** Background jobs of this worker process (one registry per worker). */
  jobs?: BackgroundJobs;
  /** The memory layer, for remember / forget; absent when memory is off. */
  memory?: () => Promise<MemoryService>;
  /** Overrides of the catalog's per-tool timeouts (tests use short ones). */
  timeoutSeconds?: Partial<Record<ToolName, number>>;
  /** What every sandbox hides (the agent's own state) and what its network proxy always refuses (the orchestrator). */
  sandbox?: { hidden: string[]; refuse: string[] };
}

export class ToolRunner {
  readonly jobs: BackgroundJobs;

  constructor(
    private readonly store: StateStore,
    private readonly options: ToolRunnerOptions,
  ) {
    this.jobs = options.jobs ?? new BackgroundJobs();
  }

  /** Throws only on infrastructure failure (state store down); tool errors come back as outcomes. */
  async run(request: ToolRunRequest, context: ToolRunContext = {}): Promise<ToolOutcome> {
    const spec = TOOL_SPECS[request.tool];
    if (!spec.idempotent) {
      const previous = await this.store.beginEffect(request.effectKey);
      if (previous?.state === 'finished') return { ...(JSON.parse(previous.outcome) as ToolOutcome), replayed: true };
      if (previous?.state === 'started') {
        return this.outcome(
          'outcome-unknown',
          `OUTCOME UNKNOWN: ${request.tool} was started at ${previous.startedAt} by an attempt that did not finish ` +
            '(the worker stopped). It was NOT run again, because running it twice could duplicate its effect. ' +
            'Check the current state of the workspace before deciding whether to run it again.',
        );
      }
    }
    let outcome: ToolOutcome;
    try {
      outcome = await this.outcome('ok', await this.withTimeout(request, context, (signal) => this.execute(request, { ...context, signal })), request);
    } catch (err) {
      if (!(err instanceof ToolInputError) && !isUserFacingFsError(err)) throw err;
      outcome = await this.outcome('error', (err as Error).message, request);
    }
    if (!spec.idempotent) await this.store.finishEffect(request.effectKey, JSON.stringify(outcome));
    return outcome;
  }

  /**
   * Enforces the catalog's per-tool timeout. The tool gets a signal that fires at the deadline (or
   * on cancellation) and stops walking or waiting; the answer never waits longer than the deadline.
   */
  private async withTimeout(request: ToolRunRequest, context: ToolRunContext, fn: (signal: AbortSignal) => Promise<string>): Promise<string> {
    const spec = TOOL_SPECS[request.tool];
    const declared = this.options.timeoutSeconds?.[request.tool] ?? spec.timeoutSeconds;
    const ownTimeout = request.tool === 'run_command' && request.input.background !== true ? Number(request.input.timeoutSeconds ?? 0) + COMMAND_GRACE_SECONDS : 0;
    const seconds = Math.max(declared, ownTimeout);
    const controller = new AbortController();
    const onCancel = () => controller.abort(context.signal?.reason);
    if (context.signal?.aborted) onCancel();
    context.signal?.addEventListener('abort', onCancel, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const what = spec.writes ? '; it may or may not have completed, so check before retrying' : '';
        const err = new ToolTimeoutError(`${request.tool} timed out after ${seconds}s${what}`);
        controller.abort(err);
        reject(err);
      }, seconds * 1000);
    });
    try {
      return await Promise.race([fn(controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', onCancel);
    }
  }

  private async execute(request: ToolRunRequest, context: ToolRunContext & { signal: AbortSignal }): Promise<string> {
    const { workspace } = request;
    switch (request.tool) {
      case 'read_file':
        return await readFileTool(workspace, TOOL_SPECS.read_file.input.parse(request.input));
      case 'list_files':
        return await listFilesTool(workspace, TOOL_SPECS.list_files.input.parse(request.input), context);
      case 'search_files':
        return await searchFilesTool(workspace, TOOL_SPECS.search_files.input.parse(request.input), context);
      case 'write_file':
        return await writeFileTool(workspace, TOOL_SPECS.write_file.input.parse(request.input));
      case 'edit_file':
        return await editFileTool(workspace, TOOL_SPECS.edit_file.input.parse(request.input));
      case 'inspect_environment':
        return await inspectEnvironmentTool(workspace, context);
      case 'remember':
      case 'forget': {
        if (!this.options.memory) throw new ToolInputError('memory is turned off on this worker (AGENT_MEMORY=off); nothing was remembered or forgotten');
        const memory = await this.options.memory();
        const ctx = { taskId: request.taskId, workspace, user: request.user ?? 'cli' };
        try {
          return request.tool === 'remember' ? await rememberTool(memory, ctx, request.input) : await forgetTool(memory, ctx, request.input);
        } catch (err) {
          if (err instanceof MemoryInputError) throw new ToolInputError(err.message);
          throw err;
        }
      }
      case 'read_output': {
        const input = TOOL_SPECS.read_output.input.parse(request.input);
        // A page is never cut again: it fits what the model sees of one output, with room for its header.
        return await readStoredOutput(this.store, request.taskId, { ...input, limit: Math.max(100, Math.min(input.limit, this.options.modelOutputLimit - 200)) });
      }
      case 'command_status': {
        const input = TOOL_SPECS.command_status.input.parse(request.input);
        return await this.jobs.status(input.jobId, request.taskId, { waitSeconds: input.waitSeconds, stop: input.stop, signal: context.signal });
      }
      case 'run_command': {
        const input = TOOL_SPECS.run_command.input.parse(request.input);
        const sandbox = await detectSandbox();
        if (!sandbox.available && request.requireSandbox) {
          throw new ToolInputError(`not run: this worker has no OS sandbox (${sandbox.reason}), and the policy allowed the command only because it would be sandboxed`);
        }
        const sandboxPolicy = sandbox.available
          ? { workspace: await workspaceRoot(workspace), network: request.network ?? null, hidden: this.options.sandbox?.hidden, refuse: this.options.sandbox?.refuse }
          : undefined;
        if (input.background) return await this.jobs.start(jobIdFor(request.effectKey), request.taskId, workspace, input, sandboxPolicy);
        const result = await runCommand(workspace, input, { signal: context.signal, sandbox: sandboxPolicy });
        return formatCommandResult(result, input.timeoutSeconds);
      }
    }
  }

  private async outcome(status: ToolOutcome['status'], raw: string, request?: ToolRunRequest): Promise<ToolOutcome> {
    // Secrets are masked before the output reaches the model, workflow history, the state store or logs.
    const output = this.options.redactor ? this.options.redactor.redact(raw) : raw;
    const bytes = Buffer.byteLength(output);
    const limit = this.options.modelOutputLimit;
    // Stored whole (and bound to its task) whenever it is more than history holds inline: read_output can page it back.
    // A read_output page is itself a stored output's part: storing it again would only duplicate it.
    const outputRef = bytes > this.options.historyInlineBytes && request && request.tool !== 'read_output' ? await storeOutput(this.store, request.taskId, request.tool, output) : undefined;
    const truncated = bytes > limit;
    const modelText = truncated ? capForModel(output, bytes, limit, request?.tool === 'run_command' || request?.tool === 'command_status', outputRef) : output;
    const inline = Buffer.byteLength(modelText) <= this.options.historyInlineBytes;
    return {
      status,
      isError: status !== 'ok',
      ...(inline ? { content: modelText } : { contentRef: await this.store.putBlob(modelText) }),
      preview: output.length > PREVIEW_CHARS ? `${output.slice(0, PREVIEW_CHARS)}…` : output,
      bytes,
      truncated,
      ...(outputRef ? { outputRef } : {}),
      replayed: false,
    };
  }
}

/** What a stored tool output holds: the task it belongs to, so another task cannot page it. */
interface StoredOutput {
  kind: 'tool-output';
  taskId: string;
  tool: string;
  text: string;
}

async function storeOutput(store: StateStore, taskId: string, tool: string, text: string): Promise<string> {
  const envelope: StoredOutput = { kind: 'tool-output', taskId, tool, text };
  return await store.putBlob(JSON.stringify(envelope));
}

/** The part of a long output the model sees: the head, or for commands a short head and a long tail (errors come last). */
function capForModel(output: string, bytes: number, limit: number, tailToo: boolean, ref: string | undefined): string {
  const buffer = Buffer.from(output);
  const more = (offset: number) => (ref ? `read_output {"id": "${ref}", "offset": ${offset}} shows more` : 'the rest was not stored');
  if (!tailToo) {
    const head = buffer.subarray(0, limit).toString('utf8');
    return `${head}\n[output truncated: showing the first ${limit.toLocaleString('en-US')} of ${bytes.toLocaleString('en-US')} bytes; ${more(limit)}]`;
  }
  const headBytes = Math.floor(limit * 0.25);
  const tailBytes = limit - headBytes;
  const head = buffer.subarray(0, headBytes).toString('utf8');
  const tail = buffer.subarray(bytes - tailBytes).toString('utf8');
  return `${head}\n[… ${(bytes - limit).toLocaleString('en-US')} bytes in the middle left out of ${bytes.toLocaleString('en-US')}; ${more(headBytes)} …]\n${tail}`;
}

/** read_output: a page of a stored output of this task. Throws ToolInputError for an unknown id or another task's output. */
async function readStoredOutput(store: StateStore, taskId: string, input: { id: string; offset: number; limit: number }): Promise<string> {
  let stored: StoredOutput | null = null;
  try {
    const parsed = JSON.parse(await store.getBlob(input.id)) as Partial<StoredOutput>;
    if (parsed.kind === 'tool-output' && parsed.taskId === taskId && typeof parsed.text === 'string') stored = parsed as StoredOutput;
  } catch (err) {
    if (!(err instanceof BlobNotFoundError) && !(err instanceof SyntaxError)) throw err;
  }
  // Unknown, not an output, or another task's: the same answer, so ids cannot be probed.
  if (!stored) throw new ToolInputError(`no stored output ${input.id} in this task (ids appear in truncated or cleared tool results)`);
  const buffer = Buffer.from(stored.text);
  const from = Math.min(input.offset, buffer.length);
  const to = Math.min(buffer.length, from + input.limit);
  const page = buffer.subarray(from, to).toString('utf8');
  return `[${stored.tool} output ${input.id}: bytes ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${buffer.length.toLocaleString('en-US')}${to < buffer.length ? `; offset ${to} continues` : '; the end'}]\n${page}`;
}

/** File-system errors caused by the model's request (not our infrastructure) go back to the model. */
function isUserFacingFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'EEXIST', 'ENAMETOOLONG', 'ELOOP'].includes(code);
}
