// The embedded PGlite database on a worker thread of its own. PGlite runs PostgreSQL as WebAssembly,
// synchronously: on the main thread every query would stall the Temporal worker's event loop (its
// heartbeats, polls and other activities). Here it only answers wire-protocol bytes with bytes
// (see pglite-bridge.ts). Plain JavaScript: a worker thread does not get the parent's TS loader.
import { createWriteStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const { dataDir, logFile } = workerData;
// PostgreSQL's own log lines would otherwise go to the process's stdout (and break `--json`).
const log = createWriteStream(logFile, { flags: 'a' });
const toLog = (text) => (log.write(text.endsWith('\n') ? text : `${text}\n`), true);

let db;
try {
  db = await PGlite.create({ dataDir, extensions: { vector }, onStdout: toLog, onStderr: toLog });
  parentPort.postMessage({ type: 'ready' });
} catch (err) {
  parentPort.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'exec') {
    try {
      const bytes = await db.execProtocolRaw(msg.bytes);
      // Copied into a buffer of its own, so it can be transferred (PGlite may reuse its output memory).
      const out = new Uint8Array(bytes);
      parentPort.postMessage({ type: 'result', id: msg.id, bytes: out }, [out.buffer]);
    } catch (err) {
      parentPort.postMessage({ type: 'result', id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  } else if (msg.type === 'close') {
    try {
      await db?.close();
    } finally {
      log.end(() => parentPort.postMessage({ type: 'closed' }));
    }
  }
});
