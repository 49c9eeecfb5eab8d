/**
 * Runs a shell command in its own process group with a minimal environment, a timeout and an
 * output cap. The whole group is killed on timeout or cancellation, so no orphan keeps writing.
 * With a `sandbox` request the command runs inside bubblewrap (services/sandbox/bubblewrap.ts): the
 * workspace's protected paths are found fresh, and a network grant starts a proxy for this command
 * alone (services/sandbox/network-proxy.ts), closed when the command ends.
 */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { hostEnvironment } from '../config';
import { bubblewrapArgs, detectSandbox, sandboxEntry, SandboxUnavailableError } from '../sandbox/bubblewrap';
import { startNetworkProxy, type NetworkGrant, type NetworkProxy } from '../sandbox/network-proxy';
import { findProtectedPaths } from '../sandbox/protected-paths';
import { allowListedEnv } from './redact';
import { workspaceRoot } from './workspace';

/** How one command is sandboxed: the policy's part (network) and the worker's (what is never reachable). */
export interface SandboxRequest {
  /** The command's workspace (its real path is used). */
  workspace: string;
  /** null: no network at all; otherwise only these domains, through the proxy. */
  network: NetworkGrant | null;
  /** Paths hidden inside the sandbox wherever they are (AGENT_HOME, the approver key). */
  hidden?: string[];
  /** `host[:port]` the proxy refuses whatever the grant says (Temporal, the database, the approvals server). */
  refuse?: string[];
  /** Extra dirs (tests, special setups). */
  extraReadOnly?: string[];
  extraWritable?: string[];
}

const OUTPUT_CAP_BYTES = 4 * 1024 * 1024;

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** What the command reached through the sandbox's proxy and what was refused; absent without network use. */
  network?: string;
}

export interface RunCommandOptions {
  signal?: AbortSignal;
  /**
   * Run inside bubblewrap; its workspace must be the command's workspace. Throws
   * SandboxUnavailableError (never runs unsandboxed) when no sandbox works on this host.
   */
  sandbox?: SandboxRequest;
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
  /**
   * Call once the process has ended: closes the command's network proxy. Returns one line saying
   * what the command reached and what was refused, or null when it used no network.
   */
  release(): Promise<string | null>;
}

/**
 * What to spawn for a command: bash, or bash inside bubblewrap. `extraEnv` is set on top of the
 * allow-listed variables (an MCP server's own configured variables). Throws ToolInputError for a bad workspace.
 */
export async function prepareCommand(workspace: string, command: string, request?: SandboxRequest, extraEnv: Record<string, string> = {}): Promise<PreparedCommand> {
  const cwd = await workspaceRoot(workspace);
  const env = commandEnv(extraEnv);
  // --norc: with a socket on stdin (a hook's JSON), bash takes itself for a remote shell and would run the user's ~/.bashrc.
  if (!request) return { file: '/bin/bash', args: ['--norc', '-c', command], cwd, env, release: async () => null };
  const sandbox = await detectSandbox();
  if (!sandbox.available || !sandbox.path) throw new SandboxUnavailableError(`run_command needs a sandbox, but none is available: ${sandbox.reason}`);
  const sandboxRoot = await realpath(request.workspace).catch(() => request.workspace);
  if (sandboxRoot !== cwd) throw new Error(`sandbox workspace ${request.workspace} is not the command's workspace ${cwd}`);
  const entry = sandboxEntry(command, request.network !== null, sandbox.socat);
  const protect = await findProtectedPaths(cwd);
  let proxy: NetworkProxy | null = null;
  if (request.network) proxy = await startNetworkProxy({ ...request.network, refuse: request.refuse ?? [] });
  let args: string[];
  try {
    args = bubblewrapArgs(
      {
        workspace: cwd,
        extraReadOnly: request.extraReadOnly,
        extraWritable: request.extraWritable,
        hidden: request.hidden,
        protect,
        network: proxy ? { proxySocket: proxy.socketPath } : null,
      },
      env,
      { noNestedUserNamespaces: sandbox.nestedUserNamespacesDisabled === true },
    );
  } catch (err) {
    await proxy?.close();
    throw err;
  }
  // bwrap leads the process group we kill; the sandboxed command is in its own session (--new-session)
  // but dies with bwrap (--die-with-parent), and with it the whole PID namespace, daemons included.
  return {
    file: sandbox.path,
    args: [...args, '--', ...entry],
    cwd,
    env,
    async release() {
      if (!proxy) return null;
      await proxy.close();
      return proxy.summary();
    },
  };
}

/** A command's environment: only variables a build or test needs (secrets such as API keys, tokens and DATABASE_URL never reach it), with `extraEnv` on top. */
export function commandEnv(extraEnv: Record<string, string> = {}): Record<string, string> {
  return { ...allowListedEnv(hostEnvironment()), ...extraEnv };
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
  const prepared = await prepareCommand(workspace, input.command, options.sandbox);
  try {
    // An abort listener added to an already-aborted signal never fires: check first (after the awaits above).
    if (options.signal?.aborted) throw new Error('run_command cancelled before it started');
    const { capped, ...spawned } = await spawnPrepared(prepared, { timeoutSeconds: input.timeoutSeconds, capBytes: OUTPUT_CAP_BYTES, signal: options.signal });
    const note = (stream: 'stdout' | 'stderr') => (capped[stream] ? `${spawned[stream]}\n[output capped at ${OUTPUT_CAP_BYTES} bytes]` : spawned[stream]);
    const result: CommandResult = { ...spawned, stdout: note('stdout'), stderr: note('stderr') };
    const network = await prepared.release();
    return network ? { ...result, network } : result;
  } finally {
    await prepared.release();
  }
}

export interface SpawnOptions {
  timeoutSeconds: number;
  /** What of stdout and of stderr is kept; the rest is dropped (and `capped` says so). */
  capBytes: number;
  /** Written to the command's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Kills the process group when aborted. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs a prepared command as its own process group, killed whole on timeout or abort, keeping up to
 * `capBytes` of each output stream. Rejects only when it cannot start; a failing command is a result.
 */
export async function spawnPrepared(
  { file, args, cwd, env }: PreparedCommand,
  options: SpawnOptions,
): Promise<Omit<CommandResult, 'network'> & { capped: { stdout: boolean; stderr: boolean } }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let timedOut = false;
    const killGroup = () => killProcessGroup(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutSeconds * 1000);
    options.signal?.addEventListener('abort', killGroup, { once: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.on('data', (chunk: Buffer) => {
        if (sizes[stream] >= options.capBytes) return;
        chunks[stream].push(chunk);
        sizes[stream] += chunk.length;
      });
    }
    if (options.stdin !== undefined && child.stdin) {
      // A command that does not read its input must not fail the write.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }
    child.on('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      const text = (stream: 'stdout' | 'stderr') => Buffer.concat(chunks[stream]).toString('utf8');
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: text('stdout'),
        stderr: text('stderr'),
        capped: { stdout: sizes.stdout >= options.capBytes, stderr: sizes.stderr >= options.capBytes },
      });
    });
  });
}

export function formatCommandResult(result: CommandResult, timeoutSeconds: number): string {
  const status = result.timedOut
    ? `timed out after ${timeoutSeconds}s (process group killed)`
    : result.exitCode !== null
      ? `exit code ${result.exitCode}`
      : `killed by ${result.signal}`;
  return [status, result.stdout && `--- stdout ---\n${result.stdout}`, result.stderr && `--- stderr ---\n${result.stderr}`, result.network].filter(Boolean).join('\n');
}
