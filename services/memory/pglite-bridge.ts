/**
 * The main-thread side of the embedded database: a stand-in for a PGlite instance that node-postgres
 * (through PGlite's own createPgConfig) drives exactly like the real one, while the real one runs on
 * a worker thread (pglite-thread.mjs). Queries travel as wire-protocol bytes and come back as bytes,
 * parsed here with node-postgres's own protocol parser.
 */
import { Worker } from 'node:worker_threads';
import { Parser } from 'pg-protocol/dist/parser';
import type { BackendMessage } from 'pg-protocol/dist/messages';

/** Parse, Bind, Describe, Execute, Close: answered by the server only at the next Sync or Flush. */
const BATCHED = new Set(['P', 'B', 'D', 'E', 'C'].map((c) => c.charCodeAt(0)));

type Reply = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'result'; id: number; bytes?: Uint8Array; error?: string } | { type: 'closed' };

export interface PgliteOnThread {
  /** What createPgConfig reads: a ready promise and the protocol entry point. */
  waitReady: Promise<void>;
  execProtocolStream(message: Uint8Array, options?: unknown): Promise<BackendMessage[]>;
  close(): Promise<void>;
}

/** Starts PGlite on its own thread; resolves when it is open, rejects with PGlite's reason when it cannot open. */
export async function startPgliteThread(dataDir: string, logFile: string): Promise<PgliteOnThread> {
  const worker = new Worker(new URL('./pglite-thread.mjs', import.meta.url), { workerData: { dataDir, logFile } });
  const waiting = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let closed: (() => void) | null = null;
  let failure: Error | null = null;

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: Reply) => {
      if (reply.type === 'ready') resolve();
      else if (reply.type === 'failed') reject(new Error(reply.message));
      else if (reply.type === 'closed') closed?.();
      else {
        const call = waiting.get(reply.id);
        waiting.delete(reply.id);
        if (reply.error !== undefined) call?.reject(new Error(reply.error));
        else call?.resolve(reply.bytes!);
      }
    });
    // A dead thread fails everything in flight and everything after, instead of hanging the caller.
    const die = (err: Error) => {
      failure ??= err;
      reject(err);
      for (const call of waiting.values()) call.reject(err);
      waiting.clear();
      closed?.();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the embedded database thread exited (code ${code})`)));
  });
  await ready;

  /**
   * Extended-protocol messages up to the next Sync or Flush travel together: PostgreSQL itself only
   * answers them then, and one thread round trip per query instead of four is most of the bridge's cost.
   */
  let batch: Uint8Array[] = [];
  return {
    waitReady: ready,
    async execProtocolStream(message: Uint8Array): Promise<BackendMessage[]> {
      if (failure) throw failure;
      if (BATCHED.has(message[0]!)) {
        batch.push(message);
        return [];
      }
      if (batch.length) {
        message = Buffer.concat([...batch, message]);
        batch = [];
      }
      const id = nextId++;
      const bytes = await new Promise<Uint8Array>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ type: 'exec', id, bytes: message });
      });
      const messages: BackendMessage[] = [];
      new Parser().parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (m) => messages.push(m));
      return messages;
    },
    async close() {
      if (failure) return;
      await new Promise<void>((resolve) => {
        closed = resolve;
        worker.postMessage({ type: 'close' });
      });
      await worker.terminate();
    },
  };
}
