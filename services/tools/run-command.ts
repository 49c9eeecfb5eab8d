/**
 * Runs a shell command in its own process group with a minimal environment, a timeout and an
 * output cap. The whole group is killed on timeout or cancellation, so no orphan keeps writing.
 * With a `sandbox` policy the command runs inside bubblewrap (services/sandbox/bubblewrap.ts).
 */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { bubblewrapArgs, detectSandbox, SandboxUnavailableError, type SandboxPolicy } from '../sandbox/bubblewrap';
import { allowListedEnv } from './redact';
import { workspaceRoot } from './workspace';

const OUTPUT_CAP_BYTES = 4 * 1024 * 1024;

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  signal?: AbortSignal;
  onOutput?: () => void;
  /**
   * Run inside bubblewrap under this policy; its workspace must be the command's workspace. Throws
   * SandboxUnavailableError (never runs unsandboxed) when no sandbox works on this host.
   */
  sandbox?: SandboxPolicy;
}

export interface CommandLine {
  command: string;
  timeoutSeconds: number;
}

export interface PreparedCommand {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** What to spawn for a command: bash, or bash inside bubblewrap. Throws ToolInputError for a bad workspace. */
export async function prepareCommand(workspace: string, command: string, sandboxPolicy?: SandboxPolicy): Promise<PreparedCommand> {
  const cwd = await workspaceRoot(workspace);
  // Only variables a build or test needs; secrets (API keys, tokens, DATABASE_URL) never reach a command.
  const env = allowListedEnv(process.env);
  if (!sandboxPolicy) return { file: '/bin/bash', args: ['-c', command], cwd, env };
  const sandbox = await detectSandbox();
  if (!sandbox.available || !sandbox.path) throw new SandboxUnavailableError(`run_command needs a sandbox, but none is available: ${sandbox.reason}`);
  const sandboxRoot = await realpath(sandboxPolicy.workspace).catch(() => sandboxPolicy.workspace);
  if (sandboxRoot !== cwd) throw new Error(`sandbox workspace ${sandboxPolicy.workspace} is not the command's workspace ${cwd}`);
  // bwrap leads the process group we kill; the sandboxed command is in its own session (--new-session)
  // but dies with bwrap (--die-with-parent), and with it the whole PID namespace, daemons included.
  return { file: sandbox.path, args: [...bubblewrapArgs({ ...sandboxPolicy, workspace: cwd }, env), '--', '/bin/bash', '-c', command], cwd, env };
}

/** Kills a detached child's whole process group; harmless when it is already gone. */
export function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Throws ToolInputError for a bad workspace; a failing command is a result, not an error. */
export async function runCommand(workspace: string, input: CommandLine, options: RunCommandOptions = {}): Promise<CommandResult> {
  const { file, args, cwd, env } = await prepareCommand(workspace, input.command, options.sandbox);
  // An abort listener added to an already-aborted signal never fires: check first (after the awaits above).
  if (options.signal?.aborted) throw new Error('run_command cancelled before it started');
  return await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let timedOut = false;
    const killGroup = () => killProcessGroup(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, input.timeoutSeconds * 1000);
    const onAbort = () => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => {
        options.onOutput?.();
        if (sizes[stream] >= OUTPUT_CAP_BYTES) return;
        chunks[stream].push(chunk);
        sizes[stream] += chunk.length;
      });
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const text = (stream: 'stdout' | 'stderr') => {
        const out = Buffer.concat(chunks[stream]).toString('utf8');
        return sizes[stream] >= OUTPUT_CAP_BYTES ? `${out}\n[output capped at ${OUTPUT_CAP_BYTES} bytes]` : out;
      };
      resolve({ exitCode, signal, timedOut, stdout: text('stdout'), stderr: text('stderr') });
    });
  });
}

export function formatCommandResult(result: CommandResult, timeoutSeconds: number): string {
  const status = result.timedOut
    ? `timed out after ${timeoutSeconds}s (process group killed)`
    : result.exitCode !== null
      ? `exit code ${result.exitCode}`
      : `killed by ${result.signal}`;
  return [status, result.stdout && `--- stdout ---\n${result.stdout}`, result.stderr && `--- stderr ---\n${result.stderr}`]
    .filter(Boolean)
    .join('\n');
}
