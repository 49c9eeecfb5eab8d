/**
 * pgvector adapter: a memory_vectors table with an HNSW index (cosine) next to memory_items.
 * The column's dimension is fixed when the table is created, so the table is made by ensure(), not
 * by a migration.
 */
import type pg from 'pg';
import { inTransaction } from './database';
import { VectorIndexError, type VectorHit, type VectorIndex, type VectorPoint, type VectorSearch } from './vector-index';

/** ef_search trades latency for recall; 100 keeps recall@10 ≥ 0.95 at 100k memories (bench/memory.ts). */
const EF_SEARCH = 100;

/** How to get vectors into a PostgreSQL memory store that has none. */
export const PGVECTOR_FIX =
  'install pgvector on the PostgreSQL server (`bash scripts/install-pgvector.sh` builds it where the distribution has no package; ' +
  'or use the pgvector/pgvector image), then run CREATE EXTENSION vector in that database as a superuser; or set QDRANT_URL to keep vectors in Qdrant';

/** CREATE EXTENSION vector failed: the server lacks pgvector, or this role may not create it. Memory falls back to text and key recall. */
export class PgVectorMissingError extends VectorIndexError {
  constructor(readonly serverMessage: string) {
    super(`the memory database has no pgvector extension (${serverMessage}): ${PGVECTOR_FIX}`);
  }
}

export const toVectorLiteral = (v: number[]) => `[${v.join(',')}]`;

export class PgVectorIndex implements VectorIndex {
  readonly kind = 'pgvector' as const;
  private iterativeScan = true;

  constructor(private readonly pool: pg.Pool) {}

  async ensure(dims: number): Promise<void> {
    try {
      await this.pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (err) {
      // Only the server's own answer means "no pgvector here"; a dropped connection is just that.
      const code = (err as { code?: string }).code;
      if (!code || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08')) throw err;
      throw new PgVectorMissingError((err as Error).message);
    }
    const { rows } = await this.pool.query<{ dims: number }>(
      `SELECT a.atttypmod AS dims FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relname = 'memory_vectors' AND a.attname = 'embedding' AND c.relnamespace = current_schema()::regnamespace`,
    );
    if (rows[0]) {
      if (rows[0].dims !== dims)
        throw new VectorIndexError(`memory_vectors holds ${rows[0].dims}-dimensional vectors, but the embedder makes ${dims}: run \`agent memory reindex\``);
    } else {
      await inTransaction(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(727275)');
        await c.query(`CREATE TABLE IF NOT EXISTS memory_vectors (id uuid PRIMARY KEY, scope text NOT NULL, embedding vector(${dims}) NOT NULL)`);
        await c.query('CREATE INDEX IF NOT EXISTS memory_vectors_hnsw ON memory_vectors USING hnsw (embedding vector_cosine_ops)');
      });
    }
    // Iterative scans (pgvector ≥ 0.8) keep filtered HNSW queries from coming back short.
    try {
      await this.pool.query('SET hnsw.iterative_scan = relaxed_order');
      await this.pool.query('RESET hnsw.iterative_scan');
    } catch {
      this.iterativeScan = false;
    }
  }

  async upsert(points: VectorPoint[]): Promise<void> {
    for (let i = 0; i < points.length; i += 500) {
      const batch = points.slice(i, i + 500);
      const values: unknown[] = [];
      const rows = batch.map((p, j) => {
        values.push(p.id, p.scope, toVectorLiteral(p.vector));
        return `($${j * 3 + 1}, $${j * 3 + 2}, $${j * 3 + 3}::vector)`;
      });
      await this.pool.query(
        `INSERT INTO memory_vectors (id, scope, embedding) VALUES ${rows.join(', ')}
         ON CONFLICT (id) DO UPDATE SET scope = EXCLUDED.scope, embedding = EXCLUDED.embedding`,
        values,
      );
    }
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.pool.query('DELETE FROM memory_vectors WHERE id = ANY($1::uuid[])', [ids]);
  }

  async search(vector: number[], { limit, scopes, exact }: VectorSearch): Promise<VectorHit[]> {
    return await inTransaction(this.pool, async (c) => {
      if (exact) {
        await c.query('SET LOCAL enable_indexscan = off');
      } else {
        await c.query(`SET LOCAL hnsw.ef_search = ${Math.max(EF_SEARCH, limit)}`);
        if (this.iterativeScan) await c.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
      }
      const { rows } = await c.query<{ id: string; distance: number }>(
        `SELECT id, embedding <=> $1::vector AS distance FROM memory_vectors WHERE scope = ANY($2)
         ORDER BY embedding <=> $1::vector LIMIT $3`,
        [toVectorLiteral(vector), scopes, limit],
      );
      // relaxed_order may return rows slightly out of order: sort by the exact distance.
      return rows.map((r) => ({ id: r.id, score: 1 - Number(r.distance) })).sort((a, b) => b.score - a.score);
    });
  }

  async clear(): Promise<void> {
    await this.pool.query('DROP TABLE IF EXISTS memory_vectors');
  }

  async close(): Promise<void> {}
}
