/**
 * The embedded memory database, shared by every process on one AGENT_HOME: own it or join it.
 *
 * PGlite is one session in one process. The first process that needs the database owns it: it
 * takes the lock file, opens PGlite on a thread of its own and serves the PostgreSQL wire
 * protocol on a unix socket under AGENT_HOME (see pglite-server.ts), then writes in the lock where
 * it serves. Every other process — `agent run`'s worker while `agent up` runs, `agent memory list`
 * — finds the lock held by a live process and connects to that socket with a normal pg pool. The
 * owner uses the same socket, so all of them go through one queue on the owner's thread.
 *
 * Ownership is settled per connection, not once: each new pooled connection asks who serves now.
 * When the owner exits (its lock is removed) or dies (its lock is stale), the next connection of
 * any other process takes the database over, so a long-running worker outlives the `agent run`
 * that happened to open memory first.
 */
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { breakStaleLock, isThisProcess, liveness, publishLock, readLock, releaseLock, tryTakeLock, type LockHolder, type ServeAddress } from './embedded-lock';
import { connectionTarget, describeAddress, startPgliteServer, type PgliteServer } from './pglite-server';
import { MemoryUnavailableError, oneLine } from './unavailable';

export type EmbeddedRole = 'owner' | 'joined';

export interface EmbeddedStore {
  /** Connections settle ownership as they are made; at most one per pool (PGlite is one session anyway). */
  pool: pg.Pool;
  dataDir: string;
  /** Whether this process serves the database or uses another's, as of the latest connection. */
  role(): EmbeddedRole;
  /** For people: where the data is and who serves it. */
  where(): string;
  /** Closes this handle; the last one in the process stops serving (another process then takes over). */
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  /**
   * Run by a new owner before it tells others where it serves (migrations): joiners then never
   * find a half-migrated database, and never migrate concurrently with it in PGlite's one session.
   */
  prepare?: (pool: pg.Pool) => Promise<void>;
  /** How long to wait for an owner that is still opening the database (default 60 s). */
  waitMs?: number;
}

/** The files of the embedded database in AGENT_HOME: data, lock, log and the owner's socket. */
export function embeddedPaths(dataDir: string) {
  const dir = path.resolve(dataDir);
  const base = path.basename(dir);
  return {
    dataDir: dir,
    lockFile: path.join(path.dirname(dir), `${base}.lock`),
    logFile: `${dir}.log`,
    // The socket lives inside AGENT_HOME, which every sandbox masks: commands the agent runs cannot reach it.
    socketPath: path.join(path.dirname(dir), `${base}-socket`, '.s.PGSQL.5432'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether something accepts connections at the address (a dead owner leaves its socket file behind). */
function answers(address: ServeAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'socket' in address ? net.connect(address.socket) : net.connect(address.port, address.host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One per data directory per process: the ownership state every pool on that directory shares. */
class Site {
  refs = 0;
  private owned: { server: PgliteServer; address: ServeAddress } | null = null;
  private joined: LockHolder | null = null;
  private settling: Promise<ServeAddress> | null = null;
  private released = false;
  private readonly paths: ReturnType<typeof embeddedPaths>;

  constructor(
    dataDir: string,
    readonly options: EmbeddedOptions,
  ) {
    this.paths = embeddedPaths(dataDir);
  }

  get dataDir() {
    return this.paths.dataDir;
  }

  role(): EmbeddedRole {
    return this.owned ? 'owner' : 'joined';
  }

  where(): string {
    if (this.owned) return `embedded PGlite at ${this.dataDir}, served by this process at ${describeAddress(this.owned.address)}`;
    if (this.joined?.serving) return `embedded PGlite at ${this.dataDir}, served by process ${this.joined.pid} at ${describeAddress(this.joined.serving)}`;
    return `embedded PGlite at ${this.dataDir}`;
  }

  /** Where to connect now, owning the database if nobody does. Concurrent callers share one answer. */
  address(): Promise<ServeAddress> {
    if (this.owned) return Promise.resolve(this.owned.address);
    this.settling ??= this.settle().finally(() => {
      this.settling = null;
    });
    return this.settling;
  }

  private async settle(): Promise<ServeAddress> {
    const { lockFile } = this.paths;
    const deadline = Date.now() + (this.options.waitMs ?? 60_000);
    for (;;) {
      if (this.released) throw new MemoryUnavailableError(`the embedded memory database ${this.dataDir} was closed in this process`);
      const holder = await readLock(lockFile);
      if (!holder) {
        if (await tryTakeLock(lockFile)) return await this.own();
        continue;
      }
      // Our own pid with nothing open here: left by an earlier owner in this process whose thread died.
      const state = isThisProcess(holder) ? 'dead' : liveness(holder);
      if (state === 'dead') {
        await breakStaleLock(lockFile, holder);
        continue;
      }
      if (holder.legacy) {
        throw new MemoryUnavailableError(
          `the embedded memory database ${this.dataDir} is held by process ${holder.pid}, an older version of the agent that cannot share it: ` +
            'restart that process (`agent up`) with this version, or set DATABASE_URL',
        );
      }
      if (holder.serving && (await answers(holder.serving))) {
        this.joined = holder;
        return holder.serving;
      }
      if (Date.now() > deadline) throw this.notAnswering(holder, state === 'elsewhere');
      await sleep(100);
    }
  }

  private notAnswering(holder: LockHolder, elsewhere: boolean): MemoryUnavailableError {
    // Another host's process cannot be checked from here: only a person knows whether it still runs.
    const who = `process ${holder.pid}${elsewhere ? ` on ${holder.host}` : ''}`;
    const what = holder.serving
      ? `holds the embedded memory database ${this.dataDir} but does not answer at ${describeAddress(holder.serving)}`
      : `has been opening the embedded memory database ${this.dataDir} since ${holder.since ?? 'a while'} and does not serve it yet`;
    return new MemoryUnavailableError(`${who} ${what}: if it is stuck, stop it${elsewhere ? ` (if it no longer runs, delete ${this.paths.lockFile})` : ''}`);
  }

  /** Holding the lock: open the database, serve it, prepare it, then tell the others where. */
  private async own(): Promise<ServeAddress> {
    const { lockFile, logFile, socketPath } = this.paths;
    let server: PgliteServer | null = null;
    try {
      server = await startPgliteServer({ dataDir: this.dataDir, logFile, socketPath });
      if (this.options.prepare) {
        const pool = new pg.Pool({ ...connectionTarget(server.address), user: 'postgres', database: 'postgres', max: 1 });
        pool.on('error', () => undefined);
        try {
          await this.options.prepare(pool);
        } finally {
          await pool.end();
        }
      }
      await publishLock(lockFile, server.address);
      // Closed while opening: serve nobody.
      if (this.released) throw new MemoryUnavailableError(`the embedded memory database ${this.dataDir} was closed in this process`);
    } catch (err) {
      await server?.stop().catch(() => undefined);
      await releaseLock(lockFile).catch(() => undefined);
      if (err instanceof MemoryUnavailableError) throw err;
      throw new MemoryUnavailableError(`could not open the embedded memory database ${this.dataDir}: ${oneLine(err)} (PostgreSQL's log: ${logFile})`);
    }
    const owned = { server, address: server.address };
    this.owned = owned;
    this.joined = null;
    // A thread that dies on its own gives the database up: the next connection, here or elsewhere, opens it again.
    void server.ended.then(async () => {
      if (this.owned !== owned) return;
      this.owned = null;
      await releaseLock(lockFile).catch(() => undefined);
    });
    return owned.address;
  }

  /** Stops serving (if this process does) and releases the lock. */
  async release(): Promise<void> {
    this.released = true;
    // A takeover under way finishes (or gives up) first, so its server cannot outlive this.
    await this.settling?.catch(() => undefined);
    const owned = this.owned;
    this.owned = null;
    this.joined = null;
    if (!owned) return;
    await owned.server.stop();
    await releaseLock(this.paths.lockFile);
  }
}

const sites = new Map<string, Site>();
/** A site still stopping: a new one on the same directory waits, or it would find this process's lock and open PGlite twice. */
const releasing = new Map<string, Promise<void>>();

/** A pg.Client that asks the site where to connect each time it connects. */
function clientFor(site: Site): typeof pg.Client {
  return class EmbeddedClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null) => void): void;
    override connect(callback?: (err: Error | null) => void): Promise<pg.Client> | void {
      const connecting = site.address().then(async (address) => {
        Object.assign(this, connectionTarget(address));
        return await super.connect();
      });
      if (!callback) return connecting;
      connecting.then(
        () => callback(null),
        (err: Error) => callback(err),
      );
    }
  } as unknown as typeof pg.Client;
}

/**
 * Opens the embedded database in dataDir: serves it if no live process does, joins the one that
 * does otherwise. Throws MemoryUnavailableError, with what to do, when neither works (PGlite cannot
 * open its files; the holder is an older version, or does not answer within `waitMs`).
 */
export async function openEmbeddedStore(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedStore> {
  const key = path.resolve(dataDir);
  await releasing.get(key);
  let site = sites.get(key);
  if (!site) {
    site = new Site(key, options);
    sites.set(key, site);
  }
  site.refs++;
  const s = site;
  const pool = new pg.Pool({ Client: clientFor(s) as never, user: 'postgres', database: 'postgres', max: 1 });
  // Idle connections drop when their owner exits; the next query reconnects (and may take over).
  pool.on('error', () => undefined);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end().catch(() => undefined);
    if (--s.refs > 0) return;
    if (sites.get(key) === s) sites.delete(key);
    const done = s.release().finally(() => releasing.delete(key));
    releasing.set(key, done);
    await done;
  };
  try {
    // Settles ownership now, so a failure is reported by the open, not by some later query.
    await pool.query('SELECT 1');
  } catch (err) {
    await close();
    if (err instanceof MemoryUnavailableError) throw err;
    throw new MemoryUnavailableError(`could not connect to the embedded memory database ${key} (${s.where()}): ${oneLine(err)}`);
  }
  return { pool, dataDir: key, role: () => s.role(), where: () => s.where(), close };
}

/** Who holds the embedded database now, for `agent doctor`: whether this process would own it or join it. */
export async function inspectEmbeddedStore(dataDir: string): Promise<{ holder: LockHolder | null; wouldBe: EmbeddedRole | 'blocked'; lockFile: string; socketPath: string }> {
  const paths = embeddedPaths(dataDir);
  const holder = await readLock(paths.lockFile);
  if (!holder || isThisProcess(holder) || liveness(holder) === 'dead') return { holder, wouldBe: 'owner', lockFile: paths.lockFile, socketPath: paths.socketPath };
  const joinable = !holder.legacy && holder.serving !== null && (await answers(holder.serving));
  return { holder, wouldBe: joinable ? 'joined' : 'blocked', lockFile: paths.lockFile, socketPath: paths.socketPath };
}
