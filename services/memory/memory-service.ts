/**
 * The memory layer's one entry point: relational store + vector index + embedder, wired from
 * config. Activities, the CLI and the bench all use this; nothing else touches the tables.
 */
import path from 'node:path';
import type { EpisodeForMemory } from '../../domain/task';
import type { ModelUsage } from '../../domain/usage';
import type { Config } from '../config';
import { openPglite, openPostgres, type MemoryDatabase } from './database';
import { createEmbedder, type Embedder } from './embeddings';
import { memoryKey, MemoryInputError, parseKey, scopeId, scopesFor, type MemoryKind, type ScopeContext, type ScopeKind } from './keys';
import { MemoryStore, type RecallRecord, type WriteOutcome, type WriteReport } from './memory-store';
import { NoVectorIndex } from './no-vector-index';
import { PGVECTOR_FIX, PgVectorIndex, PgVectorMissingError } from './pgvector-index';
import { QdrantIndex } from './qdrant-index';
import { parseProposal, toNewMemories, episodeSummary, type CandidateRejection } from './memory-writer';
import { recall, renderItem, type RecallResult } from './recall';
import { CheckSpecSchema, MAX_VALUE_CHARS, type CheckSpec, type MemoryItem, type MemorySource, type NewMemory } from './types';
import { isConnectionLost, isMemoryUnavailable, MemoryUnavailableError, oneLine, tellOnce } from './unavailable';
import { VectorIndexError, type VectorIndex } from './vector-index';

/** Recorded as the index identity while there is no vector index, so vectors are built once one appears. */
const NO_VECTORS = 'none';
/** Consolidation's decay retires only items less important than this. */
const DECAY_BELOW_IMPORTANCE = 0.3;

/** An episode as consolidation shows it to the model. */
export interface ConsolidationEpisode {
  taskId: string;
  recordedAt: string;
  prompt: string;
  status: string;
  summary: string;
}

/** What one consolidation batch changed, for the run's report. */
export interface ConsolidationCounts {
  created: number;
  superseded: number;
  confirmed: number;
  stale: number;
  rejected: number;
  tokens: number;
}

export interface MemoryParts {
  db: MemoryDatabase;
  index: VectorIndex;
  embedder: Embedder;
}

/** What an item's vector is made from: the key in words plus the value. */
export const embeddingText = (item: Pick<MemoryItem, 'subject' | 'attribute' | 'value'>) =>
  `${item.subject.replace(/-/g, ' ')} ${item.attribute.replace(/-/g, ' ')}: ${item.value}`;

export interface ExplicitMemory {
  scope: ScopeKind;
  subject: string;
  attribute: string;
  value: string;
  kind?: MemoryKind;
  importance?: number;
  confidence?: number;
  check?: unknown;
  source: MemorySource;
  taskId?: string;
  message?: string;
}

export class MemoryService {
  readonly store: MemoryStore;
  /** Items indexed when opened with `reindex`. */
  reindexed: number | null = null;
  private vectorIndex: VectorIndex;

  private constructor(
    readonly db: MemoryDatabase,
    index: VectorIndex,
    readonly embedder: Embedder,
  ) {
    this.store = new MemoryStore(db.pool);
    this.vectorIndex = index;
  }

  /** The vector index in use: the configured one, or NoVectorIndex when the database has no pgvector. */
  get index(): VectorIndex {
    return this.vectorIndex;
  }

  /** What a person should know about this memory (one line), or null when it runs as configured: today, that recall has no vectors. */
  get notice(): string | null {
    const index = this.vectorIndex;
    if (!(index instanceof NoVectorIndex)) return null;
    return `memory: ${this.db.where} has ${index.reason}, so recall uses full-text and key matches only; for vector recall ${index.fix}`;
  }

  /**
   * Opens the configured database and index, migrates, and checks the index matches the embedder.
   * Throws MemoryUnavailableError (or VectorIndexError / EmbeddingError) with what to fix.
   */
  static async open(config: Config, options: { reindex?: boolean } = {}): Promise<MemoryService> {
    // A new owner of the embedded database migrates it before anyone else may join.
    const db = config.databaseUrl ? openPostgres(config.databaseUrl) : await openPglite(path.join(config.home, 'memory'), { prepare: (pool) => new MemoryStore(pool).migrate() });
    try {
      const m = config.memory;
      const index: VectorIndex = m.qdrant ? new QdrantIndex({ url: m.qdrant.url, apiKey: m.qdrant.apiKey, collection: m.qdrant.collection }) : new PgVectorIndex(db.pool);
      const embedder = createEmbedder({ provider: m.embeddings.provider, url: m.embeddings.url, model: m.embeddings.model, apiKey: m.embeddings.apiKey, dims: m.embeddings.dims });
      return await MemoryService.fromParts({ db, index, embedder }, options);
    } catch (err) {
      await db.close().catch(() => undefined);
      // A server that is down or refuses us is for a person to fix; say which one, in one line.
      if (db.kind === 'postgres' && !isMemoryUnavailable(err) && (isConnectionLost(err) || /^(28|3D)/.test(String((err as { code?: string }).code ?? '')))) {
        throw new MemoryUnavailableError(`cannot reach the memory store, ${db.where}: ${oneLine(err)} — start it or fix DATABASE_URL`);
      }
      throw err;
    }
  }

  /**
   * Migrates and checks the index (or, with `reindex`, rebuilds it for the configured embedder).
   * Closes the database and rethrows on failure.
   */
  static async fromParts(parts: MemoryParts, options: { reindex?: boolean } = {}): Promise<MemoryService> {
    const service = new MemoryService(parts.db, parts.index, parts.embedder);
    try {
      await service.store.migrate();
      // Fresh statistics keep the planner on the GIN and HNSW indexes (PGlite never analyzes by itself).
      await service.store.analyze();
      if (options.reindex) service.reindexed = await service.reindex();
      else await service.ensureIndex();
      return service;
    } catch (err) {
      await service.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Vectors of two embedders (or an index that never saw the items) must not meet: refuse and say
   * how to fix. A PostgreSQL without pgvector switches recall to text and keys instead of failing;
   * once pgvector is there, the items written meanwhile are indexed here, with no command needed.
   */
  private async ensureIndex(): Promise<void> {
    const dims = await this.embedder.dimensions();
    const identity = `${this.vectorIndex.kind}|${this.embedder.id}|${dims}`;
    const recorded = await this.store.getMeta('vector-index');
    if (recorded && recorded !== NO_VECTORS && recorded !== identity) {
      throw new VectorIndexError(`the memory vector index was built as ${recorded} but ${identity} is configured: run \`agent memory reindex\` (or restore the previous settings)`);
    }
    if (!(await this.ensureOrFallBack(dims))) {
      if (recorded !== NO_VECTORS) await this.store.setMeta('vector-index', NO_VECTORS);
      return;
    }
    if (recorded === NO_VECTORS) await this.indexCurrentItems();
    if (recorded !== identity) await this.store.setMeta('vector-index', identity);
  }

  /** Creates the index; false (and NoVectorIndex from now on) when the database cannot have pgvector. */
  private async ensureOrFallBack(dims: number): Promise<boolean> {
    if (this.vectorIndex.kind === 'none') return false;
    try {
      await this.vectorIndex.ensure(dims);
      return true;
    } catch (err) {
      if (!(err instanceof PgVectorMissingError)) throw err;
      this.vectorIndex = new NoVectorIndex(`no pgvector extension (${err.serverMessage})`, PGVECTOR_FIX);
      return false;
    }
  }

  /** Upserts every current item (idempotent, so two processes doing it at once only repeat work). Returns how many. */
  private async indexCurrentItems(): Promise<number> {
    let n = 0;
    for await (const page of this.store.currentItems()) {
      const vectors = await this.embedder.embed(page.map(embeddingText), 'document');
      await this.vectorIndex.upsert(page.map((item, i) => ({ id: item.id, scope: item.scope, vector: vectors[i]! })));
      n += page.length;
    }
    return n;
  }

  /** Rebuilds the vector index from the relational store for the configured embedder. Returns the number of items indexed (0 without a vector index). */
  async reindex(): Promise<number> {
    const dims = await this.embedder.dimensions();
    await this.vectorIndex.clear();
    if (!(await this.ensureOrFallBack(dims))) {
      await this.store.setMeta('vector-index', NO_VECTORS);
      return 0;
    }
    await this.store.setMeta('vector-index', `${this.vectorIndex.kind}|${this.embedder.id}|${dims}`);
    return await this.indexCurrentItems();
  }

  /** Recall for a task or a search; with taskId the result is recorded for `agent memory explain`. */
  async recall(input: { taskId?: string; query: string; scopes: string[]; workspace?: string; budgetTokens: number }): Promise<RecallResult> {
    const result = await recall({ store: this.store, index: this.vectorIndex, embedder: this.embedder }, input);
    if (input.taskId) {
      await this.store.putRecall({
        taskId: input.taskId,
        query: input.query.slice(0, 4_000),
        scopes: input.scopes,
        budgetTokens: result.budgetTokens,
        usedTokens: result.usedTokens,
        recalled: result.items,
        rejected: result.rejected,
        omitted: result.omitted.length,
        block: result.block,
      });
    }
    return result;
  }

  /**
   * Writes validated memories (see MemoryStore.apply) and brings the vector index in line: new
   * items in, retired ones out. The index step also runs for a batch applied before, so a crash
   * between the database commit and the index update heals on the retry.
   */
  async write(memories: NewMemory[], options: { sourceKey?: string; consolidate?: { episodeIds: string[]; runId: string }; meta?: unknown } = {}): Promise<WriteReport> {
    const report = await this.store.apply(memories, options);
    await this.syncIndex(report.outcomes);
    return report;
  }

  private async syncIndex(outcomes: WriteOutcome[]): Promise<void> {
    if (this.vectorIndex.kind === 'none') return;
    const fresh = outcomes.filter((o) => o.action === 'created' || o.action === 'superseded');
    const retired = outcomes.flatMap((o) => (o.replaced ? [o.replaced.id] : []));
    if (retired.length) await this.index.remove(retired);
    if (!fresh.length) return;
    // Only items still current: a later batch may already have replaced one of these.
    const items = (await this.store.getItems(fresh.map((o) => o.id))).filter((i) => !i.invalidatedAt);
    if (!items.length) return;
    const vectors = await this.embedder.embed(items.map(embeddingText), 'document');
    await this.index.upsert(items.map((item, i) => ({ id: item.id, scope: item.scope, vector: vectors[i]! })));
  }

  /**
   * The memory writer after a task: `propose` (the model) suggests memories from what the task
   * knew already; each item is validated on its own, deduped and superseded by key, and the episode
   * is kept for consolidation. Applied at most once per task: a retry after the commit skips the
   * proposal too. With `dreamEpisodeThreshold`, says whether enough episodes wait for a
   * consolidation of the task's workspace. Throws what `propose` throws, MemoryInputError for a
   * proposal without a memories list, and the store's errors.
   */
  async writeTaskMemories(
    input: { episode: EpisodeForMemory; user: string },
    propose: (knownMemories: string) => Promise<unknown[]>,
    options: { dreamEpisodeThreshold?: number } = {},
  ): Promise<{ report: WriteReport; rejected: CandidateRejection[]; scope: string; dreamDue: boolean }> {
    const { episode } = input;
    const ctx: ScopeContext = { workspace: episode.workspace, user: input.user };
    const sourceKey = `task:${episode.taskId}`;
    let report = await this.store.applied(sourceKey);
    let rejected: CandidateRejection[];
    if (!report) {
      const recalled = await this.store.getRecall(episode.taskId);
      const knownMemories = ((recalled?.recalled ?? []) as Parameters<typeof renderItem>[0][]).map(renderItem).join('\n');
      const parsed = parseProposal({ memories: await propose(knownMemories) });
      const built = toNewMemories(parsed.candidates, { scope: ctx, source: 'writer', taskId: episode.taskId, validFrom: episode.recordedAt });
      rejected = [...parsed.rejected, ...built.rejected];
      report = await this.write(built.memories, { sourceKey, meta: { rejected } });
    } else {
      rejected = (report.meta as { rejected?: CandidateRejection[] } | null)?.rejected ?? [];
    }
    const scope = scopeId('workspace', ctx);
    await this.store.putEpisode({
      taskId: episode.taskId,
      scope,
      prompt: episode.prompt,
      status: episode.status,
      summary: episodeSummary(episode),
      transcriptHead: episode.transcriptHead,
      data: { planSteps: episode.planSteps, verification: episode.verification, toolCalls: episode.toolCalls },
      recordedAt: episode.recordedAt,
    });
    const threshold = options.dreamEpisodeThreshold;
    const dreamDue = threshold !== undefined && (await this.store.pendingEpisodeCount(scope)) >= threshold;
    return { report, rejected, scope, dreamDue };
  }

  /** Consolidation's first step: the episodes a run covers, fixed at its start so a resumed run covers the same ones. */
  async beginConsolidation(input: { runId: string; scope: string; trigger: string; startedAt: string; maxEpisodes: number }): Promise<{ episodeIds: string[]; finished: boolean }> {
    const existing = await this.store.getDreamRun(input.runId);
    if (existing) return { episodeIds: existing.episodeIds, finished: existing.finishedAt !== null };
    const episodeIds = await this.store.pendingEpisodeIds(input.scope, input.maxEpisodes);
    const run = await this.store.beginDreamRun({ ...input, episodeIds });
    return { episodeIds: run.episodeIds, finished: run.finishedAt !== null };
  }

  /**
   * Consolidation of one batch of episodes: `propose` (the model) suggests memories from them,
   * applied exactly once (per run and batch) together with marking the episodes consolidated; a
   * retry returns the first application's counts without calling `propose`. Throws what
   * `propose` throws, MemoryInputError for a proposal without a memories list, and the store's errors.
   */
  async consolidateBatch(
    input: { runId: string; scope: string; index: number; episodeIds: string[] },
    propose: (batch: { episodes: ConsolidationEpisode[]; knownMemories: string }) => Promise<{ memories: unknown[]; usage: ModelUsage }>,
  ): Promise<ConsolidationCounts> {
    const sourceKey = `dream:${input.runId}:${input.index}`;
    const counts = (report: WriteReport, usage: ModelUsage, rejected: number): ConsolidationCounts => {
      const count = (a: WriteOutcome['action']) => report.outcomes.filter((o) => o.action === a).length;
      return {
        created: count('created'),
        superseded: count('superseded'),
        confirmed: count('confirmed'),
        stale: count('stale'),
        rejected,
        tokens: usage.inputTokens + usage.outputTokens,
      };
    };
    const done = await this.store.applied(sourceKey);
    if (done) {
      const meta = (done.meta ?? {}) as { usage?: ModelUsage; rejected?: number };
      return counts(done, meta.usage ?? { inputTokens: 0, outputTokens: 0 }, meta.rejected ?? 0);
    }
    const episodes = await this.store.getEpisodes(input.episodeIds);
    const workspace = input.scope.startsWith('workspace:') ? input.scope.slice('workspace:'.length) : '';
    const user = 'dream';
    const known = await this.store.list({ scopes: [input.scope], limit: 200 });
    const { memories: raw, usage } = await propose({
      episodes: episodes.map((e) => ({ taskId: e.taskId, recordedAt: e.recordedAt, prompt: e.prompt, status: e.status, summary: e.summary })),
      knownMemories: known.map(renderItem).join('\n'),
    });
    const parsed = parseProposal({ memories: raw });
    // A consolidated fact is as old as the newest episode of the batch, never "now": replaying
    // history must not make an old value look newer than one written since.
    const validFrom =
      episodes
        .map((e) => e.recordedAt)
        .sort()
        .at(-1) ?? new Date().toISOString();
    const built = toNewMemories(
      // Consolidation runs for one workspace scope: user-scoped proposals have no user to belong to.
      parsed.candidates.filter((c) => c.scope !== 'user'),
      { scope: { workspace, user }, source: 'dream', validFrom, episodeIds: input.episodeIds, dreamRun: input.runId },
    );
    const rejected = parsed.rejected.length + built.rejected.length + parsed.candidates.filter((c) => c.scope === 'user').length;
    const report = await this.write(built.memories, { sourceKey, consolidate: { episodeIds: input.episodeIds, runId: input.runId }, meta: { usage, rejected } });
    return counts(report, usage, rejected);
  }

  /** Retires unused low-importance items of a scope, once per `sourceKey`, as of `asOf`, and drops them from the vector index. Returns how many. */
  async decay(scope: string, asOf: string, unusedForMs: number, sourceKey: string): Promise<number> {
    const ids = await this.store.decay([scope], asOf, unusedForMs, DECAY_BELOW_IMPORTANCE, sourceKey);
    await this.index.remove(ids);
    return ids.length;
  }

  /** `agent memory add` and the `remember` tool. Throws MemoryInputError for bad input. */
  async remember(m: ExplicitMemory, ctx: ScopeContext, now = new Date()): Promise<WriteOutcome> {
    if (m.value.length > MAX_VALUE_CHARS) throw new MemoryInputError(`the value is too long (${m.value.length} characters; a memory holds at most ${MAX_VALUE_CHARS})`);
    if (!m.value.trim()) throw new MemoryInputError('the value is empty');
    memoryKey(m.subject, m.attribute);
    let check: CheckSpec | undefined;
    if (m.check !== undefined) {
      const parsed = CheckSpecSchema.safeParse(m.check);
      if (!parsed.success) throw new MemoryInputError(`invalid check: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(check)'}: ${i.message}`).join('; ')}`);
      check = parsed.data;
    }
    const bounded = (x: number | undefined, d: number, what: string) => {
      if (x === undefined) return d;
      if (!(x >= 0 && x <= 1)) throw new MemoryInputError(`${what} must be between 0 and 1, got ${x}`);
      return x;
    };
    const report = await this.write([
      {
        scope: scopeId(m.scope, ctx),
        kind: m.kind ?? 'fact',
        subject: m.subject,
        attribute: m.attribute,
        value: m.value.trim(),
        confidence: bounded(m.confidence, 0.9, 'confidence'),
        importance: bounded(m.importance, 0.6, 'importance'),
        source: m.source,
        provenance: { ...(m.taskId ? { taskId: m.taskId } : {}), ...(m.message ? { message: m.message.slice(0, 1_000) } : {}) },
        ...(check ? { check } : {}),
        validFrom: now.toISOString(),
      },
    ]);
    return report.outcomes[0]!;
  }

  /**
   * Retires memories by id or by key ("subject:attribute", current values in the given scopes).
   * Nothing is deleted: the items stay in history with the reason. Returns the retired items.
   */
  async forget(target: string, options: { scopes?: string[]; reason: string }): Promise<MemoryItem[]> {
    const ids = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target)
      ? [target]
      : (await this.store.history(parseKey(target).key, options.scopes)).filter((i) => !i.invalidatedAt).map((i) => i.id);
    const retired: MemoryItem[] = [];
    for (const id of ids) {
      const item = await this.store.invalidate(id, `forgotten: ${options.reason}`);
      if (item) retired.push(item);
    }
    await this.index.remove(retired.map((i) => i.id));
    return retired;
  }

  async history(keyText: string, scopes?: string[]): Promise<MemoryItem[]> {
    return await this.store.history(parseKey(keyText).key, scopes);
  }

  /** One item and every version of its key in its scope. Null when unknown. */
  async show(id: string): Promise<{ item: MemoryItem; chain: MemoryItem[] } | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new MemoryInputError(`"${id}" is not a memory id (a UUID, as \`agent memory list\` shows)`);
    const [item] = await this.store.getItems([id]);
    if (!item) return null;
    return { item, chain: await this.store.history(item.key, [item.scope]) };
  }

  /** What recall gave a task (and rejected, and why), and what the task wrote. */
  async explain(taskId: string): Promise<{ recall: RecallRecord | null; written: MemoryItem[] }> {
    return { recall: await this.store.getRecall(taskId), written: await this.store.itemsFromTask(taskId) };
  }

  scopesFor(ctx: ScopeContext): string[] {
    return scopesFor(ctx);
  }

  async close(): Promise<void> {
    await this.index.close();
    await this.db.close();
  }
}

/**
 * Opens the memory service on first use and shares it. A failed open is not cached, so a later
 * call tries again (say, after a PostgreSQL server comes back). What a person must know — why
 * memory is unavailable, or that it runs without vectors — is told through `tell` once per
 * process, in one line, however many tasks run into it.
 */
export function lazyMemoryService(config: Config, options: { tell?: (line: string) => void } = {}): { get(): Promise<MemoryService>; close(): Promise<void> } {
  let opening: Promise<MemoryService> | null = null;
  return {
    get() {
      opening ??= MemoryService.open(config).then(
        (service) => {
          if (service.notice) tellOnce(service.notice, options.tell);
          return service;
        },
        (err: unknown) => {
          opening = null;
          if (isMemoryUnavailable(err)) tellOnce(`memory unavailable, tasks go on without it: ${oneLine(err)}`, options.tell);
          throw err;
        },
      );
      return opening;
    },
    async close() {
      const service = await opening?.catch(() => null);
      opening = null;
      await service?.close();
    },
  };
}
