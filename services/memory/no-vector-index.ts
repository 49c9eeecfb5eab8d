/**
 * No vector index: the memory database is a PostgreSQL without the pgvector extension and no
 * Qdrant is configured. Memory still works — recall fuses full-text and key matches, writes and
 * history are unchanged — it only cannot find an item by meaning alone. Nothing is embedded while
 * this is in use; when pgvector appears, the next open indexes every current item (memory-service.ts).
 */
import type { VectorHit, VectorIndex } from './vector-index';

export class NoVectorIndex implements VectorIndex {
  readonly kind = 'none' as const;

  /** Why there are no vectors ("no pgvector extension (…)") and how to get them, for the notice and `agent doctor`. */
  constructor(
    readonly reason: string,
    readonly fix: string,
  ) {}

  async ensure(): Promise<void> {}
  async upsert(): Promise<void> {}
  async remove(): Promise<void> {}
  async search(): Promise<VectorHit[]> {
    return [];
  }
  async clear(): Promise<void> {}
  async close(): Promise<void> {}
}
