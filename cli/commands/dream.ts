/**
 * `agent dream [--now] [--scope S]`: consolidation. Without --now it makes sure the Temporal
 * Schedule exists with the configured cron (the worker does the same at start-up) and shows when it
 * runs next; with --now it runs one consolidation of the scope and prints its report. A run already
 * in progress for the scope is joined, not duplicated.
 */
import { TaskClient } from '../../client/task-client';
import { ensureDreamSchedule, startDream } from '../../workers/dream-schedule';
import { createAgentWorker, type AgentWorker } from '../../workers/worker';
import type { dream, DreamReport } from '../../workflows/dream';
import { resolveScope } from '../arguments';
import type { CliContext } from '../cli-context';
import { ensureServer } from '../embedded';

function printReport(ctx: CliContext, report: DreamReport) {
  const m = report.memories;
  ctx.out(`consolidated ${report.episodes.consolidated}/${report.episodes.planned} episodes of ${report.scope} in ${report.batches} batches (${report.tokens} tokens)`);
  ctx.out(`  memories: ${m.created} new, ${m.superseded} superseded, ${m.confirmed} duplicates merged, ${m.stale} stale ignored, ${m.rejected} rejected`);
  ctx.out(`  decayed: ${report.decayed} unused low-importance memories`);
  if (report.stoppedBy) ctx.out(`  stopped by the ${report.stoppedBy}; the rest waits for the next run`);
}

export async function dreamCommand(ctx: CliContext, options: { now: boolean; scope?: string; workspace?: string }): Promise<number> {
  if (!options.now) {
    const client = await ctx.connect();
    const result = await ensureDreamSchedule(client.client, ctx.config);
    if (result.action === 'disabled') {
      if (ctx.json) ctx.emit(result);
      else ctx.out('the consolidation schedule is off (AGENT_DREAM_SCHEDULE=off); run one with `agent dream --now`');
      return 0;
    }
    const description = await client.client.schedule.getHandle(result.scheduleId).describe();
    const next = description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString());
    if (ctx.json) ctx.emit({ ...result, nextRuns: next, recentRuns: description.info.recentActions.length });
    else {
      ctx.out(`schedule ${result.scheduleId} (${result.action}): cron "${result.cron}" UTC; next runs ${next.join(', ') || 'none'}`);
      ctx.out('run one now with `agent dream --now [--scope workspace|user|global]`');
    }
    return 0;
  }
  const scope = await resolveScope(options.scope, options.workspace);
  const log = (line: string) => (ctx.json ? process.stderr.write(`${line}\n`) : ctx.out(line));
  await ensureServer(ctx.config, { detached: true, log });
  // Like `agent run`: a worker in this process guarantees progress (and owns the embedded memory database).
  let worker: AgentWorker | null = null;
  let running: Promise<void> | null = null;
  try {
    worker = await createAgentWorker(ctx.config);
    running = worker.run();
    const client = TaskClient.overWorkerConnection(worker.connection, ctx.config);
    const { workflowId, runId } = await startDream(client.client, ctx.config, scope, 'cli');
    if (!ctx.json) ctx.out(`▶ consolidating ${scope} (${workflowId})`);
    const report: DreamReport = await client.client.workflow.getHandle<typeof dream>(workflowId, runId).result();
    if (ctx.json) ctx.emit(report);
    else printReport(ctx, report);
    return 0;
  } finally {
    if (worker) {
      worker.worker.shutdown();
      await running;
    }
  }
}
