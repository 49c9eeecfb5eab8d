/**
 * Runs a shell command in its own process group with a minimal environment, a timeout and an
 * output cap. The whole group is killed on timeout or cancellation, so no orphan keeps writing.
 * (The OS sandbox around it arrives with the permission-engine issue.)
 */
import { spawn } from 'node:child_process';
import type { z } from 'zod';
import type { RunCommandInput } from '../../domain/tool-catalog';
import { workspaceRoot } from './workspace';

const OUTPUT_CAP_BYTES = 4 * 1024 * 1024;
/** Variables a build or test command commonly needs; nothing else (secrets included) is passed on. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TZ', 'USER', 'SHELL', 'TMPDIR'];

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export async function runCommand(
  workspace: string,
  input: z.infer<typeof RunCommandInput>,
  options: { signal?: AbortSignal; onOutput?: () => void } = {},
): Promise<CommandResult> {
  const cwd = await workspaceRoot(workspace);
  // An abort listener added to an already-aborted signal never fires: check first.
  if (options.signal?.aborted) throw new Error('run_command cancelled before it started');
  const env = Object.fromEntries(PASSED_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
  return await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn('/bin/bash', ['-c', input.command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
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
