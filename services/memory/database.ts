/**
 * The memory's relational store: PostgreSQL through `pg` in production (DATABASE_URL), PGlite —
 * PostgreSQL compiled to WebAssembly, in this process, data under AGENT_HOME/memory — by default,
 * so `agent run` needs no database server. The same SQL runs on both.
 *
 * PGlite is one connection in one process, on a worker thread of its own so its WebAssembly never
 * blocks the event loop: the pool has one client, and a lock file keeps a second process (say `agent memory list` while `agent up` runs) from opening the same files.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

export interface MemoryDatabase {
  kind: 'pglite' | 'postgres';
  pool: pg.Pool;
  /** Human description for errors and `agent doctor`-style output (never the password). */
  where: string;
  close(): Promise<void>;
}

/** The embedded database is open in another process. */
export class MemoryBusyError extends Error {}

/** A pool whose idle-client errors (server restarts, DROP DATABASE in tests) never crash the process. */
function safePool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}

export function openPostgres(url: string, max = 10): MemoryDatabase {
  const pool = safePool({ connectionString: url, max });
  const where = (() => {
    try {
      const u = new URL(url);
      return `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'PostgreSQL (DATABASE_URL)';
    }
  })();
  return { kind: 'postgres', pool, where, close: () => pool.end() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(file: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && alive(owner)) {
        throw new MemoryBusyError(
          `the embedded memory database ${path.dirname(file)} is in use by process ${owner} (a worker or \`agent up\`); ` +
            'stop it first, or set DATABASE_URL so several processes can share memory',
        );
      }
      // The owner is gone (crashed): its lock is stale.
      await rm(file, { force: true });
    }
  }
  throw new MemoryBusyError(`could not lock the embedded memory database at ${path.dirname(file)}`);
}

/** One PGlite per data directory per process, shared by reference count. */
const embedded = new Map<string, { db: Promise<MemoryDatabase>; refs: number }>();

/** Opens (or shares) the embedded PGlite database in dataDir. Throws MemoryBusyError when another process holds it. */
export async function openPglite(dataDir: string): Promise<MemoryDatabase> {
  const dir = path.resolve(dataDir);
  let entry = embedded.get(dir);
  if (entry) entry.refs++;
  else {
    entry = { refs: 1, db: openPgliteOnce(dir) };
    embedded.set(dir, entry);
  }
  try {
    return handle(await entry.db, entry, dir);
  } catch (err) {
    embedded.delete(dir);
    throw err;
  }
}

/** A reference to the shared database; closing one reference twice releases it once. */
function handle(db: MemoryDatabase, entry: { refs: number }, dir: string): MemoryDatabase {
  let closed = false;
  return {
    ...db,
    async close() {
      if (closed) return;
      closed = true;
      if (--entry.refs > 0) return;
      embedded.delete(dir);
      await db.close();
    },
  };
}

async function openPgliteOnce(dir: string): Promise<MemoryDatabase> {
  await mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, '..', `${path.basename(dir)}.lock`);
  await takeLock(lockFile);
  try {
    // PGlite runs on a thread of its own (see pglite-bridge.ts); node-postgres drives it unchanged.
    const [{ createPgConfig }, { startPgliteThread }] = await Promise.all([import('@electric-sql/pglite/node-postgres'), import('./pglite-bridge')]);
    const pglite = await startPgliteThread(dir, `${dir}.log`);
    const pool = safePool({ ...createPgConfig(pglite as unknown as Parameters<typeof createPgConfig>[0]), max: 1 });
    return {
      kind: 'pglite',
      pool,
      where: `embedded PGlite at ${dir}`,
      async close() {
        await pool.end();
        await pglite.close();
        await rm(lockFile, { force: true });
      },
    };
  } catch (err) {
    await rm(lockFile, { force: true });
    throw err;
  }
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
