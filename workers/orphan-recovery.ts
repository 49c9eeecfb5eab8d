/**
 * Taking over from a worker that was killed. The server learns of a dead worker only through
 * timeouts: an activity it was running stays "started" until its heartbeat timeout (30 s for a model
 * call), and the task's next workflow task waits on the dead worker's sticky queue for another 10 s.
 * Workers record themselves in AGENT_HOME/workers/ with their pid, so a worker starting on the same
 * AGENT_HOME and host knows which predecessors are gone. It fails their started activities by id at
 * once (the retry policy runs them again; a side-effecting tool then answers "outcome unknown"
 * through its effect journal, as after any crash) and sends their workflows' next workflow task to
 * the normal queue.
 *
 * Only the worker that claims a dead record (an atomic rename) acts on it, so two workers starting
 * together never both fail the same activity (the second could fail the first one's retry).
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { writeFileAtomic } from '../services/atomic-file';

interface WorkerRecord {
  identity: string;
  pid: number;
  host: string;
  namespace: string;
  taskQueue: string;
  startedAt: string;
}

export interface RecoveryReport {
  /** Identities of dead workers this worker took over from. */
  deadWorkers: string[];
  /** Activities failed by id so that they run again now, as `workflowId/activityId`. */
  failedActivities: string[];
  /** Workflows whose next workflow task no longer waits for the dead worker's sticky queue. */
  unstuckWorkflows: number;
}

/** The error a taken-over activity attempt fails with; retryable, so the activity runs again. */
export const WORKER_DIED = 'WorkerDied';

/** A unique identity for this worker process: the SDK's default (`pid@host`) repeats after a pid is reused. */
export function workerIdentity(): string {
  return `${process.pid}@${os.hostname()}/${randomUUID().slice(0, 8)}`;
}

const registryDir = (home: string) => path.join(home, 'workers');
const recordFile = (home: string, identity: string) => path.join(registryDir(home), `${encodeURIComponent(identity)}.json`);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records this worker as running; returns the function that removes the record at a clean stop. Throws only if AGENT_HOME is not writable. */
export async function registerWorker(home: string, record: Omit<WorkerRecord, 'pid' | 'host' | 'startedAt'>): Promise<() => Promise<void>> {
  const file = recordFile(home, record.identity);
  const full: WorkerRecord = { ...record, pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(full)}\n`);
  return async () => {
    await rm(file, { force: true });
  };
}

/** Claims the records of dead workers of this host, namespace and queue: each is renamed so only one claimant acts on it. */
async function claimDeadWorkers(home: string, namespace: string, taskQueue: string): Promise<{ dead: WorkerRecord[]; othersAlive: boolean }> {
  const dir = registryDir(home);
  const names = await readdir(dir).catch(() => [] as string[]);
  const dead: WorkerRecord[] = [];
  let othersAlive = false;
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    const record = await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as WorkerRecord)
      .catch(() => null);
    if (!record || record.host !== os.hostname() || record.namespace !== namespace || record.taskQueue !== taskQueue || record.pid === process.pid) continue;
    if (isAlive(record.pid)) {
      othersAlive = true;
      continue;
    }
    const claimed = `${file}.${process.pid}.claimed`;
    try {
      await rename(file, claimed);
    } catch {
      continue; // Another starting worker claimed it first.
    }
    dead.push(record);
    await rm(claimed, { force: true });
  }
  return { dead, othersAlive };
}

/**
 * Takes over the running work of dead workers of this AGENT_HOME. Never throws: recovery only
 * shortens what the server's timeouts would do anyway, so a failure is logged and the timeouts
 * remain the fallback.
 */
export async function recoverFromDeadWorkers(
  client: Client,
  options: { home: string; namespace: string; taskQueue: string; warn: (message: string) => void },
): Promise<RecoveryReport> {
  const report: RecoveryReport = { deadWorkers: [], failedActivities: [], unstuckWorkflows: 0 };
  try {
    const { dead, othersAlive } = await claimDeadWorkers(options.home, options.namespace, options.taskQueue);
    if (!dead.length) return report;
    report.deadWorkers = dead.map((d) => d.identity);
    const deadIdentities = new Set(report.deadWorkers);
    const query = `ExecutionStatus = 'Running' AND TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}'`;
    for await (const execution of client.workflow.list({ query })) {
      const handle = { workflowId: execution.workflowId, runId: execution.runId };
      const described = await client.workflowService.describeWorkflowExecution({ namespace: options.namespace, execution: handle });
      const orphaned = (described.pendingActivities ?? []).filter(
        (a) => a.state === proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED && deadIdentities.has(a.lastWorkerIdentity ?? ''),
      );
      for (const activity of orphaned) {
        const activityId = activity.activityId ?? '';
        await client.activity
          .fail({ ...handle, activityId }, ApplicationFailure.retryable(`the worker running this attempt (${activity.lastWorkerIdentity}) was killed`, WORKER_DIED))
          .then(() => report.failedActivities.push(`${execution.workflowId}/${activityId}`))
          // Finished, timed out or retried meanwhile: nothing left to take over.
          .catch(() => undefined);
      }
      // With no other live worker, every running workflow of the queue was this host's dead worker's
      // (a cached workflow's next task would wait on its sticky queue); otherwise only the orphans' are.
      if (orphaned.length || !othersAlive) {
        await client.workflowService.resetStickyTaskQueue({ namespace: options.namespace, execution: handle }).catch(() => undefined);
        report.unstuckWorkflows++;
      }
    }
  } catch (err) {
    options.warn(`could not take over from a killed worker (the server's timeouts will): ${(err as Error).message.split('\n')[0]}`);
  }
  return report;
}
