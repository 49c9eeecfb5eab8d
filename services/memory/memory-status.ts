/**
 * The memory store as `agent doctor` reports it: which backend, whether it opens, whether recall
 * has vectors (pgvector, Qdrant) or runs on full text and keys, and for the embedded database who
 * holds it — whether this process would own it or join the process that serves it.
 */
import path from 'node:path';
import type { Config } from '../config';
import { describePostgres } from './database';
import { inspectEmbeddedStore } from './embedded-store';
import { MemoryService } from './memory-service';
import { NoVectorIndex } from './no-vector-index';
import { describeAddress } from './pglite-server';
import { isMemoryUnavailable, oneLine } from './unavailable';

export interface MemoryStatus {
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Opens the configured memory store once and describes it. Never throws: a failure is a status with its fix. */
export async function memoryStatus(config: Config): Promise<MemoryStatus> {
  if (!config.memory.enabled) return { ok: true, detail: 'off (AGENT_MEMORY=off): tasks run without memory' };
  const parts: string[] = [];
  if (config.databaseUrl) parts.push(describePostgres(config.databaseUrl));
  else {
    const dataDir = path.join(config.home, 'memory');
    const { holder, wouldBe, lockFile, socketPath } = await inspectEmbeddedStore(dataDir);
    parts.push(`embedded PGlite at ${dataDir}`);
    if (wouldBe === 'owner') parts.push(`free: a process here would own it and serve it to others at ${socketPath}`);
    else if (wouldBe === 'joined')
      parts.push(`held by process ${holder!.pid} (since ${holder!.since}), serving at ${describeAddress(holder!.serving!)}: a process here would join it`);
    else {
      return {
        ok: false,
        detail: `${parts[0]}: held by process ${holder!.pid}, which does not share it (an older version, or not answering)`,
        fix: `restart that process with this version (\`agent up\`); if it no longer runs, delete ${lockFile}`,
      };
    }
  }
  let memory: MemoryService | null = null;
  try {
    memory = await MemoryService.open(config);
    const { rows } = await memory.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM memory_items WHERE invalidated_at IS NULL');
    const index = memory.index;
    const vectors =
      index instanceof NoVectorIndex
        ? `${index.reason}: recall uses full-text and key matches only (for vectors: ${index.fix})`
        : index.kind === 'qdrant'
          ? `vectors in Qdrant at ${config.memory.qdrant!.url}`
          : 'vectors in pgvector';
    parts.push(`opens; ${vectors}; ${rows[0]!.n} current memories`);
    return { ok: true, detail: parts.join('; ') };
  } catch (err) {
    return {
      ok: false,
      detail: `${parts.join('; ')}; does not open: ${oneLine(err)}`,
      fix: isMemoryUnavailable(err) ? 'see the reason above' : config.databaseUrl ? 'check DATABASE_URL and that the server runs' : `check that ${config.home} is writable`,
    };
  } finally {
    await memory?.close().catch(() => undefined);
  }
}
