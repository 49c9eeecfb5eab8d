/**
 * Memory services for tests on the real stores: PGlite in a temp dir, or a fresh database on the
 * suite's PostgreSQL 15 (with pgvector), optionally with vectors in the Qdrant stand-in.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openPglite, openPostgres } from '../../services/memory/database';
import { HashedEmbedder, type Embedder } from '../../services/memory/embeddings';
import { MemoryService } from '../../services/memory/memory-service';
import { PgVectorIndex } from '../../services/memory/pgvector-index';
import { QdrantIndex } from '../../services/memory/qdrant-index';

export type MemoryBackend = 'pglite' | 'postgres' | 'postgres+qdrant';

/** Creates an empty database on the suite's PostgreSQL and returns its URL. */
export async function createTestDatabase(prefix = 'mem'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestMemory {
  memory: MemoryService;
  /** Opens a second service over the same data (another process would). */
  reopen(embedder?: Embedder): Promise<MemoryService>;
  close(): Promise<void>;
}

export async function openTestMemory(backend: MemoryBackend, options: { qdrantUrl?: string; embedder?: Embedder } = {}): Promise<TestMemory> {
  const embedder = options.embedder ?? new HashedEmbedder(256);
  const opened: MemoryService[] = [];
  let open: (e: Embedder) => Promise<MemoryService>;
  if (backend === 'pglite') {
    const dir = await mkdtemp(path.join(inject('tmpRoot'), 'memory-pglite-'));
    open = async (e) => {
      const db = await openPglite(dir);
      return await MemoryService.fromParts({ db, index: new PgVectorIndex(db.pool), embedder: e });
    };
  } else {
    const url = await createTestDatabase();
    const collection = `test_${randomBytes(4).toString('hex')}`;
    open = async (e) => {
      const db = openPostgres(url, 12);
      const index = backend === 'postgres+qdrant' ? new QdrantIndex({ url: options.qdrantUrl!, collection }) : new PgVectorIndex(db.pool);
      return await MemoryService.fromParts({ db, index, embedder: e });
    };
  }
  const memory = await open(embedder);
  opened.push(memory);
  return {
    memory,
    async reopen(e = embedder) {
      const m = await open(e);
      opened.push(m);
      return m;
    },
    async close() {
      for (const m of opened.splice(0)) await m.close().catch(() => undefined);
    },
  };
}
