/**
 * The relational half of memory: items with their supersession chains, episodes, recall records,
 * consolidation runs. Supersession is deterministic and enforced by the database itself: a partial
 * unique index allows one current (not invalidated) item per (scope, key), so no code path — LLM
 * or not — can leave two live values for one key. Nothing is deleted: an old value gets
 * superseded_by + invalidated_at + a reason, and stays in the chain.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { migrate, type Migration } from '../state/migrate';
import { inTransaction } from './database';
import { memoryKey, normaliseValue, type MemoryKind } from './keys';
import type { CheckSpec, MemoryItem, MemorySource, NewMemory, Provenance } from './types';

export const MEMORY_MIGRATIONS: Migration[] = [
  {
    id: 'memory_001_items',
    sql: `
      CREATE TABLE memory_items (
        id uuid PRIMARY KEY,
        scope text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('fact', 'preference', 'procedure', 'episode-summary')),
        key text NOT NULL,
        subject text NOT NULL,
        attribute text NOT NULL,
        value text NOT NULL,
        content_hash text NOT NULL,
        confidence real NOT NULL,
        importance real NOT NULL,
        source text NOT NULL,
        task_id text,
        provenance jsonb NOT NULL,
        check_spec jsonb,
        valid_from timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        superseded_by uuid REFERENCES memory_items (id),
        invalidated_at timestamptz,
        invalidated_reason text,
        last_used_at timestamptz,
        use_count integer NOT NULL DEFAULT 0,
        search_text tsvector GENERATED ALWAYS AS (
          to_tsvector('english', replace(subject, '-', ' ') || ' ' || replace(attribute, '-', ' ') || ' ' || value)
        ) STORED
      );
      CREATE UNIQUE INDEX memory_items_current ON memory_items (scope, key) WHERE invalidated_at IS NULL;
      CREATE INDEX memory_items_key ON memory_items (key, valid_from);
      CREATE INDEX memory_items_subject ON memory_items (subject) WHERE invalidated_at IS NULL;
      CREATE INDEX memory_items_fts ON memory_items USING gin (search_text) WHERE invalidated_at IS NULL;
      CREATE INDEX memory_items_task ON memory_items (task_id);

      CREATE TABLE memory_episodes (
        task_id text PRIMARY KEY,
        scope text NOT NULL,
        prompt text NOT NULL,
        status text NOT NULL,
        summary text NOT NULL,
        transcript_head text,
        data jsonb NOT NULL,
        recorded_at timestamptz NOT NULL,
        consolidated_at timestamptz,
        consolidated_by text,
        search_text tsvector GENERATED ALWAYS AS (to_tsvector('english', prompt || ' ' || summary)) STORED
      );
      CREATE INDEX memory_episodes_pending ON memory_episodes (scope, recorded_at) WHERE consolidated_at IS NULL;
      CREATE INDEX memory_episodes_fts ON memory_episodes USING gin (search_text);

      -- One row per applied write batch (a task's memory write, a consolidation batch): retries are no-ops.
      CREATE TABLE memory_applied (source_key text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), report jsonb NOT NULL, meta jsonb);

      CREATE TABLE memory_recalls (
        task_id text PRIMARY KEY,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        query text NOT NULL,
        scopes text[] NOT NULL,
        budget_tokens integer NOT NULL,
        used_tokens integer NOT NULL,
        recalled jsonb NOT NULL,
        rejected jsonb NOT NULL,
        omitted integer NOT NULL,
        block text NOT NULL
      );

      CREATE TABLE memory_dream_runs (
        run_id text PRIMARY KEY,
        scope text NOT NULL,
        trigger text NOT NULL,
        started_at timestamptz NOT NULL,
        episode_ids jsonb NOT NULL,
        finished_at timestamptz,
        report jsonb
      );
      CREATE INDEX memory_dream_runs_scope ON memory_dream_runs (scope, started_at);

      -- Which embedder built the vector index: vectors of two models must never be compared.
      CREATE TABLE memory_meta (name text PRIMARY KEY, value text NOT NULL);
    `,
  },
];

interface ItemRow {
  id: string;
  scope: string;
  kind: MemoryKind;
  key: string;
  subject: string;
  attribute: string;
  value: string;
  confidence: number;
  importance: number;
  source: MemorySource;
  provenance: Provenance;
  check_spec: CheckSpec | null;
  valid_from: Date;
  created_at: Date;
  superseded_by: string | null;
  invalidated_at: Date | null;
  invalidated_reason: string | null;
  last_used_at: Date | null;
  use_count: number;
}

const ITEM_COLUMNS = `id, scope, kind, key, subject, attribute, value, confidence, importance, source, provenance, check_spec,
  valid_from, created_at, superseded_by, invalidated_at, invalidated_reason, last_used_at, use_count`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toItem(r: ItemRow): MemoryItem {
  return {
    id: r.id,
    scope: r.scope,
    kind: r.kind,
    key: r.key,
    subject: r.subject,
    attribute: r.attribute,
    value: r.value,
    confidence: Number(r.confidence),
    importance: Number(r.importance),
    source: r.source,
    provenance: r.provenance,
    check: r.check_spec,
    validFrom: r.valid_from.toISOString(),
    createdAt: r.created_at.toISOString(),
    supersededBy: r.superseded_by,
    invalidatedAt: iso(r.invalidated_at),
    invalidatedReason: r.invalidated_reason,
    lastUsedAt: iso(r.last_used_at),
    useCount: r.use_count,
  };
}

export const contentHash = (value: string) => createHash('sha256').update(normaliseValue(value)).digest('hex');

export type WriteAction = 'created' | 'superseded' | 'confirmed' | 'stale';

/** What happened to one memory of a write batch. */
export interface WriteOutcome {
  action: WriteAction;
  scope: string;
  key: string;
  value: string;
  /** The item now holding the value (new, or the existing duplicate/newer one). */
  id: string;
  /** For `superseded`: the item that was retired, with its value. */
  replaced?: { id: string; value: string };
  reason: string;
}

export interface WriteReport {
  sourceKey: string | null;
  /** True when this batch had been applied before (a retry): nothing was written again. */
  alreadyApplied: boolean;
  outcomes: WriteOutcome[];
  /** Whatever the caller stored with the batch (e.g. token usage, rejections), returned again on a retry. */
  meta: unknown;
}

export interface EpisodeRow {
  taskId: string;
  scope: string;
  prompt: string;
  status: string;
  summary: string;
  transcriptHead: string | null;
  data: unknown;
  recordedAt: string;
  consolidatedAt: string | null;
}

export interface RecallRecord {
  taskId: string;
  recordedAt: string;
  query: string;
  scopes: string[];
  budgetTokens: number;
  usedTokens: number;
  recalled: unknown[];
  rejected: unknown[];
  omitted: number;
  block: string;
}

export interface DreamRunRow {
  runId: string;
  scope: string;
  trigger: string;
  startedAt: string;
  episodeIds: string[];
  finishedAt: string | null;
  report: unknown;
}

export class MemoryStore {
  constructor(readonly pool: pg.Pool) {}

  /** Applies migrations. Throws if the database is unreachable. */
  async migrate(): Promise<void> {
    await migrate(this.pool, MEMORY_MIGRATIONS);
  }

  /**
   * Writes a batch in one transaction, deterministically: per (scope, key), the same value confirms
   * the current item, a newer different value supersedes it (chain kept), an older one is recorded
   * as stale and changes nothing. With a sourceKey the batch applies at most once; a retry gets the
   * first report back. `consolidate` marks episodes consolidated in the same transaction.
   */
  async apply(memories: NewMemory[], options: { sourceKey?: string; consolidate?: { episodeIds: string[]; runId: string }; meta?: unknown } = {}): Promise<WriteReport> {
    const sourceKey = options.sourceKey ?? null;
    const meta = options.meta ?? null;
    return await inTransaction(this.pool, async (c) => {
      if (sourceKey) {
        const claimed = await c.query(`INSERT INTO memory_applied (source_key, report, meta) VALUES ($1, '[]', $2) ON CONFLICT DO NOTHING RETURNING source_key`, [
          sourceKey,
          JSON.stringify(meta),
        ]);
        if (claimed.rowCount === 0) return (await this.applied(sourceKey, c))!;
      }
      const outcomes: WriteOutcome[] = [];
      for (const m of memories) outcomes.push(await this.applyOne(c, m));
      if (options.consolidate?.episodeIds.length) {
        await c.query('UPDATE memory_episodes SET consolidated_at = now(), consolidated_by = $2 WHERE task_id = ANY($1) AND consolidated_at IS NULL', [
          options.consolidate.episodeIds,
          options.consolidate.runId,
        ]);
      }
      if (sourceKey) await c.query('UPDATE memory_applied SET report = $2 WHERE source_key = $1', [sourceKey, JSON.stringify(outcomes)]);
      return { sourceKey, alreadyApplied: false, outcomes, meta };
    });
  }

  /** The report of a batch applied before under this key, or null. */
  async applied(sourceKey: string, client: pg.Pool | pg.PoolClient = this.pool): Promise<WriteReport | null> {
    const { rows } = await client.query<{ report: WriteOutcome[]; meta: unknown }>('SELECT report, meta FROM memory_applied WHERE source_key = $1', [sourceKey]);
    return rows[0] ? { sourceKey, alreadyApplied: true, outcomes: rows[0].report, meta: rows[0].meta } : null;
  }

  private async applyOne(c: pg.PoolClient, raw: NewMemory): Promise<WriteOutcome> {
    // PostgreSQL text cannot hold NUL; a model or tool output may contain one.
    const m = { ...raw, value: raw.value.replace(/\u0000/g, '\uFFFD'), provenance: JSON.parse(JSON.stringify(raw.provenance).replace(/\\u0000/g, '\uFFFD')) as Provenance };
    const { subject, attribute, key } = memoryKey(m.subject, m.attribute);
    const hash = contentHash(m.value);
    // Serialises writers of one key (two workers finishing tasks at once) without locking the table.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [m.scope, key]);
    const { rows } = await c.query<ItemRow & { content_hash: string }>(
      `SELECT ${ITEM_COLUMNS}, content_hash FROM memory_items WHERE scope = $1 AND key = $2 AND invalidated_at IS NULL`,
      [m.scope, key],
    );
    const current = rows[0];
    const base = { scope: m.scope, key, value: m.value };
    if (current && current.content_hash === hash) {
      await c.query('UPDATE memory_items SET confidence = GREATEST(confidence, $2), importance = GREATEST(importance, $3) WHERE id = $1', [current.id, m.confidence, m.importance]);
      return { ...base, action: 'confirmed', id: current.id, reason: 'same value as the current memory: confirmed, not duplicated' };
    }
    if (current && Date.parse(m.validFrom) < current.valid_from.getTime()) {
      return {
        ...base,
        action: 'stale',
        id: current.id,
        reason: `older (${m.validFrom}) than the current value "${current.value.slice(0, 80)}" (${current.valid_from.toISOString()}): kept the current one`,
      };
    }
    const id = randomUUID();
    if (current) {
      // Retire first: the unique index allows one current item per (scope, key).
      await c.query(`UPDATE memory_items SET invalidated_at = now(), invalidated_reason = $2 WHERE id = $1`, [
        current.id,
        `superseded by a newer value (${m.source}${m.provenance.taskId ? `, task ${m.provenance.taskId}` : ''})`,
      ]);
    }
    await c.query(
      `INSERT INTO memory_items (id, scope, kind, key, subject, attribute, value, content_hash, confidence, importance, source, task_id, provenance, check_spec, valid_from)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        id,
        m.scope,
        m.kind,
        key,
        subject,
        attribute,
        m.value,
        hash,
        m.confidence,
        m.importance,
        m.source,
        m.provenance.taskId ?? null,
        JSON.stringify(m.provenance),
        m.check ? JSON.stringify(m.check) : null,
        m.validFrom,
      ],
    );
    if (current) {
      await c.query('UPDATE memory_items SET superseded_by = $2 WHERE id = $1', [current.id, id]);
      return { ...base, action: 'superseded', id, replaced: { id: current.id, value: current.value }, reason: `replaced "${current.value.slice(0, 80)}"` };
    }
    return { ...base, action: 'created', id, reason: 'new key' };
  }

  /** Retires one current item without a successor (`forget`). Returns it, or null when it was not current. */
  async invalidate(id: string, reason: string): Promise<MemoryItem | null> {
    const { rows } = await this.pool.query<ItemRow>(
      `UPDATE memory_items SET invalidated_at = now(), invalidated_reason = $2 WHERE id = $1 AND invalidated_at IS NULL RETURNING ${ITEM_COLUMNS}`,
      [id, reason],
    );
    return rows[0] ? toItem(rows[0]) : null;
  }

  async getItems(ids: string[]): Promise<MemoryItem[]> {
    if (!ids.length) return [];
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM memory_items WHERE id = ANY($1::uuid[])`, [ids]);
    return rows.map(toItem);
  }

  async current(scope: string, key: string): Promise<MemoryItem | null> {
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM memory_items WHERE scope = $1 AND key = $2 AND invalidated_at IS NULL`, [scope, key]);
    return rows[0] ? toItem(rows[0]) : null;
  }

  /** Every version of a key, oldest first (across scopes unless given). */
  async history(key: string, scopes?: string[]): Promise<MemoryItem[]> {
    const { rows } = await this.pool.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM memory_items WHERE key = $1 AND ($2::text[] IS NULL OR scope = ANY($2)) ORDER BY scope, valid_from, created_at`,
      [key, scopes ?? null],
    );
    return rows.map(toItem);
  }

  async list(options: { scopes?: string[]; includeInvalid?: boolean; kind?: MemoryKind; limit: number }): Promise<MemoryItem[]> {
    const { rows } = await this.pool.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM memory_items
       WHERE ($1::text[] IS NULL OR scope = ANY($1)) AND ($2 OR invalidated_at IS NULL) AND ($3::text IS NULL OR kind = $3)
       ORDER BY valid_from DESC, created_at DESC LIMIT $4`,
      [options.scopes ?? null, options.includeInvalid ?? false, options.kind ?? null, options.limit],
    );
    return rows.map(toItem);
  }

  /**
   * Full-text candidates, cheap even for long prompts full of common words: first items matching at
   * least two of the query's words (selective, ranked), and only when that finds too few, items
   * matching any word — from a capped set, so a very common word cannot make recall scan the table.
   */
  async fullText(words: string[], scopes: string[], limit: number): Promise<{ id: string; rank: number }[]> {
    const terms = [...new Set(words.filter((w) => /^[a-z0-9]+$/.test(w)))].slice(0, 8);
    if (!terms.length) return [];
    const pairs = terms.flatMap((a, i) => terms.slice(i + 1).map((b) => `(${a} & ${b})`));
    const search = async (query: string) =>
      (
        await this.pool.query<{ id: string; rank: number }>(
          `WITH matched AS (
             SELECT id, search_text, valid_from FROM memory_items, to_tsquery('english', $1) q
             WHERE invalidated_at IS NULL AND scope = ANY($2) AND search_text @@ q LIMIT 2000
           )
           SELECT id, ts_rank_cd(search_text, to_tsquery('english', $4)) AS rank FROM matched ORDER BY rank DESC, valid_from DESC LIMIT $3`,
          [query, scopes, limit, terms.join(' | ')],
        )
      ).rows.map((r) => ({ id: r.id, rank: Number(r.rank) }));
    const strong = pairs.length ? await search(pairs.join(' | ')) : [];
    if (strong.length >= Math.ceil(limit / 2)) return strong;
    const seen = new Set(strong.map((r) => r.id));
    return [...strong, ...(await search(terms.join(' | '))).filter((r) => !seen.has(r.id))].slice(0, limit);
  }

  /** Refreshes planner statistics; PGlite has no autovacuum to do it. */
  async analyze(): Promise<void> {
    await this.pool.query('ANALYZE memory_items');
  }

  /** Current items whose subject (or whole key) is named in the query. */
  async keyMatch(subjects: string[], keys: string[], scopes: string[], limit: number): Promise<string[]> {
    if (!subjects.length && !keys.length) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM memory_items WHERE invalidated_at IS NULL AND scope = ANY($3) AND (subject = ANY($1) OR key = ANY($2))
       ORDER BY valid_from DESC LIMIT $4`,
      [subjects, keys, scopes, limit],
    );
    return rows.map((r) => r.id);
  }

  async markUsed(ids: string[]): Promise<void> {
    if (ids.length) await this.pool.query('UPDATE memory_items SET last_used_at = now(), use_count = use_count + 1 WHERE id = ANY($1::uuid[])', [ids]);
  }

  /**
   * Retires unused, unimportant items (consolidation's decay) once per sourceKey: a retry returns
   * the same ids instead of decaying again. The reason names the cut-off. Returns the retired ids.
   */
  async decay(scopes: string[], asOf: string, unusedForMs: number, maxImportance: number, sourceKey: string): Promise<string[]> {
    return await inTransaction(this.pool, async (c) => {
      const claimed = await c.query(`INSERT INTO memory_applied (source_key, report) VALUES ($1, '[]') ON CONFLICT DO NOTHING RETURNING source_key`, [sourceKey]);
      if (claimed.rowCount === 0) {
        const { rows } = await c.query<{ meta: string[] }>('SELECT meta FROM memory_applied WHERE source_key = $1', [sourceKey]);
        return rows[0]!.meta ?? [];
      }
      const ids = await this.decayIn(c, scopes, asOf, unusedForMs, maxImportance);
      await c.query('UPDATE memory_applied SET meta = $2 WHERE source_key = $1', [sourceKey, JSON.stringify(ids)]);
      return ids;
    });
  }

  private async decayIn(c: pg.PoolClient, scopes: string[], asOf: string, unusedForMs: number, maxImportance: number): Promise<string[]> {
    const { rows } = await c.query<{ id: string }>(
      `UPDATE memory_items SET invalidated_at = now(),
         invalidated_reason = 'decayed: importance below ' || $4::text || ' and unused since ' || to_char(COALESCE(last_used_at, valid_from) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
       WHERE invalidated_at IS NULL AND scope = ANY($1) AND importance < $4
         AND COALESCE(last_used_at, valid_from) < $2::timestamptz - ($3::text || ' milliseconds')::interval
       RETURNING id`,
      [scopes, asOf, String(unusedForMs), maxImportance],
    );
    return rows.map((r) => r.id);
  }

  async putEpisode(e: Omit<EpisodeRow, 'consolidatedAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO memory_episodes (task_id, scope, prompt, status, summary, transcript_head, data, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (task_id) DO UPDATE SET prompt = EXCLUDED.prompt, status = EXCLUDED.status, summary = EXCLUDED.summary,
         transcript_head = EXCLUDED.transcript_head, data = EXCLUDED.data`,
      [
        e.taskId,
        e.scope,
        withoutNul(e.prompt),
        e.status,
        withoutNul(e.summary),
        e.transcriptHead,
        JSON.stringify(e.data, (_key, value: unknown) => (typeof value === 'string' ? withoutNul(value) : value)),
        e.recordedAt,
      ],
    );
  }

  async getEpisodes(taskIds: string[]): Promise<EpisodeRow[]> {
    if (!taskIds.length) return [];
    const { rows } = await this.pool.query(
      `SELECT task_id, scope, prompt, status, summary, transcript_head, data, recorded_at, consolidated_at FROM memory_episodes
       WHERE task_id = ANY($1) ORDER BY recorded_at, task_id`,
      [taskIds],
    );
    return rows.map((r) => ({
      taskId: r.task_id,
      scope: r.scope,
      prompt: r.prompt,
      status: r.status,
      summary: r.summary,
      transcriptHead: r.transcript_head,
      data: r.data,
      recordedAt: (r.recorded_at as Date).toISOString(),
      consolidatedAt: iso(r.consolidated_at),
    }));
  }

  /** Episodes not yet consolidated, oldest first: consolidation applies facts in the order they happened. */
  async pendingEpisodeIds(scope: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ task_id: string }>(
      'SELECT task_id FROM memory_episodes WHERE scope = $1 AND consolidated_at IS NULL ORDER BY recorded_at, task_id LIMIT $2',
      [scope, limit],
    );
    return rows.map((r) => r.task_id);
  }

  async pendingEpisodeCount(scope: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM memory_episodes WHERE scope = $1 AND consolidated_at IS NULL', [scope]);
    return Number(rows[0]!.n);
  }

  async scopesWithPendingEpisodes(): Promise<string[]> {
    const { rows } = await this.pool.query<{ scope: string }>('SELECT DISTINCT scope FROM memory_episodes WHERE consolidated_at IS NULL ORDER BY scope');
    return rows.map((r) => r.scope);
  }

  async putRecall(r: Omit<RecallRecord, 'recordedAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO memory_recalls (task_id, query, scopes, budget_tokens, used_tokens, recalled, rejected, omitted, block)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (task_id) DO UPDATE SET recorded_at = now(), query = EXCLUDED.query, scopes = EXCLUDED.scopes,
         budget_tokens = EXCLUDED.budget_tokens, used_tokens = EXCLUDED.used_tokens, recalled = EXCLUDED.recalled,
         rejected = EXCLUDED.rejected, omitted = EXCLUDED.omitted, block = EXCLUDED.block`,
      [r.taskId, r.query, r.scopes, r.budgetTokens, r.usedTokens, JSON.stringify(r.recalled), JSON.stringify(r.rejected), r.omitted, r.block],
    );
  }

  async getRecall(taskId: string): Promise<RecallRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM memory_recalls WHERE task_id = $1', [taskId]);
    const r = rows[0];
    if (!r) return null;
    return {
      taskId: r.task_id,
      recordedAt: (r.recorded_at as Date).toISOString(),
      query: r.query,
      scopes: r.scopes,
      budgetTokens: r.budget_tokens,
      usedTokens: r.used_tokens,
      recalled: r.recalled,
      rejected: r.rejected,
      omitted: r.omitted,
      block: r.block,
    };
  }

  /** Items written from one task (for `explain`). */
  async itemsFromTask(taskId: string): Promise<MemoryItem[]> {
    const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM memory_items WHERE task_id = $1 ORDER BY created_at`, [taskId]);
    return rows.map(toItem);
  }

  /** Starts a consolidation run, or returns the one already started under this id (a retried activity). */
  async beginDreamRun(run: { runId: string; scope: string; trigger: string; startedAt: string; episodeIds: string[] }): Promise<DreamRunRow> {
    await this.pool.query(`INSERT INTO memory_dream_runs (run_id, scope, trigger, started_at, episode_ids) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING`, [
      run.runId,
      run.scope,
      run.trigger,
      run.startedAt,
      JSON.stringify(run.episodeIds),
    ]);
    return (await this.getDreamRun(run.runId))!;
  }

  async finishDreamRun(runId: string, report: unknown): Promise<void> {
    await this.pool.query('UPDATE memory_dream_runs SET finished_at = COALESCE(finished_at, now()), report = $2 WHERE run_id = $1', [runId, JSON.stringify(report)]);
  }

  async getDreamRun(runId: string): Promise<DreamRunRow | null> {
    const { rows } = await this.pool.query('SELECT * FROM memory_dream_runs WHERE run_id = $1', [runId]);
    return rows[0] ? dreamRow(rows[0]) : null;
  }

  async dreamRuns(scope: string | null, limit: number): Promise<DreamRunRow[]> {
    const { rows } = await this.pool.query('SELECT * FROM memory_dream_runs WHERE ($1::text IS NULL OR scope = $1) ORDER BY started_at DESC LIMIT $2', [scope, limit]);
    return rows.map(dreamRow);
  }

  async getMeta(name: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM memory_meta WHERE name = $1', [name]);
    return rows[0]?.value ?? null;
  }

  async setMeta(name: string, value: string): Promise<void> {
    await this.pool.query('INSERT INTO memory_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [name, value]);
  }

  /** Every current item, in pages (re-indexing). */
  async *currentItems(pageSize = 1_000): AsyncGenerator<MemoryItem[]> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await this.pool.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM memory_items WHERE invalidated_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, [after, pageSize]);
      if (!rows.length) return;
      yield rows.map(toItem);
      after = rows[rows.length - 1]!.id;
    }
  }
}

function dreamRow(r: Record<string, unknown>): DreamRunRow {
  return {
    runId: r.run_id as string,
    scope: r.scope as string,
    trigger: r.trigger as string,
    startedAt: (r.started_at as Date).toISOString(),
    episodeIds: r.episode_ids as string[],
    finishedAt: iso(r.finished_at as Date | null),
    report: r.report,
  };
}

/** PostgreSQL text and jsonb cannot hold U+0000, which a prompt or a tool's output may: it is kept visible as U+FFFD. */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}
