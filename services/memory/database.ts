/**
 * The memory's relational store: PostgreSQL through `pg` in production (DATABASE_URL), PGlite —
 * PostgreSQL compiled to WebAssembly, data under AGENT_HOME/memory — by default, so `agent run`
 * needs no database server. The same SQL runs on both.
 *
 * PGlite is one session that one process opens at a time; every other process on the same
 * AGENT_HOME joins that process over a unix socket (embedded-store.ts), so a worker under
 * `agent up`, `agent run` in another terminal and `agent memory …` all share one memory.
 */
import pg from 'pg';
import { openEmbeddedStore, type EmbeddedOptions, type EmbeddedRole } from './embedded-store';

export interface MemoryDatabase {
  kind: 'pglite' | 'postgres';
  pool: pg.Pool;
  /** Human description for errors and `agent doctor` (never the password); for PGlite, who serves it right now. */
  readonly where: string;
  /** The embedded database only: whether this process serves it or joined the process that does. */
  readonly role?: EmbeddedRole;
  close(): Promise<void>;
}

/** A pool whose idle-client errors (server restarts, DROP DATABASE in tests) never crash the process. */
function safePool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}

/** "PostgreSQL at host:port/db" for a connection URL, without credentials. */
export function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

export function openPostgres(url: string, max = 10): MemoryDatabase {
  const pool = safePool({ connectionString: url, max });
  return { kind: 'postgres', pool, where: describePostgres(url), close: () => pool.end() };
}

/**
 * Opens the embedded PGlite database in dataDir: serves it from this process when no other does,
 * joins the process that does otherwise. Throws MemoryUnavailableError (with what to do) when
 * neither works.
 */
export async function openPglite(dataDir: string, options: EmbeddedOptions = {}): Promise<MemoryDatabase> {
  const store = await openEmbeddedStore(dataDir, options);
  return {
    kind: 'pglite',
    pool: store.pool,
    get where() {
      return store.where();
    },
    get role() {
      return store.role();
    },
    close: () => store.close(),
  };
}

/** Runs fn in a transaction on one client; rolls back and rethrows on error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
