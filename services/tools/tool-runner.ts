/**
 * Executes an approved tool call exactly once, as far as the world can tell:
 * a non-idempotent tool claims its effect in the state store before running and records the
 * outcome after, so a retry after a crash reports "outcome unknown" instead of running it again.
 * Outputs are bounded twice: the model sees at most `modelOutputLimit` bytes (the head, or head and
 * tail for commands, whose errors come last), and workflow history holds at most `historyInlineBytes`
 * (the rest is passed by reference). Every output larger than that is stored whole, tagged with its
 * task, so read_output can page it back after the model saw only part of it or after clearing.
 */
import { TOOL_SPECS, isToolName, type ToolName } from '../../domain/tool-catalog';
import type { McpHub } from '../mcp/mcp-hub';
import type { StateStore } from '../state/state-store';
import type { MemoryService } from '../memory/memory-service';
import type { Redactor } from './redact';
import { BackgroundJobs } from './background-jobs';
import { storeOutput } from './stored-output';
import type { ToolRunRequest, ToolServices } from './tool-call';
import { TOOL_IMPLEMENTATIONS } from './tool-implementations';
import { subdirectoryInstructions, subdirectoryInstructionsText } from './project-instructions';
import { ToolInputError, workspaceRoot } from './workspace';

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
  /** The worker's MCP clients, for MCP tools. */
  mcp?: McpHub;
}

/** What the runner needs to know of a tool: the catalog's entry, or for an MCP tool what the gate read from its annotations. */
interface RunSpec {
  idempotent: boolean;
  writes: boolean;
  timeoutSeconds: number;
  keepsTail: boolean;
}

function runSpecOf(request: ToolRunRequest): RunSpec {
  if (isToolName(request.tool)) {
    const spec = TOOL_SPECS[request.tool];
    return { idempotent: spec.idempotent, writes: spec.writes, timeoutSeconds: spec.timeoutSeconds, keepsTail: 'keepsTail' in spec && spec.keepsTail === true };
  }
  if (!request.mcp) throw new ToolInputError(`unknown tool "${request.tool}"`);
  // An MCP tool that is not read-only may have changed something outside, so a timeout says so.
  return { idempotent: request.mcp.idempotent, writes: !request.mcp.readOnly, timeoutSeconds: request.mcp.timeoutSeconds, keepsTail: false };
}

export class ToolRunner {
  readonly jobs: BackgroundJobs;

  private readonly services: ToolServices;

  constructor(
    private readonly store: StateStore,
    private readonly options: ToolRunnerOptions,
  ) {
    this.jobs = options.jobs ?? new BackgroundJobs();
    this.services = { store, jobs: this.jobs, memory: options.memory, modelOutputLimit: options.modelOutputLimit, sandbox: options.sandbox, mcp: options.mcp };
  }

  /** Throws only on infrastructure failure (state store down); tool errors come back as outcomes. */
  async run(request: ToolRunRequest, context: ToolRunContext = {}): Promise<ToolOutcome> {
    const spec = runSpecOf(request);
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
      const input = parseInput(request);
      const output = await this.withTimeout(request, spec, ownTimeoutSeconds(request, input), context, (signal) => this.execute(request, input, signal));
      outcome = await this.outcome('ok', (await this.instructionsFor(request)) + output, request);
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
  private async withTimeout(request: ToolRunRequest, spec: RunSpec, ownSeconds: number, context: ToolRunContext, fn: (signal: AbortSignal) => Promise<string>): Promise<string> {
    const declared = (isToolName(request.tool) ? this.options.timeoutSeconds?.[request.tool] : undefined) ?? spec.timeoutSeconds;
    const seconds = Math.max(declared, ownSeconds);
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

  /**
   * The instruction files (AGENTS.md) of the subdirectories a path tool touched that this task has
   * not been shown yet, to lead its result: the state store claims each file once per task, so a
   * retried call or a second tool in the same directory does not repeat it.
   */
  private async instructionsFor(request: ToolRunRequest): Promise<string> {
    if (!isToolName(request.tool) || TOOL_SPECS[request.tool].target !== 'path' || typeof request.input.path !== 'string') return '';
    const root = await workspaceRoot(request.workspace);
    let text = '';
    for (const file of await subdirectoryInstructions(root, request.input.path)) {
      const key = `instructions/${request.taskId}/${file.label}`;
      if ((await this.store.beginEffect(key)) !== null) continue;
      text += subdirectoryInstructionsText(file);
      await this.store.finishEffect(key, file.label);
    }
    return text;
  }

  /** Runs the tool's one implementation on its parsed arguments. */
  private async execute(request: ToolRunRequest, input: unknown, signal: AbortSignal): Promise<string> {
    if (!isToolName(request.tool)) {
      if (!this.options.mcp || !request.mcp) throw new ToolInputError(`${request.tool} was not run: this worker has no MCP servers`);
      return await this.options.mcp.call(request.workspace, request.mcp, input as Record<string, unknown>, signal);
    }
    // The record pairs each tool with its own input type; indexing by a union of names loses that pairing.
    const implementation = TOOL_IMPLEMENTATIONS[request.tool] as { run(call: unknown): Promise<string> };
    return await implementation.run({ input, request, signal, services: this.services });
  }

  private async outcome(status: ToolOutcome['status'], raw: string, request?: ToolRunRequest): Promise<ToolOutcome> {
    // Secrets are masked before the output reaches the model, workflow history, the state store or logs.
    const output = this.options.redactor ? this.options.redactor.redact(raw) : raw;
    const bytes = Buffer.byteLength(output);
    const limit = this.options.modelOutputLimit;
    // Stored whole (and bound to its task) whenever it is more than history holds inline: read_output can page it back.
    // A read_output page is itself a stored output's part: storing it again would only duplicate it.
    const outputRef =
      bytes > this.options.historyInlineBytes && request && request.tool !== 'read_output' ? await storeOutput(this.store, request.taskId, request.tool, output) : undefined;
    const truncated = bytes > limit;
    const modelText = truncated ? capForModel(output, bytes, limit, request !== undefined && runSpecOf(request).keepsTail, outputRef) : output;
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

/** The arguments parsed with the catalog's schema (defaults filled in). Throws ToolInputError, for the model, when they do not fit it. */
function parseInput(request: ToolRunRequest): unknown {
  // An MCP server checks its own arguments against its schema.
  if (!isToolName(request.tool)) return request.input;
  const parsed = TOOL_SPECS[request.tool].input.safeParse(request.input);
  if (parsed.success) return parsed.data;
  throw new ToolInputError(`invalid arguments for ${request.tool}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
}

/** The call's own bound, if its implementation has one (a foreground command's timeoutSeconds); 0 otherwise. */
function ownTimeoutSeconds(request: ToolRunRequest, input: unknown): number {
  if (!isToolName(request.tool)) return 0;
  const own = TOOL_IMPLEMENTATIONS[request.tool].ownTimeoutSeconds as ((input: unknown) => number) | undefined;
  return own ? own(input) : 0;
}

/** File-system errors caused by the model's request (not our infrastructure) go back to the model. */
function isUserFacingFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'EEXIST', 'ENAMETOOLONG', 'ELOOP'].includes(code);
}
