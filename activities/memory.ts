/**
 * Memory activities: recall before planning, the memory writer after a task, and the steps of
 * consolidation (dream). Thin: they open the memory service lazily (the embedded PGlite costs a
 * second to start, which a worker that never recalls should not pay), call one of its methods with
 * the model call it needs, and shape small results for history — the recalled block is bounded by
 * its token budget.
 */
import type { EpisodeForMemory } from '../domain/task';
import type { AgentModel, CallOptions } from '../services/llm/agent-model';
import { dreamWorkflowId, scopesFor, type ScopeContext } from '../services/memory/keys';
import type { MemoryService } from '../services/memory/memory-service';
import type { WriteOutcome } from '../services/memory/memory-store';
import type { CandidateRejection } from '../services/memory/memory-writer';
import { memoryErrorOf } from '../services/memory/unavailable';
import { toFailure } from './failures';

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
      const propose = async (knownMemories: string) => {
        const { memories } = await llmCall((o) =>
          model.proposeMemories(
            {
              taskId: episode.taskId,
              prompt: episode.prompt,
              workspace: episode.workspace,
              goal: episode.goal,
              status: episode.status,
              planSteps: episode.planSteps,
              verification: episode.verification,
              head: episode.transcriptHead,
              ...(episode.ledgerRef ? { ledgerRef: episode.ledgerRef } : {}),
              knownMemories,
            },
            o,
          ),
        );
        return memories;
      };
      const triggerDream = services.triggerDream;
      const { report, rejected, scope, dreamDue } = await memory.writeTaskMemories(input, propose, triggerDream ? { dreamEpisodeThreshold: settings.dreamEpisodeThreshold } : {});
      if (dreamDue && triggerDream) await triggerDream(scope, 'episodes');
      return {
        outcomes: report.outcomes.map((o) => ({ action: o.action, scope: o.scope, key: o.key, value: clip(o.value), reason: clip(o.reason, 200) })),
        rejected: rejected.slice(0, 30),
        alreadyApplied: report.alreadyApplied,
        dreamTriggered: dreamDue,
      };
    },

    /** Consolidation step 1: the episodes this run covers, fixed at its start so a resumed run covers the same ones. */
    async dreamBegin(input: { runId: string; scope: string; trigger: string; startedAt: string; maxEpisodes: number }) {
      const memory = await openMemory();
      return await memory.beginConsolidation(input);
    },

    /**
     * Consolidation step 2, per batch of episodes: the model proposes memories, applied exactly
     * once (per run and batch) together with marking the episodes consolidated.
     */
    async dreamBatch(input: { runId: string; scope: string; index: number; episodeIds: string[] }) {
      const memory = await openMemory();
      return await memory.consolidateBatch(input, (batch) =>
        llmCall((o) => model.consolidateEpisodes({ runId: `${input.runId}#${input.index}`, scope: input.scope, ...batch }, o)),
      );
    },

    /** Consolidation step 3: decay unused low-importance items, once per run, as of the run's start. */
    async dreamDecay(input: { runId: string; scope: string; asOf: string }) {
      const memory = await openMemory();
      return { decayed: await memory.decay(input.scope, input.asOf, settings.decayAfterMs, `dream:${input.runId}:decay`) };
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
 * over from an owner that exited). Both are benign, so the worker logs them at DEBUG instead of
 * printing the stack trace of a failed activity; the task's trace carries the one-line reason.
 * Other failures (the model's, already mapped; programming errors) pass unchanged.
 * Every memory activity goes through this.
 */
function plainly<T extends Record<string, (...args: never[]) => Promise<unknown>>>(steps: T): T {
  const wrapped = Object.entries(steps).map(([name, fn]) => [
    name,
    async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err, { classify: memoryErrorOf });
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}
