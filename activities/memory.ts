/**
 * Memory activities: recall before planning, the memory writer after a task, and the steps of
 * consolidation (dream). Thin: they open the memory service lazily (the embedded PGlite costs a
 * second to start, which a worker that never recalls should not pay), call it, and shape small
 * results for history — the recalled block is bounded by its token budget.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { EpisodeForMemory } from '../domain/task';
import type { AgentModel, CallOptions, Usage } from '../services/llm/agent-model';
import { dreamWorkflowId, scopeId, scopesFor, type ScopeContext } from '../services/memory/keys';
import type { MemoryService } from '../services/memory/memory-service';
import { isConnectionLost, isMemoryUnavailable, oneLine } from '../services/memory/unavailable';
import type { WriteOutcome } from '../services/memory/memory-store';
import { parseProposal, toNewMemories, type CandidateRejection } from '../services/memory/memory-writer';
import { renderItem } from '../services/memory/recall';

export interface MemorySettings {
  enabled: boolean;
  recallTokens: number;
  decayAfterMs: number;
  dreamEpisodeThreshold: number;
}

export interface MemoryActivityServices {
  /** Opens the memory service on first use; a failure is retried on the next call. */
  memory: () => Promise<MemoryService>;
  model: AgentModel;
  settings: MemorySettings;
  /** Starts (or joins) consolidation of a scope; the worker provides it (it holds a Temporal client). */
  triggerDream?: (scope: string, trigger: string) => Promise<void>;
}

type LlmCall = <T>(fn: (options: CallOptions) => Promise<T>) => Promise<T>;

const clip = (text: string, n = 200) => (text.length > n ? `${text.slice(0, n)}…` : text);

export interface RecallActivityResult {
  enabled: boolean;
  block: string;
  items: { key: string; scope: string; value: string; score: number; verified: string | null }[];
  rejected: { key: string; scope: string; value: string; rule: string; reason: string }[];
  omitted: number;
  usedTokens: number;
  budgetTokens: number;
  ms: number;
}

export interface WriteActivityResult {
  outcomes: { action: WriteOutcome['action']; scope: string; key: string; value: string; reason: string }[];
  rejected: CandidateRejection[];
  alreadyApplied: boolean;
  dreamTriggered: boolean;
}

/** One line per episode for consolidation: what was asked, what happened, the verifier's evidence. */
function episodeSummary(e: EpisodeForMemory): string {
  return [
    `Goal: ${e.goal}`,
    `Outcome: ${e.status}; verification ${e.verification.passed ? 'passed' : 'did not pass'}; ${e.toolCalls} tool calls`,
    e.planSteps.length ? `Plan: ${e.planSteps.join(' → ')}` : '',
    e.verification.evidence.length ? `Evidence: ${e.verification.evidence.join(' | ')}` : '',
    e.verification.problems.length ? `Problems: ${e.verification.problems.join(' | ')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Failure type when the memory store cannot be opened; tasks go on without memory and say why. */
export const MEMORY_UNAVAILABLE = 'MemoryUnavailable';

export function createMemoryActivities(services: MemoryActivityServices, llmCall: LlmCall) {
  const { model, settings } = services;
  const openMemory = services.memory;

  return plainly({
    /** Recall before planning (no LLM). Recorded per task for `agent memory explain`. */
    async recallMemories(input: { taskId: string; query: string; workspace: string; user: string }): Promise<RecallActivityResult> {
      if (!settings.enabled) return { enabled: false, block: '', items: [], rejected: [], omitted: 0, usedTokens: 0, budgetTokens: 0, ms: 0 };
      const memory = await openMemory();
      const ctx: ScopeContext = { workspace: input.workspace, user: input.user };
      const result = await memory.recall({ taskId: input.taskId, query: input.query, scopes: scopesFor(ctx), workspace: input.workspace, budgetTokens: settings.recallTokens });
      return {
        enabled: true,
        block: result.block,
        items: result.items.map((i) => ({ key: i.key, scope: i.scope, value: clip(i.value), score: i.score, verified: i.verified })),
        rejected: result.rejected.slice(0, 50).map((r) => ({ key: r.key, scope: r.scope, value: clip(r.value, 120), rule: r.rule, reason: clip(r.reason, 300) })),
        omitted: result.omitted.length,
        usedTokens: result.usedTokens,
        budgetTokens: result.budgetTokens,
        ms: result.timingsMs.total,
      };
    },

    /**
     * The memory writer: the model proposes, deterministic code validates, dedupes and supersedes.
     * Applied at most once per task (a retry after the commit skips the model call too). Also
     * indexes the episode and starts consolidation when enough episodes have piled up.
     */
    async writeMemories(input: { episode: EpisodeForMemory; user: string }): Promise<WriteActivityResult> {
      const { episode } = input;
      if (!settings.enabled) return { outcomes: [], rejected: [], alreadyApplied: false, dreamTriggered: false };
      const memory = await openMemory();
      const ctx: ScopeContext = { workspace: episode.workspace, user: input.user };
      const sourceKey = `task:${episode.taskId}`;
      let report = await memory.store.applied(sourceKey);
      let rejected: CandidateRejection[] = [];
      if (!report) {
        const recalled = await memory.store.getRecall(episode.taskId);
        const knownMemories = ((recalled?.recalled ?? []) as Parameters<typeof renderItem>[0][]).map(renderItem).join('\n');
        const { memories: raw } = await llmCall((o) =>
          model.proposeMemories(
            { taskId: episode.taskId, prompt: episode.prompt, workspace: episode.workspace, goal: episode.goal, status: episode.status, planSteps: episode.planSteps, verification: episode.verification, head: episode.transcriptHead, ...(episode.ledgerRef ? { ledgerRef: episode.ledgerRef } : {}), knownMemories },
            o,
          ),
        );
        const parsed = parseProposal({ memories: raw });
        const built = toNewMemories(parsed.candidates, { scope: ctx, source: 'writer', taskId: episode.taskId, validFrom: episode.recordedAt });
        rejected = [...parsed.rejected, ...built.rejected];
        report = await memory.write(built.memories, { sourceKey, meta: { rejected } });
      } else {
        rejected = ((report.meta as { rejected?: CandidateRejection[] } | null)?.rejected ?? []);
      }
      const scope = scopeId('workspace', ctx);
      await memory.store.putEpisode({
        taskId: episode.taskId,
        scope,
        prompt: episode.prompt,
        status: episode.status,
        summary: episodeSummary(episode),
        transcriptHead: episode.transcriptHead,
        data: { planSteps: episode.planSteps, verification: episode.verification, toolCalls: episode.toolCalls },
        recordedAt: episode.recordedAt,
      });
      let dreamTriggered = false;
      if (services.triggerDream && (await memory.store.pendingEpisodeCount(scope)) >= settings.dreamEpisodeThreshold) {
        await services.triggerDream(scope, 'episodes');
        dreamTriggered = true;
      }
      return {
        outcomes: report.outcomes.map((o) => ({ action: o.action, scope: o.scope, key: o.key, value: clip(o.value), reason: clip(o.reason, 200) })),
        rejected: rejected.slice(0, 30),
        alreadyApplied: report.alreadyApplied,
        dreamTriggered,
      };
    },

    /** Consolidation step 1: the episodes this run covers, fixed at its start so a resumed run covers the same ones. */
    async dreamBegin(input: { runId: string; scope: string; trigger: string; startedAt: string; maxEpisodes: number }) {
      const memory = await openMemory();
      const existing = await memory.store.getDreamRun(input.runId);
      if (existing) return { episodeIds: existing.episodeIds, finished: existing.finishedAt !== null };
      const episodeIds = await memory.store.pendingEpisodeIds(input.scope, input.maxEpisodes);
      const run = await memory.store.beginDreamRun({ ...input, episodeIds });
      return { episodeIds: run.episodeIds, finished: run.finishedAt !== null };
    },

    /**
     * Consolidation step 2, per batch of episodes: the model proposes memories, applied exactly
     * once (sourceKey per run and batch) together with marking the episodes consolidated.
     */
    async dreamBatch(input: { runId: string; scope: string; index: number; episodeIds: string[] }) {
      const memory = await openMemory();
      const sourceKey = `dream:${input.runId}:${input.index}`;
      const done = await memory.store.applied(sourceKey);
      const summarise = (report: NonNullable<typeof done>, usage: Usage, rejected: number) => {
        const count = (a: WriteOutcome['action']) => report.outcomes.filter((o) => o.action === a).length;
        return { created: count('created'), superseded: count('superseded'), confirmed: count('confirmed'), stale: count('stale'), rejected, tokens: usage.inputTokens + usage.outputTokens };
      };
      if (done) {
        const meta = (done.meta ?? {}) as { usage?: Usage; rejected?: number };
        return summarise(done, meta.usage ?? { inputTokens: 0, outputTokens: 0 }, meta.rejected ?? 0);
      }
      const episodes = await memory.store.getEpisodes(input.episodeIds);
      const workspace = input.scope.startsWith('workspace:') ? input.scope.slice('workspace:'.length) : '';
      const user = 'dream';
      const known = await memory.store.list({ scopes: [input.scope], limit: 200 });
      const { memories: raw, usage } = await llmCall((o) =>
        model.consolidateEpisodes(
          {
            runId: `${input.runId}#${input.index}`,
            scope: input.scope,
            episodes: episodes.map((e) => ({ taskId: e.taskId, recordedAt: e.recordedAt, prompt: e.prompt, status: e.status, summary: e.summary })),
            knownMemories: known.map(renderItem).join('\n'),
          },
          o,
        ),
      );
      const parsed = parseProposal({ memories: raw });
      // A consolidated fact is as old as the newest episode of the batch, never "now": replaying
      // history must not make an old value look newer than one written since.
      const validFrom = episodes.map((e) => e.recordedAt).sort().at(-1) ?? new Date().toISOString();
      const built = toNewMemories(
        // Consolidation runs for one workspace scope: user-scoped proposals have no user to belong to.
        parsed.candidates.filter((c) => c.scope !== 'user'),
        { scope: { workspace, user }, source: 'dream', validFrom, episodeIds: input.episodeIds, dreamRun: input.runId },
      );
      const rejected = parsed.rejected.length + built.rejected.length + parsed.candidates.filter((c) => c.scope === 'user').length;
      const report = await memory.write(built.memories, { sourceKey, consolidate: { episodeIds: input.episodeIds, runId: input.runId }, meta: { usage, rejected } });
      return summarise(report, usage, rejected);
    },

    /** Consolidation step 3: decay unused low-importance items, once per run, as of the run's start. */
    async dreamDecay(input: { runId: string; scope: string; asOf: string }) {
      const memory = await openMemory();
      const ids = await memory.store.decay([input.scope], input.asOf, settings.decayAfterMs, 0.3, `dream:${input.runId}:decay`);
      await memory.index.remove(ids);
      return { decayed: ids.length };
    },

    /** Consolidation step 4: the run's report, kept with the run. */
    async dreamFinish(input: { runId: string; report: unknown }) {
      const memory = await openMemory();
      await memory.store.finishDreamRun(input.runId, input.report);
      await memory.store.analyze();
    },

    /** For the scheduled tick: every scope with episodes waiting, with its consolidation workflow id. */
    async listDreamScopes() {
      const memory = await openMemory();
      return (await memory.store.scopesWithPendingEpisodes()).map((scope) => ({ scope, workflowId: dreamWorkflowId(scope) }));
    },
  });
}

/**
 * A store that cannot be opened or an index/embedder mismatch needs a person, not another attempt;
 * a dropped connection is retried (the next connection reconnects, or takes the embedded database
 * over from an owner that exited). Both are BENIGN, so the worker logs them at DEBUG instead of
 * printing the stack trace of a failed activity; the task's trace carries the one-line reason.
 * Other failures (the model's, programming errors) pass unchanged.
 */
function plainFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (isMemoryUnavailable(err)) {
    return ApplicationFailure.create({ type: MEMORY_UNAVAILABLE, message: oneLine(err), nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
  }
  if (isConnectionLost(err)) {
    return ApplicationFailure.create({ type: 'MemoryConnectionLost', message: `memory store connection lost: ${oneLine(err)}`, category: ApplicationFailureCategory.BENIGN });
  }
  return err;
}

/** Every memory activity, with its failures told plainly (see plainFailure). */
function plainly<T extends Record<string, (...args: never[]) => Promise<unknown>>>(steps: T): T {
  const wrapped = Object.entries(steps).map(([name, fn]) => [
    name,
    async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw plainFailure(err);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}

