/**
 * Consolidation ("dream"): turns a scope's recent episodes into structured memories, lets the
 * deterministic write path merge duplicates and resolve contradictions (newest valid value per
 * key wins), decays unused low-importance items, and writes a report.
 *
 * One run at a time per scope: every trigger (the schedule's tick, `agent dream --now`, the
 * episode threshold after a task) starts the workflow id `dream-<hash of scope>` with "use
 * existing", so concurrent triggers join one run. Resumable and idempotent: the episodes are fixed
 * when the run begins, each batch is applied exactly once under its own key together with marking
 * its episodes consolidated, and decay is computed as of the run's start — so a run resumed after a
 * worker crash ends exactly where an uninterrupted one would. Bounded by a token and a time budget;
 * what is left waits for the next run.
 */
import * as wf from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { dreamModel, dreamStore } from './activity-proxies';

export interface DreamInput {
  scope: string;
  trigger: string;
  tokenBudget: number;
  timeBudgetMs: number;
  /** Episodes per model call. */
  batchSize?: number;
  /** Episodes one run takes on at most. */
  maxEpisodes?: number;
}

export interface DreamReport {
  runId: string;
  scope: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  episodes: { planned: number; consolidated: number };
  memories: { created: number; superseded: number; confirmed: number; stale: number; rejected: number };
  decayed: number;
  tokens: number;
  batches: number;
  /** Why the run stopped before covering every planned episode, if it did. */
  stoppedBy: 'token budget' | 'time budget' | null;
}

export async function dream(input: DreamInput): Promise<DreamReport> {
  const info = wf.workflowInfo();
  const runId = `${info.workflowId}/${info.runId}`;
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const batchSize = input.batchSize ?? 10;
  const totals = { created: 0, superseded: 0, confirmed: 0, stale: 0, rejected: 0 };
  let tokens = 0;
  let consolidated = 0;
  let batchesDone = 0;
  let stoppedBy: DreamReport['stoppedBy'] = null;
  let planned = 0;

  const show = (stage: string) =>
    wf.setCurrentDetails(
      [
        `**Consolidating** \`${input.scope}\` (${input.trigger}) · ${stage}`,
        `Episodes: ${consolidated}/${planned} · batches ${batchesDone} · tokens ${tokens}/${input.tokenBudget}`,
        `Memories: ${totals.created} new, ${totals.superseded} superseded, ${totals.confirmed} confirmed, ${totals.stale} stale, ${totals.rejected} rejected`,
      ].join('\n\n'),
    );

  show('planning');
  const begin = await dreamStore.dreamBegin.executeWithOptions({ summary: 'fix the episodes of this run' }, [
    { runId, scope: input.scope, trigger: input.trigger, startedAt, maxEpisodes: input.maxEpisodes ?? 1_000 },
  ]);
  planned = begin.episodeIds.length;
  const batches: string[][] = [];
  for (let i = 0; i < begin.episodeIds.length; i += batchSize) batches.push(begin.episodeIds.slice(i, i + batchSize));

  for (let i = 0; i < batches.length; i++) {
    if (tokens >= input.tokenBudget) stoppedBy = 'token budget';
    else if (Date.now() - started >= input.timeBudgetMs) stoppedBy = 'time budget';
    if (stoppedBy) break;
    show(`batch ${i + 1}/${batches.length}`);
    const r = await dreamModel.dreamBatch.executeWithOptions({ summary: `consolidate batch ${i + 1}/${batches.length}` }, [
      { runId, scope: input.scope, index: i, episodeIds: batches[i]! },
    ]);
    totals.created += r.created;
    totals.superseded += r.superseded;
    totals.confirmed += r.confirmed;
    totals.stale += r.stale;
    totals.rejected += r.rejected;
    tokens += r.tokens;
    consolidated += batches[i]!.length;
    batchesDone++;
  }

  show('decay');
  const { decayed } = await dreamStore.dreamDecay.executeWithOptions({ summary: 'decay unused memories' }, [{ runId, scope: input.scope, asOf: startedAt }]);
  const report: DreamReport = {
    runId,
    scope: input.scope,
    trigger: input.trigger,
    startedAt,
    finishedAt: new Date().toISOString(),
    episodes: { planned, consolidated },
    memories: totals,
    decayed,
    tokens,
    batches: batchesDone,
    stoppedBy,
  };
  await dreamStore.dreamFinish.executeWithOptions({ summary: 'write the report' }, [{ runId, report }]);
  show(stoppedBy ? `stopped by the ${stoppedBy}` : 'done');
  return report;
}

/**
 * What the Temporal Schedule runs (nightly by default): a consolidation per scope with episodes
 * waiting. A scope already being consolidated is skipped, not queued.
 */
export async function dreamTick(input: Omit<DreamInput, 'scope' | 'trigger'>): Promise<{ started: string[]; skipped: string[] }> {
  const scopes = await dreamStore.listDreamScopes.executeWithOptions({ summary: 'scopes with new episodes' }, []);
  const started: string[] = [];
  const skipped: string[] = [];
  for (const { scope, workflowId } of scopes) {
    try {
      await wf.startChild(dream, {
        workflowId,
        args: [{ ...input, scope, trigger: 'schedule' }],
        // The run belongs to its scope, not to this tick: it must finish even after the tick does.
        parentClosePolicy: 'ABANDON',
        staticSummary: `consolidate ${scope}`.slice(0, 200),
      });
      started.push(scope);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      skipped.push(scope);
    }
  }
  return { started, skipped };
}
