/**
 * Qdrant adapter (QDRANT_URL): one collection, cosine distance, the scope as a keyword payload
 * with a payload index so filtered searches stay fast.
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import { VectorIndexError, type VectorHit, type VectorIndex, type VectorPoint, type VectorSearch } from './vector-index';

export interface QdrantOptions {
  url: string;
  apiKey?: string;
  collection: string;
}

function describe(err: unknown): string {
  const e = err as { status?: number; data?: { status?: { error?: string } }; message?: string };
  return e.data?.status?.error ?? e.message ?? String(err);
}

export class QdrantIndex implements VectorIndex {
  readonly kind = 'qdrant' as const;
  private readonly client: QdrantClient;

  constructor(private readonly options: QdrantOptions) {
    // Our own ensure() checks what matters (the collection's vector size); the version probe only warns.
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, checkCompatibility: false, timeout: 30_000 });
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new VectorIndexError(`Qdrant ${what} at ${this.options.url} failed: ${describe(err)}`);
    }
  }

  async ensure(dims: number): Promise<void> {
    const name = this.options.collection;
    const { exists } = await this.call('collection check', () => this.client.collectionExists(name));
    if (!exists) {
      await this.call('create collection', () => this.client.createCollection(name, { vectors: { size: dims, distance: 'Cosine' } }));
      await this.call('create payload index', () => this.client.createPayloadIndex(name, { field_name: 'scope', field_schema: 'keyword', wait: true }));
      return;
    }
    const info = await this.call('describe collection', () => this.client.getCollection(name));
    const vectors = info.config?.params?.vectors as { size?: number } | undefined;
    if (vectors?.size !== undefined && vectors.size !== dims) {
      throw new VectorIndexError(`Qdrant collection ${name} holds ${vectors.size}-dimensional vectors, but the embedder makes ${dims}: run \`agent memory reindex\``);
    }
  }

  async upsert(points: VectorPoint[]): Promise<void> {
    for (let i = 0; i < points.length; i += 500) {
      const batch = points.slice(i, i + 500).map((p) => ({ id: p.id, vector: p.vector, payload: { scope: p.scope } }));
      await this.call('upsert', () => this.client.upsert(this.options.collection, { wait: true, points: batch }));
    }
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.call('delete', () => this.client.delete(this.options.collection, { wait: true, points: ids }));
  }

  async search(vector: number[], { limit, scopes, exact }: VectorSearch): Promise<VectorHit[]> {
    const result = await this.call('query', () =>
      this.client.query(this.options.collection, {
        query: vector,
        filter: { must: [{ key: 'scope', match: { any: scopes } }] },
        limit,
        params: exact ? { exact: true } : { hnsw_ef: Math.max(128, limit) },
        with_payload: false,
      }),
    );
    return result.points.map((p) => ({ id: String(p.id), score: p.score }));
  }

  async clear(): Promise<void> {
    await this.call('delete collection', () => this.client.deleteCollection(this.options.collection));
  }

  async close(): Promise<void> {}
}
