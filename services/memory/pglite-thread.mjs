// The embedded PGlite database on a worker thread of its own, serving the PostgreSQL wire protocol
// (@electric-sql/pglite-socket) on a unix socket, so this process and every other process on the
// same AGENT_HOME talk to it with plain node-postgres. PGlite runs PostgreSQL as WebAssembly,
// synchronously: on the main thread every query would stall the Temporal worker's event loop (its
// heartbeats, polls and other activities). Plain JavaScript: a worker thread does not get the
// parent's TS loader.
import { createWriteStream } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { dataDir, logFile, listen } = workerData;
// PostgreSQL's own log lines would otherwise go to the process's stdout (and break `--json`).
const log = createWriteStream(logFile, { flags: 'a' });
const toLog = (text) => (log.write(text.endsWith('\n') ? text : `${text}\n`), true);
// A client that vanishes at a bad moment must not take the database down for everyone else.
process.on('unhandledRejection', (err) => toLog(`pglite-socket: ${err instanceof Error ? err.message : String(err)}`));

/** Extended-protocol messages (Parse, Bind, Describe, Execute, Close, Flush); PostgreSQL answers them at the next Sync. */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);

/**
 * PGlite is one session. The socket server multiplexes connections onto it a message at a time,
 * keeping one connection exclusive only while the session is inside a transaction block. node-postgres
 * sends a parameterised query as Parse, Bind, Describe, Execute, Sync outside any block, so two
 * connections' messages interleave and one binds the other's unnamed statement ("portal does not
 * exist", or worse, the other's result). Here an extended-protocol exchange up to its Sync counts
 * as "in a transaction" too: the server then keeps the connection that started it until it ends.
 */
function oneExchangeAtATime(db) {
  let exchangeOpen = false;
  return {
    get waitReady() {
      return db.waitReady;
    },
    isInTransaction: () => exchangeOpen || db.isInTransaction(),
    runExclusive: (fn) => db.runExclusive(fn),
    async execProtocolRawStream(message, options) {
      if (EXTENDED.has(message[0])) exchangeOpen = true;
      try {
        return await db.execProtocolRawStream(message, options);
      } finally {
        if (message[0] === SYNC) exchangeOpen = false;
      }
    },
    /** Only the server's clean-up of a client that left mid-transaction calls this (with ROLLBACK). */
    async exec(sql) {
      if (exchangeOpen) {
        // A client that left between Parse and Sync: end its exchange as PostgreSQL would.
        await db.execProtocolRaw(new Uint8Array([SYNC, 0, 0, 0, 4]));
        exchangeOpen = false;
      }
      return db.isInTransaction() ? await db.exec(sql) : [];
    },
  };
}

let db;
let server;
try {
  db = await PGlite.create({ dataDir, extensions: { vector }, onStdout: toLog, onStderr: toLog });
  // A socket file left by an owner that died; the lock (held by our process) says it is ours to replace.
  if (listen.path) await rm(listen.path, { force: true });
  server = new PGLiteSocketServer({ db: oneExchangeAtATime(db), ...listen, maxConnections: 1000 });
  await server.start();
  let address;
  if (listen.path) {
    await chmod(listen.path, 0o600);
    address = { socket: listen.path };
  } else {
    address = { host: '127.0.0.1', port: Number(server.getServerConn().split(':').pop()) };
  }
  parentPort.postMessage({ type: 'ready', address });
} catch (err) {
  await db?.close().catch(() => undefined);
  parentPort.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}

parentPort.on('message', async (msg) => {
  if (msg.type !== 'close') return;
  try {
    await server?.stop();
    await db?.close();
  } catch (err) {
    toLog(`closing the embedded database: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    log.end(() => parentPort.postMessage({ type: 'closed' }));
  }
});
