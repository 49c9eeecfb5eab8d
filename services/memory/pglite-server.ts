/**
 * The main-thread side of the embedded database's owner: starts PGlite on a worker thread of its
 * own (pglite-thread.mjs), where it serves the PostgreSQL wire protocol on a unix socket — to this
 * process and to every other one on the same AGENT_HOME — and stops it.
 */
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ServeAddress } from './embedded-lock';

/** sun_path holds 108 bytes with its terminating NUL on Linux (104 on macOS): stay under both. */
const MAX_SOCKET_PATH = 103;

type Reply = { type: 'ready'; address: ServeAddress } | { type: 'failed'; message: string } | { type: 'closed' };

export interface PgliteServer {
  address: ServeAddress;
  /** Settles when the thread has ended, asked to or not (a WebAssembly abort ends it too). */
  ended: Promise<void>;
  /** Stops serving (open connections are closed) and closes the database. Safe to call twice. */
  stop(): Promise<void>;
}

/** The node-postgres settings that reach a server at this address. */
export function connectionTarget(address: ServeAddress): { host: string; port: number } {
  if ('socket' in address) {
    // node-postgres connects to `${host}/.s.PGSQL.${port}` when host is a directory, as libpq does.
    const port = Number(/\.s\.PGSQL\.(\d+)$/.exec(address.socket)?.[1]);
    return { host: path.dirname(address.socket), port };
  }
  return { host: address.host, port: address.port };
}

export const describeAddress = (address: ServeAddress) => ('socket' in address ? address.socket : `${address.host}:${address.port}`);

/**
 * Opens PGlite on dataDir and serves it at `socketPath` (a directory made private to this user),
 * or on a loopback TCP port when that path is too long for a unix socket. Rejects with PGlite's
 * or the server's reason when either cannot start.
 */
export async function startPgliteServer(options: { dataDir: string; logFile: string; socketPath: string }): Promise<PgliteServer> {
  await mkdir(options.dataDir, { recursive: true });
  const socketDir = path.dirname(options.socketPath);
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await chmod(socketDir, 0o700);
  const listen = Buffer.byteLength(options.socketPath) <= MAX_SOCKET_PATH ? { path: options.socketPath } : { host: '127.0.0.1', port: 0 };
  const worker = new Worker(new URL('./pglite-thread.mjs', import.meta.url), { workerData: { dataDir: options.dataDir, logFile: options.logFile, listen } });
  let closed: (() => void) | null = null;
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const address = await new Promise<ServeAddress>((resolve, reject) => {
    worker.on('message', (reply: Reply) => {
      if (reply.type === 'ready') resolve(reply.address);
      else if (reply.type === 'failed') reject(new Error(reply.message));
      else closed?.();
    });
    // After start-up an error ends the thread, and its exit ends ownership (see `ended`).
    worker.on('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`the embedded database thread exited (code ${code})`));
      closed?.();
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  let stopping: Promise<void> | null = null;
  return {
    address,
    ended,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          closed = resolve;
          worker.postMessage({ type: 'close' });
          // A thread that already died answers nothing; its exit resolves this instead.
          void ended.then(resolve);
        });
        await worker.terminate();
      })();
      return stopping;
    },
  };
}
