/**
 * The vector half of recall behind one small interface, with two adapters: pgvector (in the
 * memory database itself; PGlite carries the extension) and Qdrant (QDRANT_URL), and a third for
 * a PostgreSQL without pgvector (no-vector-index.ts: recall then runs on text and keys). The index only
 * holds current memories; the relational store stays the source of truth, so recall re-reads every
 * hit from it and drops anything the index still has after a supersession (see contradiction-check).
 */
export interface VectorPoint {
  /** The memory id (a UUID, which Qdrant accepts as a point id). */
  id: string;
  scope: string;
  vector: number[];
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, 1 = same direction. */
  score: number;
}

export interface VectorSearch {
  limit: number;
  /** Only points in these scopes. */
  scopes: string[];
  /** Exact (brute-force) search instead of the approximate index: the bench's ground truth. */
  exact?: boolean;
}

export interface VectorIndex {
  readonly kind: 'pgvector' | 'qdrant' | 'none';
  /** Creates the index for vectors of `dims` when missing. Throws VectorIndexError if it exists with another size. */
  ensure(dims: number): Promise<void>;
  /** Inserts or replaces points. Idempotent. */
  upsert(points: VectorPoint[]): Promise<void>;
  /** Removes points; unknown ids are ignored. Idempotent. */
  remove(ids: string[]): Promise<void>;
  search(vector: number[], options: VectorSearch): Promise<VectorHit[]>;
  /** Drops every point (re-indexing after an embedder change). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export class VectorIndexError extends Error {}
