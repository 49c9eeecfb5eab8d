/**
 * Background jobs for `run_command` with `background: true`: dev servers, watchers, long builds.
 * A job runs exactly like a foreground command (same sandbox, same allow-listed environment, its
 * own process group) but the call returns a job id at once; `command_status` reads its output and
 * can stop it. A job always has a deadline, is stopped when its task ends, and dies with its worker
 * (bubblewrap's --die-with-parent, plus an exit hook for unsandboxed commands), so nothing the
 * agent started outlives what started it.
 *
 * Jobs live in the memory of the worker process that started them. With several workers, a
 * `command_status` that lands on another worker says so instead of guessing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { killProcessGroup, prepareCommand, type CommandLine, type SandboxRequest } from './run-command';
import { ToolInputError } from './workspace';

/** Output kept per job; older output is dropped first (for a server, the latest lines matter). */
const OUTPUT_KEEP_BYTES = 1024 * 1024;
/** What one status call returns at most; the rest is summarised as skipped. */
const STATUS_OUTPUT_BYTES = 64 * 1024;
const MAX_RUNNING_JOBS_PER_TASK = 5;
/** How long a stop request waits to see the job gone before answering. */
const STOP_WAIT_MS = 10_000;

interface Job {
  id: string;
  taskId: string;
  command: string;
  child: ChildProcess;
  startedAt: number;
  deadline: NodeJS.Timeout;
  timeoutSeconds: number;
  chunks: Buffer[];
  /** Bytes ever produced, and the absolute offset of chunks[0]. */
  produced: number;
  keptFrom: number;
  /** Absolute offset up to which output has been shown to the model. */
  readUpTo: number;
  end: { exitCode: number | null; signal: string | null; reason: 'exited' | 'timed out' | 'stopped'; at: number } | null;
  ended: Promise<void>;
  stopRequested: 'timed out' | 'stopped' | null;
}

/** A job id is derived from the call's effect key, so a retried start names the same job. */
export function jobIdFor(effectKey: string): string {
  return `job-${createHash('sha256').update(effectKey).digest('hex').slice(0, 12)}`;
}

const liveRegistries = new Set<BackgroundJobs>();
let exitHookInstalled = false;

export class BackgroundJobs {
  private readonly jobs = new Map<string, Job>();

  constructor() {
    liveRegistries.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // Unsandboxed jobs are detached process groups: without this they would outlive a stopping worker.
      process.once('exit', () => {
        for (const registry of liveRegistries) registry.stopAll();
      });
    }
  }

  /** Starts a job and returns what the model is told. Throws ToolInputError when the task has too many jobs running. */
  async start(jobId: string, taskId: string, workspace: string, input: CommandLine, sandbox?: SandboxRequest): Promise<string> {
    const existing = this.jobs.get(jobId);
    if (existing) return this.describeStart(existing);
    const running = [...this.jobs.values()].filter((j) => j.taskId === taskId && !j.end).length;
    if (running >= MAX_RUNNING_JOBS_PER_TASK) {
      throw new ToolInputError(`this task already has ${running} background jobs running; stop one with command_status (stop: true) first`);
    }
    const prepared = await prepareCommand(workspace, input.command, sandbox);
    const { file, args, cwd, env } = prepared;
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let markEnded!: () => void;
    const job: Job = {
      id: jobId,
      taskId,
      command: input.command,
      child,
      startedAt: Date.now(),
      timeoutSeconds: input.timeoutSeconds,
      deadline: setTimeout(() => this.kill(job, 'timed out'), input.timeoutSeconds * 1000),
      chunks: [],
      produced: 0,
      keptFrom: 0,
      readUpTo: 0,
      end: null,
      ended: new Promise<void>((resolve) => (markEnded = resolve)),
      stopRequested: null,
    };
    // The deadline must not keep a finished worker process alive.
    job.deadline.unref();
    const collect = (chunk: Buffer) => this.append(job, chunk);
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    let finishing = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (finishing) return;
      finishing = true;
      clearTimeout(job.deadline);
      // The job's network proxy closes with it; what it reached is the last line of its output.
      void prepared.release().then((network) => {
        if (network) this.append(job, Buffer.from(`${network}\n`));
        job.end = { exitCode, signal, reason: job.stopRequested ?? 'exited', at: Date.now() };
        markEnded();
      });
    };
    child.on('error', (err) => {
      this.append(job, Buffer.from(`[could not start: ${err.message}]\n`));
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
    this.jobs.set(jobId, job);
    return this.describeStart(job);
  }

  /** Status plus new output; optionally waits for the end, optionally stops the job first. */
  async status(jobId: string, taskId: string, options: { waitSeconds: number; stop: boolean; signal?: AbortSignal }): Promise<string> {
    const job = this.jobs.get(jobId);
    if (!job || job.taskId !== taskId) {
      throw new ToolInputError(`no background job ${jobId} for this task on this worker (it may have been started by a worker that has since stopped, which stops its jobs)`);
    }
    if (options.stop && !job.end) {
      this.kill(job, 'stopped');
      // SIGKILL of the group is immediate, but the sandbox's teardown can lag on a busy machine.
      await waitFor(job.ended, STOP_WAIT_MS, options.signal);
    } else if (options.waitSeconds > 0 && !job.end) {
      await waitFor(job.ended, options.waitSeconds * 1000, options.signal);
    }
    return `${this.describeState(job)}\n${this.takeNewOutput(job)}`;
  }

  /** Stops every job a task started (called when the task ends); returns how many were running. */
  stopTask(taskId: string): number {
    let stopped = 0;
    for (const job of this.jobs.values()) {
      if (job.taskId !== taskId) continue;
      if (!job.end) {
        this.kill(job, 'stopped');
        stopped++;
      }
      this.jobs.delete(job.id);
    }
    return stopped;
  }

  stopAll(): void {
    for (const job of this.jobs.values()) if (!job.end) this.kill(job, 'stopped');
  }

  private kill(job: Job, reason: 'timed out' | 'stopped') {
    job.stopRequested ??= reason;
    killProcessGroup(job.child.pid);
  }

  private append(job: Job, chunk: Buffer) {
    job.chunks.push(chunk);
    job.produced += chunk.length;
    let kept = job.produced - job.keptFrom;
    while (kept > OUTPUT_KEEP_BYTES && job.chunks.length > 1) {
      const dropped = job.chunks.shift()!;
      job.keptFrom += dropped.length;
      kept -= dropped.length;
    }
  }

  private takeNewOutput(job: Job): string {
    const from = Math.max(job.readUpTo, job.keptFrom);
    const lost = from - job.readUpTo;
    const all = Buffer.concat(job.chunks).subarray(from - job.keptFrom);
    job.readUpTo = job.produced;
    if (all.length === 0) return lost ? `[${lost} bytes of older output were dropped]` : '(no new output)';
    const skipped = Math.max(0, all.length - STATUS_OUTPUT_BYTES) + lost;
    const shown = all.subarray(Math.max(0, all.length - STATUS_OUTPUT_BYTES)).toString('utf8');
    return `--- output since last check ---\n${skipped ? `[${skipped} earlier bytes skipped]\n` : ''}${shown}`;
  }

  private describeStart(job: Job): string {
    return (
      `started background job ${job.id}: ${job.command}\n` +
      `It runs for at most ${job.timeoutSeconds}s and is stopped when this task ends. ` +
      `Use command_status with jobId "${job.id}" to read its output (waitSeconds to wait for it to finish) or stop it.`
    );
  }

  private describeState(job: Job): string {
    const ran = (until: number) => `${Math.round((until - job.startedAt) / 100) / 10}s`;
    if (!job.end) {
      return job.stopRequested
        ? `job ${job.id} was told to stop (its process group was killed) and is still exiting: ${job.command}`
        : `job ${job.id} is running (for ${ran(Date.now())}): ${job.command}`;
    }
    const how =
      job.end.reason === 'timed out'
        ? `was killed after its ${job.timeoutSeconds}s limit`
        : job.end.reason === 'stopped'
          ? 'was stopped'
          : job.end.exitCode !== null
            ? `exited with code ${job.end.exitCode}`
            : `was killed by ${job.end.signal}`;
    return `job ${job.id} ${how} after ${ran(job.end.at)}: ${job.command}`;
  }
}

async function waitFor(promise: Promise<void>, ms: number, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
