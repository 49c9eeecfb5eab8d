/**
 * Executes an approved tool call exactly once, as far as the world can tell (design rule 3):
 * a non-idempotent tool claims its effect in the state store before running and records the
 * outcome after, so a retry after a crash reports "outcome unknown" instead of running it again.
 * Outputs are bounded twice: the model sees at most `modelOutputLimit` bytes, and workflow history
 * holds at most `historyInlineBytes` (the rest is passed by reference).
 */
import { TOOL_SPECS, type ToolName } from '../../domain/tool-catalog';
import { detectSandbox } from '../sandbox/bubblewrap';
import type { StateStore } from '../state/state-store';
import type { Redactor } from './redact';
import { editFileTool, listFilesTool, readFileTool, writeFileTool } from './file-tools';
import { formatCommandResult, runCommand } from './run-command';
import { ToolInputError, workspaceRoot } from './workspace';

export interface ToolRunRequest {
  /** Unique per call across retries and workers (workflow id + tool_use id). */
  effectKey: string;
  tool: ToolName;
  input: Record<string, unknown>;
  workspace: string;
  /** run_command: let the sandbox reach the network (the policy judged the command to need it). */
  allowNetwork?: boolean;
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
  /** The complete output, stored when the model only sees part of it. */
  fullOutputRef?: string;
  /** True when this attempt replayed a recorded outcome instead of running the tool. */
  replayed: boolean;
}

export interface ToolRunContext {
  signal?: AbortSignal;
  heartbeat?: () => void;
}

const PREVIEW_CHARS = 400;

export class ToolRunner {
  constructor(
    private readonly store: StateStore,
    private readonly options: { modelOutputLimit: number; historyInlineBytes: number; redactor?: Redactor },
  ) {}

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
      outcome = await this.outcome('ok', await this.execute(request, context));
    } catch (err) {
      if (!(err instanceof ToolInputError) && !isUserFacingFsError(err)) throw err;
      outcome = await this.outcome('error', (err as Error).message);
    }
    if (!spec.idempotent) await this.store.finishEffect(request.effectKey, JSON.stringify(outcome));
    return outcome;
  }

  private async execute(request: ToolRunRequest, context: ToolRunContext): Promise<string> {
    const { workspace } = request;
    switch (request.tool) {
      case 'read_file':
        return await readFileTool(workspace, TOOL_SPECS.read_file.input.parse(request.input));
      case 'list_files':
        return await listFilesTool(workspace, TOOL_SPECS.list_files.input.parse(request.input));
      case 'write_file':
        return await writeFileTool(workspace, TOOL_SPECS.write_file.input.parse(request.input));
      case 'edit_file':
        return await editFileTool(workspace, TOOL_SPECS.edit_file.input.parse(request.input));
      case 'run_command': {
        const input = TOOL_SPECS.run_command.input.parse(request.input);
        const sandbox = await detectSandbox();
        if (!sandbox.available && request.requireSandbox) {
          throw new ToolInputError(`not run: this worker has no OS sandbox (${sandbox.reason}), and the policy allowed the command only because it would be sandboxed`);
        }
        // Liveness heartbeats come from the activity wrapper; output is only an extra sign of life.
        const result = await runCommand(workspace, input, {
          signal: context.signal,
          onOutput: context.heartbeat,
          sandbox: sandbox.available ? { workspace: await workspaceRoot(workspace), allowNetwork: request.allowNetwork ?? false } : undefined,
        });
        return formatCommandResult(result, input.timeoutSeconds);
      }
    }
  }

  private async outcome(status: ToolOutcome['status'], raw: string): Promise<ToolOutcome> {
    // Secrets are masked before the output reaches the model, workflow history, the state store or logs.
    const output = this.options.redactor ? this.options.redactor.redact(raw) : raw;
    const bytes = Buffer.byteLength(output);
    const truncated = bytes > this.options.modelOutputLimit;
    let modelText = output;
    let fullOutputRef: string | undefined;
    if (truncated) {
      fullOutputRef = await this.store.putBlob(output);
      const head = Buffer.from(output).subarray(0, this.options.modelOutputLimit).toString('utf8');
      modelText = `${head}\n[output truncated: showing the first ${this.options.modelOutputLimit} of ${bytes} bytes; full output stored as ${fullOutputRef}]`;
    }
    const inline = Buffer.byteLength(modelText) <= this.options.historyInlineBytes;
    return {
      status,
      isError: status !== 'ok',
      ...(inline ? { content: modelText } : { contentRef: await this.store.putBlob(modelText) }),
      preview: output.length > PREVIEW_CHARS ? `${output.slice(0, PREVIEW_CHARS)}…` : output,
      bytes,
      truncated,
      ...(fullOutputRef ? { fullOutputRef } : {}),
      replayed: false,
    };
  }
}

/** File-system errors caused by the model's request (not our infrastructure) go back to the model. */
function isUserFacingFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && ['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'EEXIST', 'ENAMETOOLONG', 'ELOOP'].includes(code);
}
